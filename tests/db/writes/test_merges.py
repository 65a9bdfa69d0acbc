"""Merges and their undo keep the store whole: every refusal the issue found missing, undo restoring exactly
the state before (or refusing with the reason), and the export loading back after each step."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Answer, Candidacy, Candidate, CandidateAlias, Endorsement, NameToken, Race
from db.reads.people import find_people
from db.writes import StageRef, WriteError, run_write
from db.writes.races import CandidateInput, ContestDate, RaceInput, add_candidate, add_race, merge_candidates
from db.writes.results import CallInput, change_call
from db.writes.undo import undo
from tests.support import MODERATOR, al2020, assert_round_trip, assert_whole

Sessions = async_sessionmaker[AsyncSession]


async def people(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {name: pid for pid, name in await session.execute(select(Candidate.id, Candidate.name))}


async def merge(sessions: Sessions, race: int, merged: str, into: str) -> Any:
    outcome = await run_write(sessions, lambda s: merge_candidates(s, MODERATOR, race, merged, into))
    await assert_whole(sessions)
    return outcome


async def refused(sessions: Sessions, race: int, merged: str, into: str, words: str) -> None:
    with pytest.raises(WriteError, match=words):
        await run_write(sessions, lambda s: merge_candidates(s, MODERATOR, race, merged, into))
    await assert_whole(sessions)


async def person_references(sessions: Sessions) -> dict[str, set[tuple[Any, ...]]]:
    """Every row that names a person, and every merge pointer: what a merge changes and undo puts back."""
    queries = {
        "candidacies": select(Candidacy.id, Candidacy.candidate_id),
        "answers": select(Answer.id, Answer.candidate_id),
        "endorsements": select(Endorsement.id, Endorsement.candidate_id),
        "incumbents": select(Race.id, Race.incumbent_id),
        "aliases": select(CandidateAlias.id, CandidateAlias.candidate_id),
        "tokens": select(NameToken.id, NameToken.candidate_id),
        "pointers": select(Candidate.id, Candidate.merged_into_id),
    }
    async with sessions() as session:
        return {name: {tuple(row) for row in await session.execute(query)} for name, query in queries.items()}


async def test_a_merge_back_the_other_way_is_refused_as_a_cycle(
    sample_sessions: Sessions, tmp_path: Path
) -> None:
    race = (await _race(sample_sessions)).id
    ids = await people(sample_sessions)
    first = await merge(sample_sessions, race, "Adair", "Jones")
    await refused(
        sample_sessions,
        race,
        f"#{ids['Doug Jones']}",
        f"#{ids['Stanley Adair']}",
        rf"Stanley Adair \(#{ids['Stanley Adair']}\) was merged into Doug Jones \(#{ids['Doug Jones']}\) "
        rf"by #{first.audit.id}.*would make a cycle",
    )
    async with sample_sessions() as session:
        found = await find_people(session, "jones")
    assert found.chosen is not None and found.chosen.name == "Doug Jones"
    await assert_round_trip(sample_sessions, tmp_path / "round-trip.db")


async def test_a_person_merged_away_itself_or_not_in_the_race_is_refused(sample_sessions: Sessions) -> None:
    race = (await _race(sample_sessions)).id
    maine = await run_write(
        sample_sessions,
        lambda s: add_race(
            s,
            MODERATOR,
            RaceInput("ME", "senate", 2020, contests=[ContestDate("general", "", dt.date(2020, 11, 3))]),
        ),
    )
    await run_write(
        sample_sessions,
        lambda s: add_candidate(
            s, MODERATOR, CandidateInput(maine.race.id, StageRef("general"), "Susan Collins", "REP")
        ),
    )
    ids = await people(sample_sessions)
    collins, tuberville = ids["Susan Collins"], ids["Tommy Tuberville"]
    await refused(
        sample_sessions,
        race,
        f"#{collins}",
        f"#{tuberville}",
        f"#{collins} is Susan Collins, who is not in 2020 Alabama",
    )
    await refused(sample_sessions, race, "Sessions", f"#{collins}", "who is not in 2020 Alabama")
    await refused(sample_sessions, race, "Tuberville", f"#{tuberville}", "the same person")
    first = await merge(sample_sessions, race, "Adair", "Jones")
    await refused(
        sample_sessions,
        race,
        f"#{ids['Stanley Adair']}",
        "Sessions",
        rf"Stanley Adair .* was merged into Doug Jones .* by #{first.audit.id}",
    )
    await refused(sample_sessions, race, "Mooney", "Sessions", "both on one ballot")


async def test_undo_of_merges_restores_exactly_or_says_why_not(
    sample_sessions: Sessions, tmp_path: Path
) -> None:
    alabama = (await _race(sample_sessions)).id
    stages = [
        ContestDate("general", "", dt.date(2026, 11, 3)),
        ContestDate("primary", "REP", dt.date(2026, 5, 19)),
    ]
    race = (
        await run_write(
            sample_sessions,
            lambda s: add_race(s, MODERATOR, RaceInput("AL", "senate", 2026, contests=stages)),
        )
    ).race.id
    for stage, name in ((StageRef("general"), "Doug Jones"), (StageRef("primary", "REP"), "Barry Moore")):
        await run_write(
            sample_sessions,
            lambda s, stage=stage, name=name: add_candidate(s, MODERATOR, CandidateInput(race, stage, name)),  # type: ignore[misc]
        )
    ids = await people(sample_sessions)
    before = await person_references(sample_sessions)
    first = await merge(sample_sessions, alabama, "Adair", "Jones")
    await assert_round_trip(sample_sessions, tmp_path / "one.db")
    onward = await merge(sample_sessions, race, "Doug Jones", "Barry Moore")
    async with sample_sessions() as session:
        adair = await session.get(Candidate, ids["Stanley Adair"])
    assert adair is not None and adair.merged_into_id == ids["Barry Moore"]  # no chain of pointers
    await assert_round_trip(sample_sessions, tmp_path / "two.db")
    with pytest.raises(
        WriteError,
        match=rf"Doug Jones .* was merged into Barry Moore .* by #{onward.audit.id}.*Undo that first",
    ):
        await run_write(sample_sessions, lambda s: undo(s, MODERATOR, first.audit.id))
    for entry in (onward.audit.id, first.audit.id):
        await run_write(sample_sessions, lambda s, entry=entry: undo(s, MODERATOR, entry))  # type: ignore[misc]
        await assert_whole(sample_sessions)
    assert await person_references(sample_sessions) == before
    await assert_round_trip(sample_sessions, tmp_path / "three.db")
    with pytest.raises(WriteError, match="already undone"):
        await run_write(sample_sessions, lambda s: undo(s, MODERATOR, first.audit.id))


async def _race(sessions: Sessions) -> Race:
    async with sessions() as session:
        return await al2020(session)


async def test_undo_does_not_take_off_the_ballot_someone_a_call_names(sample_sessions: Sessions) -> None:
    race = (await _race(sample_sessions)).id
    added = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, StageRef("general"), "Sam Smith", "IND")),
    )
    await run_write(
        sample_sessions,
        lambda s: change_call(s, MODERATOR, CallInput(race, StageRef("general"), "winner", ["Smith"])),
    )
    with pytest.raises(WriteError, match="Sam Smith is named in a call of that stage now; not undone"):
        await run_write(sample_sessions, lambda s: undo(s, MODERATOR, added.audit.id))

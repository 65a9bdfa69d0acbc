"""The export, the loader's inverse: merged people under the person they became, the standing call only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import export_document, load_document
from db.engine import make_engine, make_sessionmaker
from db.models import Call, Candidate, Contest, Race
from db.writes import StageRef, run_write
from db.writes.races import merge_candidates
from db.writes.results import ResultInput, post_result
from db.writes.undo import undo
from tests.support import MODERATOR, Built, al2020, assert_round_trip, assert_whole, sqlite_url

Sessions = async_sessionmaker[AsyncSession]


def contest(doc: dict[str, Any], cycle: int, stage: str) -> dict[str, Any]:
    race = next(r for r in doc["races"] if r["cycle"] == cycle)
    return next(c for c in race["contests"] if c["stage"] == stage)


async def test_merged_people_are_exported_as_the_one_they_were_merged_into(sample_sessions: Sessions) -> None:
    async with sample_sessions.begin() as session:
        ids = {p.name: p.id for p in await session.scalars(select(Candidate))}
        # A chain: Bradley Byrne into Roy S. Moore, Roy S. Moore into Jeff Sessions.
        for merged, into in (("Bradley Byrne", "Roy S. Moore"), ("Roy S. Moore", "Jeff Sessions")):
            await session.execute(
                update(Candidate).where(Candidate.id == ids[merged]).values(merged_into_id=ids[into])
            )
    async with sample_sessions() as session:
        doc = await export_document(session)
    people = {c["name"]: c for c in doc["candidates"]}
    assert "Bradley Byrne" not in people and "Roy S. Moore" not in people
    sessions_key = people["Jeff Sessions"]["key"]
    assert {"Bradley Byrne", "Roy S. Moore"} <= set(people["Jeff Sessions"]["aliases"])
    on_ballot = [c["candidate"] for c in contest(doc, 2020, "primary")["candidates"]]
    assert on_ballot.count(sessions_key) == 3 and len(on_ballot) == 7
    assert contest(doc, 2017, "general")["candidates"][1]["candidate"] == sessions_key


async def test_only_the_standing_call_is_exported_and_the_export_loads_back(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions.begin() as session:
        general = await session.scalar(
            select(Contest).join(Race).where(Race.cycle == 2020, Contest.stage == "general")
        )
        assert general is not None
        session.add(Call(contest_id=general.id, kind="too close", candidacy_ids=[]))
    async with sample_sessions() as session:
        doc = await export_document(session)
    assert contest(doc, 2020, "general")["call"]["kind"] == "too close"
    # Loading the export back into the same store finds everything there already.
    async with sample_sessions.begin() as session:
        summary = await load_document(session, doc, SYSTEM)
    assert not summary.changed


async def test_the_shipped_store_round_trips_whole_also_after_merges_and_their_undo(
    built: Built, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url(built.copy_to(tmp_path / "default.db")))
    sessions = make_sessionmaker(engine)
    try:
        await assert_whole(sessions)
        await assert_round_trip(sessions, tmp_path / "as-built.db")
        async with sessions() as session:
            race = await al2020(session)
        # One merge undone, one left standing (loading the default store takes seconds: one trip for both).
        adair = await run_write(sessions, lambda s: merge_candidates(s, MODERATOR, race.id, "Adair", "Jones"))
        await run_write(sessions, lambda s: undo(s, MODERATOR, adair.audit.id))
        await run_write(sessions, lambda s: merge_candidates(s, MODERATOR, race.id, "Mooney", "Jones"))
        await assert_round_trip(sessions, tmp_path / "merged.db")
    finally:
        await engine.dispose()


async def test_the_same_votes_posted_again_with_more_reporting_round_trip(
    sample_sessions: Sessions, tmp_path: Path
) -> None:
    async with sample_sessions() as session:
        race = await al2020(session)
    for reporting in (90.0, 95.0):
        data = ResultInput(
            race.id,
            StageRef("general"),
            [("Tuberville", 1_392_100), ("Jones", 920_500)],
            reporting_pct=reporting,
        )
        await run_write(sample_sessions, lambda s, data=data: post_result(s, MODERATOR, data))  # type: ignore[misc]
    await assert_round_trip(sample_sessions, tmp_path / "round-trip.db")

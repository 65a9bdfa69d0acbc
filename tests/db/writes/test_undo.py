"""Undo (db/writes/undo.py) on SQLite and PostgreSQL: what comes back field by field, what it refuses (writing
nothing) when the thing it would undo is gone, and what it hands the announcer for a correction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AuditEntry,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Endorsement,
    NameToken,
    Poll,
    Race,
    ResultSnapshot,
)
from db.writes import StageRef, WriteError, run_write
from db.writes.polls import (
    EndorsementInput,
    PollInput,
    add_endorsement,
    add_poll,
    remove_endorsement,
    remove_poll,
)
from db.writes.races import (
    CandidateEdit,
    CandidateInput,
    CandidateOutcome,
    ContestDate,
    RaceEdit,
    RaceInput,
    add_candidate,
    add_race,
    edit_candidate,
    edit_race,
)
from db.writes.results import CallInput, ResultInput, change_call, post_result
from db.writes.undo import UndoOutcome, undo
from tests.support import MODERATOR, Sessions, al2020, contest_of, row_counts

GENERAL = StageRef("general")


async def race_id(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await al2020(session)).id


async def undone(sessions: Sessions, audit_id: int) -> UndoOutcome:
    return await run_write(sessions, lambda s: undo(s, MODERATOR, audit_id))


async def refused(sessions: Sessions, audit_id: int, words: str) -> None:
    """The undo is refused with exactly `words`, and the store is as it was."""
    before = await row_counts(sessions)
    with pytest.raises(WriteError) as caught:
        await undone(sessions, audit_id)
    assert str(caught.value) == words
    assert await row_counts(sessions) == before
    async with sessions() as session:
        entry = await session.get(AuditEntry, audit_id)
        assert entry is not None and entry.undone_by_id is None


async def gone(sessions: Sessions, model: type[Any], row_id: int) -> None:
    """The row removed outside undo (an import's reconcile, another write), as a store may find it."""
    async with sessions.begin() as session:
        await session.execute(delete(model).where(model.id == row_id))


def a_poll(race: int, pollster: str = "Cygnal", **changes: Any) -> PollInput:
    values: dict[str, Any] = {
        "race_id": race,
        "pollster": pollster,
        "start": dt.date(2020, 7, 12),
        "end": dt.date(2020, 7, 13),
        "answers": [("Tuberville", 52.0), ("Sessions", 38.0)],
        "sample_size": 600,
        "population": "lv",
        "sponsor": "WSFA",
        "url": "https://example.org/poll",
    }
    values.update(changes)
    return PollInput(**values)


async def on_ballot(sessions: Sessions, race: int, name: str) -> CandidateOutcome:
    data = CandidateInput(race, GENERAL, name, "IND")
    return await run_write(sessions, lambda s: add_candidate(s, MODERATOR, data))


# ------------------------------------------------------------------ what it hands back


async def test_undoing_a_result_makes_the_earlier_count_current_and_says_what_it_removed(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)
    data = ResultInput(
        race, GENERAL, counts=[("Tuberville", 1_392_500), ("Jones", 920_600)], reporting_pct=99.5
    )
    posted = await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, data))
    assert posted.previous is not None
    outcome = await undone(sample_sessions, posted.audit.id)
    assert outcome.description == f"removed result #{posted.snapshot.id} of the general"
    assert outcome.correction == "result"
    assert outcome.race is not None and outcome.race.id == race
    assert outcome.contest is not None and outcome.contest.id == posted.contest.id
    assert outcome.details == {
        "contest_id": posted.contest.id,
        "removed": {"taken_at": posted.snapshot.taken_at.isoformat(), "reporting_pct": 99.5},
        "current_id": posted.previous.id,
    }
    assert outcome.original.id == posted.audit.id and outcome.audit.undoes_id == posted.audit.id
    async with sample_sessions() as session:
        assert await session.get(ResultSnapshot, posted.snapshot.id) is None


async def outcomes_of(session: AsyncSession, contest_id: int) -> dict[int, str]:
    rows = await session.execute(
        select(Candidacy.id, Candidacy.outcome).where(Candidacy.contest_id == contest_id)
    )
    return {candidacy: outcome for candidacy, outcome in rows}


async def test_undoing_a_call_says_which_call_stands_now_and_puts_the_outcomes_back(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)
    async with sample_sessions() as session:
        runoff = await contest_of(session, race, "primary runoff")
        outcomes = await outcomes_of(session, runoff.id)
        standing = await session.scalar(
            select(Call.id).where(Call.contest_id == runoff.id).order_by(Call.id.desc())
        )
    call = CallInput(race, StageRef("runoff"), "winner", ["Sessions"], "AP")
    made = await run_write(sample_sessions, lambda s: change_call(s, MODERATOR, call))
    outcome = await undone(sample_sessions, made.audit.id)
    assert outcome.correction == "call"
    assert outcome.description == f"removed the winner call (#{made.call.id}) of the Republican runoff"
    assert outcome.contest is not None and outcome.contest.id == runoff.id
    assert outcome.details == {
        "contest_id": runoff.id,
        "kind": "winner",
        "candidacy_ids": list(made.call.candidacy_ids),
        "standing_id": standing,
        "changed": True,
    }
    async with sample_sessions() as session:
        after = await outcomes_of(session, runoff.id)
        status = (await contest_of(session, race, "primary runoff")).status
    assert after == outcomes and status == "called"
    withdrawn = await run_write(
        sample_sessions, lambda s: change_call(s, MODERATOR, CallInput(race, StageRef("runoff"), "uncalled"))
    )
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "primary runoff")).status != "called"
    outcome = await undone(sample_sessions, withdrawn.audit.id)
    assert outcome.correction == "uncall" and outcome.details["kind"] == "uncalled"
    assert outcome.description.startswith(f"removed the withdrawal of the call (#{withdrawn.call.id})")
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "primary runoff")).status == "called"


async def test_undoing_a_poll_hands_the_announcer_its_pollster_and_end(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    added = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, a_poll(race)))
    outcome = await undone(sample_sessions, added.audit.id)
    assert outcome.correction == "poll"
    assert outcome.description == f"removed poll #{added.poll.id} (Cygnal)"
    assert outcome.details == {"pollster": "Cygnal", "end_date": "2020-07-13", "poll_id": added.poll.id}
    assert outcome.contest is None and outcome.race is not None and outcome.race.id == race


async def test_writes_members_were_not_told_of_need_no_correction(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    endorsed = await run_write(
        sample_sessions,
        lambda s: add_endorsement(s, MODERATOR, EndorsementInput(race, "Undo Endorser", "Tuberville")),
    )
    outcome = await undone(sample_sessions, endorsed.audit.id)
    assert (outcome.correction, outcome.details) == (None, {})
    assert outcome.description == f"removed endorsement #{endorsed.endorsement.id} (Undo Endorser)"


async def test_undoing_a_race_it_added_removes_it_and_the_undo_names_no_race(
    sample_sessions: Sessions,
) -> None:
    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II",
                     contests=[ContestDate("general", "", dt.date(2026, 11, 3))])  # fmt: skip
    added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    outcome = await undone(sample_sessions, added.audit.id)
    assert outcome.description == "removed the race 2026 Alabama U.S. Senate (Class II)"
    assert (outcome.race, outcome.contest, outcome.correction) == (None, None, None)
    assert outcome.audit.race_id is None and outcome.audit.entity_id == added.race.id
    # Adding had nothing before it, so the undo's entry restores nothing (`audit` shows no "restored").
    assert added.audit.before is None and outcome.audit.after is not None
    assert set(outcome.audit.after) == {"undid", "description"}
    async with sample_sessions() as session:
        assert await session.get(Race, added.race.id) is None
        assert await session.scalar(select(Contest.id).where(Contest.race_id == added.race.id)) is None


# ------------------------------------------------------------------ what comes back, field by field


def poll_fields(poll: Poll) -> dict[str, Any]:
    return {
        "row": {c.key: getattr(poll, c.key) for c in Poll.__table__.columns},
        "questions": [
            (q.id, q.contest_id, q.hypothetical, q.sample_size, q.population,
             [(a.id, a.candidate_id, a.choice, a.party, a.pct) for a in q.answers])
            for q in poll.questions
        ],
    }  # fmt: skip


async def test_a_removed_poll_comes_back_as_it_was(sample_sessions: Sessions) -> None:
    from db.writes.polls import load_poll

    race = await race_id(sample_sessions)
    added = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, a_poll(race, "Put Back")))
    async with sample_sessions() as session:
        loaded = await load_poll(session, added.poll.id)
        assert loaded is not None
        before = poll_fields(loaded)
    removed = await run_write(sample_sessions, lambda s: remove_poll(s, MODERATOR, added.poll.id))
    outcome = await undone(sample_sessions, removed.audit.id)
    assert outcome.description == f"put poll #{added.poll.id} (Put Back) back"
    assert outcome.details == {"poll_id": added.poll.id} and outcome.correction is None
    async with sample_sessions() as session:
        back = await load_poll(session, added.poll.id)
        assert back is not None
        assert poll_fields(back) == before


async def test_a_removed_endorsement_comes_back_as_it_was(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = EndorsementInput(race, "Richard Shelby", "Tuberville", stance="oppose", kind="senator",
                            date=dt.date(2020, 6, 1), url="https://example.org/e", source="AL.com", quote="No.")  # fmt: skip
    added = await run_write(sample_sessions, lambda s: add_endorsement(s, MODERATOR, data))

    async def fields() -> dict[str, Any]:
        async with sample_sessions() as session:
            row = await session.get(Endorsement, added.endorsement.id)
            assert row is not None
            return {c.key: getattr(row, c.key) for c in Endorsement.__table__.columns}

    before = await fields()
    removed = await run_write(
        sample_sessions, lambda s: remove_endorsement(s, MODERATOR, added.endorsement.id)
    )
    outcome = await undone(sample_sessions, removed.audit.id)
    assert outcome.description == f"put endorsement #{added.endorsement.id} (Richard Shelby) back"
    assert await fields() == before


async def test_undoing_a_candidate_edit_drops_the_aliases_and_name_words_it_added(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)

    async def person_state() -> tuple[Any, ...]:
        async with sample_sessions() as session:
            person = await session.scalar(select(Candidate).where(Candidate.name == "Tommy Tuberville"))
            assert person is not None
            aliases = set(
                await session.scalars(
                    select(CandidateAlias.alias).where(CandidateAlias.candidate_id == person.id)
                )
            )
            tokens = set(
                await session.scalars(select(NameToken.token).where(NameToken.candidate_id == person.id))
            )
            return person.party, person.office_held, aliases, tokens  # fmt: skip

    before = await person_state()
    edit = CandidateEdit(race, "Tuberville", GENERAL, alias="Coach Tuberville", office_held="Football coach")
    edited = await run_write(sample_sessions, lambda s: edit_candidate(s, MODERATOR, edit))
    assert await person_state() != before
    outcome = await undone(sample_sessions, edited.audit.id)
    assert outcome.description == f"put Tommy Tuberville back as before #{edited.audit.id}"
    assert await person_state() == before


# ------------------------------------------------------------------ refused: the thing is gone


async def test_an_undo_of_something_already_gone_says_so_and_writes_nothing(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)
    posted = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, ResultInput(race, GENERAL, counts=[("Tuberville", 1_392_700), ("Jones", 920_700)])),
    )  # fmt: skip
    await gone(sample_sessions, ResultSnapshot, posted.snapshot.id)
    await refused(sample_sessions, posted.audit.id, f"Result #{posted.snapshot.id} is already gone.")

    made = await run_write(
        sample_sessions,
        lambda s: change_call(
            s, MODERATOR, CallInput(race, StageRef("runoff"), "winner", ["Sessions"], "AP")
        ),
    )
    await gone(sample_sessions, Call, made.call.id)
    await refused(sample_sessions, made.audit.id, f"Call #{made.call.id} is already gone.")

    # Removed by the desk's own `poll remove`: the poll's adding cannot be undone any more.
    added = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, a_poll(race, "Gone Polling")))
    await run_write(sample_sessions, lambda s: remove_poll(s, MODERATOR, added.poll.id))
    await refused(sample_sessions, added.audit.id, f"Poll #{added.poll.id} is already gone.")

    endorsed = await run_write(
        sample_sessions,
        lambda s: add_endorsement(s, MODERATOR, EndorsementInput(race, "Gone Endorser", "Jones")),
    )
    await run_write(sample_sessions, lambda s: remove_endorsement(s, MODERATOR, endorsed.endorsement.id))
    await refused(
        sample_sessions, endorsed.audit.id, f"Endorsement #{endorsed.endorsement.id} is already gone."
    )

    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II")
    race_added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    await gone(sample_sessions, Race, race_added.race.id)
    await refused(sample_sessions, race_added.audit.id, f"Race #{race_added.race.id} is already gone.")

    candidate = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, GENERAL, "Gone Candidate", "IND")),
    )
    edited = await run_write(
        sample_sessions,
        lambda s: edit_candidate(s, MODERATOR, CandidateEdit(race, "Gone Candidate", GENERAL, party="LIB")),
    )
    await gone(sample_sessions, Candidacy, candidate.candidacies[0].id)
    await refused(sample_sessions, candidate.audit.id, "That candidacy is already gone.")
    await gone(sample_sessions, Candidate, candidate.person.id)
    await refused(sample_sessions, edited.audit.id, "That candidate is gone.")


async def test_what_was_removed_cannot_come_back_once_its_race_or_candidate_is_gone(
    sample_sessions: Sessions,
) -> None:
    """All through the desk's own writes: a poll and an endorsement removed, then what they belonged to undone."""
    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II",
                     contests=[ContestDate("general", "", dt.date(2026, 11, 3))])  # fmt: skip
    race_added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    race = race_added.race.id
    people = [await on_ballot(sample_sessions, race, name) for name in ("Wren Holloway", "Ada Vance")]
    poll = a_poll(race, "Mesa Polling", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 7),
                  answers=[("Holloway", 50.0), ("Vance", 40.0)])  # fmt: skip
    added = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, poll))
    endorsed = await run_write(
        sample_sessions, lambda s: add_endorsement(s, MODERATOR, EndorsementInput(race, "A Senator", "Vance"))
    )
    poll_removed = await run_write(sample_sessions, lambda s: remove_poll(s, MODERATOR, added.poll.id))
    endorsement_removed = await run_write(
        sample_sessions, lambda s: remove_endorsement(s, MODERATOR, endorsed.endorsement.id)
    )
    vance = await undone(sample_sessions, people[1].audit.id)
    assert vance.description == "took Ada Vance off the ballot and removed the person"
    await refused(
        sample_sessions,
        endorsement_removed.audit.id,
        "The endorsed candidate is gone, so the endorsement cannot come back.",
    )
    await undone(sample_sessions, people[0].audit.id)
    await undone(sample_sessions, race_added.audit.id)
    await refused(
        sample_sessions, poll_removed.audit.id, "The poll's race is gone, so the poll cannot come back."
    )


async def test_a_candidate_on_a_ballot_with_results_is_not_taken_off(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    added = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, GENERAL, "Counted Candidate", "IND")),
    )
    data = ResultInput(race, GENERAL, counts=[("Tuberville", 1_392_800), ("Jones", 920_800), ("Counted", 10)])
    await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, data))
    before = await row_counts(sample_sessions)
    with pytest.raises(WriteError) as caught:
        await undone(sample_sessions, added.audit.id)
    assert str(caught.value).startswith("Counted Candidate ") and str(caught.value).endswith(
        " now; not undone."
    )
    assert await row_counts(sample_sessions) == before


async def test_a_field_edited_again_is_named_in_the_refusal(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    first = await run_write(
        sample_sessions, lambda s: edit_race(s, MODERATOR, RaceEdit(race, {"notes": "First note"}))
    )
    await run_write(
        sample_sessions, lambda s: edit_race(s, MODERATOR, RaceEdit(race, {"notes": "Second note"}))
    )
    await refused(
        sample_sessions,
        first.audit.id,
        f"The race's notes changed again since #{first.audit.id}; not undone.",
    )
    renamed = await run_write(
        sample_sessions,
        lambda s: edit_candidate(s, MODERATOR, CandidateEdit(race, "Byrne", StageRef("primary", "REP"), office_held="Congressman")),
    )  # fmt: skip
    await run_write(
        sample_sessions,
        lambda s: edit_candidate(s, MODERATOR, CandidateEdit(race, "Byrne", StageRef("primary", "REP"), office_held="Former congressman")),
    )  # fmt: skip
    await refused(
        sample_sessions, renamed.audit.id, f"Bradley Byrne's office held changed again since #{renamed.audit.id}; not undone."
    )  # fmt: skip


async def test_undoing_a_race_it_added_leaves_every_other_race_and_stage(sample_sessions: Sessions) -> None:
    before = await row_counts(sample_sessions)
    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II",
                     contests=[ContestDate("general", "", dt.date(2026, 11, 3)),
                               ContestDate("primary", "REP", dt.date(2026, 5, 19))])  # fmt: skip
    added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    await undone(sample_sessions, added.audit.id)
    after = await row_counts(sample_sessions)
    assert after["contests"] == before["contests"] and after["races"] == before["races"]
    assert after["audit_entries"] == before["audit_entries"] + 2  # the race's adding, and its undo


async def test_a_race_holding_more_than_its_stages_says_what_it_holds(sample_sessions: Sessions) -> None:
    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II",
                     contests=[ContestDate("general", "", dt.date(2026, 11, 3))])  # fmt: skip
    added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    race = added.race.id
    for name in ("Wren Holloway", "Ada Vance"):
        await on_ballot(sample_sessions, race, name)
    poll = a_poll(race, "Mesa Polling", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 7),
                  answers=[("Holloway", 50.0), ("Vance", 40.0)])  # fmt: skip
    await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, poll))
    await refused(
        sample_sessions,
        added.audit.id,
        "2026 Alabama U.S. Senate (Class II) now holds polls, candidates; undoing its creation would lose them. "
        "Undo or remove those first.",
    )


async def test_a_call_replaced_since_points_to_the_newer_one(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    runoff = StageRef("runoff")
    first = await run_write(
        sample_sessions,
        lambda s: change_call(s, MODERATOR, CallInput(race, runoff, "winner", ["Sessions"], "AP")),
    )
    second = await run_write(
        sample_sessions,
        lambda s: change_call(s, MODERATOR, CallInput(race, runoff, "winner", ["Tuberville"], "AP")),
    )
    await refused(
        sample_sessions,
        first.audit.id,
        f"A newer call (#{second.call.id}) stands for that stage now; undo that one first (`audit` shows its entry).",
    )


async def test_undoing_a_call_that_confirmed_the_standing_one_says_nothing_is_announced(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)
    confirmed = await run_write(
        sample_sessions,
        lambda s: change_call(s, MODERATOR, CallInput(race, GENERAL, "winner", ["Tuberville"], "AP")),
    )
    assert confirmed.confirms
    outcome = await undone(sample_sessions, confirmed.audit.id)
    assert outcome.description == (
        f"removed the winner call (#{confirmed.call.id}) of the general; it confirmed the call that stands, "
        "so nothing is announced"
    )
    assert outcome.correction is None and outcome.details["changed"] is False


async def test_undoing_a_stage_s_only_call_and_only_count_leaves_it_as_before_either(
    sample_sessions: Sessions,
) -> None:
    data = RaceInput(state="AL", office="senate", cycle=2018, seat="Class I",
                     contests=[ContestDate("general", "", dt.date(2018, 11, 6))])  # fmt: skip
    race = (await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))).race.id
    for name in ("Wren Holloway", "Ada Vance"):
        await on_ballot(sample_sessions, race, name)
    counted = ResultInput(race, GENERAL, counts=[("Holloway", 10), ("Vance", 5)])
    posted = await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, counted))
    assert posted.contest.status == "counting"
    made = await run_write(
        sample_sessions, lambda s: change_call(s, MODERATOR, CallInput(race, GENERAL, "winner", ["Holloway"]))
    )
    call_undone = await undone(sample_sessions, made.audit.id)
    assert call_undone.details["standing_id"] is None and call_undone.details["changed"] is True
    result_undone = await undone(sample_sessions, posted.audit.id)
    assert result_undone.details["current_id"] is None
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "general")).status == "upcoming"


async def test_undoing_an_older_count_leaves_the_status_the_newer_one_set(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    first = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, ResultInput(race, GENERAL, counts=[("Tuberville", 1_392_900), ("Jones", 920_900)])),
    )  # fmt: skip
    assert first.audit.before is not None and first.audit.before["contest_status"] == "certified"
    second = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, ResultInput(race, GENERAL, counts=[("Tuberville", 1_393_000), ("Jones", 921_000)])),
    )  # fmt: skip
    outcome = await undone(sample_sessions, first.audit.id)
    assert outcome.details["current_id"] == second.snapshot.id
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "general")).status == "called"


async def test_undoing_the_current_count_leaves_a_status_changed_since(sample_sessions: Sessions) -> None:
    """A count ended the certified status (it became `called`); the call withdrawn since made it `counting`:
    undoing the count must not bring `certified` back over the withdrawal."""
    race = await race_id(sample_sessions)
    posted = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, ResultInput(race, GENERAL, counts=[("Tuberville", 1_393_100), ("Jones", 921_100)])),
    )  # fmt: skip
    assert posted.contest.status == "called"
    await run_write(
        sample_sessions, lambda s: change_call(s, MODERATOR, CallInput(race, GENERAL, "uncalled"))
    )
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "general")).status == "counting"
    await undone(sample_sessions, posted.audit.id)
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "general")).status == "counting"


async def test_taking_someone_off_a_ballot_keeps_a_person_this_write_did_not_create(
    sample_sessions: Sessions,
) -> None:
    data = RaceInput(state="AL", office="senate", cycle=2026, seat="Class II",
                     contests=[ContestDate("general", "", dt.date(2026, 11, 3)),
                               ContestDate("primary", "REP", dt.date(2026, 5, 19))])  # fmt: skip
    race = (await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))).race.id
    created = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, GENERAL, "Barry Moore", "REP")),
    )
    again = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, StageRef("primary", "REP"), "Barry Moore", "REP")),
    )  # fmt: skip
    assert created.created_person and not again.created_person
    await undone(sample_sessions, created.audit.id)  # still on the primary's ballot: kept
    outcome = await undone(sample_sessions, again.audit.id)
    assert outcome.description == "took Barry Moore off the ballot"
    async with sample_sessions() as session:
        assert await session.get(Candidate, created.person.id) is not None

"""The desk's writes on SQLite and PostgreSQL: what they store, what they refuse (changing nothing), the
audit entry each records, undo, and two moderators at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker, upgrade
from db.models import (
    AuditEntry,
    Call,
    CallKind,
    Candidacy,
    Candidate,
    Contest,
    Endorsement,
    Poll,
    Race,
    ResultSnapshot,
)
from db.reads.races import race_card
from db.writes import Ambiguous, Duplicate, NotFound, StageRef, WriteError, run_write
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
    ContestDate,
    RaceEdit,
    RaceInput,
    add_candidate,
    add_race,
    edit_candidate,
    edit_race,
    merge_candidates,
)
from db.writes.results import CallInput, ResultInput, change_call, post_result
from db.writes.retry import is_busy
from db.writes.undo import undo
from tests.support import MODERATOR, OTHER_MODERATOR, al2020, contest_of, row_counts

GENERAL = StageRef("general")
Sessions = async_sessionmaker[AsyncSession]


async def race_id(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await al2020(session)).id


def result(race: int, *pairs: tuple[str, int], stage: StageRef = GENERAL, **kw: object) -> ResultInput:
    return ResultInput(race_id=race, stage=stage, counts=list(pairs), **kw)  # type: ignore[arg-type]


async def test_a_result_is_stored_with_its_change_and_audit_entry(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = result(
        race,
        ("Tuberville", 1_392_100),
        ("jones", 920_500),
        other={"writein": 3891},
        reporting_pct=100,
        source="AP",
    )
    outcome = await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, data))
    assert [(line.candidacy.candidate.name, line.votes, line.change) for line in outcome.lines] == [
        ("Tommy Tuberville", 1_392_100, 24),
        ("Doug Jones", 920_500, 22),
    ]
    assert outcome.total_change == 46 and outcome.previous is not None
    async with sample_sessions() as session:
        entry = await session.get(AuditEntry, outcome.audit.id)
        assert entry is not None
        assert (entry.action, entry.actor_id, entry.actor_name, entry.guild_id) == (
            "result.add",
            111,
            "moderator",
            999,
        )
        assert (
            entry.after is not None and entry.after["reporting_pct"] == 100 and entry.after["source"] == "AP"
        )
        card = await race_card(session, race)
    assert card is not None
    general = next(v for v in card.contests if v.contest.stage == "general")
    assert general.standings[0].votes == 1_392_100


async def test_the_same_snapshot_twice_is_recognised(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = result(race, ("Tuberville", 5), ("Jones", 3), reporting_pct=10)
    first = await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, data))
    before = await row_counts(sample_sessions)
    with pytest.raises(Duplicate) as caught:
        await run_write(sample_sessions, lambda s: post_result(s, OTHER_MODERATOR, data))
    assert caught.value.existing_id == first.snapshot.id and "already stored" in str(caught.value)
    assert await row_counts(sample_sessions) == before


WRONG_RESULTS = [
    ((("Tubervile", 5), ("Jones", 3)), GENERAL, NotFound, "Did you mean Tommy Tuberville?"),
    ((("Moo", 5),), StageRef("primary", "REP"), Ambiguous, "Roy S. Moore or Arnold Mooney"),
    ((("Tuberville", 5),), GENERAL, WriteError, "leaves out Doug Jones (had 920,478)"),
    ((("Tuberville", 5), ("Jones", 3)), StageRef("general runoff"), NotFound, "has no general runoff"),
    ((("Tuberville", -5), ("Jones", 3)), GENERAL, WriteError, "cannot be negative"),
    ((("Tuberville", 5), ("Tommy", 3)), GENERAL, WriteError, "counted twice"),
    ((("J", 5), ("Tuberville", 3)), GENERAL, WriteError, "too short"),
]


async def test_wrong_results_write_nothing(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    before = await row_counts(sample_sessions)
    for pairs, stage, error, words in WRONG_RESULTS:
        with pytest.raises(error) as caught:
            data = result(race, *pairs, stage=stage)
            await run_write(sample_sessions, lambda s, data=data: post_result(s, MODERATOR, data))  # type: ignore[misc]
        assert words in str(caught.value)
    assert await row_counts(sample_sessions) == before


async def test_a_contest_not_held_yet_takes_no_result_or_call(sample_sessions: Sessions) -> None:
    future = dt.date.today() + dt.timedelta(days=200)
    data = RaceInput(
        state="AL",
        office="senate",
        cycle=future.year,
        seat="Class III",
        contests=[ContestDate("general", "", future)],
    )
    added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(added.race.id, GENERAL, "Katie Britt", "REP")),
    )
    before = await row_counts(sample_sessions)
    with pytest.raises(WriteError, match="has not been held yet, so it cannot have results"):
        await run_write(
            sample_sessions, lambda s: post_result(s, MODERATOR, result(added.race.id, ("Britt", 5)))
        )
    with pytest.raises(WriteError, match="cannot have a call"):
        call = CallInput(added.race.id, GENERAL, "winner", ["Britt"])
        await run_write(sample_sessions, lambda s: change_call(s, MODERATOR, call))
    assert await row_counts(sample_sessions) == before


async def test_without_a_stage_the_latest_held_one_is_meant(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    outcome = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, result(race, ("Tuberville", 9), ("Jones", 8), stage=StageRef())),
    )
    assert outcome.contest.stage == "general"


async def test_call_uncall_and_undo_keep_outcomes_and_status(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    runoff = StageRef("runoff")
    first = await run_write(
        sample_sessions,
        lambda s: change_call(s, MODERATOR, CallInput(race, runoff, "winner", ["Sessions"], "AP")),
    )
    assert not first.confirms and first.previous is not None and first.previous.kind == "winner"
    async with sample_sessions() as session:
        contest = await contest_of(session, race, "primary runoff")
        outcomes = {
            c.candidate_id: c.outcome
            for c in await session.scalars(select(Candidacy).where(Candidacy.contest_id == contest.id))
        }
        sessions_id = await session.scalar(select(Candidate.id).where(Candidate.name == "Jeff Sessions"))
    assert outcomes[sessions_id] == "won" and sorted(outcomes.values()) == ["lost", "won"]
    withdrawn = await run_write(
        sample_sessions, lambda s: change_call(s, MODERATOR, CallInput(race, runoff, CallKind.UNCALLED))
    )
    assert withdrawn.call.kind == "uncalled" and [c.candidate.name for c in withdrawn.named] == [
        "Jeff Sessions"
    ]
    with pytest.raises(WriteError, match="no call to withdraw"):
        await run_write(
            sample_sessions, lambda s: change_call(s, MODERATOR, CallInput(race, runoff, CallKind.UNCALLED))
        )
    with pytest.raises(WriteError, match="newer call"):
        await run_write(sample_sessions, lambda s: undo(s, MODERATOR, first.audit.id))
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, withdrawn.audit.id))
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, first.audit.id))
    async with sample_sessions() as session:
        contest = await contest_of(session, race, "primary runoff")
        standing = await session.scalar(
            select(Call).where(Call.contest_id == contest.id).order_by(Call.id.desc())
        )
        tuberville = await session.scalar(
            select(Candidacy)
            .join(Candidate)
            .where(Candidacy.contest_id == contest.id, Candidate.name == "Tommy Tuberville")
        )
    assert standing is not None and standing.source == "news reports" and contest.status == "called"
    assert tuberville is not None and tuberville.outcome == "won"


WRONG_CALLS = [
    ("winner", ["Tuberville", "Jones"], "Name one winner"),
    ("runoff", ["Tuberville"], "two who advance"),
    ("too close", ["Jones"], "names nobody"),
]


async def test_calls_with_the_wrong_number_of_names(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    before = await row_counts(sample_sessions)
    for kind, names, words in WRONG_CALLS:
        call = CallInput(race, GENERAL, kind, names)
        with pytest.raises(WriteError, match=words):
            await run_write(sample_sessions, lambda s, call=call: change_call(s, MODERATOR, call))  # type: ignore[misc]
    assert await row_counts(sample_sessions) == before


def aum(race: int, **changes: object) -> PollInput:
    values: dict[str, object] = {
        "race_id": race,
        "pollster": "Cygnal",
        "start": dt.date(2020, 7, 12),
        "end": dt.date(2020, 7, 13),
        "answers": [("Tuberville", 52.0), ("sessions", 38.0)],
        "sample_size": 600,
        "population": "lv",
    }
    values.update(changes)
    return PollInput(**values)  # type: ignore[arg-type]


async def test_a_poll_finds_its_stage_and_can_be_removed_and_put_back(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    outcome = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, aum(race)))
    assert outcome.contest is not None and outcome.contest.stage == "primary runoff"
    assert [(p.name, pct) for p, pct in outcome.answers] == [
        ("Tommy Tuberville", 52.0),
        ("Jeff Sessions", 38.0),
    ]
    with pytest.raises(Duplicate):
        await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, aum(race)))
    removed = await run_write(sample_sessions, lambda s: remove_poll(s, MODERATOR, outcome.poll.id))
    assert removed.added_audit_id == outcome.audit.id
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, removed.audit.id))
    async with sample_sessions() as session:
        back = await session.get(Poll, outcome.poll.id)
    assert back is not None and back.pollster == "Cygnal" and back.end_date == dt.date(2020, 7, 13)
    with pytest.raises(NotFound, match="no poll #99999"):
        await run_write(sample_sessions, lambda s: remove_poll(s, MODERATOR, 99999))


WRONG_POLLS = [
    ({"start": dt.date(2020, 7, 20)}, "before its start"),
    (
        {"answers": [("Tuberville", 40.0), ("Sessions", 30.0), ("Jones", 20.0)]},
        "'Jones' is not on the ballot of the Republican runoff",
    ),
    ({"answers": [("Tuberville", 70.0), ("Sessions", 40.0)]}, "add up to 110%"),
    ({"answers": [("Tuberville", 52.0)]}, "at least two answers"),
    ({"end": dt.date.today() + dt.timedelta(days=3), "start": None}, "in the future"),
    ({"pollster": "  "}, "Name the pollster"),
    ({"pollster": "P" * 200}, "at most 128 characters"),
    ({"answers": [("Tuberville", 52.0), ("Nobody", 38.0)]}, "'Nobody' is not a candidate"),
]


async def test_wrong_polls_write_nothing(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    before = await row_counts(sample_sessions)
    for changes, words in WRONG_POLLS:
        poll = aum(race, **changes)
        with pytest.raises(WriteError, match=words):
            await run_write(sample_sessions, lambda s, poll=poll: add_poll(s, MODERATOR, poll))  # type: ignore[misc]
    assert await row_counts(sample_sessions) == before


async def test_a_hypothetical_poll_may_name_people_off_the_ballot(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = aum(race, answers=[("Sessions", 48.9), ("Jones", 43.3)], hypothetical=True, pollster="AUM 2")
    outcome = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, data))
    assert (
        outcome.poll.questions[0].hypothetical
        and outcome.contest is not None
        and outcome.contest.stage == "general"
    )


async def test_endorsements_added_refused_removed_and_restored(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = EndorsementInput(race, "Richard Shelby", "tuberville", kind="senator", date=dt.date(2020, 6, 1))
    outcome = await run_write(sample_sessions, lambda s: add_endorsement(s, MODERATOR, data))
    assert outcome.candidate.name == "Tommy Tuberville" and outcome.endorsement.endorser_kind == "senator"
    with pytest.raises(Duplicate):
        await run_write(sample_sessions, lambda s: add_endorsement(s, MODERATOR, data))
    before = await row_counts(sample_sessions)
    for wrong, words in (
        (EndorsementInput(race, "X", "Nobody"), "'Nobody' is not a candidate"),
        (EndorsementInput(race, "X", "Tuberville", stance="loves"), "stance must be"),
        (EndorsementInput(race, "", "Tuberville"), "Name the endorser"),
        (
            EndorsementInput(race, "X", "Tuberville", date=dt.date.today() + dt.timedelta(days=9)),
            "in the future",
        ),
    ):
        with pytest.raises(WriteError, match=words):
            await run_write(sample_sessions, lambda s, wrong=wrong: add_endorsement(s, MODERATOR, wrong))  # type: ignore[misc]
    assert await row_counts(sample_sessions) == before
    removed = await run_write(
        sample_sessions, lambda s: remove_endorsement(s, MODERATOR, outcome.endorsement.id)
    )
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, removed.audit.id))
    async with sample_sessions() as session:
        assert await session.get(Endorsement, outcome.endorsement.id) is not None


async def test_races_and_candidates_added_edited_merged_and_undone(sample_sessions: Sessions) -> None:
    data = RaceInput(
        state="AL",
        office="senate",
        cycle=2026,
        seat="Class II",
        contests=[
            ContestDate("general", "", dt.date(2026, 11, 3)),
            ContestDate("primary", "REP", dt.date(2026, 5, 19)),
        ],
    )
    added = await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    with pytest.raises(WriteError, match="already exists"):
        await run_write(sample_sessions, lambda s: add_race(s, MODERATOR, data))
    race = added.race.id
    edit = RaceEdit(
        race, {"notes": "Open seat"}, [ContestDate("primary runoff", "REP", dt.date(2026, 6, 16))]
    )
    edited = await run_write(sample_sessions, lambda s: edit_race(s, MODERATOR, edit))
    assert edited.changed == {"notes": (None, "Open seat")} and [c.stage for c in edited.contests] == [
        "primary runoff"
    ]
    with pytest.raises(WriteError, match="Which stage's ballot"):
        await run_write(
            sample_sessions,
            lambda s: add_candidate(s, MODERATOR, CandidateInput(race, StageRef(), "Barry Moore")),
        )
    jones = await run_write(
        sample_sessions,
        lambda s: add_candidate(s, MODERATOR, CandidateInput(race, GENERAL, "Doug Jones", "D")),
    )
    assert not jones.created_person  # the Doug Jones of 2020
    moore = await run_write(
        sample_sessions,
        lambda s: add_candidate(
            s, MODERATOR, CandidateInput(race, StageRef("primary", "REP"), "Barry Moore", "R")
        ),
    )
    assert moore.created_person
    async with sample_sessions.begin() as session:  # a second record of the same man, as an import might make
        twin = Candidate(name="B. Moore", name_key="b moore", party="REP", state="AL")
        session.add(twin)
        await session.flush()
        runoff = await session.scalar(
            select(Contest).where(Contest.race_id == race, Contest.stage == "primary runoff")
        )
        assert runoff is not None
        session.add(Candidacy(contest_id=runoff.id, candidate_id=twin.id, party="REP"))
    changed = await run_write(
        sample_sessions,
        lambda s: edit_candidate(
            s,
            MODERATOR,
            CandidateEdit(race, "Barry Moore", StageRef("primary", "REP"), party="GOP", withdrawn=True),
        ),
    )
    assert changed.changed["withdrawn"] == (False, True)
    merged = await run_write(
        sample_sessions, lambda s: merge_candidates(s, MODERATOR, race, f"#{twin.id}", "barry moore")
    )
    assert merged.moved["candidacies"] and merged.merged.merged_into_id == moore.person.id
    async with sample_sessions() as session:
        assert (
            await session.scalar(select(Candidacy.candidate_id).where(Candidacy.contest_id == runoff.id))
            == moore.person.id
        )
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, merged.audit.id))
    async with sample_sessions.begin() as session:
        await session.execute(delete(Candidacy).where(Candidacy.candidate_id == twin.id))
    for entry in (changed.audit.id, moore.audit.id, jones.audit.id, edited.audit.id):
        await run_write(sample_sessions, lambda s, entry=entry: undo(s, MODERATOR, entry))  # type: ignore[misc]
    async with sample_sessions() as session:
        race_row = await session.get(Race, race)
        assert race_row is not None and race_row.notes is None
        stages = set(await session.scalars(select(Contest.stage).where(Contest.race_id == race)))
        assert stages == {"general", "primary"}
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "Barry Moore")) is None
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "Doug Jones")) is not None
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, added.audit.id))
    async with sample_sessions() as session:
        assert await session.get(Race, race) is None


async def test_undo_refuses_what_it_cannot_do(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    outcome = await run_write(
        sample_sessions, lambda s: post_result(s, MODERATOR, result(race, ("Tuberville", 7), ("Jones", 6)))
    )
    undone = await run_write(sample_sessions, lambda s: undo(s, MODERATOR, outcome.audit.id))
    for entry, words in (
        (outcome.audit.id, "already undone"),
        (undone.audit.id, "itself an undo"),
        (10**9, "no audit entry"),
    ):
        with pytest.raises(WriteError, match=words):
            await run_write(sample_sessions, lambda s, entry=entry: undo(s, MODERATOR, entry))  # type: ignore[misc]
    async with sample_sessions() as session:
        imported = await session.scalar(select(AuditEntry.id).where(AuditEntry.action == "import"))
    assert imported is not None
    with pytest.raises(WriteError, match="cannot be undone"):
        await run_write(sample_sessions, lambda s: undo(s, MODERATOR, imported))
    async with sample_sessions() as session:
        assert await session.get(ResultSnapshot, outcome.snapshot.id) is None


async def test_two_moderators_posting_at_once_both_land(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    posts = [
        run_write(
            sample_sessions,
            lambda s: post_result(s, MODERATOR, result(race, ("Tuberville", 100), ("Jones", 90))),
        ),
        run_write(
            sample_sessions,
            lambda s: post_result(
                s,
                OTHER_MODERATOR,
                result(race, ("Tuberville", 333_900), ("Sessions", 215_900), stage=StageRef("runoff")),
            ),
        ),
        run_write(
            sample_sessions,
            lambda s: add_endorsement(
                s, OTHER_MODERATOR, EndorsementInput(race, "Kay Ivey", "Tuberville", kind="governor")
            ),
        ),
    ]
    outcomes = await asyncio.gather(*posts)
    assert len({o.audit.id for o in outcomes}) == 3


async def test_the_same_count_posted_twice_at_once_is_stored_once(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    data = result(race, ("Tuberville", 4242), ("Jones", 4141))
    outcomes = await asyncio.gather(
        *(run_write(sample_sessions, lambda s: post_result(s, MODERATOR, data)) for _ in range(3)),
        return_exceptions=True,
    )
    stored = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(stored) == 1, outcomes
    assert all(isinstance(o, Duplicate) for o in outcomes if isinstance(o, BaseException))


async def test_sqlite_busy_errors_are_retried_never_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds SQLite's write lock longer than the busy timeout: the write waits its turn."""
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def short_timeout(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=20")

    await upgrade(engine)

    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await load_sample(session)
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held
    release = asyncio.get_running_loop().call_later(0.4, other.commit)
    try:
        race = await race_id(sessions)
        with caplog.at_level(logging.DEBUG, logger="db.writes.retry"):
            outcome = await run_write(
                sessions, lambda s: post_result(s, MODERATOR, result(race, ("Tuberville", 1), ("Jones", 2)))
            )
        assert outcome.snapshot.id is not None
        assert "database busy" in caplog.text  # it was locked, and retried
    finally:
        release.cancel()
        other.close()
        await engine.dispose()


def test_busy_errors_are_told_apart() -> None:
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    other = OperationalError("INSERT", {}, sqlite3.OperationalError("no such table: races"))
    assert is_busy(locked) and not is_busy(other)


async def test_a_count_that_is_not_final_and_official_ends_the_certified_status_until_undone(
    sample_sessions: Sessions,
) -> None:
    race = await race_id(sample_sessions)
    posted = await run_write(
        sample_sessions,
        lambda s: post_result(s, MODERATOR, result(race, ("Tuberville", 1_392_100), ("Jones", 920_500))),
    )
    assert posted.contest.status == "called"  # Tuberville's call stands; the count is not the certified one
    assert posted.audit.before is not None and posted.audit.before["contest_status"] == "certified"
    await run_write(sample_sessions, lambda s: undo(s, MODERATOR, posted.audit.id))
    async with sample_sessions() as session:
        assert (await contest_of(session, race, "general")).status == "certified"
    official = result(race, ("Tuberville", 1_392_101), ("Jones", 920_500), final=True, official=True)
    certified = await run_write(sample_sessions, lambda s: post_result(s, MODERATOR, official))
    assert certified.contest.status == "certified"

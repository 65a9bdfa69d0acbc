"""Feeds in the store: attaching one (audited), and each reading: a changed count stored through
post_result, an unchanged one storing nothing, and every kind of bad data held with its reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.audit import Actor
from db.engine import make_sessionmaker
from db.feeds.formats import FeedError, read_feed
from db.models import AuditEntry, Call, Feed, ResultSnapshot
from db.writes import StageRef, WriteError, run_write
from db.writes.feeds import (
    Basis,
    FeedInput,
    Fetched,
    add_feed,
    approve_held,
    claim,
    note_fetches,
    nothing_new,
    pause_feed,
    reading_basis,
    remove_feed,
    resume_feed,
    skip_held,
    take_reading,
)
from db.writes.races import CandidateInput, ContestDate, RaceInput, add_candidate, add_race
from db.writes.results import ResultOutcome
from db.writes.undo import undo
from tests.support.feeds import FEEDS, FLORIDA, add_florida_2012, ap_snapshot, florida_counts

DESK = Actor(id=7, name="desk", guild_id=1)
URL = "https://results.example.org/fl.json"


class Desk:
    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = make_sessionmaker(engine)
        self.announced: list[int] = []

    async def announce(self, _session: AsyncSession, outcome: ResultOutcome) -> int:
        self.announced.append(outcome.snapshot.id)
        return outcome.snapshot.id

    async def attach(self, body: bytes = b"", mode: str = "auto", contest: str | None = FLORIDA) -> int:
        race = await run_write(self.sessions, lambda s: add_florida_2012(s, DESK))
        data = FeedInput(
            race.id, StageRef("general"), URL, read_feed(body or ap_snapshot()), contest, 30, mode
        )
        outcome = await run_write(self.sessions, lambda s: add_feed(s, DESK, data))
        return outcome.feed.id

    async def read(self, feed_id: int, body: bytes) -> Any:
        try:
            reading: Any = read_feed(body)
        except FeedError as problem:
            reading = problem
        return await run_write(self.sessions, lambda s: take_reading(s, feed_id, reading, self.announce))

    async def snapshots(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ResultSnapshot)) or 0)

    async def feed(self, feed_id: int) -> Feed:
        async with self.sessions() as session:
            feed = await session.get(Feed, feed_id)
            assert feed is not None
            return feed


async def test_a_feed_is_attached_audited_and_its_counts_stored_once(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    async with desk.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "feed.add"))
    assert entry is not None and entry.entity_id == feed_id and entry.after is not None
    assert entry.after["url"] == URL and entry.after["contest_key"] == FLORIDA

    first = await desk.read(feed_id, ap_snapshot())
    assert first.stored is not None and not first.held
    counts = {line.candidacy.candidate.name: line.votes for line in first.stored.lines}
    assert counts == florida_counts()  # recomputed from the sample file
    assert first.stored.audit.action == "result.add" and first.stored.snapshot.source == f"feed #{feed_id}"
    assert desk.announced == [first.stored.snapshot.id]

    unchanged = await desk.read(feed_id, ap_snapshot())
    assert unchanged.stored is None and not unchanged.held
    assert await desk.snapshots() == 1 and len(desk.announced) == 1

    rising = await desk.read(feed_id, ap_snapshot(1))
    assert rising.stored is not None
    assert {line.candidacy.candidate.name: line.change for line in rising.stored.lines} == florida_counts()
    assert await desk.snapshots() == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (ap_snapshot(scale=0.5), "count went down from"),
        (ap_snapshot(1, precincts=7000), "more than the total"),
        (ap_snapshot(1, precinctsReportingPct=140.0), "reporting is 140%, outside 0-100%"),
        (ap_snapshot(1)[:-40], "cannot be read"),
        (b"<ElectionResult><Contest", "cannot be read"),
    ],
)
async def test_bad_readings_are_held_and_nothing_is_stored(
    engine: AsyncEngine, body: bytes, reason: str
) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    await desk.read(feed_id, ap_snapshot())
    reading = await desk.read(feed_id, body)
    assert reading.stored is None and any(reason in r for r in reading.held), reading.held
    feed = await desk.feed(feed_id)
    assert feed.state == "held" and feed.held is not None and reason in feed.last_error
    assert await desk.snapshots() == 1 and len(desk.announced) == 1


async def test_a_vanished_candidate_and_a_renamed_contest_are_held(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    await desk.read(feed_id, ap_snapshot())
    document = json.loads(ap_snapshot(1))
    florida = next(r for r in document["races"] if r["raceID"] == FLORIDA)
    unit = next(u for u in florida["reportingUnits"] if u["level"] == "state")
    unit["candidates"] = unit["candidates"][:-1]
    gone = await desk.read(feed_id, json.dumps(document).encode())
    assert any(r == "Chris Borgia (had 2,392) is no longer in the feed" for r in gone.held)
    await run_write(desk.sessions, lambda s: resume_feed(s, DESK, feed_id))

    document = json.loads(ap_snapshot(1))
    florida = next(r for r in document["races"] if r["raceID"] == FLORIDA)
    florida["officeName"] = "Governor"
    renamed = await desk.read(feed_id, json.dumps(document).encode())
    assert any("names contest 10005 'FL Governor General'" in r for r in renamed.held), renamed.held

    await run_write(desk.sessions, lambda s: resume_feed(s, DESK, feed_id))
    document["races"] = [r for r in document["races"] if r["raceID"] != FLORIDA]
    missing = await desk.read(feed_id, json.dumps(document).encode())
    assert any("now names contest 20978 'ME U.S. Senate General', not 10005" in r for r in missing.held)
    assert await desk.snapshots() == 1


async def test_a_held_count_is_stored_when_approved_and_dropped_when_skipped(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    await desk.read(feed_id, ap_snapshot(2))
    held = await desk.read(feed_id, ap_snapshot(1))
    assert held.held and await desk.snapshots() == 1
    late = await desk.read(feed_id, ap_snapshot(3))  # a fetch that began before the hold: the desk has it now
    assert late.stored is None and not late.held and (await desk.feed(feed_id)).state == "held"
    approved = await run_write(desk.sessions, lambda s: approve_held(s, DESK, feed_id, desk.announce))
    assert approved.stored is not None and approved.stored.audit.actor_id == DESK.id
    assert (await desk.feed(feed_id)).state == "active" and await desk.snapshots() == 2
    with pytest.raises(WriteError, match="holds nothing"):
        await run_write(desk.sessions, lambda s: approve_held(s, DESK, feed_id, desk.announce))

    held_again = await desk.read(feed_id, ap_snapshot(scale=0.5))
    assert held_again.held
    skipped = await run_write(desk.sessions, lambda s: skip_held(s, DESK, feed_id))
    assert skipped.audit.action == "feed.skip" and await desk.snapshots() == 2


async def test_a_choice_nobody_matches_stops_the_feed(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    document = json.loads(ap_snapshot(1))
    unit = next(
        u
        for r in document["races"]
        if r["raceID"] == FLORIDA
        for u in r["reportingUnits"]
        if u["level"] == "state"
    )
    unit["candidates"][3]["first"], unit["candidates"][3]["last"] = "Zed", "Nobody"
    stopped = await desk.read(feed_id, json.dumps(document).encode())
    assert stopped.stopped is not None and "'Zed Nobody' matches no one candidate" in stopped.stopped
    assert (await desk.feed(feed_id)).state == "paused" and await desk.snapshots() == 0


async def test_attaching_refuses_what_it_cannot_match(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    race = await run_write(desk.sessions, lambda s: add_florida_2012(s, DESK))
    maine = FeedInput(race.id, StageRef("general"), URL, read_feed(ap_snapshot()), "20978", 30, "auto")
    with pytest.raises(WriteError, match="'Angus King' matches no one candidate"):
        await run_write(desk.sessions, lambda s: add_feed(s, DESK, maine))
    both = FeedInput(race.id, StageRef("general"), URL, read_feed(ap_snapshot()), None, 30, "auto")
    with pytest.raises(WriteError, match="say which with `contest=`"):
        await run_write(desk.sessions, lambda s: add_feed(s, DESK, both))
    fast = FeedInput(race.id, StageRef("general"), URL, read_feed(ap_snapshot()), FLORIDA, 2, "auto")
    with pytest.raises(WriteError, match="every 10 s"):
        await run_write(desk.sessions, lambda s: add_feed(s, DESK, fast))


async def test_review_mode_holds_every_new_count(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach(mode="review")
    reading = await desk.read(feed_id, ap_snapshot())
    assert reading.held == ["review mode: each new count waits for the desk"] and await desk.snapshots() == 0
    await run_write(desk.sessions, lambda s: approve_held(s, DESK, feed_id, desk.announce))
    assert await desk.snapshots() == 1


async def test_pause_resume_remove_are_audited(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    paused = await run_write(desk.sessions, lambda s: pause_feed(s, DESK, feed_id))
    with pytest.raises(WriteError, match="already paused"):
        await run_write(desk.sessions, lambda s: pause_feed(s, DESK, feed_id))
    resumed = await run_write(desk.sessions, lambda s: resume_feed(s, DESK, feed_id))
    removed = await run_write(desk.sessions, lambda s: remove_feed(s, DESK, feed_id))
    assert [paused.audit.action, resumed.audit.action, removed.audit.action] == [
        "feed.pause",
        "feed.resume",
        "feed.remove",
    ]
    async with desk.sessions() as session:
        assert await session.get(Feed, feed_id) is None
    with pytest.raises(WriteError, match="no feed #"):
        await run_write(desk.sessions, lambda s: pause_feed(s, DESK, feed_id))


async def test_a_clarity_detail_file_imports_the_same_way(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    body = (FEEDS / "precinct.xml").read_bytes()
    (contest,) = read_feed(body).contests

    async def kentucky(session: AsyncSession) -> int:
        race = await add_race(
            session,
            DESK,
            RaceInput("KY", "senate", 2014, contests=[ContestDate("primary", "REP", dt.date(2014, 5, 20))]),
        )
        for name, _votes in contest.choices:
            await add_candidate(
                session, DESK, CandidateInput(race.race.id, StageRef("primary", "REP"), name.title())
            )
        return race.race.id

    race_id = await run_write(sessions, kentucky)
    data = FeedInput(
        race_id, StageRef("primary", "REP"), URL, read_feed(body), "US Senator - REPUBLICAN", 30, "auto"
    )
    feed = await run_write(sessions, lambda s: add_feed(s, DESK, data))
    reading = await run_write(sessions, lambda s: take_reading(s, feed.feed.id, read_feed(body), _none))
    assert reading.stored is not None
    stored = {line.candidacy.candidate.name: line.votes for line in reading.stored.lines}
    assert stored == {
        name.title(): votes for name, votes in contest.choices
    }  # "Mitch McCONNELL" is Mitch Mcconnell


async def _none(_session: AsyncSession, _outcome: ResultOutcome) -> None:
    return None


async def test_the_desk_is_nudged_once_when_a_stage_may_be_callable(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    early = await desk.read(feed_id, ap_snapshot())
    assert early.stored is not None and early.nudge is None  # 0.28% reporting: far from callable
    done = await desk.read(feed_id, ap_snapshot(1, precincts=6089))
    assert done.nudge == "every precinct has reported"
    again = await desk.read(feed_id, ap_snapshot(2, precincts=6089))
    assert again.stored is not None and again.nudge is None  # told once
    async with desk.sessions() as session:
        calls = await session.scalar(select(func.count()).select_from(Call))
    assert calls == 0  # a feed never calls a race


async def test_feed_changes_are_undone_like_any_write(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()
    paused = await run_write(desk.sessions, lambda s: pause_feed(s, DESK, feed_id))
    await run_write(desk.sessions, lambda s: undo(s, DESK, paused.audit.id))
    assert (await desk.feed(feed_id)).state == "active"

    removed = await run_write(desk.sessions, lambda s: remove_feed(s, DESK, feed_id))
    back = await run_write(desk.sessions, lambda s: undo(s, DESK, removed.audit.id))
    assert "attached feed" in back.description
    restored = await desk.feed(feed_id)
    assert restored.state == "paused" and restored.url == URL and restored.contest_key == FLORIDA

    async with desk.sessions() as session:
        added = await session.scalar(select(AuditEntry).where(AuditEntry.action == "feed.add"))
    assert added is not None
    await run_write(desk.sessions, lambda s: undo(s, DESK, added.id))
    async with desk.sessions() as session:
        assert await session.get(Feed, feed_id) is None
    with pytest.raises(WriteError, match="already undone"):
        await run_write(desk.sessions, lambda s: undo(s, DESK, paused.audit.id))


async def test_of_several_bot_processes_exactly_one_polls_a_feed(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach()

    async def claims(owner: str, seconds: float = 60) -> bool:
        return await run_write(desk.sessions, lambda s: claim(s, feed_id, owner, seconds))

    assert await claims("bot-a")
    assert not await claims("bot-b")  # bot-a holds it
    assert await claims("bot-a")  # and renews it
    async with desk.sessions.begin() as session:  # bot-a stopped: its lease runs out
        feed = await session.get(Feed, feed_id)
        assert feed is not None
        feed.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert await claims("bot-b")
    assert not await claims("bot-a")
    async with desk.sessions.begin() as session:
        feed = await session.get(Feed, feed_id)
        assert feed is not None
        feed.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    both = await asyncio.gather(claims("bot-c"), claims("bot-d"))  # two processes at the same moment
    assert sorted(both) == [False, True]


@pytest.mark.parametrize("mode", ["auto", "review"])
async def test_nothing_new_answers_true_only_when_the_reading_would_store_and_hold_nothing(
    engine: AsyncEngine, mode: str
) -> None:
    desk = Desk(engine)
    feed_id = await desk.attach(mode=mode)
    feed = await desk.feed(feed_id)

    async def basis() -> Basis:
        async with desk.sessions() as session:
            return await reading_basis(session, feed.race_id, feed.contest_id)

    assert not nothing_new(feed, read_feed(ap_snapshot()), await basis())  # nothing stored yet
    if mode == "review":
        await desk.read(feed_id, ap_snapshot())  # held: review mode
        await run_write(desk.sessions, lambda s: approve_held(s, DESK, feed_id, desk.announce))
    else:
        await desk.read(feed_id, ap_snapshot())
    assert await desk.snapshots() == 1
    stored = await basis()
    candidates = [
        ap_snapshot(),  # the count stored: nothing new
        ap_snapshot(1),  # rising
        ap_snapshot(scale=0.5),  # going down: held
        ap_snapshot(precincts=7000),  # more precincts than the total: held
        ap_snapshot(precincts=10),  # the same votes, other reporting: stored
        ap_snapshot(precinctsReportingPct=140.0),
    ]

    async def what_the_write_does(body: bytes) -> bool:
        """Whether take_reading stores or holds anything for this reading (rolled back after)."""
        async with desk.sessions() as session:
            await session.begin()
            result = await take_reading(session, feed_id, read_feed(body), desk.announce)
            await session.rollback()
        return result.stored is not None or bool(result.held) or result.stopped is not None

    answers = [nothing_new(feed, read_feed(body), stored) for body in candidates]
    assert answers == [True, False, False, False, False, False]
    assert answers == [not await what_the_write_does(body) for body in candidates]
    assert await desk.snapshots() == 1


async def test_fetches_with_nothing_new_are_noted_in_one_write(engine: AsyncEngine) -> None:
    desk = Desk(engine)
    first, second = await desk.attach(), None
    async with desk.sessions.begin() as session:
        race = await session.scalar(select(Feed.race_id).where(Feed.id == first))
        assert race is not None
    data = FeedInput(race, StageRef("general"), URL + "?2", read_feed(ap_snapshot()), FLORIDA, 30)
    second = (await run_write(desk.sessions, lambda s: add_feed(s, DESK, data))).feed.id
    held = (
        await run_write(desk.sessions, lambda s: add_feed(s, DESK, replace(data, url=URL + "?3")))
    ).feed.id
    async with desk.sessions.begin() as session:  # one failing, one held by the desk
        failing = await session.get(Feed, first)
        assert failing is not None
        failing.state, failing.failures, failing.failing_reported, failing.last_error = (
            "failing",
            4,
            True,
            "500",
        )
        waiting = await session.get(Feed, held)
        assert waiting is not None
        waiting.state, waiting.last_error = "held", "count went down"
    await run_write(
        desk.sessions,
        lambda s: note_fetches(
            s,
            [
                Fetched(first, '"e1"', None),  # a 304
                Fetched(second, '"e2"', "Tue, 06 Nov 2012 23:00:00 GMT", read=True),
                Fetched(held, '"e3"', None, read=True),  # held since its fetch began: left as it is
            ],
        ),
    )
    well, read, left = await desk.feed(first), await desk.feed(second), await desk.feed(held)
    assert (well.state, well.failures, well.failing_reported, well.etag) == ("active", 0, False, '"e1"')
    assert well.last_fetch_at is not None and well.last_error == "500"  # a 304 is no reading
    assert (read.etag, read.last_modified, read.last_error) == ('"e2"', "Tue, 06 Nov 2012 23:00:00 GMT", None)
    assert (left.state, left.last_error, left.etag, left.last_fetch_at) == (
        "held",
        "count went down",
        None,
        None,
    )

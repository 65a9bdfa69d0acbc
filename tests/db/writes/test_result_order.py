"""A contest's counts in the order they were sent (their Discord message ids), not the order they arrive:
on SQLite and PostgreSQL, one after another and many at once over separate connections."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ResultSnapshot
from db.reads.races import latest_snapshot, send_order
from db.writes import Duplicate, StageRef, run_write
from db.writes.results import ResultInput, ResultOutcome, post_result
from tests.support import MODERATOR, al2020, contest_of

Sessions = async_sessionmaker[AsyncSession]
DISCORD_EPOCH_MS = 1_420_070_400_000
START = dt.datetime(2026, 11, 3, 23, 0, tzinfo=dt.UTC)


def sent(i: int) -> tuple[int, dt.datetime]:
    """The id and time of the i-th message the desk sent (10 ms apart), as Discord makes them."""
    at = START + dt.timedelta(milliseconds=10 * i)
    ms = int(at.timestamp() * 1000) - DISCORD_EPOCH_MS
    return ms << 22 | i, at


def count(race: int, i: int) -> ResultInput:
    sent_id, sent_at = sent(i)
    return ResultInput(
        race,
        StageRef("general"),
        [("Tuberville", 1_700_000 + i), ("Jones", 930_000 + i)],
        sent_id=sent_id,
        sent_at=sent_at,
    )


async def post(sessions: Sessions, data: ResultInput) -> ResultOutcome:
    return await run_write(sessions, lambda s: post_result(s, MODERATOR, data))


async def history(sessions: Sessions, race: int) -> list[ResultSnapshot]:
    async with sessions() as session:
        general = await contest_of(session, race, "general")
        return list(
            await session.scalars(
                select(ResultSnapshot).where(ResultSnapshot.contest_id == general.id).order_by(*send_order())
            )
        )


async def race_of(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await al2020(session)).id


async def test_a_count_that_arrives_after_a_later_one_goes_into_the_history(
    sample_sessions: Sessions,
) -> None:
    race = await race_of(sample_sessions)
    first = await post(sample_sessions, count(race, 1))
    third = await post(sample_sessions, count(race, 3))
    second = await post(sample_sessions, count(race, 2))  # sent before the third, arrives after it
    assert first.newer is None and third.newer is None
    assert third.previous is not None and third.previous.id == first.snapshot.id
    assert [line.change for line in third.lines] == [
        2,
        2,
    ]  # never "−1": measured against what was sent before
    assert second.newer is not None and second.newer.id == third.snapshot.id  # history only
    assert second.previous is not None and second.previous.id == first.snapshot.id
    assert not second.went_down
    async with sample_sessions() as session:
        general = await contest_of(session, race, "general")
        current = await latest_snapshot(session, general.id)
    assert current is not None and current.id == third.snapshot.id
    ours = [s.sent_id for s in await history(sample_sessions, race) if s.sent_id is not None]
    assert ours == [sent(i)[0] for i in (1, 2, 3)]


async def test_the_same_message_is_stored_once(sample_sessions: Sessions) -> None:
    race = await race_of(sample_sessions)
    await post(sample_sessions, count(race, 1))
    again = count(race, 1)
    again.counts = [("Tuberville", 5), ("Jones", 6)]
    with pytest.raises(Duplicate, match="That message's count is already stored"):
        await post(sample_sessions, again)


async def test_many_counts_at_once_over_separate_connections_end_with_the_last_sent(
    sample_sessions: Sessions,
) -> None:
    """Two connection pools (as two bot processes would have) post 30 counts at once, in shuffled order."""
    race = await race_of(sample_sessions)
    engine = sample_sessions.kw["bind"]
    pools = [async_sessionmaker(engine, expire_on_commit=False) for _ in range(2)]
    order = list(range(30))
    random.Random(12).shuffle(order)
    outcomes = await asyncio.gather(*(post(pools[n % 2], count(race, i)) for n, i in enumerate(order)))
    snapshots = await history(sample_sessions, race)
    assert [s.sent_id for s in snapshots if s.sent_id is not None] == [sent(i)[0] for i in range(30)]
    async with sample_sessions() as session:
        current = await latest_snapshot(session, (await contest_of(session, race, "general")).id)
    assert current is not None and current.sent_id == sent(29)[0]
    # In the order they were stored, each count made current was sent after every count stored before it,
    # and none reports a fall.
    stored = sorted(outcomes, key=lambda o: o.audit.id)
    highest = -1
    for outcome in stored:
        sent_id = outcome.snapshot.sent_id
        assert sent_id is not None
        assert (outcome.newer is None) == (sent_id > highest)
        assert not outcome.went_down
        highest = max(highest, sent_id)

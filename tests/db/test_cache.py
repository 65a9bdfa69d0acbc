"""The read cache: served until the data changes, here or in another process."""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Awaitable, Callable

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import cache as cache_module
from db.audit import SYSTEM, Actor, record
from db.cache import ReadCache
from db.engine import make_sessionmaker
from db.models import AuditEntry


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def counting() -> Callable[[], Awaitable[int]]:
    """A load that returns 0, 1, 2, ...: a new value each time it runs."""
    values = iter(range(100))

    async def load() -> int:
        return next(values)

    return load


async def write_elsewhere(engine: AsyncEngine) -> None:
    """A Core insert bypasses this process's ORM events, as another process's write would."""
    async with engine.begin() as conn:
        await conn.execute(insert(AuditEntry).values(action="import", entity="document", actor_name="system"))


async def test_a_write_in_this_process_clears_the_cache(sessions: async_sessionmaker[AsyncSession]) -> None:
    loads = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    cache = ReadCache(sessions, clock=Clock())
    assert await cache.get("k", load) == 1
    assert await cache.get("k", load) == 1
    async with sessions.begin() as session:
        await record(session, Actor(1, "mod"), "test.write", "races", None)
    assert await cache.get("k", load) == 2


async def test_a_rolled_back_write_leaves_the_cache(sessions: async_sessionmaker[AsyncSession]) -> None:
    before = cache_module.local_version()
    async with sessions() as session:
        await record(session, SYSTEM, "test.write", "races", None)
        await session.rollback()
    assert cache_module.local_version() == before


async def test_a_savepoint_of_a_write_counts_at_the_transactions_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = cache_module.local_version()
    async with sessions.begin() as session:
        await record(session, SYSTEM, "test.write", "races", None)
        async with session.begin_nested():
            await session.execute(insert(AuditEntry).values(action="x", entity="races", actor_name="system"))
        assert cache_module.local_version() == before  # not yet: the cache could be filled again meanwhile
        try:
            async with session.begin_nested():
                raise LookupError("the savepoint rolls back")
        except LookupError:
            pass
    assert cache_module.local_version() == before + 1  # the write before the savepoint still counts


async def test_another_processs_write_is_seen_at_the_next_check(engine: AsyncEngine) -> None:
    clock = Clock()
    cache = ReadCache(make_sessionmaker(engine), clock=clock)
    load = counting()
    first = await cache.get("k", load)
    await write_elsewhere(engine)
    clock.now += 0.5
    assert await cache.get("k", load) == first  # not checked again yet
    clock.now += cache_module.REFRESH_SECONDS
    assert await cache.get("k", load) != first


async def test_entries_expire(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = Clock()
    cache = ReadCache(sessions, clock=clock)
    values = iter(range(100))

    async def load() -> int:
        return next(values)

    first = await cache.get("k", load)
    clock.now += cache_module.TTL_SECONDS + 1
    assert await cache.get("k", load) != first


async def test_a_value_loaded_while_the_data_changed_is_not_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = ReadCache(sessions, clock=Clock())
    loads = []

    async def load_across_a_write() -> int:
        loads.append(1)
        if len(loads) == 1:
            cache.invalidate()  # a write lands while this load reads the old data
        return len(loads)

    assert await cache.get("k", load_across_a_write) == 1  # the caller gets what was read...
    assert await cache.get("k", load_across_a_write) == 2  # ...but the next one reads again
    assert await cache.get("k", load_across_a_write) == 2


async def test_while_writes_are_heard_the_audit_id_is_not_compared(engine: AsyncEngine) -> None:
    clock = Clock()
    cache = ReadCache(make_sessionmaker(engine), clock=clock)
    heard = True
    cache.writes_heard = lambda: heard
    load = counting()
    first = await cache.get("k", load)
    await write_elsewhere(engine)
    clock.now += cache_module.REFRESH_SECONDS * 2
    assert await cache.get("k", load) == first  # the listener would have said; nothing said: kept
    heard = False  # the listener lost its connection: back to the periodic comparison
    assert await cache.get("k", load) != first


class Answer:
    """A cached value that can be watched being freed."""


async def test_a_cleared_cache_is_empty_at_once_and_its_answers_are_freed_a_slice_per_turn_of_the_loop(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = ReadCache(sessions, clock=Clock())
    held = 3 * cache_module.FREE_SLICE + 1
    watched = []
    for n in range(held):
        answer = Answer()
        watched.append(weakref.ref(answer))

        async def load(answer: Answer = answer) -> Answer:
            return answer

        assert await cache.get(n, load) is answer
        del answer, load
    cache.clear()
    fresh = Answer()

    async def load_fresh() -> Answer:
        return fresh

    assert await cache.get(0, load_fresh) is fresh  # nothing from before the clear is served
    alive = [sum(ref() is not None for ref in watched)]
    while alive[-1]:
        await asyncio.sleep(0)
        alive.append(sum(ref() is not None for ref in watched))
    # Each turn of the loop freed at most one slice: several turns, none of them freeing everything.
    assert alive[0] > held - cache_module.FREE_SLICE
    assert all(0 < before - after <= cache_module.FREE_SLICE for before, after in itertools.pairwise(alive))


def test_without_a_running_loop_a_cleared_cache_frees_its_answers_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = ReadCache(sessions, clock=Clock())
    answer = Answer()
    watched = weakref.ref(answer)
    cache._entries["k"] = (0.0, answer)
    del answer
    cache.clear()
    assert watched() is None


async def settled_cache(sessions: async_sessionmaker[AsyncSession]) -> ReadCache:
    """A cache past its first look at the store (which drops it): what a test does next is all it sees."""
    cache = ReadCache(sessions, clock=Clock())
    await cache.get("settled", counting())
    return cache


class Gated:
    """A load that waits at a gate, counting how often it ran; its answer is its run's number."""

    def __init__(self, fail: bool = False) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.fail = fail

    async def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        self.started.set()
        await self.gate.wait()
        if self.fail:
            raise LookupError(f"run {run} failed")
        return run


async def test_who_asks_while_an_answer_is_read_waits_for_it_rather_than_reading_it_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = await settled_cache(sessions)
    load = Gated()
    asks = [asyncio.create_task(cache.get("k", load)) for _ in range(20)]
    await load.started.wait()
    await asyncio.sleep(0)
    load.gate.set()
    assert await asyncio.gather(*asks) == [1] * 20
    assert load.runs == 1 and await cache.get("k", load) == 1


async def test_who_asks_after_a_write_reads_afresh_while_an_older_read_is_under_way(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = await settled_cache(sessions)
    load = Gated()
    before = asyncio.create_task(cache.get("k", load))
    await load.started.wait()
    cache.invalidate()  # a write: what the read under way gives may be older than it
    after = asyncio.create_task(cache.get("k", load))
    for _ in range(3):
        await asyncio.sleep(0)
    load.gate.set()
    assert (await before, await after) == (1, 2) and load.runs == 2


async def test_a_failed_read_fails_each_who_waited_for_it_and_the_next_ask_reads_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cache = await settled_cache(sessions)
    load = Gated(fail=True)
    asks = [asyncio.create_task(cache.get("k", load)) for _ in range(3)]
    await load.started.wait()
    load.gate.set()
    failures = await asyncio.gather(*asks, return_exceptions=True)
    assert [str(f) for f in failures] == ["run 1 failed"] * 3 and load.runs == 1
    load.fail = False
    assert await cache.get("k", load) == 2


async def one_reading_three_waiting(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[Gated, asyncio.Task[int], list[asyncio.Task[int]]]:
    """On a cache of its own, a read under way at its gate, the one reading it, and three who asked for it
    meanwhile."""
    cache = await settled_cache(sessions)
    load = Gated()
    first = asyncio.create_task(cache.get("k", load))
    await load.started.wait()
    waiting = [asyncio.create_task(cache.get("k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    return load, first, waiting


async def test_when_the_one_reading_is_cancelled_one_who_waited_reads_instead(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    load, first, waiting = await one_reading_three_waiting(sessions)
    first.cancel()  # the member who asked first gave up (their command was cancelled)
    load.gate.set()
    assert await asyncio.wait_for(asyncio.gather(*waiting), 5) == [2, 2, 2] and load.runs == 2
    assert first.cancelled()


async def test_one_who_waited_giving_up_leaves_the_read_and_the_others_be(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    load, first, waiting = await one_reading_three_waiting(sessions)
    waiting[0].cancel()
    await asyncio.sleep(0)
    load.gate.set()
    assert await asyncio.wait_for(asyncio.gather(first, *waiting[1:]), 5) == [1, 1, 1] and load.runs == 1
    assert waiting[0].cancelled()

"""Reads on PostgreSQL (db/pgread.py): a member's small reads under generic plans on connections of their
own, other reads under the server's own choice, connections given back to the pool as they came, and a
dropped connection survived. PostgreSQL only: a SQLite file has no server to plan or connection to lose."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import pgread
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.lookup import find_races
from db.pgread import HELD, READ_TIMEOUT_MS, PostgresReader, ReadTooSlow
from db.reads.people import person_card
from db.store import Store
from tests.support import store_on, until

PLANS = text("SHOW plan_cache_mode")
TIMEOUT = text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
LISTED = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
SLOW_RESET = "SELECT pg_sleep(5)"
RUNNING = text("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE :query")


async def backend(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def backend_and_plans(session: AsyncSession) -> tuple[int, str]:
    return await backend(session), str(await session.scalar(PLANS))


async def counted_races(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM races")))


async def timeout(session: AsyncSession) -> str:
    """The connection's statement timeout in ms ("0": none)."""
    return str(await session.scalar(TIMEOUT))


async def pooled_plans(engine: AsyncEngine) -> dict[int, tuple[str, str]]:
    """Each connection now in the engine's pool: its backend, how it plans and its statement timeout."""
    async with contextlib.AsyncExitStack() as stack:
        found = {}
        for _ in range(engine.pool.checkedin()):  # type: ignore[attr-defined]
            connection = await stack.enter_async_context(engine.connect())
            pid = int(await connection.scalar(text("SELECT pg_backend_pid()")))
            found[pid] = (str(await connection.scalar(PLANS)), str(await connection.scalar(TIMEOUT)))
        return found


async def until_running(engine: AsyncEngine, statement: str) -> None:
    """Until a statement beginning with `statement` runs on the server (at most 10 s)."""
    async with make_sessionmaker(engine)() as session:
        for _ in range(1000):
            running = await session.scalar(RUNNING, {"query": f"{statement}%"})
            await session.rollback()  # the next look is a new transaction: pg_stat_activity afresh
            if running:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"{statement!r} never ran")


@contextlib.asynccontextmanager
async def sample_store(tmp_path: Path) -> Any:
    async with store_on("postgresql", tmp_path, "sample", load_sample) as engine:
        store = Store(make_sessionmaker(engine))
        assert isinstance(store.reader, PostgresReader)
        try:
            yield engine, store
        finally:
            await store.close()


async def test_small_reads_plan_generically_and_every_connection_goes_back_as_it_came(tmp_path: Path) -> None:
    async with sample_store(tmp_path) as (engine, store):
        found = await store.find_races("alabama 2020")  # a member's lookup: a small read
        assert found.chosen is not None
        _, plans = await store._read(backend_and_plans, small=True)
        assert plans == "force_generic_plan"
        assert (await store._read(backend_and_plans))[1] == "auto"  # any other read: the server's choice
        shown = {small: await store._read(timeout, small=small) for small in (True, False)}
        assert shown == {small: str(ms) for small, ms in READ_TIMEOUT_MS.items()}
        await store.close()
        assert set((await pooled_plans(engine)).values()) == {("auto", "0")}  # given back as they came


async def test_a_read_stuck_behind_a_lock_is_cancelled_and_its_connection_kept(tmp_path: Path) -> None:
    """A read that waits past the timeout (here behind a lock an ALTER TABLE would hold) is cancelled by the
    server and raises ReadTooSlow; its connection stays held and answers the next read."""
    async with sample_store(tmp_path) as (engine, store):
        assert isinstance(store.reader, PostgresReader)
        store.reader.timeout_ms = {True: 300, False: 300}
        store.reader.limit_seconds = {True: 60.0, False: 60.0}  # the server's timeout, not the read's limit
        kept = {small: await store._read(backend, small=small) for small in (True, False)}
        async with engine.connect() as locker:
            await locker.execute(text("LOCK TABLE races IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(ReadTooSlow) as small_read:
                await asyncio.wait_for(store.find_races("alabama 2020"), 10)
            with pytest.raises(ReadTooSlow) as other_read:
                await asyncio.wait_for(store._read(counted_races), 10)  # through a session
            await locker.rollback()
        for cancelled in (small_read.value.__cause__, other_read.value.__cause__):
            assert "statement timeout" in str(cancelled)  # the server cancelled it
        assert (await store.find_races("alabama 2020")).chosen is not None
        assert {small: await store._read(backend, small=small) for small in (True, False)} == kept


async def test_a_burst_of_reads_waits_for_the_kept_connections_not_the_whole_pool(tmp_path: Path) -> None:
    """Every write drops the cache, and the members asking next all read at once: no more reads of each kind
    run at once than the reader keeps connections for it, so the engine's pool stays free for the writes."""
    async with sample_store(tmp_path) as (engine, store):
        running = {True: 0, False: 0}
        most = {True: 0, False: 0}
        out: list[int] = []

        def counted(small: bool) -> Callable[[AsyncSession], Awaitable[tuple[int, str]]]:
            async def read(session: AsyncSession) -> tuple[int, str]:
                running[small] += 1
                most[small] = max(most[small], running[small])
                out.append(engine.pool.checkedout())  # type: ignore[attr-defined]
                answer = await backend_and_plans(session)
                await asyncio.sleep(0.01)
                running[small] -= 1
                return answer

            return read

        small = [store._read(counted(True), small=True) for _ in range(5 * HELD[True])]
        other = [store._read(counted(False)) for _ in range(5 * HELD[False])]
        answers = await asyncio.gather(*small, *other)
        assert most == HELD and max(out) <= HELD[True] + HELD[False]
        assert [plans for _, plans in answers[: len(small)]] == ["force_generic_plan"] * len(small)
        assert {plans for _, plans in answers[len(small) :]} == {"auto"}
        assert len({pid for pid, _ in answers}) == HELD[True] + HELD[False]  # the kept ones, again and again


async def test_reads_that_hang_hold_the_others_up_only_so_long(tmp_path: Path) -> None:
    """Two reads that never end (a connection lost without a word) take every turn of their kind: the next
    read does not wait on them for ever (TURN_WAIT at most), but goes ahead beside them, on a connection of
    the pool's."""
    async with sample_store(tmp_path) as (_, store):
        assert isinstance(store.reader, PostgresReader)
        hang, stuck_on = asyncio.Event(), []

        async def hung(session: AsyncSession) -> int:
            stuck_on.append(await backend(session))
            await hang.wait()
            return 0

        stuck = [asyncio.create_task(store._read(hung)) for _ in range(HELD[False])]
        await until(lambda: len(stuck_on) == HELD[False], 10, "both reads hanging")
        answered_on = await asyncio.wait_for(store._read(backend), 10)
        assert store.reader.turns[False].locked()  # every turn still taken: it went ahead beside them
        assert answered_on not in stuck_on
        hang.set()
        await asyncio.gather(*stuck)


async def test_a_read_past_its_own_limit_is_given_up_and_its_connection_dropped(tmp_path: Path) -> None:
    """The server's timeout cannot fire where its answer never arrives (a connection lost without a word):
    the whole read has a limit of its own. Past it the read is cancelled and raises ReadTooSlow, its
    connection (in an unknown state) is dropped rather than kept, and the next read answers on another."""
    async with sample_store(tmp_path) as (engine, store):
        assert isinstance(store.reader, PostgresReader)
        store.reader.limit_seconds = {True: 0.3, False: 0.3}
        kept = await store._read(backend, small=True)

        async def sleeping(session: AsyncSession) -> object:  # longer than the limit, within the server's
            return await session.scalar(text("SELECT pg_sleep(2)"))

        with pytest.raises(ReadTooSlow) as given_up:
            await asyncio.wait_for(store._read(sleeping, small=True), 10)
        assert isinstance(given_up.value.__cause__, TimeoutError)  # the read's own limit, not the server's
        assert store.reader.idle[True] == []  # not kept
        assert await store._read(backend, small=True) != kept
        held = len(store.reader.idle[True]) + len(store.reader.idle[False])
        assert engine.pool.checkedout() == held  # type: ignore[attr-defined]


async def test_a_read_an_operator_cancels_is_an_error_not_a_slow_store(tmp_path: Path) -> None:
    """pg_cancel_backend cancels a statement with the timeout's code (57014) but not its message: the read
    fails as it would for any other error, not as ReadTooSlow."""
    async with sample_store(tmp_path) as (engine, store):
        pid = await store._read(backend)  # the connection the next read is given

        async def sleeping(session: AsyncSession) -> object:
            return await session.scalar(text("SELECT pg_sleep(5)"))

        reading = asyncio.create_task(store._read(sleeping))
        await until_running(engine, "SELECT pg_sleep(5)")
        async with make_sessionmaker(engine)() as session:
            assert await session.scalar(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            await asyncio.wait_for(reading, 10)
        assert not isinstance(raised.value, ReadTooSlow) and "user request" in str(raised.value)


async def test_a_person_s_card_is_one_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The person, the races they hold, their endorsements and every stage they ran in, with its count: one
    statement sent (the polls that name them, when some do, are read after)."""
    sent: list[str] = []
    runner = pgread.asyncpg_runner

    def counting(driver: Any) -> Callable[[str, Any], Awaitable[Any]]:
        run = runner(driver)

        def counted(sql: str, arguments: Any) -> Awaitable[Any]:
            sent.append(sql)
            return cast(Awaitable[Any], run(sql, arguments))

        return counted

    monkeypatch.setattr(pgread, "asyncpg_runner", counting)
    async with sample_store(tmp_path) as (engine, store):
        race = (await store.find_races("alabama 2020")).chosen
        assert race is not None
        card = await store.race_card(race.id)
        assert card is not None
        unpolled = 0
        for person_id in {s.candidacy.candidate_id for view in card.contests for s in view.standings}:
            del sent[:]
            person = await store.person_card(person_id)
            assert person is not None and person.runs
            async with make_sessionmaker(engine)() as session:  # statement by statement, as SQLite reads it
                assert person == await person_card(session, person_id)
            if not person.poll_mentions:
                unpolled += 1
                assert len(sent) == 1, sent
        assert unpolled  # someone in the race was named in no poll


@pytest.mark.parametrize("small", [False, True], ids=["other-read", "small-read"])
@pytest.mark.parametrize("settled", [False, True], ids=["read-at-once", "read-once-it-is-gone"])
async def test_a_dropped_postgresql_connection_costs_no_answer(
    tmp_path: Path, settled: bool, small: bool
) -> None:
    """The next read comes at once after the backend is terminated, or once the server no longer lists it:
    the driver fails differently."""
    async with sample_store(tmp_path) as (engine, store):
        before = await store._read(backend, small=small)
        async with make_sessionmaker(engine)() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
            for _ in range(1000 if settled else 0):  # at most 10 s
                listed = await session.scalar(LISTED, {"pid": before})
                await session.rollback()  # the next look is a new transaction: pg_stat_activity afresh
                if not listed:
                    break
                await asyncio.sleep(0.01)
            else:
                assert not settled, "the terminated backend is still listed"
        # Its connection is gone: read again on another.
        found = await store._read(lambda s: find_races(s, "alabama 2020"), small=small)
        assert found.chosen is not None
        assert await store._read(backend, small=small) != before
        card = await store.race_card(found.chosen.id)
        assert card is not None and card.race.cycle == 2020
        assert max(c.contest.date for c in card.contests if c.contest.date) >= dt.date(2020, 1, 1)


async def hold_many(store: Store, many: int) -> list[int]:
    """`many` small reads at once, so the reader holds what it keeps of them; their backends."""
    started, gate = asyncio.Semaphore(0), asyncio.Event()

    async def held(session: AsyncSession) -> int:
        pid = await backend(session)
        started.release()
        await gate.wait()
        return pid

    reads = [asyncio.create_task(store._read(held, small=True)) for _ in range(many)]
    for _ in range(many):
        await asyncio.wait_for(started.acquire(), 10)
    gate.set()
    return list(await asyncio.gather(*reads))


async def test_a_read_after_every_held_connection_died_still_answers(tmp_path: Path) -> None:
    """A server restart or an idle timeout ends every held connection at once: the read that finds its own
    dead does not retry on another held one, but on a connection from the pool."""
    async with sample_store(tmp_path) as (engine, store):
        held = await hold_many(store, HELD[True])
        other = await store._read(backend)
        async with make_sessionmaker(engine)() as session:
            for pid in [*held, other]:
                assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        found = await store.find_races("alabama 2020")
        assert found.chosen is not None
        assert await store._read(backend) not in {*held, other}


async def test_a_close_cancelled_while_a_connection_is_reset_loses_no_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection being reset is dropped; the ones not yet given back stay kept, for the next close."""
    async with sample_store(tmp_path) as (engine, store):
        assert store.reader is not None
        await hold_many(store, HELD[True])
        pool = engine.pool
        assert pool.checkedout() == HELD[True]  # type: ignore[attr-defined]
        monkeypatch.setattr("db.pgread.SERVERS_CHOICE", f"{SLOW_RESET}; RESET plan_cache_mode")
        closing = asyncio.create_task(store.reader.close())
        await until_running(engine, SLOW_RESET)  # the first one is being reset
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        monkeypatch.undo()
        assert len(store.reader.idle[True]) == HELD[True] - 1
        assert pool.checkedout() == HELD[True] - 1  # type: ignore[attr-defined]
        await store.reader.close()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert set((await pooled_plans(engine)).values()) == {("auto", "0")}

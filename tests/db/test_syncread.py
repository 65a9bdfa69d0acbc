"""Reads in one thread hop (db/syncread.py): the same answers as the async path, one worker-thread call each."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.engine import make_sessionmaker
from db.pgread import PostgresReader
from db.reads.polls import PollFilter
from db.store import Store
from db.syncread import SyncReader, run_at_once
from render.people import person_embed
from render.polls import polls_embed
from render.race import race_embed
from render.results import results_embed

NOW = dt.datetime(2020, 11, 4, tzinfo=dt.UTC)


def shown(embed: Any) -> Any:
    return embed.to_dict()


async def answers(store: Store) -> list[Any]:
    """Six reads: the sample race found, its card, results and polls page, Tuberville found and his card."""
    store.cache.clear()
    found = await store.find_races("alabama 2020")
    assert found.chosen is not None
    race_id = found.chosen.id
    card = await store.race_card(race_id)
    results = await store.race_results(race_id)
    page = await store.poll_page(race_id, PollFilter(), 1)
    people = await store.find_people("tuberville")
    assert card is not None and results is not None and people.chosen is not None
    person = await store.person_card(people.chosen.id)
    assert person is not None
    return [
        [r.id for r in found.races],
        shown(race_embed(card, NOW)),
        *(shown(results_embed("results", view, "", NOW)) for view in results.views),
        shown(polls_embed("polls", page)),
        [p.id for p in people.people],
        shown(person_embed(person, "!")),
    ]


async def test_a_sqlite_file_is_read_in_at_most_one_hop_with_the_same_answers(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = Store(sample_sessions)
    try:
        if sample_sessions.kw["bind"].url.get_backend_name() != "sqlite":
            assert isinstance(store.reader, PostgresReader)  # asyncpg makes no thread hop
            return
        assert isinstance(store.reader, SyncReader)
        threads: list[str] = []
        run = store.reader._run

        def counted(read: Any) -> Any:
            threads.append(threading.current_thread().name)
            return run(read)

        store.reader._run = counted  # type: ignore[method-assign]
        fast = await answers(store)
        # A member's small reads (lookups, cards) run on the event loop's thread: no hop at all.
        assert threads == [threading.current_thread().name] * 6
        calendar = await store.calendar(dt.date(2020, 1, 1), dt.date(2020, 12, 31))
        assert calendar.entries  # any other read: one hop to a read thread
        assert len(threads) == 7 and threads[6].startswith("racedesk-read")
        slow_store = Store(sample_sessions)
        await slow_store.close()  # no reader: every statement through aiosqlite
        assert fast == await answers(slow_store)
    finally:
        await store.close()


async def test_a_write_is_in_the_next_read(sample_sessions: async_sessionmaker[AsyncSession]) -> None:
    from db.audit import Actor
    from db.models import Race

    store = Store(sample_sessions)
    try:
        found = await store.find_races("alabama 2020")
        assert found.chosen is not None

        async def note(session: AsyncSession) -> None:
            race = await session.get(Race, found.chosen.id)  # type: ignore[union-attr]
            assert race is not None
            race.notes = "a note written just now"
            from db.audit import record

            await record(session, Actor(id=1, name="desk"), "edit", "race", race.id)

        await store.write(note)
        card = await store.race_card(found.chosen.id)
        assert card is not None and card.race.notes == "a note written just now"
    finally:
        await store.close()


async def test_an_in_memory_database_keeps_the_async_path() -> None:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    try:
        assert SyncReader.for_engine(engine) is None
        assert Store(make_sessionmaker(engine)).reader is None
    finally:
        await engine.dispose()


async def test_a_read_that_waits_on_anything_but_its_session_is_refused() -> None:
    async def waits() -> int:
        await asyncio.sleep(0)
        return 1

    async def immediate() -> int:
        return 2

    assert run_at_once(immediate()) == 2
    with pytest.raises(RuntimeError, match="awaited something other"):
        run_at_once(waits())

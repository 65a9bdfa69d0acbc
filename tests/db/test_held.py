"""A member's lookup answered from what the process holds (db/held.py): no read of the store where its copies
answer, the store's read where they do not, and the same answer either way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.held import held_or_read
from db.lookup import RaceMatches, find_races
from db.reads.people import PeopleMatches, find_people
from db.store import Store


async def test_a_read_that_sends_no_statement_is_answered_without_the_store() -> None:
    async def read(_session: AsyncSession) -> int:
        return 7

    async def from_store() -> int:
        raise AssertionError("the store was asked")

    assert await held_or_read(read, from_store) == 7


async def test_a_read_is_refused_at_its_first_statement_and_the_store_answers() -> None:
    reached: list[str] = []

    async def read(session: AsyncSession) -> str:
        reached.append("before its statement")
        await session.scalar(select(1))
        reached.append("after it")
        return "held"

    async def from_store() -> str:
        return "the store's"

    assert await held_or_read(read, from_store) == "the store's"
    assert reached == ["before its statement"]


async def test_what_is_not_held_now_goes_to_the_store_without_running_the_read() -> None:
    async def read(_session: AsyncSession) -> str:
        raise AssertionError("the read was run against what is held")

    async def from_store() -> str:
        return "the store's"

    assert await held_or_read(read, from_store, holds=False) == "the store's"


class CountedStore:
    """A store with its shelf and directory filled, as a bot process on PostgreSQL with its listener live
    (other processes' writes heard), counting the reads it sends to the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads = 0
        read = store._read

        async def counted(work: Callable[[AsyncSession], Awaitable[Any]], *, small: bool = False) -> Any:
            self.reads += 1
            return await read(work, small=small)

        store._read = counted  # type: ignore[method-assign]


@pytest.fixture
async def counted(sample_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[CountedStore]:
    store = Store(sample_sessions)
    store.shelf.usable = lambda: True
    store.cache.writes_heard = lambda: True
    try:
        await store.shelf.fill(wait=60)
        await store.directory.load()
        yield CountedStore(store)
    finally:
        await store.close()


def races_of(matches: RaceMatches) -> tuple[Any, ...]:
    chosen = matches.chosen.id if matches.chosen else None
    return (
        chosen,
        [r.id for r in matches.races],
        [r.id for r in matches.more],
        [r.id for r in matches.suggestions],
        matches.hints,
    )


def people_of(matches: PeopleMatches) -> tuple[Any, ...]:
    return (matches.chosen, matches.people, matches.runs)


async def read_races(sessions: async_sessionmaker[AsyncSession], text: str) -> RaceMatches:
    async with sessions() as session:
        return await find_races(session, text)


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("alabama 2020", 0),  # places and years: the races' copy answers
        ("al senate", 0),
        ("bama 2017 special", 0),  # a typo of a state, read as one without a statement
        ("tuberville", 1),  # a name: the people's words are in the store
        ("wyoming 2030", 1),  # no race: the suggestions are the store's
    ],
)
async def test_races_are_found_in_memory_where_the_copy_answers(
    counted: CountedStore, sample_sessions: async_sessionmaker[AsyncSession], text: str, reads: int
) -> None:
    found = await counted.store.find_races(text)
    assert counted.reads == reads
    assert races_of(found) == races_of(await read_races(sample_sessions, text))


async def test_after_this_processs_write_the_lookup_asks_the_store(
    counted: CountedStore, sample_sessions: async_sessionmaker[AsyncSession]
) -> None:
    counted.store.cache.writes_heard = lambda: False  # (SQLite, or the listener not live)
    found = await counted.store.find_races("alabama 2020")
    assert counted.reads == 1  # the number of the races' copy is read first
    assert races_of(found) == races_of(await read_races(sample_sessions, "alabama 2020"))


@pytest.mark.parametrize(("text", "reads"), [("tuberville", 0), ("jones al", 0), ("zzyzx", 1)])
async def test_people_are_found_in_memory_where_the_shelf_holds_them(
    counted: CountedStore, sample_sessions: async_sessionmaker[AsyncSession], text: str, reads: int
) -> None:
    found = await counted.store.find_people(text)
    assert counted.reads == reads
    async with sample_sessions() as session:
        assert people_of(found) == people_of(await find_people(session, text))
    if reads == 0:
        assert found.chosen is not None


async def test_with_the_shelf_unusable_people_are_looked_up_in_the_store(
    counted: CountedStore, sample_sessions: async_sessionmaker[AsyncSession]
) -> None:
    counted.store.shelf.usable = lambda: False  # (the listener not live yet)
    found = await counted.store.find_people("tuberville")
    assert counted.reads == 1
    async with sample_sessions() as session:
        assert people_of(found) == people_of(await find_people(session, "tuberville"))

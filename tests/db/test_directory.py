"""The races in memory for the lookup (db/directory.py): the same answers as the statement, and never older than
the store: a race added, changed or removed, here or by another process, is in the next lookup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import SYSTEM, record
from db.cache import ReadCache
from db.directory import RETRY_SECONDS, RaceDirectory, read_races
from db.engine import make_sessionmaker
from db.lookup import exact_hints, find_races, race_hint, state_name
from db.models import Candidate, Race, RacesVersion
from db.notify import WriteListener
from db.store import Store
from db.writes.common import lock_race
from tests.support import until

pytestmark = pytest.mark.usefixtures("lookup_statements_afresh")


class CountingSession:
    """A session that counts the statements a read sends."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.statements: list[Any] = []

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(statement)
        return await self.session.execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(statement)
        return await self.session.scalar(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(statement)
        return await self.session.scalars(statement, *args, **kwargs)


def loaded(races: Any) -> RaceDirectory:
    """A directory holding `races` (a `read_races` answer), whose store is this test's."""
    directory = RaceDirectory(_no_reads)
    directory.races = races
    return directory


async def _no_reads(_read: Any) -> Any:
    raise AssertionError("this directory reads nothing in the background")


def answer(matches: Any) -> tuple[Any, ...]:
    """What a member sees of a lookup: the races in order, the one chosen, their words, the others found."""
    return (
        [r.id for r in matches.races],
        matches.chosen.id if matches.chosen else None,
        {r.id: matches.hint(r) for r in matches.found},
        [r.id for r in matches.more],
        [(r.id, r.state, r.office, r.seat, r.cycle, r.special) for r in matches.found],
    )


def queries_of(races: list[Race], hints: dict[int, str]) -> list[str]:
    """Every race's own words, and the wider queries around it: its state alone, with its year, its office,
    `special`; its office and year alone; the year alone."""
    typed = {"senate", "house", "governor", "president", "special", "senate special", "potus 2020"}
    for race in races:
        state = state_name(race.state).lower()
        typed |= {
            hints[race.id],
            race_hint(race),
            state,
            f"{state} {race.cycle}",
            f"{state} {race.office}",
            f"{state} special",
            f"{state} {race.cycle} special",
            f"{state} {race.cycle} regular",
            f"{race.office} {race.cycle}",
            str(race.cycle),
            f"{race.state.lower()}-{race.seat}" if race.seat.isdigit() else state,
        }
    return sorted(typed)


async def assert_same_answers(session: AsyncSession, limit: int = 10) -> int:
    races = list(await session.scalars(select(Race).order_by(Race.id)))
    hints = await exact_hints(session, races)
    directory = loaded(await read_races(session))
    typed = queries_of(races, hints)
    answered = 0
    for text in typed:
        with_statement = await find_races(session, text, limit=limit)
        counting = CountingSession(session)
        from_memory = await find_races(counting, text, limit=limit, directory=directory)  # type: ignore[arg-type]
        assert answer(from_memory) == answer(with_statement), text
        if with_statement.races and not from_memory.query.name_words:
            # Found without a statement: the number the copy was read at is all it asked (SQLite's check).
            assert [str(s) for s in counting.statements] == [VERSION], text
            answered += 1
    assert answered > len(typed) // 2
    return len(typed)


VERSION = str(select(RacesVersion.n).where(RacesVersion.id == 1))


async def test_the_directory_answers_every_query_as_the_statement_does_on_the_shipped_store(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        assert await assert_same_answers(session) > 500
        assert await assert_same_answers(session, limit=25) > 500  # autocomplete's


SYNTHETIC = [
    # A state with a regular seat and a special the same year, and a special the year before a cycle.
    *(Race(cycle=2020, state="GA", office="senate", seat=s, special=sp) for s, sp in (("Class II", False),)),
    Race(cycle=2020, state="GA", office="senate", seat="Class III", special=True),
    Race(cycle=2017, state="AL", office="senate", seat="Class II", special=True),
    Race(cycle=2018, state="AL", office="governor"),
    Race(cycle=2020, state="AL", office="senate", seat="Class II"),
    Race(cycle=2020, state="AL", office="president"),
    Race(cycle=2020, state="US", office="president"),
    Race(cycle=2016, state="US", office="president"),
    Race(cycle=2018, state="WY", office="house", seat="AL"),
    # Districts in number order (1, 2, ... 10), in two cycles.
    *(
        Race(cycle=c, state="NY", office="house", seat=str(d))
        for c in (2020, 2022)
        for d in (1, 2, 3, 10, 11, 12)
    ),
    Race(cycle=2021, state="NY", office="house", seat="11", special=True),
    Race(cycle=2022, state="NY", office="governor"),
    Race(cycle=2022, state="NY", office="senate", seat="Class III"),
    Race(cycle=2019, state="LA", office="governor"),
    Race(cycle=2020, state="PR", office="governor"),
]


async def test_the_directory_answers_as_the_statement_does_on_each_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        session.add_all(
            Race(cycle=r.cycle, state=r.state, office=r.office, seat=r.seat or "", special=bool(r.special))
            for r in SYNTHETIC
        )
    async with sessions() as session:
        assert await assert_same_answers(session) > 100


async def version(sessions: async_sessionmaker[AsyncSession]) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(RacesVersion.n))


async def test_a_race_added_changed_or_removed_bumps_the_version_and_a_lock_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        person = Candidate(name="Pat Example", name_key="pat example")
        session.add(person)
        await session.flush()
        race = Race(cycle=2030, state="WY", office="senate", seat="Class II", incumbent_id=person.id)
        session.add(race)
    seen = [await version(sessions)]
    async with sessions.begin() as session:
        await lock_race(session, race.id)  # every desk write takes its race's row: no change
    seen.append(await version(sessions))
    async with sessions.begin() as session:
        await session.execute(update(Race).where(Race.id == race.id).values(notes="a note"))
    seen.append(await version(sessions))
    async with sessions.begin() as session:  # the incumbent goes: the race's incumbent_id is set NULL
        await session.execute(delete(Candidate).where(Candidate.id == person.id))
    seen.append(await version(sessions))
    async with sessions.begin() as session:
        await session.execute(delete(Race).where(Race.id == race.id))
    seen.append(await version(sessions))
    first = seen[0]
    assert first is not None and first >= 1
    assert seen == [first, first, first + 1, first + 2, first + 3]


@pytest.fixture
async def race_store(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Store]:
    made = Store(sessions, ReadCache(sessions))
    yield made
    await made.close()


async def add_race(sessions: async_sessionmaker[AsyncSession], *, audited: bool, cycle: int = 2030) -> int:
    """A race in Wyoming, written as this process writes (an audit entry beside it) or not."""
    async with sessions.begin() as session:
        race = Race(cycle=cycle, state="WY", office="senate", seat="Class II")
        session.add(race)
        await session.flush()
        if audited:
            await record(session, SYSTEM, "race.add", "races", race.id, race_id=race.id)
        return race.id


async def test_the_store_finds_a_race_added_after_its_copy_was_read(race_store: Store) -> None:
    await race_store.directory.load()
    assert race_store.directory.races is not None
    assert (await race_store.find_races("wyoming 2030")).chosen is None
    race_id = await add_race(race_store.sessions, audited=False)  # not even an audit entry to drop the cache
    found = await race_store.find_races("wy 2030")  # not asked before: not in the read cache
    assert found.chosen is not None and found.chosen.id == race_id
    await until(
        lambda: race_store.directory.races is not None, what="a new copy"
    )  # a new copy, read in the background
    assert race_store.directory.loads == 2
    async with race_store.sessions() as session:
        counting = CountingSession(session)
        again = await find_races(counting, "wyoming senate 2030", directory=race_store.directory)  # type: ignore[arg-type]
    assert again.chosen is not None and again.chosen.id == race_id
    assert [str(s) for s in counting.statements] == [VERSION]


async def test_a_copy_read_while_a_race_changed_is_not_kept(race_store: Store) -> None:
    directory = race_store.directory
    reading = asyncio.create_task(directory.load())
    await asyncio.sleep(0)  # its read has begun
    directory.invalidate()  # a race changed while the copy was read
    await reading
    assert directory.loads == 1 and directory.races is None


async def test_a_copy_that_cannot_be_read_leaves_the_lookup_to_the_store(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def broken(_read: Any) -> Any:
        raise OSError("the store went away")

    now = [0.0]
    directory = RaceDirectory(broken, clock=lambda: now[0])
    await directory.load()
    race_id = await add_race(sessions, audited=True)
    async with sessions() as session:
        found = await find_races(session, "wyoming 2030", directory=directory)
        assert found.chosen is not None and found.chosen.id == race_id
        assert directory._loading is None  # no new read before RETRY_SECONDS
        now[0] += RETRY_SECONDS + 1
        await find_races(session, "wyoming 2030", directory=directory)
        assert directory._loading is not None
        await directory._loading
    assert directory.races is None


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_with_the_listener_live_a_lookup_sends_nothing_and_hears_another_processs_race(
    engine: AsyncEngine, race_store: Store
) -> None:
    directory = race_store.directory
    heard: list[str] = []

    def races_changed() -> None:
        heard.append("races")
        directory.invalidate()

    async with race_store.sessions.begin() as session:
        session.add(Race(cycle=2028, state="WY", office="senate", seat="Class I"))
    listener = WriteListener(engine, race_store.cache.invalidate, races_changed)
    race_store.cache.writes_heard = lambda: listener.live
    listener.start()
    try:
        await listener.wait_listening()
        await directory.load()
        async with race_store.sessions() as session:
            counting = CountingSession(session)
            known = await find_races(counting, "wyoming 2028", directory=directory)  # type: ignore[arg-type]
            assert known.chosen is not None and known.chosen.cycle == 2028
            # No statement for the races (the copy), none for the number (nothing written since).
            assert [str(s) for s in counting.statements] == []
        # Another process adds a race (this process has written nothing: no local write to check).
        other = make_sessionmaker(engine)
        before = len(heard)
        race_id = await add_race(other, audited=False)
        await until(lambda: len(heard) > before, what="the race heard")
        found = await race_store.find_races("wy 2030")
        assert found.chosen is not None and found.chosen.id == race_id
        await until(lambda: directory.races is not None, what="a new copy")
        # This process writes (an audited write): the next lookup reads the number once, whatever was heard.
        async with race_store.sessions.begin() as session:
            await session.execute(update(Race).where(Race.id == race_id).values(special=True))
            await record(session, SYSTEM, "race.edit", "races", race_id, race_id=race_id)
        async with race_store.sessions() as session:
            counting = CountingSession(session)
            again = await find_races(counting, "wyoming 2030 special", directory=directory)  # type: ignore[arg-type]
        assert again.chosen is not None and again.chosen.id == race_id and again.chosen.special
        assert len(counting.statements) >= 1
    finally:
        await listener.stop()


async def test_after_a_write_of_this_process_the_next_lookup_reads_the_number_once(race_store: Store) -> None:
    """Other processes' changes are heard (PostgreSQL's listener, taken as live here, with none running), so
    a lookup asks nothing; after this process's own write, its notification may not be back yet: the next
    lookup reads the number, finds the copy out of date and asks the store, which has the new race."""
    race_store.cache.writes_heard = lambda: True
    directory = race_store.directory
    await add_race(race_store.sessions, audited=True, cycle=2028)
    await directory.load()

    async def statements_of(text: str) -> tuple[Any, list[str]]:
        async with race_store.sessions() as session:
            counting = CountingSession(session)
            found = await find_races(counting, text, directory=directory)  # type: ignore[arg-type]
        return found.chosen, [str(s) for s in counting.statements]

    chosen, sent = await statements_of("wyoming 2028")
    assert chosen is not None and sent == []
    race_id = await add_race(race_store.sessions, audited=True)
    chosen, sent = await statements_of("wyoming 2030")
    assert chosen is not None and chosen.id == race_id
    assert sent[0] == VERSION and len(sent) == 2  # the number, then the lookup's statement
    await until(lambda: directory.races is not None, what="a new copy")
    chosen, sent = await statements_of("wy senate 2030")
    assert chosen is not None and chosen.id == race_id and sent == []


async def test_a_closed_directory_reads_no_new_copy(race_store: Store) -> None:
    directory = race_store.directory
    await directory.load()
    await race_store.close()
    directory.invalidate()
    async with race_store.sessions() as session:
        assert await directory.current(session) is None  # type: ignore[arg-type]
    assert directory._loading is None


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_two_writers_each_holding_a_race_the_other_changes_do_not_deadlock(engine: AsyncEngine) -> None:
    """The number is bumped as each transaction commits, not at its first change of a race: a writer that
    changed one race and waits for another's lock does not hold the number's row meanwhile (it would, and the
    other writer, changing its race, would wait for that row: a deadlock)."""
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        first, second = (
            Race(cycle=2030, state=state, office="senate", seat="Class II") for state in ("WY", "MT")
        )
        session.add_all([first, second])
    before = await version(sessions)
    async with sessions() as desk, sessions() as editor:
        await lock_race(desk, second.id)  # a desk write takes the second race's row
        await editor.execute(update(Race).where(Race.id == first.id).values(notes="first"))
        editing = asyncio.create_task(
            editor.execute(update(Race).where(Race.id == second.id).values(notes="second, after"))
        )
        await asyncio.sleep(0.3)  # the editor changed the first race and waits for the second
        assert not editing.done()
        await desk.execute(update(Race).where(Race.id == second.id).values(notes="second"))
        await desk.commit()
        await asyncio.wait_for(editing, 10)
        await editor.commit()
    after = await version(sessions)
    assert before is not None and after == before + 2

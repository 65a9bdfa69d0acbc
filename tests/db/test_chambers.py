"""The chambers from the races in memory (db/chambers.py): the same balance and cycles as the store's reads, for
every shipped chamber and on each database; nothing answered while a race is not read back; and a desk
write is in the next balance."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.balance import chamber_balance, office_cycles
from db.dataset.load import load_document
from db.models import Office, Race
from db.reads.answers import RaceAnswers
from db.store import Store
from tests.support import desk_world, until


async def filled(sessions: async_sessionmaker[AsyncSession]) -> Store:
    store = Store(sessions)
    store.shelf.usable = lambda: True
    await store.shelf.fill()
    return store


@pytest.fixture
async def sample_store(sample_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Store]:
    store = await filled(sample_sessions)
    yield store
    await store.close()


async def assert_chambers_are_the_reads(store: Store) -> int:
    """Every office's cycles and every chamber's balance, held and read; how many chambers have one."""
    shelf, compared = store.shelf, 0
    async with store.sessions() as session:
        for office in Office:
            cycles = await office_cycles(session, office)
            assert shelf.office_cycles(office) == cycles, office
            for cycle in (*cycles.cycles, 1900):
                read = await chamber_balance(session, office, cycle)
                held, balance = shelf.chamber_balance(office, cycle)
                assert held and balance == read, (office, cycle)
                assert shelf.chamber_balance(office, cycle)[1] is balance  # worked out once
                compared += read is not None
    return compared


async def test_the_chambers_are_the_reads_for_every_shipped_chamber(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    store = await filled(default_store)
    try:
        assert await assert_chambers_are_the_reads(store) > 10  # 18 when written
    finally:
        await store.close()


async def test_a_change_works_out_again_only_the_seat_of_its_race(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    store = await filled(default_store)
    try:
        shelf, chamber = store.shelf, (Office.SENATE, 2020)
        assert shelf.chamber_balance(*chamber)[0]
        before = dict(shelf.chambers.seats[chamber])
        changed = min(before)
        shelf.drop(frozenset({changed}))
        await until(lambda: shelf.chamber_balance(*chamber)[0], what="the race read back")
        after = shelf.chambers.seats[chamber]
        assert after.keys() == before.keys() and len(after) > 30
        assert [race_id for race_id in after if after[race_id] is not before[race_id]] == [changed]
        async with default_store() as session:
            assert shelf.chamber_balance(*chamber)[1] == await chamber_balance(session, *chamber)
    finally:
        await store.close()


async def test_the_chambers_are_the_reads_on_each_database(sample_store: Store) -> None:
    assert await assert_chambers_are_the_reads(sample_store) == 3  # every chamber the sample has data for


async def test_nothing_is_answered_while_a_race_is_not_read_back(sample_store: Store) -> None:
    shelf = sample_store.shelf
    async with sample_store.sessions() as session:
        alabama_2020 = await session.scalar(select(Race.id).where(Race.cycle == 2020))
    assert alabama_2020 is not None
    assert shelf.chamber_balance(Office.SENATE, 2020)[0] and shelf.office_cycles(Office.SENATE) is not None
    shelf.drop(frozenset({alabama_2020}))
    assert shelf.chamber_balance(Office.SENATE, 2020) == (False, None)
    assert shelf.chamber_balance(Office.SENATE, 2017) == (
        False,
        None,
    )  # a race read back may be of any chamber
    assert shelf.office_cycles(Office.SENATE) is None
    await until(lambda: shelf.chamber_balance(Office.SENATE, 2020)[0], what="the race read back")
    assert await assert_chambers_are_the_reads(sample_store) == 3


async def test_nothing_is_answered_while_a_race_is_being_read(sample_store: Store) -> None:
    shelf, reading, release = sample_store.shelf, asyncio.Event(), asyncio.Event()
    read_answers = shelf.read_answers

    async def held_back(race_id: int) -> RaceAnswers | None:
        reading.set()
        await release.wait()
        return await read_answers(race_id)

    shelf.read_answers = held_back
    shelf.drop(frozenset({min(shelf.races)}))
    await asyncio.wait_for(reading.wait(), 10)
    assert shelf.chamber_balance(Office.SENATE, 2020) == (False, None)
    assert shelf.office_cycles(Office.SENATE) is None
    release.set()
    await until(lambda: shelf.chamber_balance(Office.SENATE, 2020)[0], what="the race read back")
    assert await assert_chambers_are_the_reads(sample_store) == 3


async def test_an_import_of_seats_not_up_is_in_the_next_balance(sample_store: Store) -> None:
    shelf = sample_store.shelf
    held, before = shelf.chamber_balance(Office.SENATE, 2020)
    assert held and before is not None and before.not_up.get("DEM") != 40
    doc = {
        "format": "racedesk/1",
        "baselines": [{"cycle": 2020, "office": "senate", "party": "DEM", "seats_not_up": 40}],
    }
    async with sample_store.sessions.begin() as session:
        assert (await load_document(session, doc, SYSTEM)).changed
    assert shelf.chamber_balance(Office.SENATE, 2020) == (False, None)  # the import dropped everything
    await until(lambda: shelf.chamber_balance(Office.SENATE, 2020)[0], what="everything read again")
    after = shelf.chamber_balance(Office.SENATE, 2020)[1]
    assert after is not None and after.not_up["DEM"] == 40
    assert await assert_chambers_are_the_reads(sample_store) == 3


async def test_without_the_seats_not_up_rows_the_store_is_asked(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = Store(sample_sessions)
    store.shelf.read_baselines = None
    store.shelf.usable = lambda: True
    try:
        await store.shelf.fill()
        assert len(store.shelf.races) == 2
        assert store.shelf.chamber_balance(Office.SENATE, 2020) == (False, None)
        assert store.shelf.office_cycles(Office.SENATE) is None
        async with sample_sessions() as session:
            assert await store.chamber_balance(Office.SENATE, 2020) == await chamber_balance(
                session, Office.SENATE, 2020
            )
    finally:
        await store.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_desk_write_is_in_the_next_balance(tmp_path: Path, database: str) -> None:
    async with desk_world(tmp_path, database=database, results_channels=False, followers=False) as world:
        shelf, sessions = world.bot.store.shelf, world.bot.store.sessions
        held, before = shelf.chamber_balance(Office.SENATE, 2020)
        assert (
            held and before is not None and before.won == {"REP": 1}
        )  # the sample's outcome: Tuberville won

        async def answer_after(said: str) -> str:
            assert (await world.say(said, author=world.moderator)).ok is True
            answer = await world.text("!senate 2020")  # at once: from the store, or held again already
            await until(lambda: shelf.chamber_balance(Office.SENATE, 2020)[0], what="the race read back")
            async with sessions() as session:
                read = await chamber_balance(session, Office.SENATE, 2020)
            assert shelf.chamber_balance(Office.SENATE, 2020)[1] == read
            assert await world.text("!senate 2020") == answer
            return answer

        await answer_after("!result alabama 2020 general Tuberville=1392100 Jones=920500 reporting=100%")
        assert shelf.chamber_balance(Office.SENATE, 2020)[1] != before  # the seat's count
        called = await answer_after(
            "!call alabama 2020 general Jones source=Test"
        )  # a call wins over an outcome
        held, after = shelf.chamber_balance(Office.SENATE, 2020)
        assert after is not None and after.won == {"DEM": 1} and "Jones" in called
        assert shelf.chamber_balance(Office.SENATE, 2030) == (True, None)  # no race yet: no balance
        added = await world.say('!race-add wyoming senate 2030 general="Nov 5"', author=world.moderator)
        await until(
            lambda: shelf.chamber_balance(Office.SENATE, 2030)[1] is not None, what="the new race read"
        )
        cycles = shelf.office_cycles(Office.SENATE)
        assert cycles is not None and 2030 in cycles.cycles
        assert "2030" in await world.text("!senate 2030")
        undo = re.search(r"!undo (\d+)", added.text)
        assert undo is not None, added.text
        assert (await world.say(f"!undo {undo[1]}", author=world.moderator)).ok is True  # the race removed
        await until(lambda: shelf.chamber_balance(Office.SENATE, 2030) == (True, None), what="the race gone")
        cycles = shelf.office_cycles(Office.SENATE)
        assert cycles is not None and 2030 not in cycles.cycles

"""The shelf of race cards (db/shelf.py): the same answers as the store's reads, and never older than the store:
each write drops the races whose answers it changed (as this process commits it, and in other processes by
NOTIFY racedesk_cards), what was read while its race was dropped is not kept, and nothing is served while
other processes' writes are not heard."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import shelf as shelf_module
from db.audit import SYSTEM, record
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import Answer, AuditEntry, Candidate, Endorsement, Poll, Question, Race
from db.notify import CARDS_CHANNEL, WriteListener
from db.reads.answers import RaceAnswers, race_answers
from db.reads.people import PersonCard, person_card, read_known_people
from db.reads.polls import PollFilter, poll_page
from db.reads.races import race_card
from db.reads.results import race_results
from db.shelf import CardShelf, Races, races_in_payload, races_written
from db.store import Store
from tests.support import World, desk_world, store_on, until

# ---------------------------------------------------------------- which races a write changed


def entry(entity: str, race_id: int | None) -> AuditEntry:
    return AuditEntry(action=f"{entity}.x", entity=entity, race_id=race_id)


@pytest.mark.parametrize(
    ("entries", "races"),
    [
        ([entry("polls", 3)], frozenset({3})),
        ([entry("results", 3), entry("calls", 4), entry("polls", 3)], frozenset({3, 4})),
        ([entry("follows", None), entry("guild_settings", None)], frozenset()),
        ([entry("follows", None), entry("polls", 7)], frozenset({7})),
        ([entry("polls", 3), entry("document", None)], None),  # an import names no race: any race
        ([entry("candidates", 3)], None),  # a person shows on the card of each race they are in
    ],
)
def test_the_races_a_write_changed_are_those_its_entries_name(
    entries: list[AuditEntry], races: Races
) -> None:
    assert races_written(entries) == races


@pytest.mark.parametrize(
    ("payload", "races"),
    [("12", frozenset({12})), ("12,15", frozenset({12, 15})), ("*", None), ("1,x", None)],
)
def test_a_notifications_list_is_read_as_races_or_any(payload: str, races: Races) -> None:
    assert races_in_payload(payload) == races


# ---------------------------------------------------------------- the shelf's own rules


class FakeStore:
    """Answers for the shelf: each race's answers (an int standing in), read when the test lets it."""

    def __init__(self, races: Iterable[int]) -> None:
        self.version = dict.fromkeys(races, 0)
        self.reads: list[int] = []
        self.gate: asyncio.Event | None = None  # set: reads go on; None: they never wait
        self.failing = False
        # Race r shows on the cards of people 10r and 10r + 1 (a person's card: their number, its version).
        self.related = {race: {10 * race, 10 * race + 1} for race in self.version}
        self.person_version: dict[int, int] = {}
        self.person_reads: list[int] = []
        self.person_gate: asyncio.Event | None = None

    async def answers(self, race_id: int) -> Any:
        self.reads.append(race_id)
        seen = self.version.get(race_id)
        gate = self.gate  # the gate of when the read began
        if gate is not None:
            await gate.wait()
        if self.failing:
            raise OSError("the store is unreachable")
        if seen is None:
            return None
        return RaceAnswers(
            card=("card", race_id, seen),  # type: ignore[arg-type]
            first_polls=("polls", race_id, seen),  # type: ignore[arg-type]
            results=("n", race_id, seen),  # type: ignore[arg-type]
            people=frozenset(self.related.get(race_id, ())),
        )

    async def person(self, person_id: int) -> Any:
        self.person_reads.append(person_id)
        seen = self.person_version.get(person_id, 0)
        gate = self.person_gate
        if gate is not None:
            await gate.wait()
        return ("person", person_id, seen)

    async def race_ids(self) -> list[int]:
        return list(self.version)

    async def people(self) -> Any:
        return ("people", dict(self.version))


def shelf_of(store: FakeStore, usable: bool = True) -> CardShelf:
    shelf = CardShelf(store.answers, store.race_ids, store.people, read_person=store.person)
    shelf.usable = lambda: usable
    return shelf


@contextlib.asynccontextmanager
async def filled(store: FakeStore, usable: bool = True) -> AsyncIterator[CardShelf]:
    """A shelf of the fake store, filled; closed after."""
    shelf = shelf_of(store, usable)
    try:
        await shelf.fill()
        yield shelf
    finally:
        await shelf.close()


async def settled(shelf: CardShelf) -> None:
    await asyncio.wait_for(shelf.idle(), 5)


async def test_a_filled_shelf_holds_every_races_answers_and_gives_copies() -> None:
    store = FakeStore([1, 2, 3])
    shelf = shelf_of(store)
    try:
        assert await shelf.fill() == 3
        assert shelf.card(2) == ("card", 2, 0)
        assert shelf.first_polls(2) == ("polls", 2, 0)
        assert shelf.results(3) == ("n", 3, 0)
        assert shelf.card(9) is None  # a race it does not hold: the store is asked
        assert shelf.card(2) is not shelf.card(2)  # each asker gets its own copy
        assert shelf.known_people() == ("people", {1: 0, 2: 0, 3: 0})
        store.version[4] = 0
        shelf.drop(None)  # a person changed (or an import): the people are read again with the races
        assert shelf.known_people() is None and shelf.card(2) is None
        await settled(shelf)
        assert shelf.known_people() == ("people", {1: 0, 2: 0, 3: 0, 4: 0}) and shelf.card(4) == (
            "card",
            4,
            0,
        )
    finally:
        await shelf.close()


async def test_an_unusable_shelf_answers_nothing() -> None:
    store = FakeStore([1])
    async with filled(store, usable=False) as shelf:
        assert shelf.races and shelf.card(1) is None and shelf.results(1) is None
        assert shelf.people is not None and shelf.known_people() is None


async def test_a_dropped_race_is_read_again_and_the_others_are_not() -> None:
    store = FakeStore([1, 2, 3])
    async with filled(store) as shelf:
        store.reads.clear()
        store.version[2] = 1
        shelf.drop(frozenset({2}))
        assert shelf.card(2) is None  # until it is read again, the store answers
        await settled(shelf)
        assert store.reads == [2] and shelf.card(2) == ("card", 2, 1) and shelf.card(1) == ("card", 1, 0)


async def test_what_was_read_while_its_race_was_dropped_is_not_kept() -> None:
    store = FakeStore([1, 2])
    async with filled(store) as shelf:
        first = store.gate = asyncio.Event()
        shelf.drop(frozenset({1}))
        await until(lambda: store.reads[-1:] == [1], what="the read under way")
        # A write commits while it is read: the read may have seen the store before it.
        store.version[1] = 2
        shelf.drop(frozenset({1}))
        second = store.gate = asyncio.Event()
        first.set()
        await until(lambda: len(store.reads) == 4, what="the race read again")
        assert shelf.card(1) is None  # the first read ended, and was not kept
        second.set()
        await settled(shelf)
        assert shelf.card(1) == ("card", 1, 2)


async def test_everything_dropped_while_the_races_are_listed_lists_them_again() -> None:
    store = FakeStore([1])
    shelf = shelf_of(store)
    listed = 0
    asked = asyncio.Event()

    async def race_ids() -> list[int]:
        nonlocal listed
        listed += 1
        if listed == 1:
            asked.set()
            await asyncio.sleep(0.05)  # a race is added meanwhile, and everything dropped
        return list(store.version)

    shelf.race_ids = race_ids
    try:
        filling = asyncio.create_task(shelf.fill())
        await asked.wait()
        store.version[5] = 0
        shelf.drop(None)
        assert await filling == 2
        assert listed == 2 and shelf.card(5) == ("card", 5, 0)
    finally:
        await shelf.close()


async def test_a_shelf_not_started_drops_nothing_and_keeps_nothing_to_read() -> None:
    shelf = shelf_of(FakeStore([1]))
    shelf.drop(frozenset({1}))
    shelf.drop(None)
    assert not shelf._to_read and not shelf._read_all and not shelf._dropped_at


async def test_a_failed_read_is_logged_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shelf_module, "RETRY_SECONDS", 0.05)
    store = FakeStore([1, 2])
    store.failing = True
    shelf = shelf_of(store)
    try:
        with caplog.at_level(logging.ERROR, logger="db.shelf"):
            assert await shelf.fill() == 0  # the bot goes on; members' cards come from the store
            assert "reading race cards" in caplog.text
        store.failing = False
        await until(lambda: len(shelf.races) == 2, what="the cards read on the next try")
    finally:
        await shelf.close()


async def test_closing_the_shelf_ends_its_reading_and_a_fill_waiting_for_it() -> None:
    store = FakeStore([1])
    store.gate = asyncio.Event()
    shelf = shelf_of(store)
    filling = asyncio.create_task(shelf.fill())
    await until(lambda: store.reads == [1], what="the read under way")
    await shelf.close()
    assert await asyncio.wait_for(filling, 5) == 0
    assert shelf._task is None


# ---------------------------------------------------------------- people's cards


async def test_the_people_the_races_name_have_their_cards_held_after_the_races() -> None:
    store = FakeStore([1, 2])
    async with filled(store) as shelf:
        assert sorted(store.person_reads) == [10, 11, 20, 21]
        assert shelf.person_card(21) == ("person", 21, 0)
        assert shelf.person_card(21) is not shelf.person_card(21)  # each asker gets its own copy
        assert shelf.person_card(30) is None  # nobody a race names: the store is asked


async def test_a_dropped_race_drops_the_cards_of_the_people_it_named_and_no_others() -> None:
    store = FakeStore([1, 2])
    async with filled(store) as shelf:
        kept = shelf.person_cards[20]
        store.person_reads.clear()
        store.person_version[10] = 1
        shelf.drop(frozenset({1}))
        assert shelf.person_card(20) is None  # nobody's card while a race is not read back
        await settled(shelf)
        assert sorted(store.person_reads) == [10, 11]
        assert shelf.person_card(10) == ("person", 10, 1)
        assert shelf.person_cards[20] is kept


async def test_a_race_read_back_naming_someone_new_drops_their_card() -> None:
    store = FakeStore([1, 2])
    async with filled(store) as shelf:
        # A poll in race 1 names person 20, who ran in race 2 only: the race's list before the write did not
        # name them, its read after it does.
        store.related[1].add(20)
        store.person_version[20] = 1
        shelf.drop(frozenset({1}))
        await settled(shelf)
        assert shelf.person_card(20) == ("person", 20, 1)
        # And a write that takes the poll away drops them again: the list read before it named them.
        store.related[1].discard(20)
        store.person_version[20] = 2
        shelf.drop(frozenset({1}))
        await settled(shelf)
        assert shelf.person_card(20) == ("person", 20, 2)


async def test_a_card_read_while_any_race_was_dropped_is_not_kept() -> None:
    store = FakeStore([1])
    async with filled(store) as shelf:
        first = store.person_gate = asyncio.Event()
        shelf.drop(frozenset({1}))
        await until(
            lambda: len(store.person_reads) == 4, what="both cards' reads under way (after the fill's)"
        )
        # A write takes person 10 off race 1 while the cards are read (a poll naming them removed): the race
        # read back no longer names them, so only this read's discarding keeps their old card off the shelf.
        store.related[1].discard(10)
        store.person_version[10] = 1
        shelf.drop(frozenset({1}))
        second = store.person_gate = asyncio.Event()
        first.set()
        await until(lambda: len(store.person_reads) == 6, what="the cards read again")
        assert shelf.person_card(10) is None and shelf.person_card(11) is None
        second.set()
        await settled(shelf)
        assert shelf.person_card(10) == ("person", 10, 1)


async def test_everything_dropped_drops_every_persons_card() -> None:
    store = FakeStore([1])
    async with filled(store) as shelf:
        store.person_version[11] = 4
        shelf.drop(None)
        assert shelf.person_card(10) is None and not shelf.person_cards
        await settled(shelf)
        assert shelf.person_card(11) == ("person", 11, 4)


# ---------------------------------------------------------------- this process's own writes


class RecordingShelf(CardShelf):
    """A shelf that only notes what it is told to drop."""

    def __init__(self) -> None:
        super().__init__(_never, _never)
        self.dropped: list[Races] = []
        self.cards_changed: list[
            set[int]
        ] = []  # by the test of desk writes: the people whose cards each changed

    def drop(self, races: Races) -> None:
        self.dropped.append(races)

    def since(self, mark: int) -> Races:
        """Every race dropped after the first `mark` drops (None: any race)."""
        told = self.dropped[mark:]
        if any(races is None for races in told):
            return None
        return frozenset().union(*(r for r in told if r is not None))


async def _never(*_args: Any) -> Any:
    raise AssertionError("a recording shelf reads nothing")


@pytest.fixture
def recording() -> RecordingShelf:
    return RecordingShelf()


async def race_edited(session: AsyncSession) -> Race:
    """A new race, and an audited edit of it, in the session's transaction."""
    session.add(race := Race(cycle=2030, state="WY", office="senate", seat="Class I"))
    await session.flush()
    await record(session, SYSTEM, "race.edit", "races", race.id, race_id=race.id)
    return race


async def test_a_commit_drops_the_races_its_entries_name_and_a_rollback_nothing(
    recording: RecordingShelf, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        race = await race_edited(session)
        await record(session, SYSTEM, "follow.add", "follows", None)
        assert recording.dropped == []  # not before it commits
    assert recording.dropped == [frozenset({race.id})]
    async with sessions.begin() as session:
        await record(session, SYSTEM, "follow.add", "follows", None)
    assert recording.dropped == [frozenset({race.id})]  # a follow changes no card
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await record(session, SYSTEM, "race.edit", "races", race.id, race_id=race.id)
            raise RuntimeError("rolled back")
    async with sessions.begin() as session:
        await session.execute(text("SELECT 1"))
    assert recording.dropped == [frozenset({race.id})]


async def test_a_savepoint_drops_nothing_until_its_transaction_commits(
    recording: RecordingShelf, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        race = await race_edited(session)
        async with session.begin_nested():
            await record(session, SYSTEM, "race.edit", "races", race.id, race_id=race.id)
        assert recording.dropped == []  # the savepoint's commit is not the transaction's
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                raise RuntimeError("the savepoint rolls back")
    assert recording.dropped == [frozenset({race.id})]  # what was written before it is still dropped


# ---------------------------------------------------------------- the same answers as the store's reads


async def all_answers(sessions: async_sessionmaker[AsyncSession]) -> dict[int, RaceAnswers | None]:
    async with sessions() as session:
        ids = list(await session.scalars(select(Race.id)))
        return {race_id: await race_answers(session, race_id) for race_id in ids}


async def assert_answers_are_the_reads(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        ids = list(await session.scalars(select(Race.id).order_by(Race.id)))
        for race_id in ids:
            answers = await race_answers(session, race_id)
            assert answers is not None
            assert answers.card == await race_card(session, race_id)
            assert answers.first_polls == await poll_page(session, race_id, PollFilter(), 1)
            assert answers.results == await race_results(session, race_id)
        assert await race_answers(session, max(ids) + 1) is None
    return len(ids)


async def test_the_answers_are_the_reads_for_every_shipped_race(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    assert await assert_answers_are_the_reads(default_store) > 1000


async def test_the_answers_are_the_reads_on_each_database(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await assert_answers_are_the_reads(sample_sessions) == 2


async def assert_held_people_are_the_reads(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Fill a shelf: every person some race names has their card held, equal to `person_card`'s read."""
    store = Store(sessions)
    store.shelf.usable = lambda: True
    try:
        await store.shelf.fill(wait=600)
        async with sessions() as session:
            named = {
                p
                for race_id in await session.scalars(select(Race.id))
                for p in await related(session, race_id)
            }
            assert set(store.shelf.person_cards) == named
            for person_id in named:
                assert store.shelf.person_card(person_id) == await person_card(session, person_id), person_id
        return len(named)
    finally:
        await store.close()


async def related(session: AsyncSession, race_id: int) -> frozenset[int]:
    answers = await race_answers(session, race_id)
    assert answers is not None
    return answers.people


async def test_the_held_people_are_the_reads_for_every_shipped_person(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    assert await assert_held_people_are_the_reads(default_store) > 1000


async def test_the_held_people_are_the_reads_on_each_database(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await assert_held_people_are_the_reads(sample_sessions) == 8


async def named_in_a_poll(session: AsyncSession, race_id: int, person_id: int) -> str:
    poll = Poll(race_id=race_id, pollster="Test Poll", end_date=dt.date(2017, 11, 1))
    question = Question(poll=poll, hypothetical=True)
    session.add(Answer(question=question, candidate_id=person_id, choice="Tuberville", pct=40.0))
    await session.flush()
    await record(session, SYSTEM, "poll.add", "polls", poll.id, race_id=race_id)
    return "poll_mentions"


async def endorsed_in(session: AsyncSession, race_id: int, person_id: int) -> str:
    endorsement = Endorsement(race_id=race_id, candidate_id=person_id, endorser="Test Paper")
    session.add(endorsement)
    await session.flush()
    await record(session, SYSTEM, "endorsement.add", "endorsements", endorsement.id, race_id=race_id)
    return "endorsements"


async def made_incumbent_of(session: AsyncSession, race_id: int, person_id: int) -> str:
    await session.execute(update(Race).where(Race.id == race_id).values(incumbent_id=person_id))
    await record(session, SYSTEM, "race.edit", "races", race_id, race_id=race_id)
    return "incumbent_in"


@pytest.mark.parametrize("write", [named_in_a_poll, endorsed_in, made_incumbent_of])
async def test_a_race_coming_to_show_on_someones_card_drops_their_held_card(
    sample_sessions: async_sessionmaker[AsyncSession],
    write: Callable[[AsyncSession, int, int], Awaitable[str]],
) -> None:
    """A desk command names only a race's own people, but an import may name anyone (a hypothetical match-up,
    an endorsement, the seat's holder): the race read back names them, and their card is dropped and read
    again then. Here Tuberville comes to show in the 2017 race, which he did not run in."""
    store = Store(sample_sessions)
    store.shelf.usable = lambda: True
    try:
        await store.shelf.fill()
        async with sample_sessions() as session:
            special = await session.scalar(select(Race.id).where(Race.cycle == 2017))
            tuberville = await session.scalar(
                select(Candidate.id).where(Candidate.name == "Tommy Tuberville")
            )
        assert special is not None and tuberville is not None
        assert tuberville not in store.shelf.related[special]
        held = store.shelf.person_card(tuberville)
        assert held is not None
        async with sample_sessions.begin() as session:
            shown = await write(session, special, tuberville)
        await settled(store.shelf)
        card = store.shelf.person_card(tuberville)
        assert card is not None and getattr(card, shown) != getattr(held, shown)
        async with sample_sessions() as session:
            assert card == await person_card(session, tuberville)
    finally:
        await store.close()


# ---------------------------------------------------------------- every desk write names what it changed


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path, results_channels=False, followers=False) as started:
        yield started


async def desk_write_changes(
    world: World, recording: RecordingShelf, said: str, author: int, channel: int | None = None
) -> tuple[set[int], Races, str]:
    """The races whose answers `said` changed, the races its commit dropped, and the reply. The people whose
    cards it changed must be among those the shelf drops with those races: whom the races named before the
    write, or name after it."""
    sessions = make_sessionmaker(world.bot.engine)
    before, people_before = await all_answers(sessions), await people_now(sessions)
    cards_before = await all_person_cards(sessions)
    mark = len(recording.dropped)
    exchange = await world.say(said, author=author, channel=channel)
    assert exchange.ok is True, exchange.text
    after, people_after = await all_answers(sessions), await people_now(sessions)
    cards_after = await all_person_cards(sessions)
    changed = {
        race_id for race_id in before.keys() | after.keys() if before.get(race_id) != after.get(race_id)
    }
    dropped = recording.since(mark)
    if people_after != people_before:  # the people are dropped only with everything
        assert dropped is None, f"{said}: the people changed, and only {dropped} were dropped"
    cards_changed = {
        p for p in cards_before.keys() | cards_after.keys() if cards_before.get(p) != cards_after.get(p)
    }
    if dropped is not None:
        named = {p for answers in (before, after) for r in dropped if (a := answers.get(r)) for p in a.people}
        assert cards_changed <= named, f"{said}: cards of {cards_changed - named} changed, not dropped"
    recording.cards_changed.append(cards_changed)
    return changed, dropped, exchange.text


async def all_person_cards(sessions: async_sessionmaker[AsyncSession]) -> dict[int, PersonCard | None]:
    async with sessions() as session:
        ids = list(await session.scalars(select(Candidate.id)))
        return {person_id: await person_card(session, person_id) for person_id in ids}


async def people_now(sessions: async_sessionmaker[AsyncSession]) -> tuple[Any, ...]:
    """The people as `find_people` reads them from memory (db/reads/people.py KnownPeople)."""
    async with sessions() as session:
        known = await read_known_people(session)
    return known.people, known.words, known.ids


async def test_every_desk_write_drops_the_races_whose_answers_it_changed(
    world: World, recording: RecordingShelf
) -> None:
    sessions = make_sessionmaker(world.bot.engine)
    async with sessions() as session:
        special, regular = (
            await session.scalars(select(Race.id).where(Race.state == "AL").order_by(Race.cycle))
        ).all()
    mod = world.moderator
    only_2020 = frozenset({regular})

    async def step(said: str, author: int = mod, channel: int | None = None) -> tuple[set[int], Races, str]:
        changed, dropped, reply = await desk_write_changes(world, recording, said, author, channel)
        assert dropped is None or changed <= dropped, f"{said}: changed {changed}, dropped {dropped}"
        return changed, dropped, reply

    result = await step("!result alabama 2020 general Tuberville=1392100 Jones=920500 reporting=100%")
    assert result[:2] == ({regular}, only_2020)
    assert (await step("!call alabama 2020 general Tuberville source=AP"))[:2] == ({regular}, only_2020)
    assert (await step("!uncall alabama 2020 general"))[:2] == ({regular}, only_2020)
    changed, dropped, reply = await step(
        '!poll add alabama 2020 pollster="Test Poll" dates="Oct 1-5, 2020" Tuberville=50 Jones=40 n=600 pop=lv'
    )
    assert (changed, dropped) == ({regular}, only_2020)
    poll_id = re.search(r"poll #(\d+)", reply, re.IGNORECASE)
    assert poll_id is not None, reply
    assert (await step(f"!poll remove {poll_id[1]}"))[:2] == ({regular}, only_2020)
    changed, dropped, reply = await step('!endorse alabama 2020 endorser="Test Paper" candidate=Tuberville')
    assert (changed, dropped) == ({regular}, only_2020)
    assert (await step('!race-edit alabama 2020 notes="Open seat"'))[:2] == ({regular}, only_2020)
    undone = re.search(r"!undo (\d+)", result[2])
    assert undone is not None, result[2]
    assert (await step(f"!undo {undone[1]}"))[:2] == ({regular}, only_2020)
    # A person's name shows on each race they are in: Jones ran in both.
    changed, dropped, _ = await step('!candidate-edit alabama 2020 candidate=Jones name="Douglas Jones"')
    assert changed == {special, regular} and dropped is None
    # Adding a person already known may fill in their party, shown in every race they are in.
    changed, dropped, _ = await step('!candidate-add alabama 2017 general name="Pat Example"')
    assert changed == {special} and dropped is None
    changed, dropped, _ = await step('!candidate-add alabama 2020 general name="Pat Example" party=LIB')
    assert changed == {special, regular} and dropped is None
    changed, dropped, _ = await step('!race-add wyoming senate 2030 general="Nov 5"')
    assert len(changed) == 1 and dropped == frozenset(changed)
    # Following a race and a server's settings change no answer, and drop nothing.
    assert (await step("!follow alabama 2020", author=world.member))[:2] == (set(), frozenset())
    config = f"!config results-channel <#{world.other_channel}>"
    assert (await step(config, world.other_admin, world.other_channel))[:2] == (set(), frozenset())


# ---------------------------------------------------------------- other processes' writes (PostgreSQL)


@pytest.fixture
async def listening(engine: AsyncEngine) -> AsyncIterator[tuple[asyncpg.Connection[Any], list[str]]]:
    """A raw connection listening on racedesk_cards, and the payloads it heard."""
    async with engine.connect() as conn:
        schema = await conn.scalar(text("SELECT current_schema()"))
    heard: list[str] = []
    dsn = "postgresql://" + engine.url.render_as_string(hide_password=False).split("://", 1)[1]
    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})

    def hear(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        named, _, races = payload.rpartition(" ")
        if named == schema:
            heard.append(races)

    await connection.add_listener(CARDS_CHANNEL, hear)
    try:
        yield connection, heard
    finally:
        await connection.close()


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_the_trigger_names_the_races_as_this_process_does(
    sessions: async_sessionmaker[AsyncSession], listening: tuple[Any, list[str]]
) -> None:
    _, heard = listening
    async with sessions.begin() as session:  # enough races that a list of them all is too long to send
        races = [
            {"cycle": 3000 + i, "state": "WY", "office": "senate", "seat": "Class I"} for i in range(2000)
        ]
        await session.execute(insert(Race).values(races))
    async with sessions() as session:
        every = list(await session.scalars(select(Race.id).order_by(Race.id)))
    first, second = every[:2]
    writes: list[list[tuple[str, int | None]]] = [
        [("polls", first)],
        [("results", first), ("calls", second), ("polls", first)],
        [("follows", None)],
        [("guild_settings", None), ("polls", second)],
        [("document", None)],
        [("candidates", first)],
        [("polls", race_id) for race_id in every],  # too long for a notification: any race
    ]
    for entries in writes:
        before = len(heard)
        async with sessions.begin() as session:  # one statement: one notification
            rows = [
                {"action": f"{e}.x", "entity": e, "race_id": r, "actor_name": "system"} for e, r in entries
            ]
            await session.execute(insert(AuditEntry).values(rows))
        expected = races_written(entry(e, r) for e, r in entries)
        if expected == frozenset():
            await asyncio.sleep(0.2)
            assert len(heard) == before, entries  # nothing to say
            continue
        await until(lambda count=before: len(heard) > count, what=f"the notification of {entries[:3]}")  # type: ignore[misc]
        assert len(heard) == before + 1
        if len(entries) < 100:
            assert races_in_payload(heard[-1]) == expected
        else:
            assert heard[-1] == "*", (len(heard[-1]), len(entries), heard[-1].count(","))
    # A write of several statements sends one notification each: together, what it changed.
    before = len(heard)
    async with sessions.begin() as session:
        for race_id in (first, second):
            await record(session, SYSTEM, "polls.x", "polls", None, race_id=race_id)
    await until(lambda: len(heard) >= before + 2, what="both notifications")
    assert {races_in_payload(p) for p in heard[before:]} == {frozenset({first}), frozenset({second})}


@pytest.mark.parametrize("sample_sessions", ["postgresql"], indirect=True)
async def test_another_processs_write_drops_only_its_races_here(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    engine = sample_sessions.kw["bind"]
    store = Store(make_sessionmaker(engine))
    listener = WriteListener(engine, store.cache.invalidate, store.directory.invalidate, store.shelf.drop)
    store.shelf.usable = lambda: listener.live
    listener.start()
    try:
        await listener.wait_listening()
        assert await store.shelf.fill() == 2
        async with sample_sessions() as session:
            special, regular = (
                await session.scalars(select(Race.id).where(Race.state == "AL").order_by(Race.cycle))
            ).all()
        card = await store.race_card(regular)
        assert card is not None and store.shelf.hits == 1
        # Another process (a plain connection: no hook of this one's sessions sees it) changes the 2020 race:
        # this one hears it and drops that race alone.
        async with engine.connect() as conn:
            schema = await conn.scalar(text("SELECT current_schema()"))
        dsn = "postgresql://" + engine.url.render_as_string(hide_password=False).split("://", 1)[1]
        other = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            async with other.transaction():
                await other.execute("UPDATE races SET notes = 'Heard elsewhere' WHERE id = $1", regular)
                await other.execute(
                    "INSERT INTO audit_entries (at, actor_name, action, entity, race_id) "
                    "VALUES (now(), 'desk', 'race.edit', 'races', $1)",
                    regular,
                )
            await until(lambda: regular in store.shelf._dropped_at, what="the 2020 race dropped")
            assert special not in store.shelf._dropped_at and special in store.shelf.races
            fresh = await store.race_card(regular)
            assert fresh is not None and fresh.race.notes == "Heard elsewhere"
            await until(lambda: regular in store.shelf.races, what="the 2020 race read again")
            shelved = store.shelf.card(regular)
            assert shelved is not None and shelved == fresh
            # Another process renames a person: every race, and the people, are dropped and read again.
            assert store.shelf.known_people() is not None
            async with other.transaction():
                await other.execute("UPDATE candidates SET name = 'Douglas Jones' WHERE name = 'Doug Jones'")
                await other.execute(
                    "INSERT INTO audit_entries (at, actor_name, action, entity, race_id) "
                    "VALUES (now(), 'desk', 'candidate.edit', 'candidates', $1)",
                    regular,
                )
        finally:
            await other.close()

        def renamed_in_memory() -> bool:
            people = store.shelf.people
            return people is not None and "Douglas Jones" in {row[1] for row in people.people.values()}

        await until(renamed_in_memory, what="the people read again")
        await until(lambda: len(store.shelf.races) == 2, what="the races read again")
        renamed = await store.find_people("douglas")
        assert renamed.chosen is not None and renamed.chosen.name == "Douglas Jones"
        # While nothing is heard, nothing is served from the shelf.
        await listener.stop()
        hits = store.shelf.hits
        assert await store.race_card(special) is not None and store.shelf.hits == hits
    finally:
        await listener.stop()
        await store.close()


async def test_on_sqlite_another_processs_write_is_read_at_the_next_use(tmp_path: Path) -> None:
    """SQLite has no notifications: each use reads the newest audit entry first, and drops what the entries
    since changed (here another process, a plain sqlite3 connection, edits the 2020 race)."""
    async with store_on("sqlite", tmp_path, "sample", load_sample) as engine:
        store = Store(make_sessionmaker(engine))
        store.shelf.usable = lambda: True
        store.shelf.catches_up = True
        try:
            await store.catch_up()
            assert await store.shelf.fill() == 2
            async with store.sessions() as session:
                special, regular = (
                    await session.scalars(select(Race.id).where(Race.state == "AL").order_by(Race.cycle))
                ).all()
            assert (await store.race_card(regular)) is not None and store.shelf.hits == 1
            path = engine.url.database
            assert path is not None
            with contextlib.closing(sqlite3.connect(path)) as other, other:
                other.execute("UPDATE races SET notes = 'Written elsewhere' WHERE id = ?", (regular,))
                other.execute(
                    "INSERT INTO audit_entries (at, actor_name, action, entity, race_id) "
                    "VALUES ('2026-11-30 12:00:00', 'desk', 'race.edit', 'races', ?)",
                    (regular,),
                )
            card = await store.race_card(regular)
            assert card is not None and card.race.notes == "Written elsewhere"
            assert special in store.shelf.races  # only the race written was dropped
            await until(lambda: regular in store.shelf.races, what="the race read again")
            hits = store.shelf.hits
            again = await store.race_card(regular)
            assert again == card and store.shelf.hits == hits + 1
            # Written twice within the read cache's check of other processes (2 s): the second is read too.
            for notes in ("one", "two"):
                with contextlib.closing(sqlite3.connect(path)) as other, other:
                    other.execute("UPDATE races SET notes = ? WHERE id = ?", (notes, regular))
                    other.execute(
                        "INSERT INTO audit_entries (at, actor_name, action, entity, race_id) "
                        "VALUES ('2026-11-30 12:00:00', 'desk', 'race.edit', 'races', ?)",
                        (regular,),
                    )
                written = await store.race_card(regular)
                assert written is not None and written.race.notes == notes
            # This process's own write was dropped as it committed: catching up does not drop it again.
            await until(lambda: regular in store.shelf.races, what="the race read again")
            async with store.sessions.begin() as session:
                await session.execute(update(Race).where(Race.id == regular).values(notes="ours"))
                await record(session, SYSTEM, "race.edit", "races", regular, race_id=regular)
            drops = store.shelf._drops
            ours = await store.race_card(regular)
            assert ours is not None and ours.race.notes == "ours" and store.shelf._drops == drops
        finally:
            await store.close()

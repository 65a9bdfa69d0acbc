"""Race cards in memory: a member's `race`, `polls`, `results` and `candidate` about any race or person are
answered without a read of the store.

On PostgreSQL a card costs a round trip to the server, and on a machine that is not busy with that server, its
process must first be woken: 1-2 ms, more than the rest of the answer; on SQLite building it from its rows
costs more than the answer's other work. The read cache (db/cache.py) cannot
help a member who asks about a race nobody asked about since the last write anywhere, and on election night
the desk writes every few seconds. So each process keeps, for every race, what those three commands first
read: its card, the first page of its polls and its count (db/reads/answers.py, one round trip a race);
and every person as `candidate` first reads them to find one by name (db/reads/people.py KnownPeople);
and the card of every person some race names (who ran in it, holds it, is named by its polls or endorsed in
it: the race's read lists them), one round trip a person, read after the races, whose polls it shows are taken
from the races here; and which races make up each chamber's cycle, so `senate 2020` is worked out from the
cards here (db/chambers.py) while every race is held.
Each answer is pickled and compressed (`_packed`: 1.7 KB a race and 0.7 KB a person; 33 MB for the 10,000
races of ten polls and 22,000 people of bench/member_commands.py, 5 MB for the shipped store; read back in
35-100 microseconds), read at start (14 s for that store on PostgreSQL, 2.3 s for the shipped one on SQLite)
and kept as new as the store:

- Which races a write changed is known from its audit entries (every write records them, db/audit.py): their
  races, or every race when an entry names none (an import) or is of a person or a candidacy (a person's name
  and party show on the card of each race they are in). Entries of follows and of servers' settings change no card.
- On PostgreSQL another process's write is heard at once: a trigger sends NOTIFY racedesk_cards with those races, or `*`
  (migration 0011), and the listener (db/notify.py) drops them here. This process's own write drops them as
  it commits (`_note_written` below), before its notification is back.
- While the listener does not listen, nothing is heard: the shelf is not used, and everything on it is
  dropped when it listens again.
- The people change only by writes that drop every race (a person's, a candidacy's, an import), and are
  dropped and read again with them.
- A dropped race is read again in the background; until it is back, its answers come from the store
  (through the read cache) as before. What was read while its race was dropped is not kept.
- A dropped race drops the cards of the people its last read named, and its next read drops those it names
  then (a write may name someone new: a poll's match-up, an endorsement, the seat's holder). Until every
  race is read back, no person's card is served from here; a card read while any race was dropped is not
  kept. The cards dropped are read again after the races.

On SQLite, which has no notifications, each use first reads the newest audit entry's id (`catch_up`, on the
event loop's thread: a few microseconds) and drops what the entries since changed, as the race directory
does with its number (db/directory.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import weakref
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.background import cancel_and_wait
from db.balance import Balance, OfficeCycles
from db.chambers import ChamberIndex
from db.direct import prebuilt
from db.models import AuditEntry
from db.reads.answers import RaceAnswers, race_polls
from db.reads.people import KnownPeople, PersonCard, RacePolls
from db.reads.polls import PollPage
from db.reads.races import RaceCard
from db.reads.results import RaceResults
from db.reads.tables import table_of

log = logging.getLogger(__name__)

# Entries of these change no race's card: a member following a race, a server's settings.
CARDLESS_ENTITIES = frozenset({"follows", "guild_settings"})
# Entries of people, or of their candidacies (adding one may fill in the person's party), may change the
# card of every race they are in.
PEOPLE_ENTITIES = frozenset({"candidates", "candidacies"})
RETRY_SECONDS = 5.0  # after a failed read, the shelf waits this long before it reads again
FILL_WAIT_SECONDS = 30.0  # at start, how long the bot waits for the cards before it connects
PACKING = 1  # zlib's fastest level: most of what a higher level saves, for a fraction of the time
READERS = 2  # cards read at once: the store keeps more connections for members' reads (db/pgread.py HELD)

Races = frozenset[int] | None  # the races a write changed; None: any race
_AUDIT = table_of(AuditEntry)
NEWEST_ENTRY = prebuilt(select(func.max(_AUDIT.c.id)))
ENTRIES_SINCE = prebuilt(
    select(_AUDIT.c.id, _AUDIT.c.entity, _AUDIT.c.race_id).where(_AUDIT.c.id > bindparam("seen"))
)


class Audited(Protocol):
    """What the rule reads of an audit entry (an AuditEntry, or a row of its columns)."""

    @property
    def entity(self) -> str: ...

    @property
    def race_id(self) -> int | None: ...


def races_written(entries: Iterable[Audited]) -> Races:
    """The races whose cards the writes of these audit entries may have changed (None: any)."""
    races: set[int] = set()
    for entry in entries:
        if entry.entity in CARDLESS_ENTITIES:
            continue
        if entry.race_id is None or entry.entity in PEOPLE_ENTITIES:
            return None
        races.add(entry.race_id)
    return frozenset(races)


def races_in_payload(text: str) -> Races:
    """The races of a racedesk_cards notification's list (`12,15` or `*`)."""
    if text == "*":
        return None
    try:
        return frozenset(int(part) for part in text.split(","))
    except ValueError:
        return None  # not a list this version writes: drop everything rather than guess


class CardShelf:
    """Every race's answers (card, first page of polls, count) and the cards of the people the races name,
    packed; `drop` what writes changed; `fill` reads them all."""

    def __init__(
        self,
        read_answers: Callable[[int], Awaitable[RaceAnswers | None]],
        race_ids: Callable[[], Awaitable[Iterable[int]]],
        read_people: Callable[[], Awaitable[KnownPeople]] | None = None,
        read_baselines: Callable[[], Awaitable[Sequence[Any]]] | None = None,
        read_person: Callable[[int], Awaitable[PersonCard | None]] | None = None,
    ) -> None:
        self.read_answers = read_answers
        self.race_ids = race_ids
        self.read_people = read_people
        self.read_baselines = read_baselines
        self.read_person = read_person
        self.usable: Callable[[], bool] = lambda: False  # the bot sets it: the listener listens
        self.races: dict[int, tuple[bytes, bytes, bytes]] = {}  # race id -> its card, first polls, count
        self.people: KnownPeople | None = None  # every person, for finding them by name
        self.person_cards: dict[int, bytes] = {}  # person id -> their card
        self.related: dict[int, frozenset[int]] = {}  # race id -> the people whose cards show something of it
        self._people_to_read: set[int] = set()
        self.chambers = ChamberIndex()  # which races make up each chamber's cycle (db/chambers.py)
        self.hits = 0
        # Each drop counts one; a card read is kept only if its race was not dropped since the read began.
        self._drops = 0
        self._dropped_at: dict[int, int] = {}
        self._all_dropped_at = 0
        self._to_read: set[int] = set()
        self._reading: set[int] = set()
        self._read_all = False
        self._wake = asyncio.Event()  # set: something was dropped, to be read again
        self._idle = asyncio.Event()  # set: nothing is left to read (or the last try failed)
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.closed = False
        self.catches_up = False  # SQLite: each use first reads what other processes wrote (`catch_up`)
        self.entry_seen: int | None = None  # the newest audit entry `catch_up` has read
        self.own_entries: set[int] = set()  # this process's entries, dropped as they committed: not again
        _shelves.add(self)

    def card(self, race_id: int) -> RaceCard | None:
        """The race's card, if the shelf holds it and is usable; None: ask the store."""
        return cast(RaceCard | None, self._get(race_id, 0))

    def first_polls(self, race_id: int) -> PollPage | None:
        """The first page of the race's polls, unfiltered (as `card`)."""
        return cast(PollPage | None, self._get(race_id, 1))

    def results(self, race_id: int) -> RaceResults | None:
        """The race's count (as `card`)."""
        return cast(RaceResults | None, self._get(race_id, 2))

    def race_polls(self, race_id: int) -> RacePolls | None:
        """The race's current poll averages and its stages, for a person's card (as `card`)."""
        if not self.usable() or (held := self.races.get(race_id)) is None:
            return None
        return race_polls(_unpacked(held[0]), _unpacked(held[1]))  # (a part of a card: no hit)

    def person_card(self, person_id: int) -> PersonCard | None:
        """The person's card, if the shelf holds it and every race is held; None: ask the store. A race not
        read back yet may have come to show on anyone's card (a poll naming them, an endorsement): the people
        its read names are dropped then."""
        if not self._settled():
            return None
        return cast(PersonCard | None, self._served(self.person_cards.get(person_id)))

    def known_people(self) -> KnownPeople | None:
        """The people, for `find_people`, if the shelf holds them and is usable; None: ask the store."""
        return self.people if self.usable() else None

    def office_cycles(self, office: str) -> OfficeCycles | None:
        """The office's cycles, if every race is held; None: ask the store."""
        return self.chambers.office_cycles(office) if self._settled() else None

    def chamber_balance(self, office: str, cycle: int) -> tuple[bool, Balance | None]:
        """(True, the chamber's balance) worked out from the held cards if every race is held, else (False,
        None): ask the store. A race not read back yet may be of any chamber (a new one, one moved)."""
        if not self._settled():
            return False, None
        return self.chambers.balance(office, cycle, self.card)

    def _settled(self) -> bool:
        return self.usable() and not (self._read_all or self._to_read or self._reading)

    async def catch_up(self, session: AsyncSession) -> bool:
        """SQLite, which has no notifications: drop what the audit entries since the last call changed (another
        process's writes, e.g. an import from the command line; this process's were dropped as they
        committed). A few microseconds when nothing was written. SQLite writes one transaction at a time, so
        an entry committed later never has a lower id. Returns whether another process wrote."""
        newest = await session.scalar(NEWEST_ENTRY)
        if newest == self.entry_seen:
            return False
        if self.entry_seen is None or newest is None or newest < self.entry_seen:
            self.drop(None)  # the first look, or entries removed (a store emptied): everything may differ
            others = True
        else:
            entries = list(await session.execute(ENTRIES_SINCE, {"seen": self.entry_seen}))
            theirs = [entry for entry in entries if entry.id not in self.own_entries]
            others = bool(theirs)
            if theirs:
                self.drop(races_written(theirs))
        self.entry_seen = newest
        self.own_entries = {i for i in self.own_entries if newest is not None and i > newest}
        return others

    def _get(self, race_id: int, part: int) -> Any:
        if not self.usable():
            return None
        held = self.races.get(race_id)
        return self._served(held[part] if held is not None else None)

    def _served(self, held: bytes | None) -> Any:
        """What is held, unpacked for one asker (None: not held), counted as a hit."""
        if held is None:
            return None
        self.hits += 1
        return _unpacked(held)

    def drop(self, races: Races) -> None:
        """Writes changed these races' cards (None: any race's): drop them and read them again. A shelf not
        started holds nothing to drop."""
        if self._task is None:
            return
        self._drops += 1
        if races is None:
            self.races = {}
            self.people = None
            self.chambers.clear()
            self.person_cards = {}
            self.related = {}
            self._people_to_read.clear()  # (the races' reads name them again)
            self._all_dropped_at = self._drops
            self._dropped_at.clear()
            self._to_read.clear()
            self._read_all = True
        else:
            for race_id in races:
                self.races.pop(race_id, None)
                self.chambers.remove(race_id)
                self._dropped_at[race_id] = self._drops
                self._drop_people(self.related.pop(race_id, frozenset()))
            self._to_read.update(races)
        self._idle.clear()
        self._wake.set()

    def _drop_people(self, people: Iterable[int]) -> None:
        """These people's cards may show what a write changed: drop them, and read them again (after the races)."""
        if self.read_person is None:
            return
        for person_id in people:
            self.person_cards.pop(person_id, None)
            self._people_to_read.add(person_id)

    async def fill(self, wait: float = FILL_WAIT_SECONDS) -> int:
        """Read every race's answers, then the cards of the people they name (at start), waiting up to `wait`
        seconds for them; the rest, and whatever writes drop from now on, are read in the background. Returns
        how many races are held."""
        self.start()
        self.drop(None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), wait)
        return len(self.races)

    async def idle(self) -> None:
        """Until nothing dropped is left to read (or the last try failed)."""
        await self._idle.wait()

    def start(self) -> None:
        """Read in the background what is dropped (and everything, once `drop(None)`)."""
        if self._task is None and not self.closed:
            self._task = asyncio.create_task(self._keep_reading(), name="racedesk-card-shelf")

    async def close(self) -> None:
        self.closed = True
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._idle.set()  # nobody waits for a fill that will not come

    async def _keep_reading(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._read_dropped()
            except Exception:  # the store is unreachable for now: its cards come from the store meanwhile
                log.exception("reading race cards; trying again in %.0f s", RETRY_SECONDS)
                self._wake.set()
                self._idle.set()
                await asyncio.sleep(RETRY_SECONDS)
            else:
                self._idle.set()

    async def _read_dropped(self) -> None:
        while self._read_all or self._to_read or self._people_to_read:
            if self._read_all:
                started = self._drops
                wanted = await self.race_ids()
                people = await self.read_people() if self.read_people is not None else None
                baselines = await self.read_baselines() if self.read_baselines is not None else None
                if self._all_dropped_at > started:
                    continue  # everything was dropped again meanwhile: ask again
                self._read_all = False
                self.people = people
                if baselines is not None:
                    self.chambers.keep_baselines(baselines)
                self._to_read.update(wanted)
            read_some = self._read_some if self._to_read else self._read_some_people  # races first
            async with asyncio.TaskGroup() as readers:
                for _ in range(READERS):
                    readers.create_task(read_some())

    async def _read_some(self) -> None:
        while self._to_read and not self._read_all:
            race_id = self._to_read.pop()
            self._reading.add(race_id)
            try:
                await self._read_one(race_id)
            except BaseException:
                self._to_read.add(race_id)  # read again on the next try
                raise
            finally:
                self._reading.discard(race_id)
            await asyncio.sleep(0)  # a read on SQLite runs on the loop's thread: members' turns between

    async def _read_some_people(self) -> None:
        while self._people_to_read and not (self._read_all or self._to_read):
            person_id = self._people_to_read.pop()
            try:
                await self._read_person(person_id)
            except BaseException:
                self._people_to_read.add(person_id)
                raise
            await asyncio.sleep(0)

    async def _read_person(self, person_id: int) -> None:
        assert self.read_person is not None
        started = self._drops
        card = await self.read_person(person_id)
        if self._drops != started:  # any race dropped meanwhile may have come to show on this card
            self._people_to_read.add(person_id)
        elif card is not None:
            self.person_cards[person_id] = _packed(card)

    async def _read_one(self, race_id: int) -> None:
        started = self._drops
        answers = await self.read_answers(race_id)
        if answers is None:
            return
        if self._all_dropped_at > started or self._dropped_at.get(race_id, 0) > started:
            return  # dropped while it was read: it may be older than the write (it is read again)
        parts = (answers.card, answers.first_polls, answers.results)
        card, polls, results = (_packed(part) for part in parts)
        self.races[race_id] = (card, polls, results)
        self.related[race_id] = answers.people
        self._drop_people(answers.people)  # those it names now (a poll naming someone new, say)
        if self.read_baselines is not None:  # (without them no chamber is answered from here)
            self.chambers.add(race_id, answers.card)


def _packed(answer: object) -> bytes:
    """An answer as the shelf keeps it: pickled, then compressed (to some 55% of the pickle, which halves the
    shelf; reading one back costs some 7-10 microseconds more)."""
    return zlib.compress(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL), PACKING)


def _unpacked(packed: bytes) -> Any:
    return pickle.loads(zlib.decompress(packed))


# Every shelf of this process, to drop what this process's own writes changed as they commit.
_shelves: weakref.WeakSet[CardShelf] = weakref.WeakSet()
_WRITTEN = "racedesk_races_written"  # a session's info key: the races its transaction changed so far
_ENTRIES = "racedesk_entries_written"  # and the ids of its audit entries


@event.listens_for(Session, "after_flush")
def _note_written(session: Session, _context: Any) -> None:
    entries = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if not entries:
        return
    session.info.setdefault(_ENTRIES, []).extend(entry.id for entry in entries)
    races = races_written(entries)
    known = session.info.get(_WRITTEN, frozenset())
    session.info[_WRITTEN] = None if races is None or known is None else known | races


@event.listens_for(Session, "after_commit")
def _drop_written(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's commit (SQLAlchemy tells of those too): the transaction is still open
    if _WRITTEN not in session.info:
        return
    races = session.info.pop(_WRITTEN)
    entries = session.info.pop(_ENTRIES, [])
    for shelf in list(_shelves):
        if shelf.catches_up:
            shelf.own_entries.update(entries)
        if races != frozenset():
            shelf.drop(races)


@event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps what the transaction wrote before
        session.info.pop(_WRITTEN, None)
        session.info.pop(_ENTRIES, None)

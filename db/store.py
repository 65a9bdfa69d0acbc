"""The store the bot reads and writes through: it owns the sessions and the read cache's keys.

A cog asks for what it needs by name (`await bot.store.race_card(race_id)`) and never opens a session
or builds a cache key. Answers that change only when the data does are cached (see db/cache.py: dropped
at any audited write, here or in another process, and after a minute); the rest is read fresh.
Knows nothing of Discord.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import Actor, AuditPage, audit_entry, audit_page
from db.balance import Balance, OfficeCycles, chamber_balance, office_cycles
from db.cache import ReadCache
from db.chambers import read_baselines
from db.directory import RaceDirectory
from db.engine import for_writing, refresh_statistics
from db.follows import FollowOutcome, follow, followed_races, unfollow
from db.held import held_or_read
from db.importers.run import ImportReport, import_file
from db.lookup import RaceMatches, find_races
from db.models import AuditEntry, Feed, Follow, GuildSettings, Race
from db.pgread import PostgresReader
from db.reads.answers import RaceAnswers, race_answers
from db.reads.calendar import Calendar, contests_between
from db.reads.people import (
    KnownPeople,
    PeopleMatches,
    PersonCard,
    find_people,
    person_card,
    person_endorsements,
    read_known_people,
)
from db.reads.people import race_endorsements as read_race_endorsements
from db.reads.polls import PollFilter, PollPage, poll_page, poll_sources, race_contests
from db.reads.president import Presidency, presidency, president_cycles
from db.reads.races import ContestView, RaceCard, race_card
from db.reads.results import History, RaceResults, count_history, race_results
from db.reads.rows import ContestRow, EndorsementRow
from db.shelf import CardShelf
from db.syncread import SyncReader
from db.writes import run_write
from db.writes.config import guild_settings
from db.writes.feeds import Basis, PolledFeed, active_feeds, feeds_of, reading_basis

T = TypeVar("T")
NO_FILTER = PollFilter()


async def _all_race_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Race.id)))


def _words(text: str) -> str:
    """A typed query as a cache key: case and spacing do not make a new entry."""
    return " ".join(text.lower().split())


class Store:
    """Sessions, cached reads and writes for the bot. One session per call, never shared across tasks."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache: ReadCache | None = None) -> None:
        self.sessions = sessions
        self.cache = cache if cache is not None else ReadCache(sessions)
        # On a SQLite file, a read runs whole in a worker thread: one hop, not one per statement. On
        # PostgreSQL, reads run outside a transaction on a pool of their own. Both run the prebuilt
        # statements straight on the driver (db/direct.py).
        engine = sessions.kw.get("bind")
        self.reader: SyncReader | PostgresReader | None = SyncReader.for_engine(engine)
        if self.reader is None:
            self.reader = PostgresReader.for_engine(engine)
        # The races in memory for the lookup, as new as the store (db/directory.py).
        self.directory = RaceDirectory(self._read, lambda: self.cache.writes_heard())
        # Every race's card in memory, where other processes' writes are heard (db/shelf.py); the bot fills it.
        self.shelf = CardShelf(
            self._answers_from_store,
            self._race_ids,
            self._known_people,
            lambda: self._read(read_baselines),
            self._person_from_store,
        )

    async def _read(self, read: Callable[[AsyncSession], Awaitable[T]], *, small: bool = False) -> T:
        if self.reader is not None:
            return await self.reader.read(read, small=small)
        async with self.sessions() as session:
            return await read(session)

    async def close(self) -> None:
        """Stop the read threads and close the readers' connections (the bot's engine is the caller's)."""
        await self.shelf.close()
        await self.directory.close()
        if self.reader is not None:
            reader, self.reader = self.reader, None
            await reader.close()

    async def _cached(self, key: tuple[Any, ...], read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self.cache.get(key, lambda: self._read(read))

    async def _quick(self, key: tuple[Any, ...], read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`_cached` for a member's small read (a lookup, a card: a few indexed statements), which on a
        SQLite file runs on the event loop's thread rather than a worker's (see SyncReader.read), and on
        PostgreSQL under generic plans (see PostgresReader)."""
        return await self.cache.get(key, lambda: self._read(read, small=True))

    # Cached: what members ask.

    async def find_races(self, query: str, limit: int = 10) -> RaceMatches:
        def read(session: AsyncSession) -> Awaitable[RaceMatches]:
            return find_races(session, query, limit=limit, directory=self.directory)

        return await held_or_read(  # (SQLite: the copy's number is read at every lookup, never held)
            read,
            lambda: self._quick(("find_races", _words(query), limit), read),
            holds=self.directory.known_current(),
        )

    async def catch_up(self) -> None:
        """Read which races other processes' writes changed, for the shelf (SQLite; see `CardShelf.catch_up`);
        the read cache, which checks for them only now and then, is dropped as well when they did."""
        if await self._read(self.shelf.catch_up, small=True):
            self.cache.invalidate()

    async def _caught_up(self) -> CardShelf:
        """The shelf, having first read what other processes wrote where nothing tells it (SQLite)."""
        if self.shelf.catches_up and self.shelf.usable():
            await self.catch_up()
        return self.shelf

    async def race_card(self, race_id: int) -> RaceCard | None:
        shelved = (await self._caught_up()).card(race_id)
        if shelved is not None:
            return shelved
        return await self._quick(("race_card", race_id), lambda s: race_card(s, race_id))

    async def _answers_from_store(self, race_id: int) -> RaceAnswers | None:
        """Read afresh for the shelf: never the read cache's answers, which the shelf's drops do not reach."""
        return await self._read(lambda s: race_answers(s, race_id), small=True)

    async def _race_ids(self) -> list[int]:
        return await self._read(_all_race_ids)

    async def _known_people(self) -> KnownPeople:
        return await self._read(read_known_people)

    async def race_results(self, race_id: int) -> RaceResults | None:
        shelved = (await self._caught_up()).results(race_id)
        if shelved is not None:
            return shelved
        return await self._quick(("race_results", race_id), lambda s: race_results(s, race_id))

    async def count_history(self, view: ContestView) -> History:
        return await self._cached(("count_history", view.contest.id), lambda s: count_history(s, view))

    async def race_contests(self, race_id: int) -> dict[int, ContestRow]:
        return await self._cached(("race_contests", race_id), lambda s: race_contests(s, race_id))

    async def poll_sources(self, race_id: int) -> set[str]:
        return await self._cached(("poll_sources", race_id), lambda s: poll_sources(s, race_id))

    async def poll_page(self, race_id: int, flt: PollFilter, page: int) -> PollPage:
        if page == 1 and flt == NO_FILTER:
            shelved = (await self._caught_up()).first_polls(race_id)
            if shelved is not None:
                return shelved
        return await self._quick(
            ("poll_page", race_id, flt, page), lambda s: poll_page(s, race_id, flt, page)
        )

    async def chart_token(self, race_id: int, flt: PollFilter) -> object:
        """A token that stays the same while the data a chart is drawn from may not have changed."""

        async def new_token() -> object:
            return object()

        return await self.cache.get(("chart_token", race_id, flt), new_token)

    async def find_people(self, text: str, limit: int = 10) -> PeopleMatches:
        known = (await self._caught_up()).known_people()

        def read(session: AsyncSession) -> Awaitable[PeopleMatches]:
            return find_people(session, text, limit=limit, known=known)

        return await held_or_read(  # (no people held: the shelf is not usable)
            read, lambda: self._quick(("find_people", _words(text), limit), read), holds=known is not None
        )

    async def person_card(self, person_id: int) -> PersonCard | None:
        shelf = await self._caught_up()
        shelved = shelf.person_card(person_id)
        if shelved is not None:
            return shelved
        return await self._quick(
            ("person_card", person_id), lambda s: person_card(s, person_id, held_polls=shelf.race_polls)
        )

    async def _person_from_store(self, person_id: int) -> PersonCard | None:
        """Read afresh for the shelf (as `_answers_from_store`)."""
        return await self._read(
            lambda s: person_card(s, person_id, held_polls=self.shelf.race_polls), small=True
        )

    async def person_endorsements(self, person_id: int) -> tuple[list[EndorsementRow], int]:
        return await self._cached(
            ("person_endorsements", person_id), lambda s: person_endorsements(s, person_id)
        )

    async def race_endorsements(self, race_id: int) -> tuple[list[EndorsementRow], int]:
        return await self._cached(
            ("race_endorsements", race_id), lambda s: read_race_endorsements(s, race_id)
        )

    async def calendar(self, start: dt.date, end: dt.date) -> Calendar:
        return await self._cached(("calendar", start, end), lambda s: contests_between(s, start, end))

    async def office_cycles(self, office: str) -> OfficeCycles:
        held = (await self._caught_up()).office_cycles(office)
        if held is not None:
            return held
        return await self._cached(("office_cycles", office), lambda s: office_cycles(s, office))

    async def chamber_balance(self, office: str, cycle: int) -> Balance | None:
        held, balance = (await self._caught_up()).chamber_balance(office, cycle)
        if held:
            return balance
        return await self._cached(("balance", office, cycle), lambda s: chamber_balance(s, office, cycle))

    async def president_cycles(self) -> list[int]:
        return await self._cached(("president_cycles",), president_cycles)

    async def presidency(self, cycle: int) -> Presidency | None:
        return await self._cached(("presidency", cycle), lambda s: presidency(s, cycle))

    # Read fresh: a member's own follows, server settings (both small reads, by key), the audit log.

    async def followed_races(self, user_id: int) -> list[Follow]:
        return await self._read(lambda s: followed_races(s, user_id), small=True)

    async def guild_settings(self, guild_id: int) -> GuildSettings | None:
        return await self._read(lambda s: guild_settings(s, guild_id), small=True)

    async def guild_prefixes(self) -> dict[int, str]:
        """Every server's own prefix, where one is set."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(GuildSettings.guild_id, GuildSettings.prefix).where(GuildSettings.prefix.is_not(None))
            )
            return {guild_id: prefix for guild_id, prefix in rows if prefix}

    async def audit_page(
        self, *, race_id: int | None, before: int | None, guild_id: int | None, limit: int
    ) -> AuditPage:
        return await self._read(
            lambda s: audit_page(s, race_id=race_id, before=before, guild_id=guild_id, limit=limit)
        )

    async def audit_entry(self, entry_id: int) -> tuple[AuditEntry | None, Race | None]:
        return await self._read(lambda s: audit_entry(s, entry_id))

    async def feeds(self) -> list[tuple[Feed, Race]]:
        """Every results feed with its race (not cached: the poller changes them every few seconds)."""
        return await self._read(feeds_of)

    async def polled_feeds(self) -> list[PolledFeed]:
        return await self._read(active_feeds)

    async def reading_basis(self, race_id: int, contest_id: int) -> Basis:
        """What a feed's reading is judged against: the race and its stage's newest count (cached: the
        poller asks it at every changed file, and an audited write drops it)."""
        return await self._cached(
            ("reading basis", race_id, contest_id), lambda s: reading_basis(s, race_id, contest_id)
        )

    # Writes: each in one transaction; an audited one drops the cached answers.

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction (retried when the database is busy); see db.writes.run_write."""
        return await run_write(self.sessions, work)

    async def follow(self, actor: Actor, user_id: int, race_id: int) -> FollowOutcome:
        """Follow a race within the limit (one transaction, retried when the database is busy)."""
        return await self.write(lambda session: follow(session, actor, user_id, race_id))

    async def unfollow(self, actor: Actor, user_id: int, race_id: int | None) -> int:
        """Stop following one race, or every race (None). Returns how many follows were removed."""
        return await self.write(lambda session: unfollow(session, actor, user_id, race_id))

    async def import_file(
        self, path: str | os.PathLike[str], fmt: str, actor: Actor, *, dry_run: bool, name: str | None = None
    ) -> ImportReport:
        async with self.sessions.begin() as session:
            await for_writing(session)
            report = await import_file(session, path, fmt, dry_run=dry_run, actor=actor, name=name)
        if not dry_run:
            await refresh_statistics(self.sessions.kw["bind"])
        return report

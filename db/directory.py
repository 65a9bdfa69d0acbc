"""The races in memory, for the lookup: a query of places and years ("alabama", "al-02 2020", "senate 2022")
is answered without a statement.

Each process keeps the races' columns and the flags of their hints (what `db.lookup._statement` reads), and
answers a query of that shape with the same races in the same order. A query that names people still asks
the store (their names and candidacies are not kept here).

It is never older than the store in a way a member could see:
- The store bumps `races_version` whenever a race is added, removed or changed, by triggers (migration 0010),
  whatever the write. The copy knows the number it was read at.
- On SQLite, each use reads that number first (one statement on the event loop's thread, a few microseconds)
  and a copy of another number is not used.
- On PostgreSQL, that would be a round trip per lookup. There, another process's change is heard at once
  (NOTIFY racedesk_races, db/notify.py), which drops the copy; while nothing is heard (the listener is
  reconnecting) it reads the number at each use as SQLite does; and after a write of this process it reads
  the number once, since its own notification may not be back yet.
A copy that is out of date is dropped, and a new one read in the background; until it is there, the lookup
asks the store as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import lookup
from db.background import cancel_and_wait
from db.cache import local_version
from db.direct import prebuilt
from db.lookup import RACE_COLUMNS, QueryShape, hint_flags
from db.models import NATIONAL, RacesVersion
from db.reads.tables import RACES, table_of

T = TypeVar("T")
Reader = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
# After a failed read of the races, the lookup asks the store this long before a copy is read again.
RETRY_SECONDS = 5.0

log = logging.getLogger(__name__)

_VERSION = prebuilt(select(table_of(RacesVersion).c.n).where(table_of(RacesVersion).c.id == 1))


class Races:
    """The races as read at `version`, each group in the order a query that asks no cycle wants them (`_order`
    in db/lookup.py): all of them, a state's, a cycle's, a state's in a cycle, a state's of one seat (a
    district, a Senate class)."""

    __slots__ = ("by_cycle", "by_state", "by_state_cycle", "by_state_seat", "rows", "version")

    def __init__(self, version: int | None, rows: list[Any]) -> None:
        self.version = version
        self.rows = sorted(rows, key=_newest_first)
        self.by_state: dict[str, list[Any]] = {}
        self.by_cycle: dict[int, list[Any]] = {}
        self.by_state_cycle: dict[tuple[str, int], list[Any]] = {}
        self.by_state_seat: dict[tuple[str, str], list[Any]] = {}
        for row in self.rows:
            self.by_state.setdefault(row.state, []).append(row)
            self.by_cycle.setdefault(row.cycle, []).append(row)
            self.by_state_cycle.setdefault((row.state, row.cycle), []).append(row)
            self.by_state_seat.setdefault((row.state, row.seat), []).append(row)

    def find(self, shape: QueryShape, values: dict[str, Any]) -> list[Any]:
        """The rows `db.lookup._statement(shape)` returns for these values, in its order, `values["limit"]` at
        most."""
        state = _state_asked(shape, values)
        keep = _conditions(shape, values, state)
        limit = values["limit"]
        if shape.cycle:
            # The office first where a cycle is asked: the cycle's races (and the year before's specials)
            # are few, sorted here.
            cycle = values["cycle"]
            if state is None:
                among = self.by_cycle.get(cycle, []) + self.by_cycle.get(cycle - 1, [])
            else:
                among = self.by_state_cycle.get((state, cycle), []) + self.by_state_cycle.get(
                    (state, cycle - 1), []
                )
            return sorted((r for r in among if keep(r)), key=_office_first)[:limit]
        if state is None:
            among = self.rows
        elif shape.district or shape.seat:
            seat = values["district"] if shape.district else values["seat"]
            among = self.by_state_seat.get((state, seat), [])
        else:
            among = self.by_state.get(state, [])
        found = []
        for row in among:
            if keep(row):
                found.append(row)
                if len(found) == limit:
                    break
        return found


def _state_asked(shape: QueryShape, values: dict[str, Any]) -> str | None:
    return NATIONAL if shape.national else values["state"] if shape.state else None


def _conditions(shape: QueryShape, values: dict[str, Any], state: str | None) -> Callable[[Any], bool]:
    """`_statement`'s WHERE, as a test of one row (`state`: the one asked, `_state_asked`)."""
    office = values["office"] if shape.office else None
    seats = {values[name] for name, asked in (("district", shape.district), ("seat", shape.seat)) if asked}
    seat = seats.pop() if len(seats) == 1 else None
    no_seat = len(seats) > 0  # a district and a seat class that differ: no race is both
    cycle = values["cycle"] if shape.cycle else None
    special = shape.special

    def keep(row: Any) -> bool:
        return (
            not no_seat
            and (state is None or row.state == state)
            and (office is None or row.office == office)
            and (seat is None or row.seat == seat)
            and (cycle is None or row.cycle == cycle or (row.cycle == cycle - 1 and bool(row.special)))
            and (special is None or bool(row.special) is special)
        )

    return keep


def _rank(office: str) -> int:
    """`_order`'s rank of an office (read at each call: tests change the pick rule's order)."""
    return lookup.OFFICE_RANK.get(office, len(lookup.OFFICE_RANK))


def _newest_first(row: Any) -> tuple[Any, ...]:
    """`_order`: the newest cycle, then the office most asked about; then `_then`."""
    return (-row.cycle, _rank(row.office), *_then(row))


def _office_first(row: Any) -> tuple[Any, ...]:
    """`_order(cycle_asked=True)`: the office most asked about, then the newest cycle; then `_then`."""
    return (_rank(row.office), -row.cycle, *_then(row))


def _then(row: Any) -> tuple[Any, ...]:
    """The rest of `_order`: the regular seat before a special, the state, districts in number order (and the
    id, where SQL leaves a tie to chance)."""
    return (bool(row.special), row.state, len(row.seat), row.seat, row.id)


_RACES = prebuilt(select(*RACE_COLUMNS, *hint_flags(RACES)))


async def read_races(session: AsyncSession) -> Races:
    """Every race with the flags of its hints, and the number they were read at (read first: a change
    committed between the two statements makes the copy newer than its number, never older)."""
    version = await session.scalar(_VERSION)
    return Races(version, list(await session.execute(_RACES)))


class RaceDirectory:
    """This process's copy of the races (`Races`), kept as described above. `read` runs a store read (not a
    member's small one: on SQLite it runs in a worker thread); `writes_heard` says whether other processes'
    writes are heard at once (PostgreSQL's listener is live)."""

    def __init__(
        self,
        read: Reader,
        writes_heard: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self.writes_heard = writes_heard
        self.clock = clock
        self.closed = False
        self.races: Races | None = None
        self.loads = 0  # copies read, for tests
        self._generation = 0  # bumped when the copy is dropped: a read begun before is not kept
        self._checked_local = -1  # this process's write count when the number was last found unchanged
        self._loading: asyncio.Task[None] | None = None
        self._failed_at = float("-inf")
        self._kept = False  # a copy is kept once `load` was called (the bot calls it at start)

    def invalidate(self) -> None:
        """Drop the copy (a race changed somewhere); the next lookup begins reading a new one."""
        self.races = None
        self._generation += 1

    async def load(self) -> None:
        """Read a copy now, and keep one from now on (the bot calls it at start, so the first members find
        it there; a store that never calls it asks the store for every lookup)."""
        self._kept = True
        generation, seen_local = self._generation, local_version()
        try:
            races = await self._read(read_races)
        except Exception:
            self._failed_at = self.clock()
            log.warning("reading the races for the lookup failed; the lookup asks the store", exc_info=True)
            return
        self.loads += 1
        if generation == self._generation:
            self.races, self._checked_local = races, seen_local

    async def current(self, session: AsyncSession) -> Races | None:
        """The copy, if it is as new as the store; None: ask the store (a new copy is being read)."""
        races = self.races
        if races is None:
            self._load_soon()
            return None
        if self.known_current():
            return races
        seen_local = local_version()
        version = await session.scalar(_VERSION)
        if races is not self.races:  # dropped while it was asked
            return None
        if version != races.version:
            self.invalidate()
            self._load_soon()
            return None
        self._checked_local = seen_local
        return races

    def known_current(self) -> bool:
        """Whether the copy is as new as the store without reading its number: others' writes are heard, and
        the number was found unchanged since this process's last write."""
        return self.races is not None and self.writes_heard() and self._checked_local == local_version()

    def _load_soon(self) -> None:
        if self.closed or not self._kept or (self._loading is not None and not self._loading.done()):
            return
        if self.clock() - self._failed_at < RETRY_SECONDS:
            return
        self._loading = asyncio.get_running_loop().create_task(self.load(), name="racedesk-race-directory")

    async def close(self) -> None:
        self.closed = True
        task, self._loading = self._loading, None
        await cancel_and_wait(task)

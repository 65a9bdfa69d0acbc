"""The chambers from the races in memory: `senate 2020` and the cycles an office has are answered without a
read of the store.

On election night the desk writes every few seconds, and each write drops the read cache, so every member
asking for the Senate after a count would read the deciding stages of each of its races again (some 10 ms on
PostgreSQL for the Senate, 70 ms for the House: bench/chambers.py). The shelf (db/shelf.py) already holds every race's card,
stages and counts included, kept as new as the store; this index says which held races make up each
chamber's cycle, and the balance is worked out from their cards (db/balance.py `balance_of`, as the store's
read does) once after a race of that chamber last changed.

The seats-not-up rows are read with the people: they change only by an import, which drops every race.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.balance import Balance, OfficeCycles, Seat, balance_of_seats, cycles_of, deciding_views, seat_of
from db.reads.races import RaceCard
from db.reads.tables import BASELINES

Chamber = tuple[str, int]  # (office, cycle)
EVERY_BASELINE = select(
    BASELINES.c.office, BASELINES.c.cycle, BASELINES.c.party, BASELINES.c.seats_not_up, BASELINES.c.source
).order_by(BASELINES.c.id)


async def read_baselines(session: AsyncSession) -> list[Any]:
    """Every seats-not-up row, in the order stored."""
    return list(await session.execute(EVERY_BASELINE))


def counted(card: RaceCard) -> bool:
    """Whether a count is stored for any stage of the race (what `OFFICE_CYCLES` joins on)."""
    return any(view.snapshot is not None for view in card.contests)


class ChamberIndex:
    """The held races of each chamber's cycle, those with a count, the seats-not-up rows, and for the chambers
    asked about, each race's seat and the balance, kept until that race (the balance: any of its chamber's)
    changes. The shelf adds each race it reads and removes each it drops. Only the changed race's seat is
    worked out again: the House's 435 cards take some 15 ms to read back."""

    def __init__(self) -> None:
        self.races: dict[Chamber, set[int]] = {}
        self.counted: dict[Chamber, set[int]] = {}
        self.chamber_of: dict[int, Chamber] = {}
        self.baselines: dict[Chamber, list[Any]] | None = None  # None: not read yet
        self.balances: dict[Chamber, Balance | None] = {}
        self.seats: dict[Chamber, dict[int, Seat]] = {}

    def add(self, race_id: int, card: RaceCard) -> None:
        self.remove(race_id)
        chamber = (card.race.office, card.race.cycle)
        self.chamber_of[race_id] = chamber
        self.races.setdefault(chamber, set()).add(race_id)
        if counted(card):
            self.counted.setdefault(chamber, set()).add(race_id)
        self.balances.pop(chamber, None)

    def remove(self, race_id: int) -> None:
        chamber = self.chamber_of.pop(race_id, None)
        if chamber is None:
            return
        for held in (self.races, self.counted):
            found = held.get(chamber)
            if found is not None:
                found.discard(race_id)
                if not found:
                    del held[chamber]
        self.seats.get(chamber, {}).pop(race_id, None)
        self.balances.pop(chamber, None)

    def clear(self) -> None:
        self.races.clear()
        self.counted.clear()
        self.chamber_of.clear()
        self.balances.clear()
        self.seats.clear()
        self.baselines = None

    def keep_baselines(self, rows: Sequence[Any]) -> None:
        grouped: dict[Chamber, list[Any]] = {}
        for row in rows:
            grouped.setdefault((row.office, row.cycle), []).append(row)
        self.baselines = grouped
        self.balances.clear()

    def office_cycles(self, office: str) -> OfficeCycles | None:
        """As the store's `office_cycles`; None when the seats-not-up rows are not read."""
        if self.baselines is None:
            return None
        baseline_cycles = {cycle for of, cycle in self.baselines if of == office}
        race_cycles = {cycle for of, cycle in self.races if of == office}
        newest_counted = max((cycle for of, cycle in self.counted if of == office), default=None)
        return cycles_of(baseline_cycles, race_cycles, newest_counted)

    def balance(
        self, office: str, cycle: int, card_of: Callable[[int], RaceCard | None]
    ) -> tuple[bool, Balance | None]:
        """(True, the store's `chamber_balance`) from the held cards, or (False, None) when the seats-not-up
        rows are not read or a card is missing: ask the store."""
        chamber = (office, cycle)
        if chamber in self.balances:
            return True, self.balances[chamber]
        if self.baselines is None:
            return False, None
        seats = self.seats.setdefault(chamber, {})
        for race_id in self.races.get(chamber, ()):
            if race_id not in seats:
                card = card_of(race_id)
                if card is None:
                    return False, None
                seats[race_id] = seat_of(card.race, deciding_views(card.contests))
        in_order = [seats[race_id] for race_id in sorted(self.races.get(chamber, ()))]
        found = balance_of_seats(office, cycle, in_order, self.baselines.get(chamber, []))
        self.balances[chamber] = found
        return True, found

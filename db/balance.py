"""The balance of power in a chamber after a cycle's elections: what is data and what is computed.

Data (from the store):
- seats not up, by party (`ChamberBaseline`; DEM includes independents who caucus with
  Democrats, as the baselines say in their source);
- the races of the cycle for the office (each a seat up), each seat's party before the election
  (`Race.incumbent_party`), and per race its stages, counts, outcomes and calls.

Computed here:
- each seat's state: *won* (a winner call, or a candidacy whose outcome is won, in the deciding
  stage: the general runoff when there is one, else the general, else a jungle primary),
  *leading* (counting, no call: the candidate with the most votes), *runoff* (the general sent it
  to a runoff that has no result yet), *too close*, or *undecided* (nothing counted yet);
- seats per party (not up + won, and + leading), seats the store holds no race for
  (chamber size - not up - races), the net change against each seat's party before the
  election, and what each side needs for control: a majority, or half the Senate plus the vice
  president's tie-breaking vote.

The vice president who breaks ties in the chamber elected in a cycle is public record, kept in
`VICE_PRESIDENT_AFTER` (the VP in office from the January after the election; for 2020: Kamala
Harris, a Democrat; for 2018: Mike Pence, a Republican).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.direct import Together, execute_together
from db.models import (
    CallKind,
    Office,
    Outcome,
    Stage,
)
from db.reads.races import ContestView, ballots_statement, read_views, stage_sort_key, standings_statement
from db.reads.rows import CandidacyLike, RaceRow
from db.reads.tables import BASELINES, CONTESTS, RACES, SNAPSHOTS

CHAMBER_SIZE: dict[str, int] = {Office.SENATE: 100, Office.HOUSE: 435, Office.GOVERNOR: 50}
# Delegates elected to the House who have no vote on the floor (the District of Columbia's, the
# territories'): their races are stored, but they hold no seat of the 435.
NON_VOTING = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})
# Who presided over (and broke ties in) the Senate elected in each cycle, from the January after it.
VICE_PRESIDENT_AFTER: dict[int, tuple[str, str]] = {
    1976: ("Walter Mondale", "DEM"), 1978: ("Walter Mondale", "DEM"),
    1980: ("George H. W. Bush", "REP"), 1982: ("George H. W. Bush", "REP"),
    1984: ("George H. W. Bush", "REP"), 1986: ("George H. W. Bush", "REP"),
    1988: ("Dan Quayle", "REP"), 1990: ("Dan Quayle", "REP"),
    1992: ("Al Gore", "DEM"), 1994: ("Al Gore", "DEM"), 1996: ("Al Gore", "DEM"), 1998: ("Al Gore", "DEM"),
    2000: ("Dick Cheney", "REP"), 2002: ("Dick Cheney", "REP"), 2004: ("Dick Cheney", "REP"),
    2006: ("Dick Cheney", "REP"),
    2008: ("Joe Biden", "DEM"), 2010: ("Joe Biden", "DEM"), 2012: ("Joe Biden", "DEM"), 2014: ("Joe Biden", "DEM"),
    2016: ("Mike Pence", "REP"), 2018: ("Mike Pence", "REP"),
    2020: ("Kamala Harris", "DEM"), 2022: ("Kamala Harris", "DEM"),
    2024: ("JD Vance", "REP"),
}  # fmt: skip
# Independents elected to the Senate who caucus(ed) with a party (public record), by name key.
CAUCUSES_WITH = {"bernie sanders": "DEM", "angus king": "DEM", "joe lieberman": "DEM"}
SIDES = ("DEM", "REP")
DECIDING_STAGES = (Stage.GENERAL_RUNOFF, Stage.GENERAL, Stage.JUNGLE_PRIMARY)


class SeatState:
    WON = "won"
    LEADING = "leading"
    RUNOFF = "runoff"
    TOO_CLOSE = "too close"
    UNDECIDED = "undecided"


@dataclass
class Seat:
    race: RaceRow
    state: str  # SeatState
    party: str | None  # the winner's or leader's party as on the ballot
    side: str | None  # the party they count with (independents: whom they caucus with)
    person: str | None
    view: ContestView | None  # the deciding stage
    held_by: str | None  # the seat's party before the election (data)


@dataclass
class Balance:
    office: str
    cycle: int
    size: int
    not_up: dict[str, int]  # party -> seats (data)
    baseline_sources: list[str]
    seats: list[Seat]
    vice_president: tuple[str, str] | None
    missing: int = 0  # seats up that the store holds no race for
    won: Counter[str] = field(default_factory=Counter)  # side -> seats won
    leading: Counter[str] = field(default_factory=Counter)  # side -> seats led, no call
    net: Counter[str] = field(default_factory=Counter)  # side -> seats gained minus lost (decided and led)
    held_known: int = 0  # seats up whose party before the election the data gives

    @property
    def seats_up(self) -> int:
        return len(self.seats) + self.missing

    @property
    def unknown_seats(self) -> int:
        """Seats neither up in the store's races nor in the seats-not-up data (no baseline for the year)."""
        return max(0, self.size - sum(self.not_up.values()) - self.seats_up)

    def total(self, side: str, with_leads: bool = False) -> int:
        return self.not_up.get(side, 0) + self.won[side] + (self.leading[side] if with_leads else 0)

    def needed(self, side: str) -> int:
        """Seats this side must have for control: a majority, or half plus the VP's tie-break."""
        majority = self.size // 2 + 1
        if self.office == Office.SENATE and self.vice_president and self.vice_president[1] == side:
            return self.size // 2
        return majority

    def still_needs(self, side: str) -> int:
        return max(0, self.needed(side) - self.total(side))

    @property
    def undecided(self) -> int:
        return self.seats_up - sum(self.won.values())

    def controller(self) -> str | None:
        """The side that has control on decided seats alone, if any."""
        for side in SIDES:
            if self.total(side) >= self.needed(side):
                return side
        return None


def side_of(party: str | None, person_key: str | None = None) -> str | None:
    """The side a party (or, for the independents in CAUCUSES_WITH, a person) counts with."""
    words = (person_key or "").split()
    if len(words) >= 2 and f"{words[0]} {words[-1]}" in CAUCUSES_WITH:
        return CAUCUSES_WITH[f"{words[0]} {words[-1]}"]
    if party in SIDES:
        return party
    return party or None


def deciding_view(views: list[ContestView]) -> ContestView | None:
    for stage in DECIDING_STAGES:
        found = [v for v in views if v.contest.stage == stage]
        if found:
            return found[-1]
    return None


def seat_of(race: RaceRow, views: list[ContestView]) -> Seat:
    view = deciding_view(views)
    held = side_of(race.incumbent_party)
    if view is None:
        return Seat(race, SeatState.UNDECIDED, None, None, None, None, held)
    general = next((v for v in views if v.contest.stage == Stage.GENERAL), None)
    if (
        view.contest.stage == Stage.GENERAL_RUNOFF
        and not _decided(view)
        and not any(s.votes for s in view.standings)
        and general is not None
        and _decided(general)
    ):
        view = general  # a runoff stage stored before it was needed; the general decided the seat
    winner = _winner(view)
    if winner is not None:
        party = winner.party or winner.candidate.party
        return Seat(
            race,
            SeatState.WON,
            party,
            side_of(party, winner.candidate.name_key),
            winner.candidate.name,
            view,
            held,
        )
    if view.call is not None and view.call.kind == CallKind.RUNOFF:
        return Seat(race, SeatState.RUNOFF, None, None, None, view, held)
    counted = [s for s in view.standings if s.votes]
    if counted:
        leader = counted[0].candidacy
        party = leader.party or leader.candidate.party
        close = view.call is not None and view.call.kind == CallKind.TOO_CLOSE
        state = SeatState.TOO_CLOSE if close else SeatState.LEADING
        return Seat(
            race, state, party, side_of(party, leader.candidate.name_key), leader.candidate.name, view, held
        )
    if general is not None and general.call is not None and general.call.kind == CallKind.RUNOFF:
        return Seat(race, SeatState.RUNOFF, None, None, None, view, held)
    return Seat(race, SeatState.UNDECIDED, None, None, None, view, held)


def _winner(view: ContestView) -> CandidacyLike | None:
    by_id = {s.candidacy.id: s.candidacy for s in view.standings}
    if view.call is not None and view.call.kind == CallKind.WINNER and view.call.candidacy_ids:
        return by_id.get(view.call.candidacy_ids[0])
    won = [s.candidacy for s in view.standings if s.candidacy.outcome == Outcome.WON]
    return won[0] if len(won) == 1 and view.call is None else None


def _decided(view: ContestView) -> bool:
    return _winner(view) is not None or (view.call is not None and view.call.kind == CallKind.RUNOFF)


@dataclass(frozen=True)
class OfficeCycles:
    cycles: tuple[int, ...]  # with a baseline or races for the office, newest first
    # The newest with a count stored for a race of the office, or a baseline: what a member asking for the
    # chamber without a year means (a cycle only polled so far, such as 2024's, has nothing decided).
    newest_counted: int | None


_OF_OFFICE = RACES.c.office == bindparam("office")
OFFICE_CYCLES = Together(
    select(BASELINES.c.cycle).where(BASELINES.c.office == bindparam("office")).distinct(),
    select(RACES.c.cycle).where(_OF_OFFICE).distinct(),
    select(func.max(RACES.c.cycle))
    .select_from(
        RACES.join(CONTESTS, CONTESTS.c.race_id == RACES.c.id).join(
            SNAPSHOTS, SNAPSHOTS.c.contest_id == CONTESTS.c.id
        )
    )
    .where(_OF_OFFICE),
)


async def office_cycles(session: AsyncSession, office: str) -> OfficeCycles:
    """An office's cycles and its newest counted one: three statements, asked together."""
    baselines, races, counted = await execute_together(session, OFFICE_CYCLES, {"office": office})
    return cycles_of({row[0] for row in baselines}, {row[0] for row in races}, counted.scalar())


def cycles_of(
    baseline_cycles: set[int], race_cycles: set[int], newest_counted_race: int | None
) -> OfficeCycles:
    """An office's cycles from those of its seats-not-up rows and of its races, and the newest cycle of a
    race with a count."""
    newest = [c for c in (newest_counted_race, max(baseline_cycles, default=None)) if c is not None]
    cycles = tuple(sorted(baseline_cycles | race_cycles, reverse=True))
    return OfficeCycles(cycles, max(newest) if newest else None)


# A chamber's races of a cycle with their deciding stages (the general among them), each stage's count and
# standing call, and the seats not up: three statements, asked together (one round trip on PostgreSQL).
_OF_CHAMBER = and_(RACES.c.office == bindparam("office"), RACES.c.cycle == bindparam("cycle"))
_DECIDING = CONTESTS.c.stage.in_([str(stage) for stage in DECIDING_STAGES])
CHAMBER = Together(
    ballots_statement(
        RACES.outerjoin(CONTESTS, and_(CONTESTS.c.race_id == RACES.c.id, _DECIDING)), _OF_CHAMBER
    ),
    standings_statement(and_(_DECIDING, CONTESTS.c.race_id.in_(select(RACES.c.id).where(_OF_CHAMBER)))),
    select(BASELINES.c.party, BASELINES.c.seats_not_up, BASELINES.c.source)
    .where(BASELINES.c.office == bindparam("office"), BASELINES.c.cycle == bindparam("cycle"))
    .order_by(BASELINES.c.id),
)


async def office_views(
    session: AsyncSession, office: str, cycle: int
) -> tuple[list[RaceRow], dict[int, list[ContestView]], list[Any]]:
    """An office's races of a cycle (by id), each one's deciding stages in order, and the seats not up."""
    ballots, standings, baselines = await execute_together(
        session, CHAMBER, {"office": office, "cycle": cycle}
    )
    races, views = read_views(ballots, standings)
    by_race: dict[int, list[ContestView]] = {}
    for view in sorted(views, key=lambda v: stage_sort_key(v.contest)):
        by_race.setdefault(view.contest.race_id, []).append(view)
    return sorted(races.values(), key=lambda r: r.id), by_race, list(baselines)


async def chamber_balance(session: AsyncSession, office: str, cycle: int) -> Balance | None:
    races, by_race, baselines = await office_views(session, office, cycle)
    return balance_of(office, cycle, races, by_race, baselines)


def deciding_views(contests: list[ContestView]) -> list[ContestView]:
    """A race's deciding stages (as `office_views` reads them) among all its stages."""
    deciding = [v for v in contests if v.contest.stage in DECIDING_STAGES]
    return sorted(deciding, key=lambda v: stage_sort_key(v.contest))


def balance_of(
    office: str,
    cycle: int,
    races: list[RaceRow],
    by_race: dict[int, list[ContestView]],
    baselines: list[Any],
) -> Balance | None:
    """The balance from a chamber's races (by id), each one's deciding stages in order, and its seats-not-up
    rows (party, seats_not_up, source; in the order stored): None when there are neither races nor rows."""
    return balance_of_seats(
        office, cycle, [seat_of(race, by_race.get(race.id, [])) for race in races], baselines
    )


def balance_of_seats(office: str, cycle: int, seats: list[Seat], baselines: list[Any]) -> Balance | None:
    """`balance_of` from the races' seats (`seat_of`), in the order of their races' ids."""
    if office == Office.HOUSE:
        seats = [s for s in seats if s.race.state not in NON_VOTING]
    if not baselines and not seats:
        return None
    seats = sorted(
        seats, key=lambda s: (s.race.state, s.race.special, len(s.race.seat), s.race.seat)
    )  # AL-2 before AL-10
    not_up: Counter[str] = Counter()
    for b in baselines:
        not_up[side_of(b.party) or b.party] += b.seats_not_up
    size = CHAMBER_SIZE.get(office, sum(not_up.values()) + len(seats))
    result = Balance(
        office=office,
        cycle=cycle,
        size=size,
        not_up=dict(not_up),
        baseline_sources=sorted({b.source for b in baselines if b.source}),
        seats=seats,
        vice_president=VICE_PRESIDENT_AFTER.get(cycle) if office == Office.SENATE else None,
        missing=max(0, size - sum(not_up.values()) - len(seats)) if baselines else 0,
    )
    result.held_known = sum(1 for seat in seats if seat.held_by)
    for seat in seats:
        if seat.side is None:
            continue
        if seat.state == SeatState.WON:
            result.won[seat.side] += 1
        elif seat.state in (SeatState.LEADING, SeatState.TOO_CLOSE):
            result.leading[seat.side] += 1
        if (
            seat.state in (SeatState.WON, SeatState.LEADING, SeatState.TOO_CLOSE)
            and seat.held_by
            and seat.held_by != seat.side
        ):
            result.net[seat.side] += 1
            result.net[seat.held_by] -= 1
    return result

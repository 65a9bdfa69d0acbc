"""The presidency in one cycle: electoral votes won and cast, 270 to win, the states by margin, the popular vote.

Data (from the store): each state's president race (office "president", state, cycle) with its
general election's count and call. The national race (state "US") holds the national polls only.
Reference (db/electoral.py): each state's electoral votes, Maine's and Nebraska's district winners,
the faithless electors.

Computed here:
- each state's winner, as the balance of power decides a seat (`db.balance.seat_of`: the call, else
  the candidacy that won; a count without a call is *leading*);
- the electoral votes won: a state's all to its winner, except Maine and Nebraska: two to the
  statewide winner and one per district to the district's winner (district votes the table does
  not give stay unassigned);
- the votes cast: won, less the faithless electors, whose votes go to whom they voted for;
- the margin of each state: the winner's votes less the runner-up's, in votes and in points of all
  votes counted (write-ins included);
- the popular vote: each person's votes summed over the states, and the total of all votes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import electoral
from db.balance import Seat, SeatState, office_views, seat_of
from db.models import Contest, Office, Race, ResultSnapshot
from db.reads.races import ContestView
from db.reads.rows import RaceRow

NATIONAL = "US"


@dataclass
class StateVote:
    race: RaceRow
    electors: int  # the state's electoral votes (reference table)
    seat: Seat  # who won (or leads) the state, and the deciding count
    margin_votes: int | None  # winner (or leader) less the runner-up
    margin: float | None  # in points of all votes counted
    runner_up_party: str | None
    won: dict[str, int] = field(default_factory=dict)  # party -> electoral votes won here
    districts: dict[int, str] = field(default_factory=dict)  # Maine, Nebraska: district -> party
    unassigned: int = 0  # electoral votes nobody has won yet (no result, or a district not known)


@dataclass
class Nominee:
    party: str
    name: str | None  # the party's candidate with the most votes in the states' counts
    won: int  # electoral votes won (pledged by the states' results)
    cast: int  # won less the faithless electors
    popular: int
    share: float | None  # percent of all votes counted


@dataclass
class Presidency:
    cycle: int
    states: list[StateVote]  # the closest first; states with no count last
    nominees: list[Nominee]  # most electoral votes first, then most votes
    popular_total: int  # every vote counted for president, write-ins included
    faithless: tuple[electoral.Faithless, ...]
    cast_others: dict[str, int]  # someone the faithless electors voted for -> votes
    missing: list[str]  # states with electoral votes the store holds no race for
    national: RaceRow | None  # the national race (polls), if the store holds one
    total: int = electoral.TOTAL
    to_win: int = electoral.TO_WIN

    @property
    def winner(self) -> Nominee | None:
        return next((n for n in self.nominees if n.won >= self.to_win), None)

    @property
    def split_states(self) -> list[StateVote]:
        return [s for s in self.states if s.districts]

    @property
    def unassigned(self) -> int:
        return self.total - sum(n.won for n in self.nominees)


async def president_cycles(session: AsyncSession) -> list[int]:
    """Cycles with a counted president race, newest first (a cycle only polled, such as 2024, has no
    electoral picture to show)."""
    cycles = await session.scalars(
        select(Race.cycle)
        .join(Contest, Contest.race_id == Race.id)
        .join(ResultSnapshot, ResultSnapshot.contest_id == Contest.id)
        .where(Race.office == Office.PRESIDENT)
        .distinct()
    )
    return sorted(cycles, reverse=True)


def _state_vote(race: RaceRow, views: list[ContestView], electors: int) -> StateVote:
    seat = seat_of(race, views)
    view = seat.view
    counted = [s for s in view.standings if s.votes] if view is not None else []
    margin_votes = margin = None
    runner_up = None
    if len(counted) >= 2 and seat.state != SeatState.UNDECIDED:
        margin_votes = (counted[0].votes or 0) - (counted[1].votes or 0)
        second = counted[1].candidacy
        runner_up = second.party or second.candidate.party
        if view is not None and view.total_votes:
            margin = round(100 * margin_votes / view.total_votes, 2)
    vote = StateVote(race, electors, seat, margin_votes, margin, runner_up)
    winner = seat.side if seat.state == SeatState.WON else None
    if race.state in electoral.SPLIT_STATES:
        vote.districts = electoral.district_winners(race.cycle, race.state)
        by_district = Counter(vote.districts.values())
        at_large = min(electoral.AT_LARGE, electors)
        if winner is not None:
            by_district[winner] += at_large
        vote.won = dict(by_district)
    elif winner is not None:
        vote.won = {winner: electors}
    vote.unassigned = electors - sum(vote.won.values())
    return vote


async def presidency(session: AsyncSession, cycle: int) -> Presidency | None:
    """The national picture of one cycle; None when the store holds no president race for it."""
    races, by_race, _ = await office_views(session, Office.PRESIDENT, cycle)
    if not races:
        return None
    # The states' own races; 538's polls of Maine's and Nebraska's district electors have races of their own
    # (seat "CD-n"), whose electors the states' results and the shipped district table already place.
    national = next((r for r in races if r.state == NATIONAL), None)
    states = [r for r in races if r.state != NATIONAL and not r.seat]
    votes = electoral.electoral_votes(cycle)
    state_votes = [_state_vote(r, by_race.get(r.id, []), votes.get(r.state, 0)) for r in states]
    state_votes.sort(key=lambda s: (s.margin is None, s.margin or 0.0, s.race.state))

    popular: Counter[int] = Counter()
    names: dict[int, str] = {}
    parties: dict[int, Counter[str]] = defaultdict(Counter)
    total = 0
    for vote in state_votes:
        deciding = vote.seat.view
        if deciding is None:
            continue
        total += deciding.total_votes or 0
        for standing in deciding.standings:
            person = standing.candidacy.candidate
            names[person.id] = person.name
            popular[person.id] += standing.votes or 0
            party = standing.candidacy.party or person.party
            if party:
                parties[person.id][party] += standing.votes or 0
    won: Counter[str] = Counter()
    for vote in state_votes:
        won.update(vote.won)
    faithless = electoral.faithless_electors(cycle)
    cast = Counter(won)
    cast_others: Counter[str] = Counter()
    for elector in faithless:
        cast[elector.pledged_party] -= elector.electors
        cast_others[elector.voted_for] += elector.electors

    nominee_of: dict[str, int] = {}
    for person_id, _ in popular.most_common():
        if parties[person_id]:
            party = parties[person_id].most_common(1)[0][0]
            nominee_of.setdefault(party, person_id)
    nominees = []
    for party in {*won, *nominee_of}:
        nominee = nominee_of.get(party)
        count = popular[nominee] if nominee is not None else 0
        nominees.append(
            Nominee(
                party,
                names.get(nominee) if nominee is not None else None,
                won[party],
                cast[party],
                count,
                round(100 * count / total, 2) if total else None,
            )
        )
    nominees.sort(key=lambda n: (-n.won, -n.popular, n.party))
    missing = sorted(set(votes) - {r.state for r in states})
    return Presidency(
        cycle,
        state_votes,
        nominees,
        total,
        faithless,
        dict(cast_others),
        missing,
        national,
    )

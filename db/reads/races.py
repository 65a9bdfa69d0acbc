"""Read functions: plain, fully loaded objects for renderers. No lazy loads happen after these return.

The race card, `results`, the desk's announcements, the balance of power and the presidency read races'
stages with two prebuilt Core statements (the races, their stages, ballots and standing calls; each
stage's current count) and build plain rows (`db.reads.rows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.direct import Together, execute_together, prebuilt
from db.models import (
    Call,
    CountKind,
    Endorsement,
    EndorserKind,
    ResultSnapshot,
    Stage,
    Stance,
)
from db.polling import MatchupAverage
from db.reads.polls import (
    ListedPoll,
    PollFilter,
    PollListing,
    listing_from,
    listing_params,
    listing_statement,
)
from db.reads.rows import (
    CallLike,
    CallRow,
    CandidacyLike,
    CandidacyRow,
    ContestLike,
    ContestRow,
    EndorsementRow,
    Person,
    RaceRow,
    SnapshotLike,
    SnapshotRow,
)
from db.reads.tables import (
    CALLS,
    CANDIDACIES,
    CANDIDATES,
    CONTESTS,
    COUNTS,
    ENDORSEMENTS,
    RACES,
    SNAPSHOTS,
)

STAGE_ORDER: dict[str, int] = {
    Stage.PRIMARY: 0,
    Stage.JUNGLE_PRIMARY: 0,
    Stage.PRIMARY_RUNOFF: 1,
    Stage.GENERAL: 2,
    Stage.GENERAL_RUNOFF: 3,
}
# Whose word weighs most, for ordering endorsements.
ENDORSER_WEIGHT: dict[str, int] = {
    EndorserKind.PRESIDENT: 0,
    EndorserKind.FORMER_PRESIDENT: 1,
    EndorserKind.PARTY: 2,
    EndorserKind.GOVERNOR: 3,
    EndorserKind.SENATOR: 4,
    EndorserKind.NEWSPAPER: 5,
    EndorserKind.ORGANIZATION: 6,
    EndorserKind.REPRESENTATIVE: 7,
    EndorserKind.PERSON: 8,
}
ENDORSEMENTS_WEIGHED = 200  # the race card weighs its newest this many endorsements


@dataclass
class Standing:
    """One candidacy's place in a contest's current count."""

    candidacy: CandidacyLike
    votes: int | None
    share: float | None  # percent of all votes counted, write-ins included


@dataclass
class ContestView:
    contest: ContestLike
    standings: list[Standing]  # most votes first; ballot order when nothing is counted
    snapshot: SnapshotLike | None
    call: CallLike | None  # the standing call, if any
    total_votes: int | None
    other_votes: dict[str, int] = field(default_factory=dict)


@dataclass
class RaceCard:
    race: RaceRow
    contests: list[ContestView]
    latest_poll: ListedPoll | None
    poll_count: int
    averages: list[MatchupAverage]
    endorsements: list[EndorsementRow]
    endorsement_count: int


def stage_sort_key(contest: ContestLike) -> tuple[dt.date, int, str]:
    return (contest.date or dt.date.max, STAGE_ORDER.get(contest.stage, 9), contest.party)


async def contest_views(session: AsyncSession, race_id: int) -> list[ContestView]:
    """Every stage of a race with its current count and standing call, in order (in a write's session, as
    the write left them: the session flushes before a statement)."""
    return (await race_views(session, race_id))[1]


def send_order(*, newest_first: bool = False, snapshots: FromClause | None = None) -> tuple[Any, ...]:
    """How a contest's counts are ordered: as they were sent (a desk count's `taken_at` is its Discord
    message's time, its message id breaking a tie within the millisecond), not as they were stored; counts
    without a message (imports, feeds) by their time. The last is the current count. `snapshots`: a table
    (or alias) of result_snapshots to order instead of the ORM entity."""
    c: Any = ResultSnapshot if snapshots is None else snapshots.c
    keys = (c.taken_at, func.coalesce(c.sent_id, 0), c.id)
    return tuple(key.desc() for key in keys) if newest_first else keys


async def latest_snapshots(session: AsyncSession, contest_ids: list[int]) -> dict[int, ResultSnapshot]:
    """Each contest's current snapshot (the last in the order sent) with its counts, in one query."""
    if not contest_ids:
        return {}
    ranked = (
        select(
            ResultSnapshot.id,
            func.row_number()
            .over(partition_by=ResultSnapshot.contest_id, order_by=send_order(newest_first=True))
            .label("place"),
        )
        .where(ResultSnapshot.contest_id.in_(contest_ids))
        .subquery()
    )
    newest = select(ranked.c.id).where(ranked.c.place == 1)
    rows = await session.scalars(
        select(ResultSnapshot).where(ResultSnapshot.id.in_(newest)).options(joinedload(ResultSnapshot.counts))
    )
    return {s.contest_id: s for s in rows.unique()}


async def standing_calls(session: AsyncSession, contest_ids: list[int]) -> dict[int, Call]:
    if not contest_ids:
        return {}
    newest = select(func.max(Call.id)).where(Call.contest_id.in_(contest_ids)).group_by(Call.contest_id)
    return {c.contest_id: c for c in await session.scalars(select(Call).where(Call.id.in_(newest)))}


async def latest_snapshot(session: AsyncSession, contest_id: int) -> ResultSnapshot | None:
    return (await latest_snapshots(session, [contest_id])).get(contest_id)


async def standing_call(session: AsyncSession, contest_id: int) -> Call | None:
    """The newest call of a contest (an "uncalled" one included)."""
    return (await standing_calls(session, [contest_id])).get(contest_id)


def tally(counts: Iterable[tuple[int | None, str, int]]) -> tuple[dict[int, int], dict[str, int]]:
    """Counts (candidacy id, kind, votes), in the order stored: candidacy id -> votes (the last stored for
    a candidacy), and count kind (write-ins, ...) -> votes."""
    votes: dict[int, int] = {}
    other: dict[str, int] = {}
    for candidacy_id, kind, n in counts:
        if kind == CountKind.CANDIDATE and candidacy_id is not None:
            votes[candidacy_id] = n
        else:
            other[kind] = other.get(kind, 0) + n
    return votes, other


def snapshot_counts(snapshot: ResultSnapshot) -> tuple[dict[int, int], dict[str, int]]:
    """A snapshot's votes: candidacy id -> votes, and count kind (write-ins, ...) -> votes."""
    return tally((c.candidacy_id, c.kind, c.votes) for c in snapshot.counts)


def build_view(
    contest: ContestLike,
    candidacies: Sequence[CandidacyLike],
    snapshot: SnapshotLike | None,
    counts: tuple[dict[int, int], dict[str, int]] | None,
    call: CallLike | None,
) -> ContestView:
    """A stage's view: its ballot (in ballot order) standing by the current count (`counts`, the tally of
    `snapshot`), else by the final votes stored on the ballot."""
    votes: dict[int, int] = {}
    other: dict[str, int] = {}
    if counts is not None:
        votes, other = counts
    elif any(c.votes is not None for c in candidacies):
        votes = {c.id: c.votes for c in candidacies if c.votes is not None}
    # Under- and over-votes are not votes for anyone; write-ins are.
    total = (sum(votes.values()) + other.get(CountKind.WRITEIN, 0)) if votes else None
    standings = [
        Standing(c, votes.get(c.id), round(100 * votes[c.id] / total, 2) if total and c.id in votes else None)
        for c in candidacies
    ]
    standings.sort(key=lambda s: (-(s.votes or 0), s.candidacy.candidate.name))
    if call is not None and call.kind == "uncalled":
        call = None
    return ContestView(contest, standings, snapshot, call, total, other)


def poll_summary(listing: PollListing) -> tuple[ListedPoll | None, int, list[MatchupAverage]]:
    """The card's polls from a one-poll listing: the newest poll, how many there are, and the averages of
    the last window."""
    return (listing.polls[0] if listing.polls else None), listing.total, listing.averages


# ---------------------------------------------------------------- the prebuilt statements


def columns_of(table: FromClause, row: type[Any]) -> tuple[Any, ...]:
    """A table's (or an alias's) columns in the order of a plain row's fields that are its columns."""
    return tuple(table.c[f.name] for f in fields(row) if f.name in table.c)


PERSON_WIDTH = len(columns_of(CANDIDATES, Person))
_RACE_OWN = len(columns_of(RACES, RaceRow))
RACE_WIDTH = _RACE_OWN + PERSON_WIDTH


def race_columns(races: FromClause, incumbents: FromClause) -> tuple[Any, ...]:
    """A race's columns and its incumbent's, in `RaceRow`'s order (`race_row` reads them)."""
    return (*columns_of(races, RaceRow), *columns_of(incumbents, Person))


def person_row(row: Sequence[Any], at: int) -> Person | None:
    return None if row[at] is None else Person(*row[at : at + PERSON_WIDTH])


def race_row(row: Sequence[Any], at: int = 0) -> RaceRow | None:
    if row[at] is None:
        return None
    return RaceRow(*row[at : at + _RACE_OWN], *[person_row(row, at + _RACE_OWN)])


_incumbents = CANDIDATES.alias("incumbent")
_CONTEST = columns_of(CONTESTS, ContestRow)
_CALL = columns_of(CALLS, CallRow)
_CANDIDACY = columns_of(CANDIDACIES, CandidacyRow)
_SNAPSHOT = columns_of(SNAPSHOTS, SnapshotRow)
# Where each part of a ballot row starts.
_AT_CONTEST = RACE_WIDTH
_AT_CANDIDACY = _AT_CONTEST + len(_CONTEST)
_AT_PERSON = _AT_CANDIDACY + len(_CANDIDACY)
# And of a standing row: the contest's id, its standing call, its current count, one of the count's figures.
_AT_SNAPSHOT = 1 + len(_CALL)
_AT_FIGURE = _AT_SNAPSHOT + len(_SNAPSHOT)


def _standing_call_id() -> Any:
    """The id of the contest's newest call (an "uncalled" one included), for the contest of the row."""
    newer = CALLS.alias("newer_call")
    return select(func.max(newer.c.id)).where(newer.c.contest_id == CONTESTS.c.id).scalar_subquery()


def _current_snapshot_id() -> Any:
    """The id of the contest's current count (the last in the order sent), for the contest of the row."""
    others = SNAPSHOTS.alias("other_snapshot")
    return (
        select(others.c.id)
        .where(others.c.contest_id == CONTESTS.c.id)
        .order_by(*send_order(newest_first=True, snapshots=others))
        .limit(1)
        .scalar_subquery()
    )


def ballots_statement(contests_from: Any, where: ColumnElement[bool]) -> Select[Any]:
    """Races, their incumbents, stages, candidacies and people: one row a candidacy (a stage without one,
    a race without a stage: one row with the rest empty)."""
    joined = (
        contests_from.outerjoin(_incumbents, _incumbents.c.id == RACES.c.incumbent_id)
        .outerjoin(CANDIDACIES, CANDIDACIES.c.contest_id == CONTESTS.c.id)
        .outerjoin(CANDIDATES, CANDIDATES.c.id == CANDIDACIES.c.candidate_id)
    )
    columns = (*race_columns(RACES, _incumbents), *_CONTEST, *_CANDIDACY, *columns_of(CANDIDATES, Person))
    return select(*columns).select_from(joined).where(where).order_by(CONTESTS.c.id, CANDIDACIES.c.id)


def standings_statement(where: ColumnElement[bool]) -> Select[Any]:
    """Each stage's standing call and current count: one row a figure of the count (ordered as stored; a
    stage without a count: one row)."""
    joined = (
        CONTESTS.outerjoin(CALLS, CALLS.c.id == _standing_call_id())
        .outerjoin(SNAPSHOTS, SNAPSHOTS.c.id == _current_snapshot_id())
        .outerjoin(COUNTS, COUNTS.c.snapshot_id == SNAPSHOTS.c.id)
    )
    columns = (CONTESTS.c.id, *_CALL, *_SNAPSHOT, COUNTS.c.candidacy_id, COUNTS.c.kind, COUNTS.c.votes)
    return select(*columns).select_from(joined).where(where).order_by(CONTESTS.c.id, COUNTS.c.id)


# Kept small (two statements of a few tables each, not one of many): a statement's planning grows fast with
# its tables. A person's stages are found by a subquery, in the round trip of the rest of their card: it is a
# member's small read, under a generic plan (db/pgread.py), planned once whoever the person.
RACE_BALLOTS = prebuilt(
    ballots_statement(
        RACES.outerjoin(CONTESTS, CONTESTS.c.race_id == RACES.c.id), RACES.c.id == bindparam("race_id")
    )
)
RACE_STANDINGS = prebuilt(standings_statement(CONTESTS.c.race_id == bindparam("race_id")))
_own = CANDIDACIES.alias("own_candidacy")  # an alias: the statements join candidacies of their own
_OF_PERSON = CONTESTS.c.id.in_(select(_own.c.contest_id).where(_own.c.candidate_id == bindparam("person_id")))
PERSON_BALLOTS = prebuilt(
    ballots_statement(CONTESTS.join(RACES, RACES.c.id == CONTESTS.c.race_id), _OF_PERSON)
)
PERSON_STANDINGS = prebuilt(standings_statement(_OF_PERSON))
RACE_VIEWS = Together(RACE_BALLOTS, RACE_STANDINGS)


def read_views(
    ballots: Iterable[Sequence[Any]], standings: Iterable[Sequence[Any]]
) -> tuple[dict[int, RaceRow], list[ContestView]]:
    """The races and the views of their stages (unordered) from the rows of a `ballots_statement` and a
    `standings_statement`."""
    races: dict[int, RaceRow] = {}
    stages: dict[int, tuple[ContestRow, list[CandidacyRow]]] = {}
    people: dict[int, Person] = {}
    for row in ballots:
        race_id = row[0]
        if race_id not in races:
            race = race_row(row)
            assert race is not None
            races[race_id] = race
        contest_id = row[_AT_CONTEST]
        if contest_id is None:
            continue
        stage = stages.get(contest_id)
        if stage is None:
            stage = stages[contest_id] = (ContestRow(*row[_AT_CONTEST:_AT_CANDIDACY]), [])
        if row[_AT_CANDIDACY] is None:
            continue
        person_id = row[_AT_PERSON]
        person = people.get(person_id)
        if person is None:
            person = people[person_id] = Person(*row[_AT_PERSON : _AT_PERSON + PERSON_WIDTH])
        stage[1].append(CandidacyRow(*row[_AT_CANDIDACY:_AT_PERSON], *[person]))
    calls: dict[int, CallRow] = {}
    snapshots: dict[int, SnapshotRow] = {}
    figures: dict[int, list[tuple[int | None, str, int]]] = {}
    for row in standings:
        contest_id = row[0]
        if contest_id not in figures:
            figures[contest_id] = []
            if row[1] is not None:
                calls[contest_id] = CallRow(*row[1:_AT_SNAPSHOT])
            if row[_AT_SNAPSHOT] is not None:
                snapshots[contest_id] = SnapshotRow(*row[_AT_SNAPSHOT:_AT_FIGURE])
        if row[_AT_FIGURE + 1] is not None:  # a figure's kind: none for a stage without one
            figures[contest_id].append((row[_AT_FIGURE], row[_AT_FIGURE + 1], row[_AT_FIGURE + 2]))
    views = [
        build_view(
            contest,
            candidacies,
            snapshots.get(contest_id),
            tally(figures[contest_id]) if contest_id in snapshots else None,
            calls.get(contest_id),
        )
        for contest_id, (contest, candidacies) in stages.items()
    ]
    return races, views


async def race_views(session: AsyncSession, race_id: int) -> tuple[RaceRow | None, list[ContestView]]:
    """A race and every one of its stages with its current count and standing call, in order: two
    statements, asked together."""
    ballots, standings = await execute_together(session, RACE_VIEWS, {"race_id": race_id})
    return race_in_views(race_id, ballots, standings)


def race_in_views(
    race_id: int, ballots: Iterable[Sequence[Any]], standings: Iterable[Sequence[Any]]
) -> tuple[RaceRow | None, list[ContestView]]:
    """The race and its stages in order, from the rows of `RACE_BALLOTS` and `RACE_STANDINGS`."""
    races, views = read_views(ballots, standings)
    views.sort(key=lambda v: stage_sort_key(v.contest))
    return races.get(race_id), views


_endorsed = CANDIDATES.alias("endorsed")
_endorsed_in = RACES.alias("endorsed_in")
_endorsed_in_incumbent = CANDIDATES.alias("endorsed_in_incumbent")
_ENDORSEMENT = columns_of(ENDORSEMENTS, EndorsementRow)


def weightiest_first(endorsements: Any) -> tuple[Any, ...]:
    """SQL ordering for endorsements: the endorser's weight (`ENDORSER_WEIGHT`), endorsements before other
    stances, then the newest."""
    c = endorsements.c
    weight = case(ENDORSER_WEIGHT, value=c.endorser_kind, else_=len(ENDORSER_WEIGHT))
    stance = case((c.stance == Stance.ENDORSE, 0), else_=1)
    return (weight, stance, c.date.desc().nulls_last(), c.id.desc())


def endorsements_statement(
    where: Callable[[Any], ColumnElement[bool]], newest: int | None = None
) -> Select[Any]:
    """The endorsements `where(table)` picks (of the newest `newest` of them, if given), the weightiest
    first, each with its person, its race and how many `where` picks in all; bind `limit`."""
    counted = ENDORSEMENTS.alias("counted")
    total = select(func.count()).select_from(counted).where(where(counted)).scalar_subquery()
    picked = where(ENDORSEMENTS)
    if newest is not None:
        recent = ENDORSEMENTS.alias("recent")
        picked = ENDORSEMENTS.c.id.in_(
            select(recent.c.id)
            .where(where(recent))
            .order_by(recent.c.date.desc().nulls_last(), recent.c.id.desc())
            .limit(newest)
        )
    joined = (
        ENDORSEMENTS.join(_endorsed, _endorsed.c.id == ENDORSEMENTS.c.candidate_id)
        .outerjoin(_endorsed_in, _endorsed_in.c.id == ENDORSEMENTS.c.race_id)
        .outerjoin(_endorsed_in_incumbent, _endorsed_in_incumbent.c.id == _endorsed_in.c.incumbent_id)
    )
    columns = (
        *_ENDORSEMENT,
        *columns_of(_endorsed, Person),
        *race_columns(_endorsed_in, _endorsed_in_incumbent),
        total,
    )
    return (
        select(*columns)
        .select_from(joined)
        .where(picked)
        .order_by(*weightiest_first(ENDORSEMENTS))
        .limit(bindparam("limit"))
    )


def read_endorsements(rows: Iterable[Sequence[Any]]) -> tuple[list[EndorsementRow], int]:
    """The endorsements of an `endorsements_statement`, and how many there are in all."""
    found: list[EndorsementRow] = []
    total = 0
    width = len(_ENDORSEMENT)
    for row in rows:
        person = person_row(row, width)
        assert person is not None
        found.append(EndorsementRow(*row[:width], *[person, race_row(row, width + PERSON_WIDTH)]))
        total = row[-1]
    return found, int(total)


# The card weighs the race's newest ENDORSEMENTS_WEIGHED endorsements.
KEY_ENDORSEMENTS = prebuilt(
    endorsements_statement(lambda t: t.c.race_id == bindparam("race_id"), ENDORSEMENTS_WEIGHED)
)


async def stored_endorsement(
    session: AsyncSession, race_id: int, candidate_id: int, endorser: str, stance: str, date: dt.date | None
) -> int | None:
    """The id of the endorsement already stored with these natural keys, if any."""
    return await session.scalar(
        select(Endorsement.id).where(
            Endorsement.race_id == race_id,
            Endorsement.candidate_id == candidate_id,
            Endorsement.endorser == endorser,
            Endorsement.stance == stance,
            Endorsement.date.is_(None) if date is None else Endorsement.date == date,
        )
    )


CARD = Together(RACE_BALLOTS, RACE_STANDINGS, listing_statement(), KEY_ENDORSEMENTS)
KEY_ENDORSEMENTS_SHOWN = 5


async def race_card(session: AsyncSession, race_id: int) -> RaceCard | None:
    """A race's card: its stages with their counts and calls, the newest poll, the averages and the
    weightiest of its newest endorsements (one round trip on PostgreSQL: `CARD`)."""
    found = await card_reads(session, race_id, polls_listed=1)
    return found[0] if found is not None else None


async def card_reads(
    session: AsyncSession, race_id: int, *, polls_listed: int
) -> tuple[RaceCard, PollListing] | None:
    """The race's card, and the listing of its newest `polls_listed` polls the card was taken from."""
    found = await execute_together(session, CARD, card_params(race_id, polls_listed))
    return card_from(race_id, found, polls_listed)


def card_params(race_id: int, polls_listed: int) -> dict[str, Any]:
    """The parameters of `CARD` (and of a Together that begins with its statements)."""
    return {
        **listing_params(race_id, PollFilter(), page=1, size=polls_listed),
        "limit": KEY_ENDORSEMENTS_SHOWN,
    }


def card_from(race_id: int, found: Sequence[Any], polls_listed: int) -> tuple[RaceCard, PollListing] | None:
    """The card and its listing from the results of `CARD`'s statements (the first four of `found`)."""
    ballots, standings, listing, endorsed = found[:4]
    race, contests = race_in_views(race_id, ballots, standings)
    if race is None:
        return None
    polls = listing_from(listing.all(), PollFilter(), page=1, size=polls_listed)
    latest, count, averages = poll_summary(polls)
    endorsements, endorsement_count = read_endorsements(endorsed)
    return RaceCard(race, contests, latest, count, averages, endorsements, endorsement_count), polls

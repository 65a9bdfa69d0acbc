"""Read functions: plain, fully loaded objects for renderers. No lazy loads happen after these return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from db.models import (
    Call,
    Candidacy,
    Contest,
    CountKind,
    Endorsement,
    EndorserKind,
    Race,
    ResultSnapshot,
    Stage,
    Stance,
)
from db.polling import MatchupAverage
from db.reads.polls import ListedPoll, listed_polls

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


@dataclass
class Standing:
    """One candidacy's place in a contest's current count."""

    candidacy: Candidacy
    votes: int | None
    share: float | None  # percent of all votes counted, write-ins included


@dataclass
class ContestView:
    contest: Contest
    standings: list[Standing]  # most votes first; ballot order when nothing is counted
    snapshot: ResultSnapshot | None
    call: Call | None  # the standing call, if any
    total_votes: int | None
    other_votes: dict[str, int] = field(default_factory=dict)


@dataclass
class RaceCard:
    race: Race
    contests: list[ContestView]
    latest_poll: ListedPoll | None
    poll_count: int
    averages: list[MatchupAverage]
    endorsements: list[Endorsement]
    endorsement_count: int


def stage_sort_key(contest: Contest) -> tuple[dt.date, int, str]:
    return (contest.date or dt.date.max, STAGE_ORDER.get(contest.stage, 9), contest.party)


async def load_race(session: AsyncSession, race_id: int) -> Race | None:
    return await session.scalar(select(Race).where(Race.id == race_id).options(selectinload(Race.incumbent)))


async def contest_views(session: AsyncSession, race_id: int) -> list[ContestView]:
    """Every stage of a race with its current count and standing call, in order."""
    contests = list(
        await session.scalars(
            select(Contest)
            .where(Contest.race_id == race_id)
            .options(selectinload(Contest.candidacies).selectinload(Candidacy.candidate))
        )
    )
    contests.sort(key=stage_sort_key)
    return await views_of(session, contests)


def with_ballots() -> Any:
    """Load a contest's candidacies and their people in the same query."""
    return joinedload(Contest.candidacies).joinedload(Candidacy.candidate)


async def views_of(session: AsyncSession, contests: list[Contest]) -> list[ContestView]:
    """Views of contests whose candidacies (and candidates) are loaded: two more queries in all."""
    ids = [c.id for c in contests]
    snapshots = await latest_snapshots(session, ids)
    calls = await standing_calls(session, ids)
    return [contest_view(c, snapshots.get(c.id), calls.get(c.id)) for c in contests]


def send_order(*, newest_first: bool = False) -> tuple[Any, ...]:
    """How a contest's counts are ordered: as they were sent (a desk count's `taken_at` is its Discord
    message's time, its message id breaking a tie within the millisecond), not as they were stored; counts
    without a message (imports, feeds) by their time. The last is the current count."""
    keys = (ResultSnapshot.taken_at, func.coalesce(ResultSnapshot.sent_id, 0), ResultSnapshot.id)
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


def snapshot_counts(snapshot: ResultSnapshot) -> tuple[dict[int, int], dict[str, int]]:
    """A snapshot's votes: candidacy id -> votes, and count kind (write-ins, ...) -> votes."""
    votes: dict[int, int] = {}
    other: dict[str, int] = {}
    for count in snapshot.counts:
        if count.kind == CountKind.CANDIDATE and count.candidacy_id is not None:
            votes[count.candidacy_id] = count.votes
        else:
            other[count.kind] = other.get(count.kind, 0) + count.votes
    return votes, other


def contest_view(contest: Contest, snapshot: ResultSnapshot | None, call: Call | None) -> ContestView:
    votes: dict[int, int] = {}
    other: dict[str, int] = {}
    if snapshot is not None:
        votes, other = snapshot_counts(snapshot)
    elif any(c.votes is not None for c in contest.candidacies):
        votes = {c.id: c.votes for c in contest.candidacies if c.votes is not None}
    # Under- and over-votes are not votes for anyone; write-ins are.
    total = (sum(votes.values()) + other.get(CountKind.WRITEIN, 0)) if votes else None
    standings = [
        Standing(c, votes.get(c.id), round(100 * votes[c.id] / total, 2) if total and c.id in votes else None)
        for c in contest.candidacies
    ]
    standings.sort(key=lambda s: (-(s.votes or 0), s.candidacy.candidate.name))
    if call is not None and call.kind == "uncalled":
        call = None
    return ContestView(contest, standings, snapshot, call, total, other)


async def poll_summary(
    session: AsyncSession, race_id: int
) -> tuple[ListedPoll | None, int, list[MatchupAverage]]:
    """The newest poll, how many there are, and the averages of the last window (one statement)."""
    found = await listed_polls(session, race_id, size=1)
    return (found.polls[0] if found.polls else None), found.total, found.averages


async def key_endorsements(
    session: AsyncSession, race_id: int, limit: int = 5
) -> tuple[list[Endorsement], int]:
    rows = list(
        await session.scalars(
            select(Endorsement)
            .where(Endorsement.race_id == race_id)
            .options(selectinload(Endorsement.candidate))
            .order_by(Endorsement.date.desc().nulls_last(), Endorsement.id.desc())
            .limit(200)
        )
    )
    rows.sort(key=endorsement_weight)
    count = int(
        await session.scalar(select(func.count(Endorsement.id)).where(Endorsement.race_id == race_id)) or 0
    )
    return rows[:limit], count


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


def endorsement_weight(e: Endorsement) -> tuple[int, int]:
    return (ENDORSER_WEIGHT.get(e.endorser_kind, 9), 0 if e.stance == Stance.ENDORSE else 1)


async def race_card(session: AsyncSession, race_id: int) -> RaceCard | None:
    race = await load_race(session, race_id)
    if race is None:
        return None
    contests = await contest_views(session, race_id)
    latest, count, avgs = await poll_summary(session, race_id)
    endorsements, endorsement_count = await key_endorsements(session, race_id)
    return RaceCard(race, contests, latest, count, avgs, endorsements, endorsement_count)

"""Reads for `results`: which stage a member means, its current count, and how the count moved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import CountKind, ResultSnapshot
from db.reads.races import ContestView, race_views, send_order
from db.reads.rows import RaceRow
from db.vocabulary import preferred_stage

HISTORY_SHOWN = 12


def has_count(view: ContestView) -> bool:
    return any(s.votes is not None for s in view.standings)


def choose_contests(
    views: list[ContestView], stages: tuple[str, ...] = (), party: str | None = None
) -> list[ContestView]:
    """The stage(s) a member means.

    No stage: the most recent stage that has a count (else the next one to vote). Stages: the first of them
    (in order of preference) that the race has, every party's one unless a party is named; so "runoff" is
    the primary runoff or the general runoff, whichever the race has, the primary runoff when it has both
    (`db.vocabulary.preferred_stage`).
    """
    if not stages:
        counted = [v for v in views if has_count(v)]
        if counted:
            return [counted[-1]]
        return views[:1]
    found = [v for v in views if v.contest.stage in stages and (not party or v.contest.party == party)]
    best = preferred_stage(stages, (v.contest.stage for v in found))
    return [v for v in found if v.contest.stage == best]


@dataclass
class Step:
    """One update of a count: the snapshot, and what it added since the previous one."""

    snapshot: ResultSnapshot
    total: int
    added: int  # votes added since the previous update (the first: all of them)
    added_by: dict[int, int]  # candidacy id -> votes added
    reporting_pct: float | None


@dataclass
class History:
    view: ContestView
    steps: list[Step]  # oldest first (the newest HISTORY_SHOWN)
    count: int  # updates in all


def _votes(snapshot: ResultSnapshot) -> tuple[dict[int, int], int]:
    by: dict[int, int] = {}
    total = 0
    for c in snapshot.counts:
        if c.kind == CountKind.CANDIDATE and c.candidacy_id is not None:
            by[c.candidacy_id] = by.get(c.candidacy_id, 0) + c.votes
            total += c.votes
        elif c.kind == CountKind.WRITEIN:
            total += c.votes
    return by, total


async def count_history(session: AsyncSession, view: ContestView, limit: int = HISTORY_SHOWN) -> History:
    contest_id = view.contest.id
    count = int(
        await session.scalar(
            select(func.count(ResultSnapshot.id)).where(ResultSnapshot.contest_id == contest_id)
        )
        or 0
    )
    # The newest `limit`, plus the one before them to measure the first shown step against.
    newest = list(
        await session.scalars(
            select(ResultSnapshot)
            .where(ResultSnapshot.contest_id == contest_id)
            .order_by(*send_order(newest_first=True))
            .limit(limit + 1)
            .options(selectinload(ResultSnapshot.counts))
        )
    )
    newest.reverse()
    steps: list[Step] = []
    previous: tuple[dict[int, int], int] | None = None
    for i, snapshot in enumerate(newest):
        by, total = _votes(snapshot)
        if i > 0 or len(newest) <= limit:  # with limit + 1 read, the oldest is only the baseline
            before_by, before_total = previous if previous is not None else ({}, 0)
            added_by = {k: v - before_by.get(k, 0) for k, v in by.items()}
            steps.append(Step(snapshot, total, total - before_total, added_by, snapshot.reporting_pct))
        previous = (by, total)
    return History(view, steps[-limit:], count)


@dataclass
class RaceResults:
    race: RaceRow
    views: list[ContestView]  # every stage, in order


async def race_results(session: AsyncSession, race_id: int) -> RaceResults | None:
    """A race and every stage's current count: two statements."""
    race, views = await race_views(session, race_id)
    if race is None:
        return None
    return RaceResults(race, views)

"""Reads for `calendar`: the stages voting on a day or in a range (an indexed range on Contest.date)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.lookup import state_name
from db.models import Contest, Race
from db.reads.races import STAGE_ORDER

CALENDAR_MAX = 1000  # rows read for one range; more are counted, not shown


@dataclass
class Entry:
    contest: Contest
    race: Race


@dataclass
class Calendar:
    start: dt.date
    end: dt.date
    entries: list[Entry]  # by date, then state, office, stage
    total: int
    earlier: dt.date | None  # the nearest date with contests before the range (when the range is empty)
    later: dt.date | None  # and after it


async def contests_between(
    session: AsyncSession, start: dt.date, end: dt.date, limit: int = CALENDAR_MAX
) -> Calendar:
    in_range = (Contest.date >= start, Contest.date <= end)
    total = int(await session.scalar(select(func.count(Contest.id)).where(*in_range)) or 0)
    rows = await session.execute(
        select(Contest, Race)
        .join(Race, Race.id == Contest.race_id)
        .where(*in_range)
        .order_by(Contest.date, Race.state, Race.office, Race.seat, Race.special, Contest.id)
        .limit(limit)
    )
    entries = [Entry(contest, race) for contest, race in rows]
    entries.sort(
        key=lambda e: (
            e.contest.date,
            state_name(e.race.state),
            e.race.office,
            e.race.seat,
            e.race.special,
            STAGE_ORDER.get(e.contest.stage, 9),
            e.contest.party,
        )
    )
    earlier = later = None
    if not total:
        earlier = await session.scalar(select(func.max(Contest.date)).where(Contest.date < start))
        later = await session.scalar(select(func.min(Contest.date)).where(Contest.date > end))
    return Calendar(start, end, entries, total, earlier, later)

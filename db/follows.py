"""Follows: a member follows races; the desk's updates to them reach the member by DM.

Delivering those DMs is the outbox worker's job; this module only stores, counts
and lists follows. Each write records an audit entry in the same transaction.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.audit import Actor, record
from db.models import Follow, Race

FOLLOW_LIMIT = 25  # races one member can follow
FOLLOW_LOCK_SPACE = (
    0x466F6C  # PostgreSQL advisory locks on members' follows: (this, the member's id mod 2**31)
)


class Followed(enum.Enum):
    ADDED = "added"
    ALREADY = "already"
    FULL = "full"


@dataclass
class FollowOutcome:
    result: Followed
    count: int  # races the member follows now


async def follow_count(session: AsyncSession, user_id: int) -> int:
    return int(await session.scalar(select(func.count(Follow.id)).where(Follow.user_id == user_id)) or 0)


async def is_following(session: AsyncSession, user_id: int, race_id: int) -> bool:
    found = await session.scalar(
        select(Follow.id).where(Follow.user_id == user_id, Follow.race_id == race_id)
    )
    return found is not None


async def lock_member(session: AsyncSession, user_id: int) -> None:
    """Take the member's follows for this transaction, so that their follows are counted and added one
    request at a time: however many arrive at once, the limit holds.

    PostgreSQL: a transaction-scoped advisory lock on the member's id (released at commit or rollback).
    SQLite: a write first (a no-op UPDATE of the member's follows, even of none), which takes the database's
    write lock, so the count that follows sees every follow committed before and none can commit meanwhile.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(FOLLOW_LOCK_SPACE, user_id % 2**31)))
    else:
        await session.execute(update(Follow).where(Follow.user_id == user_id).values(id=Follow.id))


async def follow(
    session: AsyncSession, actor: Actor, user_id: int, race_id: int, limit: int = FOLLOW_LIMIT
) -> FollowOutcome:
    """Follow a race, within the limit, counted under the member's lock. Runs in the caller's transaction
    (a savepoint for the insert)."""
    await lock_member(session, user_id)
    count = await follow_count(session, user_id)
    if await is_following(session, user_id, race_id):
        return FollowOutcome(Followed.ALREADY, count)
    if count >= limit:
        return FollowOutcome(Followed.FULL, count)
    try:
        async with session.begin_nested():
            row = Follow(user_id=user_id, race_id=race_id, guild_id=actor.guild_id)
            session.add(row)
            await session.flush()
    except IntegrityError:  # the same member's other message got there first
        return FollowOutcome(Followed.ALREADY, await follow_count(session, user_id))
    await record(
        session, actor, "follow.add", "follows", row.id, after={"user_id": user_id, "race_id": race_id}
    )
    return FollowOutcome(Followed.ADDED, count + 1)


async def unfollow(session: AsyncSession, actor: Actor, user_id: int, race_id: int | None) -> int:
    """Stop following one race (or every race, with None). Returns how many follows were removed."""
    where = [Follow.user_id == user_id]
    if race_id is not None:
        where.append(Follow.race_id == race_id)
    ids = list(await session.scalars(select(Follow.id).where(*where)))
    if not ids:
        return 0
    await session.execute(delete(Follow).where(Follow.id.in_(ids)))
    await record(
        session,
        actor,
        "follow.remove",
        "follows",
        ids[0] if len(ids) == 1 else None,
        before={"user_id": user_id, "race_id": race_id, "follows": len(ids)},
    )
    return len(ids)


async def followed_races(session: AsyncSession, user_id: int) -> list[Follow]:
    """A member's follows, oldest first, each with its race loaded."""
    return list(
        await session.scalars(
            select(Follow)
            .where(Follow.user_id == user_id)
            .options(selectinload(Follow.race).selectinload(Race.incumbent))
            .order_by(Follow.created_at, Follow.id)
        )
    )

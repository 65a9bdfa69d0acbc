"""The announcement outbox: stored with the write that causes it, delivered later, exactly once.

A write that should be announced calls `enqueue` in its own transaction: one row
per target (every server's results channel, and each follower of the race by
DM), so the write and its announcements commit or roll back together. The
announcer cog claims due rows, sends them, and marks each one sent right after
Discord answers. Each row's `dedupe_key` is unique, and the Discord nonce sent
with it (`nonce_of`, with `enforce_nonce`) is derived from it, so a message sent
again after a crash between Discord's answer and the mark is recognised by
Discord instead of posted twice.

Nothing here knows Discord beyond the shape of a message body (the payload).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Follow, GuildSettings, OutboxMessage, OutboxStatus

CHANNEL, DM = "channel", "dm"
NONCE_LENGTH = 25  # Discord's limit for a string nonce
NO_PINGS: dict[str, Any] = {"parse": []}
WITHDRAWN = "withdrawn: the write was undone before this was delivered"
NOT_NEEDED = "not needed: the original was never delivered here"


@dataclass(frozen=True)
class Target:
    kind: str  # CHANNEL | DM
    id: int  # channel id, or user id for a DM
    ping_role_id: int | None = None


def nonce_of(dedupe_key: str) -> str:
    """The Discord nonce for an outbox row: the same row always sends the same nonce."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:NONCE_LENGTH]


def dedupe_key(audit_id: int, target: Target) -> str:
    return f"a{audit_id}:{target.kind}:{target.id}"


async def targets_for(session: AsyncSession, race_id: int | None) -> list[Target]:
    """Every server's results channel, then every member following the race (once each)."""
    rows = await session.execute(
        select(GuildSettings.results_channel_id, GuildSettings.ping_role_id)
        .where(GuildSettings.results_channel_id.is_not(None))
        .order_by(GuildSettings.guild_id)
    )
    targets = [Target(CHANNEL, int(channel), role) for channel, role in rows if channel is not None]
    if race_id is not None:
        users = await session.scalars(
            select(Follow.user_id)
            .where(Follow.race_id == race_id)
            .group_by(Follow.user_id)
            .order_by(Follow.user_id)
        )
        targets += [Target(DM, int(user)) for user in users]
    return targets


def payload_for(target: Target, body: dict[str, Any], ping: bool) -> dict[str, Any]:
    """The message body for one target: nothing pings, unless the server chose a role to ping (then only it).
    A follower's DM says how to stop them (`dm_content`, when the body has one)."""
    content = body.get("dm_content") if target.kind == DM and body.get("dm_content") else body.get("content")
    payload = {"content": content, "embeds": body.get("embeds", []), "allowed_mentions": NO_PINGS}
    if ping and target.kind == CHANNEL and target.ping_role_id:
        role = str(target.ping_role_id)
        content = f"<@&{role}>" + (f" {payload['content']}" if payload["content"] else "")
        payload.update(content=content[:2000], allowed_mentions={"parse": [], "roles": [role]})
    return payload


@dataclass
class Enqueued:
    channels: int = 0
    dms: int = 0

    @property
    def total(self) -> int:
        return self.channels + self.dms


def _count(targets: Iterable[Target]) -> Enqueued:
    counts = Enqueued()
    for target in targets:
        if target.kind == CHANNEL:
            counts.channels += 1
        else:
            counts.dms += 1
    return counts


async def enqueue(
    session: AsyncSession,
    *,
    audit_id: int,
    race_id: int | None,
    body: dict[str, Any],
    ping: bool = False,
    targets: Sequence[Target] | None = None,
) -> Enqueued:
    """One pending row per target, in the caller's transaction."""
    if targets is None:
        targets = await targets_for(session, race_id)
    now = dt.datetime.now(dt.UTC)
    await _insert(session, [_row(now, audit_id, race_id, target, body, ping) for target in targets])
    return _count(targets)


def _row(
    now: dt.datetime,
    audit_id: int,
    race_id: int | None,
    target: Target,
    body: dict[str, Any],
    ping: bool,
    status: str = OutboxStatus.PENDING,
    error: str | None = None,
) -> dict[str, Any]:
    """One outbox row, as the values of an INSERT."""
    return {
        "created_at": now,
        "audit_id": audit_id,
        "race_id": race_id,
        "target_kind": target.kind,
        "target_id": target.id,
        "payload": payload_for(target, body, ping),
        "dedupe_key": dedupe_key(audit_id, target),
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": error,
    }


INSERT_CHUNK = 100  # rows per statement: the event loop gets a turn between chunks of a big burst


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(OutboxMessage), rows[start : start + INSERT_CHUNK])


@dataclass
class Correction:
    """What `correct` did: corrections queued where the original arrived; undelivered originals withdrawn."""

    queued: Enqueued
    withdrawn: int

    @property
    def announced(self) -> bool:
        return self.queued.total > 0


async def correct(
    session: AsyncSession,
    *,
    original_audit_id: int,
    audit_id: int,
    race_id: int | None,
    body: dict[str, Any],
    ping: bool = False,
) -> Correction:
    """After an undo: withdraw the original's undelivered announcements, and queue a correction to every
    target that received it.

    A correction is also stored, as not needed, for each withdrawn target: if the announcer turns out
    to have delivered that original after all (it was in flight), `mark_sent` revives it.
    """
    originals = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.audit_id == original_audit_id)
            .order_by(OutboxMessage.id)
        )
    )
    if not originals:
        return Correction(Enqueued(), 0)
    now = dt.datetime.now(dt.UTC)
    rows, queued, withdrawn = [], [], 0
    for row in originals:
        if row.status == OutboxStatus.DROPPED:
            continue
        target = Target(row.target_kind, row.target_id, _ping_role(row.payload))
        status = OutboxStatus.PENDING
        error = None
        if row.status == OutboxStatus.PENDING:
            row.status, row.last_error = OutboxStatus.DROPPED, WITHDRAWN
            status, error = OutboxStatus.DROPPED, NOT_NEEDED
            withdrawn += 1
        else:
            queued.append(target)
        rows.append(_row(now, audit_id, race_id, target, body, ping, status, error))
    await session.flush()
    await _insert(session, rows)
    return Correction(_count(queued), withdrawn)


def _ping_role(payload: dict[str, Any]) -> int | None:
    roles = (payload.get("allowed_mentions") or {}).get("roles") or []
    return int(roles[0]) if roles else None


async def due(session: AsyncSession, now: dt.datetime, limit: int = 200) -> list[OutboxMessage]:
    """Pending rows whose time has come, oldest first, leaving out any target with an older row still
    waiting (so one target's announcements arrive in the order they were written)."""
    waiting = (
        select(OutboxMessage.target_kind, OutboxMessage.target_id, func.min(OutboxMessage.id).label("first"))
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at > now)
        .group_by(OutboxMessage.target_kind, OutboxMessage.target_id)
        .subquery()
    )
    query = (
        select(OutboxMessage)
        .outerjoin(
            waiting,
            and_(
                waiting.c.target_kind == OutboxMessage.target_kind,
                waiting.c.target_id == OutboxMessage.target_id,
            ),
        )
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(waiting.c.first.is_(None), OutboxMessage.id < waiting.c.first),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def mark_sent(session: AsyncSession, row_id: int, message_id: int | None, attempts: int = 1) -> bool:
    """Record a delivery. Returns False if the row had been withdrawn meanwhile (an undo raced the
    delivery); then the correction held back for that target is revived, so it still follows."""
    now = dt.datetime.now(dt.UTC)
    done = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENT, sent_at=now, message_id=message_id, last_error=None, attempts=attempts
        )
    )
    if getattr(done, "rowcount", 1) == 1:
        return True
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.status != OutboxStatus.DROPPED or row.last_error != WITHDRAWN:
        return True
    row.status, row.sent_at, row.message_id, row.last_error = OutboxStatus.SENT, now, message_id, None
    undo_id = await session.scalar(select(AuditEntry.undone_by_id).where(AuditEntry.id == row.audit_id))
    if undo_id is not None:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.audit_id == undo_id,
                OutboxMessage.target_kind == row.target_kind,
                OutboxMessage.target_id == row.target_id,
                OutboxMessage.status == OutboxStatus.DROPPED,
            )
            .values(status=OutboxStatus.PENDING, last_error=None, next_attempt_at=now)
        )
    return False


async def mark_dropped(session: AsyncSession, row_id: int, error: str, attempts: int = 1) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED, last_error=error[:2000], attempts=attempts)
    )


async def reschedule(session: AsyncSession, row: OutboxMessage, error: str, delay: float) -> dt.datetime:
    """Try again after `delay` seconds (recording `row.attempts`); the target's later rows wait behind it
    (see `due`)."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(next_attempt_at=when, last_error=error[:2000], attempts=row.attempts)
    )
    return when

"""The announcement outbox: stored with the write that causes it, delivered later, exactly once.

A write that should be announced calls `enqueue` in its own transaction: one row
per target (every server's results channel, and each follower of the race by
DM), so the write and its announcements commit or roll back together. The
announcer cog claims due rows, sends them, and marks each one sent right after
Discord answers. Each row's `dedupe_key` is unique, and the Discord nonce sent
with it (`nonce_of`, with `enforce_nonce`) is derived from it, so a message sent
again after a crash between Discord's answer and the mark is recognised by
Discord instead of posted twice.

Several bot processes share one outbox (PostgreSQL): each claims the rows it
delivers (`claim`: `FOR UPDATE SKIP LOCKED`, under a short advisory lock, with a
lease), so each row is sent by one process. A channel row goes only to the
process whose shards hold its server (Discord's formula, `Shards`); a DM only to
the process whose shards hold the member's id by the same formula, so one
member's messages keep their order. A process that dies leaves its claims until
its lease runs out, or until it starts again on the same machine (`release`).

Latest count wins: calls and uncalls go before everything else that waits for a
target; a count still waiting when a newer count of the same stage is queued
for the same target is not sent but marked superseded (`supersede`), kept with
the newer count's audit id. Polls, endorsements and corrections keep their order.

Rows done with (sent, superseded, dropped) are kept for a number of days after their write (`purge`): for
that long an undo corrects the announcement where it arrived. The pending ones are never cleared.

Nothing here knows Discord beyond the shape of a message body (the payload).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from db.models import (
    AuditEntry,
    Follow,
    GuildSettings,
    OutboxMessage,
    OutboxStatus,
    ResultSnapshot,
    UTCDateTime,
)

CHANNEL, DM = "channel", "dm"
CALL, COUNT, NEWS = "call", "count", "news"  # what a row announces: a call or uncall, a count, anything else
NONCE_LENGTH = 25  # Discord's limit for a string nonce
NO_PINGS: dict[str, Any] = {"parse": []}
WITHDRAWN = "withdrawn: the write was undone before this was delivered"
NOT_NEEDED = "not needed: the original was never delivered here"
SUPERSEDED = "superseded: a newer count of its stage replaced it before delivery"
CLAIM_LOCK_SPACE = 0x4F7574  # PostgreSQL advisory lock taken while a process claims rows: (this, 0)
LEASE = 60.0  # seconds a claim holds: far longer than a round of sends takes
# PostgreSQL: sorts penalised until the transaction ends, so that statistics older than a burst of rows cannot
# choose to read and sort them all where an index gives the order (see `_claim_lock` and `purge`).
PENALISE_SORTS = func.set_config("enable_sort", "off", True)
# A row's lease ends as it stops waiting (sent, superseded, dropped; `claimed_by` stays: who delivered it). A
# lease is then held only by a waiting row, and the leases are found by an index of their own, whose condition
# names no status (see `_due_statement`).
LEASE_ENDED: dict[str, Any] = {"lease_until": None}


@dataclass(frozen=True)
class Target:
    kind: str  # CHANNEL | DM
    id: int  # channel id, or user id for a DM
    ping_role_id: int | None = None
    guild_id: int | None = None  # a results channel's server: the process holding its shard delivers it


@dataclass(frozen=True)
class Shards:
    """The servers a process serves: those whose shard, by Discord's formula `(id >> 22) % count`, is in
    `ids`. `count` None: not sharded, every server. A DM goes by the member's id through the same formula."""

    count: int | None = None
    ids: frozenset[int] = frozenset()

    @property
    def share(self) -> float:
        """This process's part of the bot's sends: its shards out of all."""
        return len(self.ids) / self.count if self.count else 1.0


EVERY = Shards()


def nonce_of(dedupe_key: str) -> str:
    """The Discord nonce for an outbox row: the same row always sends the same nonce."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:NONCE_LENGTH]


def dedupe_key(audit_id: int, target: Target) -> str:
    return f"a{audit_id}:{target.kind}:{target.id}"


async def targets_for(session: AsyncSession, race_id: int | None) -> list[Target]:
    """Every server's results channel, then every member following the race (once each)."""
    targets = await _channel_targets(session)
    if race_id is not None:
        users = await session.scalars(
            select(Follow.user_id)
            .where(Follow.race_id == race_id)
            .group_by(Follow.user_id)
            .order_by(Follow.user_id)
        )
        targets += [Target(DM, int(user)) for user in users]
    return targets


async def _channel_targets(session: AsyncSession, *where: ColumnElement[bool]) -> list[Target]:
    """The servers' results channels (those matching `where` too), in server order."""
    rows = await session.execute(
        select(GuildSettings.results_channel_id, GuildSettings.ping_role_id, GuildSettings.guild_id)
        .where(GuildSettings.results_channel_id.is_not(None), *where)
        .order_by(GuildSettings.guild_id)
    )
    return [
        Target(CHANNEL, int(channel), role, int(guild))
        for channel, role, guild in rows
        if channel is not None
    ]


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
    """One pending row per target, in the caller's transaction. A count supersedes the waiting counts of its
    stage to the same targets."""
    now = dt.datetime.now(dt.UTC)
    kind, contest_id = await kind_of(session, audit_id)
    row = _Row(now, audit_id, race_id, kind, contest_id)
    if targets is None:
        counts = await _fan_out(session, row, body, ping)
    else:
        await _insert(session, [row.values(target, body, ping) for target in targets])
        counts = _count(targets)
    if kind == COUNT and contest_id is not None and counts.total:
        await supersede(session, audit_id, contest_id, now)
    return counts


async def _fan_out(session: AsyncSession, row: _Row, body: dict[str, Any], ping: bool) -> Enqueued:
    """A row for every results channel and every follower of the race (`targets_for`), made by the database
    from the targets' tables (INSERT ... SELECT), where every channel gets the same payload and every follower
    the same DM: with thousands of targets, the bot's process builds none of them, and its event loop is not
    held while they are written. Only a ping makes payloads of their own: the channels whose server chose a
    role to ping are listed and built here (`payload_for`)."""
    channels = GuildSettings.results_channel_id.is_not(None)
    pinged = GuildSettings.ping_role_id.is_not(None)
    counts = Enqueued()
    same = select(GuildSettings.results_channel_id, GuildSettings.guild_id).where(
        channels, *([~pinged] if ping else [])
    )
    counts.channels = await row.insert_from(session, same, CHANNEL, body, order_by="guild_id")
    if ping:
        targets = await _channel_targets(session, pinged)
        await _insert(session, [row.values(target, body, ping) for target in targets])
        counts.channels += len(targets)
    if row.race_id is not None:
        followers = (
            select(Follow.user_id, cast(null(), BigInteger))
            .where(Follow.race_id == row.race_id)
            .group_by(Follow.user_id)
        )
        counts.dms = await row.insert_from(session, followers, DM, body, order_by="target_id")
    return counts


async def kind_of(session: AsyncSession, audit_id: int) -> tuple[str, int | None]:
    """What the write `audit_id` announces, and of which stage: a count, a call or uncall, or other news."""
    entry = await session.get(AuditEntry, audit_id)
    if entry is None:
        return NEWS, None
    if entry.action == "result.add" and entry.entity_id is not None:
        snapshot = await session.get(ResultSnapshot, entry.entity_id)
        return (COUNT, snapshot.contest_id) if snapshot is not None else (NEWS, None)
    if entry.action in ("call.add", "call.uncall"):
        contest_id = (entry.after or {}).get("contest_id")
        return CALL, int(contest_id) if contest_id is not None else None
    return NEWS, None


async def supersede(session: AsyncSession, audit_id: int, contest_id: int, now: dt.datetime) -> int:
    """Mark superseded each count of the stage still waiting (unclaimed, or its claim ran out) for a target
    that the count `audit_id` also goes to. Returns how many."""
    newer = aliased(OutboxMessage)
    replaced = exists().where(
        newer.audit_id == audit_id,
        newer.target_kind == OutboxMessage.target_kind,
        newer.target_id == OutboxMessage.target_id,
    )
    done = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.contest_id == contest_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.kind == COUNT,
            OutboxMessage.audit_id != audit_id,
            or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.lease_until <= now),
            replaced,
        )
        .values(status=OutboxStatus.SUPERSEDED, superseded_by=audit_id, last_error=SUPERSEDED, **LEASE_ENDED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


@dataclass(frozen=True)
class _Row:
    """What every row a write queues shares: when, which write, which race, what it announces."""

    now: dt.datetime
    audit_id: int
    race_id: int | None
    kind: str = NEWS
    contest_id: int | None = None
    status: str = OutboxStatus.PENDING
    error: str | None = None

    def values(self, target: Target, body: dict[str, Any], ping: bool) -> dict[str, Any]:
        """The row for one target, as the values of an INSERT."""
        return {
            **self._shared(),
            "guild_id": target.guild_id,
            "target_kind": target.kind,
            "target_id": target.id,
            "payload": payload_for(target, body, ping),
            "dedupe_key": dedupe_key(self.audit_id, target),
        }

    async def insert_from(
        self,
        session: AsyncSession,
        targets: Select[Any, Any],
        target_kind: str,
        body: dict[str, Any],
        *,
        order_by: str,
    ) -> int:
        """A row for each (target id, server id) that `targets` selects, all of `target_kind` and without
        pings, made by the database in the order of `order_by` ("target_id" or "guild_id"); how many."""
        found = targets.subquery()
        target_id, guild_id = found.c
        order = {"target_id": target_id, "guild_id": guild_id}[order_by]
        shared = {
            name: literal(value, OutboxMessage.__table__.c[name].type)
            for name, value in self._shared().items()
        }
        made = {
            **shared,
            "guild_id": guild_id,
            "target_kind": literal(target_kind),
            "target_id": target_id,
            "payload": literal(payload_for(Target(target_kind, 0), body, False), JSON),
            # dedupe_key's text, made from the id there
            "dedupe_key": literal(f"a{self.audit_id}:{target_kind}:") + cast(target_id, String),
        }
        rows = select(*made.values()).select_from(found).order_by(order)
        done = await session.execute(insert(OutboxMessage).from_select(list(made), rows))
        return int(getattr(done, "rowcount", 0) or 0)

    def _shared(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "contest_id": self.contest_id,
            "created_at": self.now,
            "audit_id": self.audit_id,
            "race_id": self.race_id,
            "status": self.status,
            "attempts": 0,
            "next_attempt_at": self.now,
            "last_error": self.error,
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
    to have delivered that original after all (it was in flight), `mark_sent` revives it. Where the
    withdrawn original was a count that had superseded an older one, that older count is due again: it is
    the stage's count there now.

    The originals still waiting are withdrawn by one statement that re-checks each one's status: one that
    a process recorded as sent meanwhile (PostgreSQL lets it commit between this transaction's reads) gets
    its correction instead of being marked withdrawn over its delivery.
    """
    withdrawn_ids = set(
        await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.audit_id == original_audit_id, PENDING_ROW)
            .values(status=OutboxStatus.DROPPED, last_error=WITHDRAWN, **LEASE_ENDED)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    originals = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.audit_id == original_audit_id)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )
    now = dt.datetime.now(dt.UTC)
    rows, queued = [], []
    for row in originals:
        target = Target(row.target_kind, row.target_id, _ping_role(row.payload), row.guild_id)
        if row.id in withdrawn_ids:  # held back, in case that original was in flight (see `mark_sent`)
            made = _Row(now, audit_id, race_id, status=OutboxStatus.DROPPED, error=NOT_NEEDED)
        elif row.status == OutboxStatus.SENT:
            made = _Row(now, audit_id, race_id)
            queued.append(target)
        else:  # dropped or superseded: it never arrived there
            continue
        rows.append(made.values(target, body, ping))
    await _insert(session, rows)
    withdrawn = len(withdrawn_ids)
    if withdrawn:
        await _revive_superseded(session, original_audit_id, now)
    return Correction(_count(queued), withdrawn)


async def _revive_superseded(session: AsyncSession, audit_id: int, now: dt.datetime) -> None:
    """The counts that `audit_id` superseded, where its own row was withdrawn: pending again."""
    withdrawn = aliased(OutboxMessage)
    here = exists().where(
        withdrawn.audit_id == audit_id,
        withdrawn.target_kind == OutboxMessage.target_kind,
        withdrawn.target_id == OutboxMessage.target_id,
        withdrawn.status == OutboxStatus.DROPPED,
        withdrawn.last_error == WITHDRAWN,
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.superseded_by == audit_id,
            OutboxMessage.status == OutboxStatus.SUPERSEDED,
            here,
        )
        .values(
            status=OutboxStatus.PENDING,
            superseded_by=None,
            last_error=None,
            next_attempt_at=now,
            claimed_by=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )


DONE_WITH = (OutboxStatus.SENT, OutboxStatus.SUPERSEDED, OutboxStatus.DROPPED)
PURGE_BATCH = 5_000  # rows deleted a statement: other writes never wait long behind one


def kept_since(days: int) -> dt.datetime:
    """The oldest write whose announcements are kept `days` days (OUTBOX_KEEP_DAYS): `purge` clears older ones."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


async def purge(session: AsyncSession, written_before: dt.datetime, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` rows done with (sent, superseded, dropped) whose write was made before
    `written_before`; how many. The rows are found through their writes (audit ids are in time order, and
    an index leads from one to its rows), never by reading every row. A superseded count stays while the
    count that replaced it still waits for its target: undoing that count makes this one due again."""
    last_old_write = (
        select(AuditEntry.id)
        .where(AuditEntry.at < written_before)
        .order_by(AuditEntry.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    newer = aliased(OutboxMessage)
    replacement_waits = exists().where(
        newer.audit_id == OutboxMessage.superseded_by,
        newer.target_kind == OutboxMessage.target_kind,
        newer.target_id == OutboxMessage.target_id,
        _pending(newer),
    )
    kept = and_(OutboxMessage.status == OutboxStatus.SUPERSEDED, replacement_waits)  # (looked for only then)
    old = (
        select(OutboxMessage.id)
        .where(OutboxMessage.audit_id <= last_old_write, OutboxMessage.status.in_(DONE_WITH), ~kept)
        .order_by(OutboxMessage.audit_id)  # along the index of the writes' ids, whatever the statistics say
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # For this transaction, sorts penalised (as for a claim, see `_claim_lock`): the rows are read along
        # the index of the writes' ids. Right after many rows changed status, stale statistics chose another
        # index and read every row (0.13-0.17 s with 300,000 rows, as long with none old enough). And no JIT:
        # the same statistics overrate the check of each superseded row, and compiling took 0.15 s.
        await session.execute(select(PENALISE_SORTS, func.set_config("jit", "off", True)))
    # The ids first, then each deleted by its key: given the subquery itself, PostgreSQL read the whole
    # outbox to join it to the batch.
    ids = list(await session.scalars(old))
    if not ids:
        return 0
    done = await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(DONE_WITH))  # (still done with)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def _ping_role(payload: dict[str, Any]) -> int | None:
    roles = (payload.get("allowed_mentions") or {}).get("roles") or []
    return int(roles[0]) if roles else None


async def due(
    session: AsyncSession,
    now: dt.datetime,
    limit: int = 200,
    *,
    claimer: str | None = None,
    shards: Shards = EVERY,
    lock: bool = False,
) -> list[OutboxMessage]:
    """Pending rows whose time has come for `claimer` in its `shards`: calls and uncalls first, then the
    rest, oldest first. A target with a row still waiting (a retry's time has not come) or claimed by
    another process (its lease still running) is left out, so one target's announcements arrive in order,
    from one process. `lock`: lock the rows, skipping those another transaction holds (PostgreSQL).

    Calls, then the rest, are each read in id order along an index of the pending rows alone, up to the
    rows asked for (migration 0008): the cost of a round does not grow with the rows still pending. (Each
    pass sees the rows committed when it starts: a call and a later message to the same target, both
    committed between the two passes, arrive in their commit order rather than the call first.)"""
    values = {"now": now, "claimer": claimer}
    found: list[OutboxMessage] = []
    for calls in (True, False):
        if len(found) < limit:
            statement = _due_statement(calls, claimer is not None, shards, lock)
            found += await session.scalars(statement, {**values, "limit": limit - len(found)})
    return found


def _pending(rows: Any) -> ColumnElement[bool]:
    """`rows` (the outbox, or an alias of it) still pending, the status written out: the partial indexes of
    pending rows (migration 0008) serve only a statement that names their condition (see db/models.py)."""
    predicate: ColumnElement[bool] = rows.status == literal_column(f"'{OutboxStatus.PENDING}'")
    return predicate


PENDING_ROW = _pending(OutboxMessage)


@functools.cache
def _due_statement(calls: bool, for_claimer: bool, shards: Shards, lock: bool) -> Select[OutboxMessage]:
    """`due`'s statement for the calls or for the rest, built once per shape and its values bound (`now`,
    `claimer`, `limit`): the announcer asks it every round, and building it anew cost more than running it.
    The pending rows are matched by their status written out, so that the indexes of pending rows (migration
    0008) serve them (a bound value could be any status): in id order up to `limit`, and the targets held
    by their retry time or their claims (migration 0009)."""
    now = bindparam("now", type_=UTCDateTime())
    held, claimed = aliased(OutboxMessage, name="held"), aliased(OutboxMessage, name="claimed")
    retry_waits = exists().where(
        held.target_kind == OutboxMessage.target_kind,
        held.target_id == OutboxMessage.target_id,
        _pending(held),
        held.next_attempt_at > now,
    )
    claimed_elsewhere = exists().where(  # (a row with a lease is a waiting one: see LEASE_ENDED)
        claimed.target_kind == OutboxMessage.target_kind,
        claimed.target_id == OutboxMessage.target_id,
        claimed.lease_until > now,
        *([claimed.claimed_by != bindparam("claimer")] if for_claimer else []),
    )
    kind = OutboxMessage.kind == literal_column(f"'{CALL}'")
    query = (
        select(OutboxMessage)
        .where(
            PENDING_ROW,
            kind if calls else ~kind,
            # (Implied by ~retry_waits, but PostgreSQL checks a row changed meanwhile, a retry put off by
            # another process, against this term, not against the subquery's snapshot.)
            OutboxMessage.next_attempt_at <= now,
            # Each a seek (migration 0009), however many rows of the target wait.
            ~retry_waits,
            ~claimed_elsewhere,
            in_shards(shards),
        )
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit", type_=Integer))
    )
    return query.with_for_update(of=OutboxMessage, skip_locked=True) if lock else query


def in_shards(shards: Shards) -> ColumnElement[bool]:
    """The rows a process with `shards` delivers: a channel row by its server, a DM by the member (a row
    stored before servers were recorded, by any process)."""
    if not shards.count:
        return true()
    ids = sorted(shards.ids)

    def shard(snowflake: Any) -> Any:
        return snowflake.op(">>", return_type=BigInteger)(literal(22, Integer)) % shards.count

    return or_(
        and_(
            OutboxMessage.target_kind == CHANNEL,
            or_(OutboxMessage.guild_id.is_(None), shard(OutboxMessage.guild_id).in_(ids)),
        ),
        and_(OutboxMessage.target_kind == DM, shard(OutboxMessage.target_id).in_(ids)),
    )


async def claim(
    session: AsyncSession,
    now: dt.datetime,
    limit: int,
    claimer: str,
    shards: Shards = EVERY,
    lease: float = LEASE,
) -> list[OutboxMessage]:
    """Take the rows `due` for `claimer` until `now + lease`; no other process sends them meanwhile.

    Claims are taken one process at a time (PostgreSQL: a transaction-scoped advisory lock; SQLite: the
    write lock, taken first), so two processes never split one target's rows; rows that another
    transaction is changing (a delivery being recorded, a count being superseded) are skipped."""
    await _claim_lock(session)
    rows = await due(session, now, limit, claimer=claimer, shards=shards, lock=True)
    if not rows:
        return rows
    until = now + dt.timedelta(seconds=lease)
    await session.execute(_CLAIM_ROWS, {"ids": [row.id for row in rows], "claimer": claimer, "until": until})
    for row in rows:
        set_committed_value(row, "claimed_by", claimer)
        set_committed_value(row, "lease_until", until)
    return rows


_CLAIM_ROWS = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_by=bindparam("claimer"), lease_until=bindparam("until", type_=UTCDateTime()))
    .execution_options(synchronize_session=False)
)


async def _claim_lock(session: AsyncSession) -> None:
    """One claimer at a time. On PostgreSQL the claim's transaction also penalises sorts (`enable_sort` off,
    until it ends), so the next rows are read in id order along the index of pending rows (`due`), never all
    read and sorted: right after a burst, before the server's statistics have seen the new rows, it guessed
    that sorting the one row it expected was cheapest (`due`'s statement took 1.6 s with 60,000 rows
    pending, against 1.4 ms along the index)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_SPACE, 0), PENALISE_SORTS))
    else:  # a write takes SQLite's write lock before anything is read
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == -1).values(attempts=OutboxMessage.attempts)
        )


async def claimers(session: AsyncSession) -> list[str]:
    """Who holds claims on pending rows."""
    found = await session.scalars(
        select(OutboxMessage.claimed_by).where(PENDING_ROW, OutboxMessage.claimed_by.is_not(None)).distinct()
    )
    return [str(claimer) for claimer in found]


async def release(session: AsyncSession, gone: Sequence[str]) -> int:
    """Give up the claims of `gone` (a process stopping, or one that died), so their rows are due at once."""
    if not gone:
        return 0
    done = await session.execute(
        update(OutboxMessage)
        .where(PENDING_ROW, OutboxMessage.claimed_by.in_(list(gone)))
        .values(claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


async def mark_sent(session: AsyncSession, row_id: int, message_id: int | None, attempts: int = 1) -> bool:
    """Record a delivery. Returns False if the row had been withdrawn meanwhile (an undo raced the
    delivery); then the correction held back for that target is revived, so it still follows."""
    now = dt.datetime.now(dt.UTC)
    done = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            message_id=message_id,
            last_error=None,
            attempts=attempts,
            **LEASE_ENDED,
        )
    )
    if getattr(done, "rowcount", 1) == 1:
        return True
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.status != OutboxStatus.DROPPED or row.last_error != WITHDRAWN:
        return True
    row.status, row.sent_at, row.message_id, row.last_error = OutboxStatus.SENT, now, message_id, None
    row.attempts = attempts
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


async def mark_sent_many(session: AsyncSession, deliveries: Sequence[tuple[int, int | None, int]]) -> int:
    """Record several deliveries, each (row id, message id, attempts), in one statement; a row withdrawn
    meanwhile goes through `mark_sent` (its correction is revived). Returns how many were withdrawn."""
    if not deliveries:
        return 0
    now = dt.datetime.now(dt.UTC)
    ids = [row_id for row_id, _, _ in deliveries]

    def each(values: dict[int, Any], type_: Any) -> Any:
        return case(
            {row_id: literal(value, type_) for row_id, value in values.items()},
            value=OutboxMessage.id,
        )

    recorded = set(
        await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(
                status=OutboxStatus.SENT,
                sent_at=now,
                last_error=None,
                message_id=each({r: m for r, m, _ in deliveries}, BigInteger),
                attempts=each({r: a for r, _, a in deliveries}, Integer),
                **LEASE_ENDED,
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    withdrawn = 0
    for row_id, message_id, attempts in deliveries:
        if row_id not in recorded and not await mark_sent(session, row_id, message_id, attempts):
            withdrawn += 1
    return withdrawn


async def mark_dropped(session: AsyncSession, row_id: int, error: str, attempts: int = 1) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED, last_error=error[:2000], attempts=attempts, **LEASE_ENDED)
    )


async def reschedule(session: AsyncSession, row: OutboxMessage, error: str, delay: float) -> dt.datetime:
    """Try again after `delay` seconds (recording `row.attempts`), by whichever process then claims it; the
    target's other rows wait behind it (see `due`)."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(
            next_attempt_at=when,
            last_error=error[:2000],
            attempts=row.attempts,
            claimed_by=None,
            lease_until=None,
        )
    )
    return when

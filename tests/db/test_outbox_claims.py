"""The outbox across processes: claims (each row to one claimer, a target's rows from one claimer at a time,
by shard), leases that run out, claims of ended processes released; latest count wins (calls first, a count
that a newer count of its stage replaced is superseded and kept, other news in order)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import outbox
from db.audit import record
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import AuditEntry, Contest, Follow, GuildSettings, OutboxMessage
from db.outbox import CHANNEL, DM, Shards, Target
from db.writes import StageRef, run_write
from db.writes.results import CallInput, ResultInput, change_call, post_result
from tests.support import MODERATOR, al2020, store_on
from tests.support.stores import schema_engine

Sessions = async_sessionmaker[AsyncSession]
BASE = 1_100_000_000_000_000_000  # a snowflake of 2026's size: servers and members spread over shards


def snowflake(n: int) -> int:
    return BASE + n * 7_340_033  # not a multiple of 2**22: consecutive ids land on different shards


async def news(sessions: Sessions, race_id: int, action: str, targets: list[Target], tag: str) -> int:
    """Queue a message tagged `tag` for `targets`, caused by an audited write `action` (not a count or call)."""
    async with sessions.begin() as session:
        entry = await record(session, MODERATOR, action, "polls", 1, race_id=race_id)
        body = {"content": tag, "embeds": []}
        await outbox.enqueue(session, audit_id=entry.id, race_id=race_id, body=body, targets=targets)
        return entry.id


async def count(sessions: Sessions, race_id: int, stage: str, votes: int, targets: list[Target]) -> int:
    """A real count (db/writes), queued to `targets`, tagged with its votes."""

    async def work(session: AsyncSession) -> int:
        names = ("Tuberville", "Jones") if stage == "general" else ("Tuberville", "Sessions")
        data = ResultInput(race_id, StageRef(stage), [(names[0], votes), (names[1], 1000)])
        outcome = await post_result(session, MODERATOR, data)
        body = {"content": f"count {stage} {votes}", "embeds": []}
        await outbox.enqueue(session, audit_id=outcome.audit.id, race_id=race_id, body=body, targets=targets)
        return outcome.audit.id

    return await run_write(sessions, work)


async def call(sessions: Sessions, race_id: int, kind: str, targets: list[Target], ping: bool = False) -> int:
    async def work(session: AsyncSession) -> int:
        names = ["Tuberville"] if kind == "winner" else []
        outcome = await change_call(session, MODERATOR, CallInput(race_id, StageRef("general"), kind, names))
        body = {"content": f"call {kind}", "embeds": []}
        await outbox.enqueue(
            session, audit_id=outcome.audit.id, race_id=race_id, body=body, targets=targets, ping=ping
        )
        return outcome.audit.id

    return await run_write(sessions, work)


async def drain(
    sessions: Sessions,
    claimer: str,
    delivered: list[tuple[int, str, str, int, str]],
    *,
    shards: Shards = outbox.EVERY,
    limit: int = 7,
) -> int:
    """Claim and 'deliver' (record, then mark sent) until nothing is due for `claimer`; returns rounds."""
    rounds = 0
    while True:
        rows = await run_write(
            sessions, lambda s: outbox.claim(s, dt.datetime.now(dt.UTC), limit, claimer, shards)
        )
        if not rows:
            return rounds
        rounds += 1
        for row in rows:
            delivered.append((row.id, claimer, row.target_kind, row.target_id, row.payload["content"]))
            await asyncio.sleep(0)  # the other claimer gets its turn between sends

        async def mark(session: AsyncSession, done: list[OutboxMessage] = rows) -> None:
            for row in done:
                await outbox.mark_sent(session, row.id, 1)

        await run_write(sessions, mark)


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """The sample on PostgreSQL, and a second engine (its own connections, as another process has) on it."""
    async with store_on("postgresql", tmp_path, "sample", load_sample) as engine:
        async with engine.connect() as conn:
            schema = str(await conn.scalar(text("SELECT current_schema()")))
        other = schema_engine(schema)
        try:
            yield engine, other
        finally:
            await other.dispose()


async def burst(sessions: Sessions, servers: int, members: int) -> tuple[int, list[Target]]:
    """Servers with results channels and followers; then news to all of them, three times."""
    async with sessions.begin() as session:
        race_id = (await al2020(session)).id
        session.add_all(
            GuildSettings(guild_id=snowflake(g), results_channel_id=snowflake(1000 + g))
            for g in range(servers)
        )
    async with sessions() as session:
        targets = await outbox.targets_for(session, None)  # every results channel, with its server
    assert [t.guild_id for t in targets] == [snowflake(g) for g in range(servers)]
    targets += [Target(DM, snowflake(5000 + m)) for m in range(members)]
    for n in range(3):
        await news(sessions, race_id, "poll.add", targets, f"poll {n}")
    return race_id, targets


async def test_two_stores_claiming_at_once_deliver_a_burst_exactly_once_in_order(
    pg: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = (make_sessionmaker(engine) for engine in pg)
    _race, targets = await burst(first, servers=40, members=20)
    delivered: list[tuple[int, str, str, int, str]] = []
    await asyncio.gather(drain(first, "one", delivered), drain(second, "two", delivered))
    async with first() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == 3 * len(targets) and {r.status for r in rows} == {"sent"}
    ids = [row_id for row_id, *_ in delivered]
    assert sorted(ids) == sorted(r.id for r in rows)  # each row once, none left out
    assert {who for _, who, *_ in delivered} == {"one", "two"}  # both took part
    for target in targets:
        tags = [tag for _, _, kind, tid, tag in delivered if (kind, tid) == (target.kind, target.id)]
        assert tags == ["poll 0", "poll 1", "poll 2"], (target, tags)


async def test_each_process_claims_only_the_rows_of_its_shards(pg: tuple[AsyncEngine, AsyncEngine]) -> None:
    first, second = (make_sessionmaker(engine) for engine in pg)
    _race, targets = await burst(first, servers=24, members=12)
    delivered: list[tuple[int, str, str, int, str]] = []
    even, odd = Shards(2, frozenset({0})), Shards(2, frozenset({1}))
    await asyncio.gather(
        drain(first, "shard-0", delivered, shards=even), drain(second, "shard-1", delivered, shards=odd)
    )
    assert len(delivered) == 3 * len(targets) == len({row_id for row_id, *_ in delivered})
    for _, who, kind, target_id, _tag in delivered:
        target = next(t for t in targets if (t.kind, t.id) == (kind, target_id))
        on = target.guild_id if kind == CHANNEL else target.id  # a channel by its server, a DM by the member
        assert on is not None
        assert who == f"shard-{(on >> 22) % 2}"
    assert {who for _, who, *_ in delivered} == {"shard-0", "shard-1"}


async def test_a_claim_takes_only_the_rows_of_its_shards(sample_sessions: Sessions) -> None:
    """One process after the other (the same rule as two at once, on each database): a channel row goes by
    its server's shard, a DM by the member's, a row stored without its server to whoever claims first."""
    race_id, targets = await burst(sample_sessions, servers=12, members=9)
    unplaced = Target(CHANNEL, 99, None, None)
    await news(sample_sessions, race_id, "poll.add", [unplaced], "poll 0")
    delivered: list[tuple[int, str, str, int, str]] = []
    one, rest = Shards(3, frozenset({1})), Shards(3, frozenset({0, 2}))
    await drain(sample_sessions, "one", delivered, shards=one)
    await drain(sample_sessions, "rest", delivered, shards=rest)
    assert len(delivered) == 3 * len(targets) + 1 == len({row_id for row_id, *_ in delivered})
    for _, who, kind, target_id, _tag in delivered:
        if target_id == unplaced.id:
            assert who == "one"
            continue
        target = next(t for t in targets if (t.kind, t.id) == (kind, target_id))
        on = target.guild_id if kind == CHANNEL else target.id
        assert on is not None
        assert who == ("one" if (on >> 22) % 3 == 1 else "rest"), (kind, target_id)
    assert {who for _, who, *_ in delivered} == {"one", "rest"}


async def test_a_dead_claimers_rows_wait_for_its_lease_or_its_restart(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7)]
    await news(sample_sessions, race_id, "poll.add", targets, "poll")
    now = dt.datetime.now(dt.UTC)
    dead = "host:999999:aaaa"
    taken = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, dead, lease=60))
    assert len(taken) == 2 and all(r.claimed_by == dead for r in taken)
    assert await run_write(sample_sessions, outbox.claimers) == [dead]  # once, though it holds two
    # Its own claims are no obstacle to the claimer itself (a round whose marks failed is sent again).
    mine = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, dead, lease=60))
    assert sorted(r.id for r in mine) == sorted(r.id for r in taken)
    # Another process sees the targets held while the lease runs, and gets them once it has run out.
    assert await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "other:1:b")) == []
    later = now + dt.timedelta(seconds=59)
    assert await run_write(sample_sessions, lambda s: outbox.claim(s, later, 10, "other:1:b")) == []
    expired = now + dt.timedelta(seconds=61)
    again = await run_write(sample_sessions, lambda s: outbox.claim(s, expired, 10, "other:1:b"))
    assert sorted(r.id for r in again) == sorted(r.id for r in taken)
    # Or the dead one's claims are released (its machine's next run found it gone): due at once.
    assert await run_write(sample_sessions, lambda s: outbox.release(s, [])) == 0
    assert await run_write(sample_sessions, lambda s: outbox.release(s, ["other:1:b"])) == 2
    assert await run_write(sample_sessions, outbox.claimers) == []
    async with sample_sessions() as session:
        released = list(await session.scalars(select(OutboxMessage)))
    assert {(r.claimed_by, r.lease_until) for r in released} == {(None, None)}
    retaken = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "third:2:c"))
    assert len(retaken) == 2
    # A send to retry gives up its claim: after its delay, whichever process claims first sends it.
    retry = next(r for r in retaken if r.target_kind == DM)
    retry.attempts = 1
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, retry, "Discord answered 503", 5))
    async with sample_sessions() as session:
        again_row = await session.get(OutboxMessage, retry.id)
        assert again_row is not None
        assert (again_row.claimed_by, again_row.lease_until, again_row.last_error, again_row.attempts) == (
            None,
            None,
            "Discord answered 503",
            1,
        )
    assert await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "fourth:3:d")) == []
    soon = now + dt.timedelta(seconds=6)
    fourth = await run_write(sample_sessions, lambda s: outbox.claim(s, soon, 10, "fourth:3:d"))
    assert [r.id for r in fourth] == [retry.id]  # the channel's row is still the third's
    async with sample_sessions.begin() as session:
        await outbox.mark_sent(session, retry.id, 1)
    assert await run_write(sample_sessions, outbox.claimers) == ["third:2:c"]  # sent rows hold no claim
    assert await run_write(sample_sessions, lambda s: outbox.release(s, ["fourth:3:d", "third:2:c"])) == 1
    async with sample_sessions() as session:
        delivered = await session.get(OutboxMessage, retry.id)
    assert delivered is not None and delivered.claimed_by == "fourth:3:d"  # who delivered it stays recorded
    assert delivered.lease_until is None  # its lease ended with its wait (only waiting rows hold one)


async def test_latest_count_wins_calls_first_other_news_in_order(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7)]
    first = await count(sample_sessions, race_id, "general", 100, targets)
    await news(sample_sessions, race_id, "poll.add", targets, "poll")
    second = await count(sample_sessions, race_id, "general", 200, targets)
    await count(sample_sessions, race_id, "runoff", 50, targets)  # another stage: not replaced
    await call(sample_sessions, race_id, "winner", targets)
    await news(sample_sessions, race_id, "endorsement.add", targets, "endorsement")
    third = await count(sample_sessions, race_id, "general", 300, targets)
    await call(sample_sessions, race_id, "uncalled", targets)
    await news(sample_sessions, race_id, "undo", targets, "correction")
    delivered: list[tuple[int, str, str, int, str]] = []
    await drain(sample_sessions, "one", delivered, limit=3)
    for target in targets:
        tags = [tag for _, _, kind, tid, tag in delivered if (kind, tid) == (target.kind, target.id)]
        assert tags == [
            "call winner",
            "call uncalled",
            "poll",
            "count runoff 50",
            "endorsement",
            "count general 300",
            "correction",
        ], tags
    async with sample_sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    superseded = {(r.audit_id, r.target_id): r.superseded_by for r in rows if r.status == "superseded"}
    assert superseded == {(first, 11): second, (first, 7): second, (second, 11): third, (second, 7): third}
    assert {r.last_error for r in rows if r.status == "superseded"} == {outbox.SUPERSEDED}
    assert all(r.status == "sent" for r in rows if r.status != "superseded")
    assert {r.kind for r in rows} == {"count", "call", "news"}


async def test_a_count_to_other_targets_or_already_claimed_is_not_superseded(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    channel, member = Target(CHANNEL, 11, None, 1), Target(DM, 7)
    left, twin = Target(CHANNEL, 33, None, 3), Target(CHANNEL, 22, None, 2)
    await count(sample_sessions, race_id, "general", 100, [channel, member, left, twin])
    now = dt.datetime.now(dt.UTC)
    in_flight = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 1, "one:1:a"))
    assert [(r.target_kind, r.target_id) for r in in_flight] == [(CHANNEL, 11)]
    # The member stopped following and server 3 cleared its channel; a member 22 and a channel 7 appeared.
    await count(sample_sessions, race_id, "general", 200, [channel, Target(DM, 22), Target(CHANNEL, 7)])
    async with sample_sessions() as session:
        rows = {
            (r.target_kind, r.target_id, r.payload["content"]): r.status
            for r in await session.scalars(select(OutboxMessage))
        }
    # The claimed row is on its way (the newer count follows it); no other target has a newer count.
    old, new = "count general 100", "count general 200"
    assert rows == {
        (CHANNEL, 11, old): "pending",
        (DM, 7, old): "pending",
        (CHANNEL, 33, old): "pending",
        (CHANNEL, 22, old): "pending",
        (CHANNEL, 11, new): "pending",
        (DM, 22, new): "pending",
        (CHANNEL, 7, new): "pending",
    }


async def test_undoing_a_count_before_delivery_brings_back_the_one_it_replaced(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7)]
    first = await count(sample_sessions, race_id, "general", 100, targets)
    second = await count(sample_sessions, race_id, "general", 200, targets)

    async def undo_second(session: AsyncSession) -> outbox.Correction:
        entry = await record(session, MODERATOR, "undo", "result_snapshots", 2, race_id=race_id)
        body = {"content": "undone", "embeds": []}
        return await outbox.correct(
            session, original_audit_id=second, audit_id=entry.id, race_id=race_id, body=body
        )

    correction = await run_write(sample_sessions, undo_second)
    assert (correction.queued.total, correction.withdrawn) == (0, 2)
    async with sample_sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    by_audit = {(r.audit_id, r.target_id): r.status for r in rows if r.audit_id in (first, second)}
    assert by_audit == {
        (first, 11): "pending",
        (first, 7): "pending",
        (second, 11): "dropped",
        (second, 7): "dropped",
    }


async def test_an_undone_count_brings_back_what_it_replaced_only_where_it_never_arrived(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    arrived, waiting, member = Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2), Target(DM, 7)
    targets = [arrived, waiting, member]
    first = await count(sample_sessions, race_id, "general", 100, targets)
    now = dt.datetime.now(dt.UTC)
    # A process took the first count and died: its lease ran out a minute ago (here: a lease of -60 s).
    dead = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "gone:1:a", lease=-60))
    assert len(dead) == 3
    second = await count(sample_sessions, race_id, "general", 200, targets)
    other_stage = await count(sample_sessions, race_id, "runoff", 50, targets)
    await count(sample_sessions, race_id, "runoff", 60, targets)  # supersedes the runoff's, not ours
    async with sample_sessions() as session:
        statuses = {r.status for r in await session.scalars(select(OutboxMessage))}
        second_rows = {
            r.target_id: r.id
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == second))
        }
    assert statuses == {"superseded", "pending"}
    async with sample_sessions.begin() as session:  # the second count reached channel 11 before the undo
        await outbox.mark_sent(session, second_rows[11], 1)

    async def undo(original: int) -> outbox.Correction:
        async def work(session: AsyncSession) -> outbox.Correction:
            entry = await record(session, MODERATOR, "undo", "result_snapshots", 1, race_id=race_id)
            body = {"content": f"undone {original}", "embeds": []}
            return await outbox.correct(
                session, original_audit_id=original, audit_id=entry.id, race_id=race_id, body=body
            )

        return await run_write(sample_sessions, work)

    correction = await undo(second)
    assert (correction.queued.channels, correction.queued.dms, correction.withdrawn) == (1, 0, 2)
    async with sample_sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    firsts = {r.target_id: r for r in rows if r.audit_id == first}
    assert firsts[11].status == "superseded" and firsts[11].superseded_by == second  # 11 has the newer one
    for target in (22, 7):  # the second never arrived there: the first is the stage's count there again
        row = firsts[target]
        assert (row.status, row.superseded_by, row.last_error, row.claimed_by) == (
            "pending",
            None,
            None,
            None,
        )
    assert {r.status for r in rows if r.audit_id == other_stage} == {"superseded"}
    now = dt.datetime.now(dt.UTC)
    due = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 20, "next:2:b"))
    assert sorted((r.target_id, r.payload["content"]) for r in due if r.audit_id == first) == [
        (7, "count general 100"),
        (22, "count general 100"),
    ]
    # Undoing a count that was superseded everywhere it went corrects nothing: nobody received it.
    nothing = await undo(other_stage)
    assert (nothing.queued.total, nothing.withdrawn, nothing.announced) == (0, 0, False)
    async with sample_sessions() as session:
        told = [
            r for r in await session.scalars(select(OutboxMessage)) if "undone" in str(r.payload["content"])
        ]
    assert sorted((r.target_id, r.status) for r in told) == [(7, "dropped"), (11, "pending"), (22, "dropped")]


async def test_a_correction_pings_the_role_its_original_pinged_and_a_drop_keeps_why(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    pinging, quiet = Target(CHANNEL, 22, 222, 2), Target(CHANNEL, 11, None, 1)
    original = await call(sample_sessions, race_id, "winner", [pinging, quiet, Target(DM, 7)], ping=True)
    async with sample_sessions() as session:
        rows = {r.target_id: r for r in await session.scalars(select(OutboxMessage))}
    assert rows[22].payload["allowed_mentions"] == {"parse": [], "roles": ["222"]}
    async with sample_sessions.begin() as session:
        await outbox.mark_sent(session, rows[11].id, 1)
        await outbox.mark_sent(session, rows[22].id, 1)
        await outbox.mark_dropped(session, rows[7].id, "403 " + "x" * 3000, attempts=4)
        await outbox.mark_dropped(session, rows[11].id, "too late: it was sent", attempts=9)
    async with sample_sessions() as session:
        dropped = await session.get(OutboxMessage, rows[7].id)
        sent = await session.get(OutboxMessage, rows[11].id)
    assert dropped is not None and sent is not None
    assert (dropped.status, dropped.attempts, len(dropped.last_error or "")) == ("dropped", 4, 2000)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)  # a sent row stays sent
    # The original pinged the server's role (kept in its row): its correction pings it too, there only.

    async def undo(session: AsyncSession) -> outbox.Correction:
        entry = await record(session, MODERATOR, "undo", "calls", 1, race_id=race_id)
        body = {"content": "withdrawn", "embeds": []}
        return await outbox.correct(
            session, original_audit_id=original, audit_id=entry.id, race_id=race_id, body=body, ping=True
        )

    correction = await run_write(sample_sessions, undo)
    assert (correction.queued.channels, correction.queued.dms, correction.withdrawn) == (2, 0, 0)
    async with sample_sessions() as session:
        told = {
            r.target_id: (r.payload["content"], r.payload["allowed_mentions"], r.guild_id)
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id != original))
        }
    assert told == {
        22: ("<@&222> withdrawn", {"parse": [], "roles": ["222"]}, 2),
        11: ("withdrawn", {"parse": []}, 1),
    }


async def rows_of(sessions: Sessions, audit_id: int) -> dict[tuple[str, int], OutboxMessage]:
    async with sessions() as session:
        found = await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == audit_id))
        return {(r.target_kind, r.target_id): r for r in found}


async def undo_of(
    sessions: Sessions, race_id: int, original: int, tag: str, **ping: bool
) -> outbox.Correction:
    """An undo of the write `original`, its correction tagged `tag` (`ping`, when given, passed on)."""

    async def work(session: AsyncSession) -> outbox.Correction:
        entry = await record(session, MODERATOR, "undo", "calls", 1, race_id=race_id)
        body = {"content": tag, "embeds": []}
        return await outbox.correct(
            session, original_audit_id=original, audit_id=entry.id, race_id=race_id, body=body, **ping
        )

    return await run_write(sessions, work)


async def test_a_correction_goes_where_the_original_arrived_and_records_every_target(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    closed, pinging, member = Target(CHANNEL, 33, 333, 3), Target(CHANNEL, 22, 222, 2), Target(DM, 7)
    original = await call(sample_sessions, race_id, "winner", [closed, pinging, member], ping=True)
    rows = await rows_of(sample_sessions, original)
    async with sample_sessions.begin() as session:
        await outbox.mark_dropped(session, rows[CHANNEL, 33].id, "403 Missing Access")  # the first row
        await outbox.mark_sent(session, rows[CHANNEL, 22].id, 1)
    # Undone: told where it arrived (without a ping unless asked), withdrawn where it waited, nothing where
    # it was dropped; the not-needed correction is kept for the target it was withdrawn from.
    correction = await undo_of(sample_sessions, race_id, original, "withdrawn")
    assert (correction.queued.channels, correction.queued.dms, correction.withdrawn) == (1, 0, 1)
    rows = await rows_of(sample_sessions, original)
    assert rows[CHANNEL, 33].attempts == 1 and rows[CHANNEL, 33].last_error == "403 Missing Access"
    assert (rows[DM, 7].status, rows[DM, 7].last_error) == ("dropped", outbox.WITHDRAWN)
    async with sample_sessions() as session:
        told = {
            (r.target_kind, r.target_id): (
                r.status,
                r.last_error,
                r.race_id,
                r.payload["content"],
                r.payload["allowed_mentions"],
            )
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id > original))
        }
    assert told == {
        (CHANNEL, 22): ("pending", None, race_id, "withdrawn", {"parse": []}),
        (DM, 7): ("dropped", outbox.NOT_NEEDED, race_id, "withdrawn", {"parse": []}),
    }
    # An undo of a write that queued nothing corrects nothing.
    nothing = await undo_of(sample_sessions, race_id, original + 1000, "nothing")
    assert (nothing.queued, nothing.withdrawn, nothing.announced) == (outbox.Enqueued(), 0, False)


async def test_an_undone_count_revives_the_older_one_only_where_its_own_row_was_withdrawn(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    # A channel and a member with the same id, a channel that refuses the bot, a member whose DM is retried.
    channel, member, refusing, retried = (
        Target(CHANNEL, 7, None, 1),
        Target(DM, 7),
        Target(CHANNEL, 11, None, 2),
        Target(DM, 8),
    )
    targets = [channel, member, refusing, retried]
    first = await count(sample_sessions, race_id, "general", 100, targets)
    waiting = (await rows_of(sample_sessions, first))[DM, 8]
    waiting.attempts = 1
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, waiting, "Discord answered 503", 300))
    second = await count(sample_sessions, race_id, "general", 200, targets)
    assert {r.status for r in (await rows_of(sample_sessions, first)).values()} == {"superseded"}
    seconds = await rows_of(sample_sessions, second)
    async with sample_sessions.begin() as session:
        await outbox.mark_sent(session, seconds[CHANNEL, 7].id, 1)
        await outbox.mark_dropped(session, seconds[CHANNEL, 11].id, "403 Missing Access", 1)
    # A poll to the channel, undone while it waited: withdrawn there, by another write.
    poll = await news(sample_sessions, race_id, "poll.add", [channel], "poll")
    await undo_of(sample_sessions, race_id, poll, "poll undone")
    correction = await undo_of(sample_sessions, race_id, second, "count undone")
    assert (correction.queued.channels, correction.withdrawn) == (1, 2)
    firsts = await rows_of(sample_sessions, first)
    assert {key: (r.status, r.superseded_by) for key, r in firsts.items()} == {
        (CHANNEL, 7): ("superseded", second),  # the newer count arrived there
        (CHANNEL, 11): ("superseded", second),  # the newer count was refused there, not withdrawn
        (DM, 7): ("pending", None),
        (DM, 8): ("pending", None),
    }
    # Revived counts are due at once, also the one whose retry was still minutes away when it was replaced.
    now = dt.datetime.now(dt.UTC)
    due = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 20, "next:1:a"))
    assert sorted((r.target_kind, r.target_id) for r in due if r.audit_id == first) == [(DM, 7), (DM, 8)]


async def test_a_count_is_superseded_from_the_moment_its_claim_s_lease_ends(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7)]
    first = await count(sample_sessions, race_id, "general", 100, targets)
    now = dt.datetime.now(dt.UTC)
    taken = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "slow:1:a", lease=60))
    assert len(taken) == 2
    second = await count(sample_sessions, race_id, "general", 200, targets)  # the claim holds: not replaced
    assert {r.status for r in (await rows_of(sample_sessions, first)).values()} == {"pending"}
    contest_id = taken[0].contest_id
    assert contest_id is not None
    ends = now + dt.timedelta(seconds=60)
    # At the lease's last moment another process may claim the rows (`due`); so the newer count replaces them.
    async with sample_sessions() as session:
        assert [
            r.id for r in await outbox.due(session, ends, claimer="other:2:b") if r.audit_id == first
        ] == [r.id for r in sorted(taken, key=lambda r: r.id)]
    before = ends - dt.timedelta(microseconds=1)
    assert await run_write(sample_sessions, lambda s: outbox.supersede(s, second, contest_id, before)) == 0
    assert await run_write(sample_sessions, lambda s: outbox.supersede(s, second, contest_id, ends)) == 2
    assert await run_write(sample_sessions, lambda s: outbox.supersede(s, second, contest_id, ends)) == 0
    assert {r.status for r in (await rows_of(sample_sessions, first)).values()} == {"superseded"}


async def test_releasing_a_claimer_frees_its_rows_only(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    poll = await news(
        sample_sessions, race_id, "poll.add", [Target(CHANNEL, 11, None, 1), Target(DM, 7)], "p"
    )
    now = dt.datetime.now(dt.UTC)
    one = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 1, "one:1:a"))
    two = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 1, "two:2:b"))
    assert len(one) == len(two) == 1
    assert await run_write(sample_sessions, lambda s: outbox.release(s, ["nobody:3:c"])) == 0
    assert await run_write(sample_sessions, lambda s: outbox.release(s, ["one:1:a"])) == 1
    rows = await rows_of(sample_sessions, poll)
    assert {(r.id, r.claimed_by) for r in rows.values()} == {(one[0].id, None), (two[0].id, "two:2:b")}
    assert await run_write(sample_sessions, outbox.claimers) == ["two:2:b"]


async def test_a_retry_or_drop_of_a_withdrawn_row_leaves_it_withdrawn(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    targets = [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2), Target(DM, 7)]
    poll = await news(sample_sessions, race_id, "poll.add", targets, "poll")
    now = dt.datetime.now(dt.UTC)
    taken = {
        (r.target_kind, r.target_id): r
        for r in await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "one:1:a"))
    }
    member = taken[DM, 7]
    member.attempts = 3
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, member, "503 " + "x" * 3000, 1))
    async with sample_sessions.begin() as session:  # a drop with no count of attempts: it was tried once
        await outbox.mark_dropped(session, taken[CHANNEL, 22].id, "404 Unknown Channel")
    rows = await rows_of(sample_sessions, poll)
    assert (rows[DM, 7].attempts, len(rows[DM, 7].last_error or ""), rows[DM, 7].status) == (
        3,
        2000,
        "pending",
    )
    assert (rows[CHANNEL, 22].attempts, rows[CHANNEL, 22].status) == (1, "dropped")
    # Undone while channel 11's send is in flight; the send then fails and is to be retried, or dropped.
    assert (await undo_of(sample_sessions, race_id, poll, "undone")).withdrawn == 2
    channel = taken[CHANNEL, 11]
    channel.attempts = 1
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, channel, "Discord answered 503", 1))
    async with sample_sessions.begin() as session:
        await outbox.mark_dropped(session, member.id, "403 closed DMs", 4)
    rows = await rows_of(sample_sessions, poll)
    assert {key: (r.status, r.last_error) for key, r in rows.items()} == {
        (CHANNEL, 11): ("dropped", outbox.WITHDRAWN),
        (CHANNEL, 22): ("dropped", "404 Unknown Channel"),
        (DM, 7): ("dropped", outbox.WITHDRAWN),
    }


async def test_a_delivery_is_recorded_once_and_revives_only_its_own_target_s_correction(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    # A channel and a member with the same id, and two more members; member 7's DMs are closed to old news.
    channel, member, other, third = Target(CHANNEL, 7, None, 1), Target(DM, 7), Target(DM, 8), Target(DM, 9)
    old = await news(sample_sessions, race_id, "poll.add", [member], "old poll")
    async with sample_sessions.begin() as session:
        await outbox.mark_dropped(session, (await rows_of(sample_sessions, old))[DM, 7].id, "403 closed DMs")
    poll = await news(sample_sessions, race_id, "poll.add", [channel, member, other, third], "poll")
    now = dt.datetime.now(dt.UTC)
    taken = {
        (r.target_kind, r.target_id): r
        for r in await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "one:1:a", lease=60))
    }
    assert {r.lease_until for r in taken.values()} == {now + dt.timedelta(seconds=60)}
    retried = taken[DM, 9]
    retried.attempts = 1
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, retried, "Discord answered 503", 0))
    before = dt.datetime.now(dt.UTC)
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent(session, retried.id, 909, attempts=2) is True
        assert await outbox.mark_sent(session, retried.id, 909, attempts=2) is True  # recorded twice: no harm
        assert await outbox.mark_sent(session, 10**9, 1) is True  # a row no longer stored
    after = dt.datetime.now(dt.UTC)
    sent = (await rows_of(sample_sessions, poll))[DM, 9]
    assert (sent.status, sent.message_id, sent.attempts, sent.last_error) == ("sent", 909, 2, None)
    assert sent.sent_at is not None and before <= sent.sent_at <= after
    # Undone while the channel's, member 7's and member 8's sends are in flight: all three withdrawn.
    assert (await undo_of(sample_sessions, race_id, poll, "undone")).withdrawn == 3
    async with sample_sessions() as session:
        entry = await session.get(AuditEntry, poll)
        undo_id = max(r.audit_id or 0 for r in await session.scalars(select(OutboxMessage)))
        assert entry is not None
        entry.undone_by_id = undo_id
        await session.commit()
    # Member 7's send had reached Discord after all: its correction follows, and no other one.
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent(session, taken[DM, 7].id, 707) is False
    async with sample_sessions() as session:
        everything = list(await session.scalars(select(OutboxMessage)))
    states = {(r.audit_id, r.target_kind, r.target_id): (r.status, r.last_error) for r in everything}
    assert states == {
        (old, DM, 7): ("dropped", "403 closed DMs"),
        (poll, CHANNEL, 7): ("dropped", outbox.WITHDRAWN),
        (poll, DM, 7): ("sent", None),
        (poll, DM, 8): ("dropped", outbox.WITHDRAWN),
        (poll, DM, 9): ("sent", None),
        (undo_id, CHANNEL, 7): ("dropped", outbox.NOT_NEEDED),
        (undo_id, DM, 7): ("pending", None),
        (undo_id, DM, 8): ("dropped", outbox.NOT_NEEDED),
        (undo_id, DM, 9): ("pending", None),
    }
    # A row dropped for good stays dropped, whatever a late delivery says.
    async with sample_sessions.begin() as session:
        dropped_old = (await rows_of(sample_sessions, old))[DM, 7].id
        assert await outbox.mark_sent(session, dropped_old, 1) is True
    assert (await rows_of(sample_sessions, old))[DM, 7].status == "dropped"


async def test_only_a_waiting_or_claimed_pending_row_holds_back_its_own_target(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    channel, member, other = Target(CHANNEL, 7, None, 1), Target(DM, 7), Target(DM, 8)
    first = await news(sample_sessions, race_id, "poll.add", [channel, member, other], "first")
    rows = await rows_of(sample_sessions, first)
    # Due from the very moment it was queued.
    async with sample_sessions() as session:
        at_once = await outbox.due(session, rows[CHANNEL, 7].next_attempt_at)
    assert {(r.target_kind, r.target_id) for r in at_once} == {(CHANNEL, 7), (DM, 7), (DM, 8)}
    now = dt.datetime.now(dt.UTC)
    taken = await run_write(sample_sessions, lambda s: outbox.claim(s, now, 10, "one:1:a", lease=60))
    member_row = next(r for r in taken if r.target_kind == DM and r.target_id == 7)
    member_row.attempts = 1
    await run_write(sample_sessions, lambda s: outbox.reschedule(s, member_row, "Discord answered 503", 30))
    async with sample_sessions.begin() as session:  # the first process delivered to channel 7 and member 8
        for row in taken:
            if row.id != member_row.id:
                await outbox.mark_sent(session, row.id, 1)
    second = await news(sample_sessions, race_id, "poll.add", [channel, member, other], "second")
    # Another process, within the first one's lease: its delivered rows hold nothing back; member 7's DM
    # waits behind the retry, and the channel with the same id does not.
    async with sample_sessions() as session:
        due = await outbox.due(session, now + dt.timedelta(seconds=1), claimer="two:2:b")
    assert sorted((r.audit_id, r.target_kind, r.target_id) for r in due) == [
        (second, CHANNEL, 7),
        (second, DM, 8),
    ]


async def test_a_look_at_what_is_due_takes_200_rows_unless_told(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    await news(sample_sessions, race_id, "poll.add", [Target(DM, 1000 + n) for n in range(201)], "poll")
    now = dt.datetime.now(dt.UTC)
    async with sample_sessions() as session:
        assert len(await outbox.due(session, now)) == 200
        assert len(await outbox.due(session, now, 201)) == 201


async def test_a_rows_body_race_and_shard(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
    even, odd = (
        next(snowflake(n) for n in range(9) if (snowflake(n) >> 22) % 2 == shard) for shard in (0, 1)
    )
    # A pinging server's channel whose own id falls on the other shard; a channel stored before servers
    # were recorded; a member.
    pinging, unknown, member = Target(CHANNEL, odd, 222, even), Target(CHANNEL, 11), Target(DM, odd)
    long = "x" * 2000
    async with sample_sessions.begin() as session:
        entry = await record(session, MODERATOR, "poll.add", "polls", 1, race_id=race_id)
        await outbox.enqueue(
            session,
            audit_id=entry.id,
            race_id=race_id,
            body={"content": long},
            targets=[pinging, unknown, member],
        )
        pinged = await record(session, MODERATOR, "poll.add", "polls", 2, race_id=race_id)
        await outbox.enqueue(
            session, audit_id=pinged.id, race_id=race_id, body={"content": long}, targets=[pinging], ping=True
        )
    quiet, loud = await rows_of(sample_sessions, entry.id), await rows_of(sample_sessions, pinged.id)
    assert {key: (r.race_id, r.payload) for key, r in quiet.items()} == {
        key: (race_id, {"content": long, "embeds": [], "allowed_mentions": {"parse": []}}) for key in quiet
    }
    ping_text = loud[CHANNEL, odd].payload["content"]
    assert ping_text == ("<@&222> " + long)[:2000] and len(ping_text) == 2000  # Discord's limit
    now = dt.datetime.now(dt.UTC)
    async with sample_sessions() as session:
        shard_0 = await outbox.due(session, now, shards=Shards(2, frozenset({0})))
        shard_1 = await outbox.due(session, now, shards=Shards(2, frozenset({1})))
    # The channel goes by its server's shard, the member by their own; the unknown server's channel to any.
    assert sorted((r.audit_id, r.target_kind, r.target_id) for r in shard_0) == [
        (entry.id, CHANNEL, 11),
        (entry.id, CHANNEL, odd),
        (pinged.id, CHANNEL, odd),
    ]
    assert sorted((r.target_kind, r.target_id) for r in shard_1) == [(CHANNEL, 11), (DM, odd)]


async def test_each_row_records_what_it_announces_and_of_which_stage(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        race_id = (await al2020(session)).id
        general = await session.scalar(
            select(Contest.id).where(Contest.race_id == race_id, Contest.stage == "general")
        )
    assert general is not None
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7)]
    counted = await count(sample_sessions, race_id, "general", 5000, targets)
    called = await call(sample_sessions, race_id, "winner", targets)
    uncalled = await call(sample_sessions, race_id, "uncall", targets)
    polled = await news(sample_sessions, race_id, "poll.add", targets, "poll")
    recorded = {
        audit_id: {(r.kind, r.contest_id) for r in (await rows_of(sample_sessions, audit_id)).values()}
        for audit_id in (counted, called, uncalled, polled)
    }
    assert recorded == {
        counted: {("count", general)},
        called: {("call", general)},
        uncalled: {("call", general)},
        polled: {("news", None)},
    }


async def test_the_next_rows_are_read_along_the_index_of_pending_rows_not_all_sorted(
    sample_sessions: Sessions,
) -> None:
    """Each round reads the calls, then the rest, in id order along the indexes of the pending rows alone, and
    stops at the rows asked for (migration 0008): neither database reads every pending row and sorts them,
    which made a round's cost grow with every row still waiting (131-138 ms on PostgreSQL at 60,000), also
    when PostgreSQL's statistics have not seen the rows (the claim penalises sorts there). Whether a row's
    target is held back (a retry to wait for, another process's claim) is a seek for each row (migration
    0009), not a read of every row waiting for that target."""
    async with sample_sessions.begin() as session:
        race_id = (await al2020(session)).id
        await session.execute(
            insert(GuildSettings),
            [{"guild_id": snowflake(n), "results_channel_id": n + 1} for n in range(500)],
        )
        followers = [{"user_id": snowflake(n), "race_id": race_id, "guild_id": 1} for n in range(1000)]
        await session.execute(insert(Follow), followers)
        postgres = session.get_bind().dialect.name == "postgresql"

    async def burst() -> None:  # 3,000 rows, made by the database
        for _ in range(2):
            async with sample_sessions.begin() as session:
                entry = await record(session, MODERATOR, "poll.add", "polls", 1, race_id=race_id)
                await outbox.enqueue(session, audit_id=entry.id, race_id=race_id, body={"content": "poll"})

    await burst()
    async with sample_sessions.begin() as session:  # all delivered, and the server's statistics say so
        await session.execute(text("UPDATE outbox SET status = 'sent'"))
    if postgres:
        async with sample_sessions.begin() as session:
            await session.execute(text("ANALYZE outbox"))
    await burst()  # a new burst, which the statistics have not seen
    await call(
        sample_sessions, race_id, "winner", [Target(CHANNEL, n + 1, None, snowflake(n)) for n in range(4)]
    )
    shards = Shards(2, frozenset({0}))
    async with sample_sessions.begin() as session:  # as a claim does
        dialect = session.get_bind().dialect
        await outbox._claim_lock(session)
        if postgres:
            assert await session.scalar(text("SHOW enable_sort")) == "off"
        for calls in (True, False):
            statement = outbox._due_statement(calls, True, shards, lock=True)
            values = {"now": dt.datetime.now(dt.UTC), "claimer": "one:2:a", "limit": 30}
            sql = str(
                statement.params(values).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            )
            index = "ix_outbox_pending_calls" if calls else "ix_outbox_pending"
            if postgres:
                plan = json_plan(await session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}")))
                read = [node for node in plan if node.get("Alias") == "outbox"]
                assert [(n["Node Type"], n.get("Index Name")) for n in read] == [("Index Scan", index)], plan
                assert not {n["Node Type"] for n in plan} & {"Sort", "Incremental Sort"}, plan
                # The targets held back (migration 0009): the rows waiting a retry, found by their retry time
                # (by target or not), and the rows under a lease by their own index, never every pending row.
                held = {n.get("Alias"): (n.get("Index Name"), str(n.get("Index Cond"))) for n in plan}
                assert held["held"][0] in ("ix_outbox_pending_next", "ix_outbox_pending_target_next"), plan
                assert "next_attempt_at >" in held["held"][1], plan
                assert held["claimed"][0] == "ix_outbox_leased_target", plan
            else:
                plan = [row[3] for row in await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
                assert plan[0] == f"SCAN outbox USING INDEX {index}", plan
                assert not any("TEMP B-TREE" in step for step in plan), plan
                assert (
                    "SEARCH held USING INDEX ix_outbox_pending_target_next "
                    "(target_kind=? AND target_id=? AND next_attempt_at>?)"
                ) in plan, plan
                assert (
                    "SEARCH claimed USING INDEX ix_outbox_leased_target (target_kind=? AND target_id=?)"
                    in plan
                )
    if postgres:  # only for the claim's transaction
        async with sample_sessions() as session:
            assert await session.scalar(text("SHOW enable_sort")) == "on"
    async with sample_sessions() as session:
        pending = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")))
        found = await outbox.due(session, dt.datetime.now(dt.UTC), 30, claimer="one:2:a", shards=shards)

    def ours(row: OutboxMessage) -> bool:
        key = row.guild_id if row.target_kind == CHANNEL else row.target_id
        return key is None or (key >> 22) % 2 == 0

    expected = sorted((r for r in pending if ours(r)), key=lambda r: (r.kind != "call", r.id))[:30]
    assert [r.id for r in found] == [r.id for r in expected]
    assert found[0].kind == "call" and found[-1].kind == "news"  # both passes gave rows


def json_plan(explained: object) -> list[dict[str, object]]:
    """Every node of a PostgreSQL plan given as JSON (EXPLAIN (FORMAT JSON))."""
    nodes: list[dict[str, object]] = []
    pending = [cast(list[dict[str, Any]], explained)[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes

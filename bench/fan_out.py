"""What queueing one announcement costs the bot, with 500 results channels and 1,000 followers of the race.

A desk write queues one outbox row per target in its own transaction (db/outbox.py). Measured, in turn
within one run on the same store: the rows made by the database from the targets' tables (`enqueue`
without targets: what a count, a poll or an endorsement does), against the targets listed and each row
built in Python (`enqueue` given the targets: what a call that pings a role does, and what every write did
before). Reported per enqueue, p50 over `--samples` each: the wall time, and the process's CPU time; on
PostgreSQL that CPU time is the time the bot's event loop is held (no member is answered meanwhile), on
SQLite it includes aiosqlite's thread. Every enqueue is checked to have stored a row for every target. The
rows stay pending (both ways alike: about `2 × samples × targets` rows by the end).

Then what the announcer pays each round to claim the next 30 of those rows (`outbox.claim`, as a process
holding both shards of two): the p50 wall and CPU time per claim over `--samples` claims.

Last, what clearing the rows done with costs (`outbox.purge`, as the announcer runs it every hour): every
row is marked sent and the older half of the writes made a month old; timed, a pass when nothing is old
enough (every row is recent), then clearing the older half, a batch a transaction, per 1,000 rows against
the enqueue's wall time per 1,000 rows made by the database (both measured in the same run). The rows left
are checked to be exactly those of the recent writes.

On PostgreSQL, then, a claim right after a burst its statistics have not seen: with every row sent, the
table is analysed (autovacuum held off for the measurement), `--burst` announcements are queued (1,500 rows
each), and claims are timed; then the table is analysed again and claims timed once more (the baseline).
The planner then believed no row was pending, and a claim that let it choose read every pending row.

`--postgres URL` measures on that PostgreSQL database too (it is emptied first: give one of its own).

    python bench/fan_out.py [--channels 500] [--followers 1000] [--samples 20] [--burst 100] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from common import empty_database  # (also puts the project on the path)
from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker, upgrade
from db.models import AuditEntry, Follow, GuildSettings, OutboxMessage, Race
from db.outbox import PURGE_BATCH, Shards, claim, enqueue, purge, targets_for

BODY: dict[str, Any] = {
    "content": "📊 **2020 Alabama U.S. Senate (Class II)** · General: new count",
    "dm_content": "You follow this race. Stop with !unfollow alabama.",
    "embeds": [
        {
            "title": "2020 Alabama U.S. Senate (Class II)",
            "description": "General · 45% of the expected vote counted",
            "fields": [
                {"name": f"Candidate {i}", "value": "123,456 votes · 45.6%", "inline": True} for i in range(4)
            ],
            "footer": {"text": "Source: the desk"},
        }
    ],
}
WAYS = ("made by the database", "listed in Python")


async def store_with_targets(url: str, channels: int, followers: int) -> tuple[AsyncEngine, int]:
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await load_sample(session)
        race_id = int((await session.scalars(select(Race.id).order_by(Race.id))).first() or 0)
        base = 10**17
        session.add_all(
            [
                GuildSettings(guild_id=base + g, results_channel_id=base + channels + g)
                for g in range(channels)
            ]
        )
        session.add_all(
            [
                Follow(user_id=base + 2 * channels + u, race_id=race_id, guild_id=base)
                for u in range(followers)
            ]
        )
    return engine, race_id


async def new_write(session: AsyncSession) -> int:
    """The audit id of a write (a poll) for an announcement to hang on."""
    entry = AuditEntry(action="poll.add", entity="polls", actor_name="bench")
    session.add(entry)
    await session.flush()
    return entry.id


async def measure(
    engine: AsyncEngine, race_id: int, samples: int, expected: int
) -> dict[str, tuple[float, float]]:
    """p50 wall and CPU milliseconds per enqueue, each way, the two ways in turn (after one of each to warm
    up)."""
    sessions = make_sessionmaker(engine)
    walls: dict[str, list[float]] = {way: [] for way in WAYS}
    cpus: dict[str, list[float]] = {way: [] for way in WAYS}
    for i in range(2 * (samples + 1)):
        way = WAYS[i % 2]
        async with sessions.begin() as session:
            audit_id = await new_write(session)
            wall, cpu = time.perf_counter(), time.process_time()
            targets = await targets_for(session, race_id) if way == WAYS[1] else None
            await enqueue(session, audit_id=audit_id, race_id=race_id, body=BODY, targets=targets)
            if i >= 2:
                walls[way].append(time.perf_counter() - wall)
                cpus[way].append(time.process_time() - cpu)
        async with sessions() as session:
            stored = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.audit_id == audit_id)
            )
        if stored != expected:
            raise AssertionError(f"{way}: {stored} rows stored, {expected} targets")
    return {way: (statistics.median(walls[way]) * 1000, statistics.median(cpus[way]) * 1000) for way in WAYS}


CLAIMED = 30  # rows a round of the announcer claims (cogs/announcer.py: AnnouncerCog.batch)


async def measure_claims(engine: AsyncEngine, samples: int) -> tuple[float, float]:
    """p50 wall and CPU milliseconds per claim of the next CLAIMED rows (after one to warm up)."""
    sessions = make_sessionmaker(engine)
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(samples + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        async with sessions.begin() as session:
            rows = await claim(
                session, dt.datetime.now(dt.UTC), CLAIMED, "bench", Shards(2, frozenset({0, 1}))
            )
        if i >= 1:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        if len(rows) != CLAIMED:
            raise AssertionError(f"{len(rows)} rows claimed, {CLAIMED} asked")
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


async def measure_purge(engine: AsyncEngine) -> tuple[float, float, int]:
    """Milliseconds for a pass with nothing old enough, and per 1,000 rows cleared; how many were cleared."""
    sessions = make_sessionmaker(engine)
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        await session.execute(update(OutboxMessage).values(status="sent", claimed_by=None, lease_until=None))
        writes = sorted(await session.scalars(select(AuditEntry.id)))
        last_old = writes[len(writes) // 2]
        month_ago = now - dt.timedelta(days=31)
        await session.execute(update(AuditEntry).where(AuditEntry.id <= last_old).values(at=month_ago))
        old_rows = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.audit_id <= last_old)
        )
        all_rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    wall = time.perf_counter()
    async with sessions.begin() as session:
        if await purge(session, month_ago - dt.timedelta(days=1)) != 0:
            raise AssertionError("rows of recent writes were cleared")
    nothing = (time.perf_counter() - wall) * 1000
    cleared = 0
    wall = time.perf_counter()
    while True:
        async with sessions.begin() as session:
            batch = await purge(session, now - dt.timedelta(days=30))
        cleared += batch
        if batch < PURGE_BATCH:
            break
    per_thousand = (time.perf_counter() - wall) * 1000 / cleared * 1000
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(OutboxMessage))
        oldest_left = await session.scalar(select(func.min(OutboxMessage.audit_id)))
    if cleared != old_rows or left != all_rows - old_rows or (oldest_left or 0) <= last_old:
        raise AssertionError(f"cleared {cleared} of {old_rows} old rows; {left} left of {all_rows}")
    return nothing, per_thousand, cleared


async def analyse(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE outbox"))


async def measure_claims_after_a_burst(
    engine: AsyncEngine, race_id: int, announcements: int, samples: int
) -> tuple[int, float, float]:
    """Rows pending, and p50 wall milliseconds per claim before the statistics saw them and after."""
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await session.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
        await session.execute(update(OutboxMessage).values(status="sent", lease_until=None))
    try:
        await analyse(engine)  # the statistics: no row pending
        for _ in range(announcements):
            async with sessions.begin() as session:
                await enqueue(session, audit_id=await new_write(session), race_id=race_id, body=BODY)
        async with sessions() as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        unseen = (await measure_claims(engine, samples))[0]
        await analyse(engine)
        seen = (await measure_claims(engine, samples))[0]
    finally:
        async with sessions.begin() as session:
            await session.execute(text("ALTER TABLE outbox RESET (autovacuum_enabled)"))
    return int(pending or 0), unseen, seen


def report(database: str, found: dict[str, tuple[float, float]]) -> None:
    made, listed = found[WAYS[0]], found[WAYS[1]]
    for way, (wall, cpu) in found.items():
        print(f"{database:<10} {way:<21} wall p50 {wall:6.1f} ms   CPU p50 {cpu:6.1f} ms")
    print(
        f"{database:<10} made by the database: wall {made[0] / listed[0]:.2f}×, CPU {made[1] / listed[1]:.2f}× "
        "the rows listed in Python"
    )


def report_claims(database: str, found: tuple[float, float]) -> None:
    print(
        f"{database:<10} claiming {CLAIMED} rows        wall p50 {found[0]:6.1f} ms   CPU p50 {found[1]:6.1f} ms"
    )


def report_purge(
    database: str, found: tuple[float, float, int], enqueued: tuple[float, float], targets: int
) -> None:
    nothing, per_thousand, cleared = found
    made = enqueued[0] / targets * 1000
    print(
        f"{database:<10} clearing {cleared:,} rows done with: {per_thousand:.1f} ms per 1,000 "
        f"({per_thousand / made:.2f}× the {made:.1f} ms per 1,000 of queueing them); "
        f"a pass with none old enough {nothing:.1f} ms"
    )


def report_burst(found: tuple[int, float, float]) -> None:
    pending, unseen, seen = found
    print(
        f"PostgreSQL claiming {CLAIMED} rows of {pending:,} pending the statistics have not seen: p50 {unseen:.1f} ms; "
        f"once analysed {seen:.1f} ms ({unseen / seen:.2f}×)"
    )


async def main(channels: int, followers: int, samples: int, burst: int, postgres: str | None) -> None:
    print(
        f"One announcement to {channels} results channels and {followers} followers, {samples} samples each way"
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine, race_id = await store_with_targets(
            f"sqlite+aiosqlite:///{Path(tmp) / 'fan_out.db'}", channels, followers
        )
        try:
            enqueued = await measure(engine, race_id, samples, channels + followers)
            report("SQLite", enqueued)
            report_claims("SQLite", await measure_claims(engine, samples))
            report_purge("SQLite", await measure_purge(engine), enqueued[WAYS[0]], channels + followers)
        finally:
            await engine.dispose()
    if postgres:
        await empty_database(postgres)
        engine, race_id = await store_with_targets(postgres, channels, followers)
        try:
            enqueued = await measure(engine, race_id, samples, channels + followers)
            report("PostgreSQL", enqueued)
            report_claims("PostgreSQL", await measure_claims(engine, samples))
            report_purge("PostgreSQL", await measure_purge(engine), enqueued[WAYS[0]], channels + followers)
            report_burst(await measure_claims_after_a_burst(engine, race_id, burst, samples))
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--burst", type=int, default=100, help="announcements queued after the statistics")
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure on too (emptied first)")
    args = parser.parse_args()
    asyncio.run(main(args.channels, args.followers, args.samples, args.burst, args.postgres))

"""db/engine.py on SQLite: a write transaction holds the write lock from its start, so writes made from
reads never overwrite one another.

Python's sqlite3 driver opens a transaction only at the first INSERT, UPDATE or DELETE, so without
db/engine.py's own BEGIN IMMEDIATE a write transaction's reads ran outside it: two tasks that read a row and
then wrote it both succeeded, the second over the first (two bot tasks both claimed one feed's lease).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import for_writing, make_sessionmaker
from db.models import GuildSettings
from db.writes.retry import run_write


async def test_a_write_transaction_waits_for_the_one_before_and_reads_what_it_wrote(
    sqlite_engine: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    async with sessions.begin() as session:
        session.add(GuildSettings(guild_id=1, prefix="!"))
    first, second = sessions(), sessions()

    async def second_reads() -> str | None:
        async with second.begin():
            await for_writing(second)  # waits for the write lock
            return await second.scalar(select(GuildSettings.prefix))

    try:
        async with first.begin():
            await for_writing(first)
            assert await first.scalar(select(GuildSettings.prefix)) == "!"
            waiting = asyncio.ensure_future(second_reads())
            await asyncio.sleep(0.2)
            assert not waiting.done()  # the write lock is the first's until it commits
            await first.execute(update(GuildSettings).values(prefix="?"))
            await first.commit()
        assert await waiting == "?"
    finally:
        await first.close()
        await second.close()


async def test_concurrent_read_then_write_transactions_lose_no_update(sqlite_engine: AsyncEngine) -> None:
    """Ten tasks each read a counter, wait, and write it plus one, through run_write: all ten count."""
    sessions = make_sessionmaker(sqlite_engine)
    async with sessions.begin() as session:
        session.add(GuildSettings(guild_id=1, prefix="0"))

    async def add_one(session: AsyncSession) -> None:
        seen = int(await session.scalar(select(GuildSettings.prefix)) or 0)
        await asyncio.sleep(0.01)  # another task would read meanwhile
        await session.execute(update(GuildSettings).values(prefix=str(seen + 1)))

    await asyncio.gather(*(run_write(sessions, add_one) for _ in range(10)))
    async with sessions() as session:
        assert await session.scalar(select(GuildSettings.prefix)) == "10"

"""The error handler's replies that need a real database behind them: a read the server cancelled for its
timeout (db/pgread.py), asked with a prefix, with a slash command, and inside a permission check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cogs.support.errors import STORE_SLOW
from db.bootstrap import load_sample
from db.pgread import PostgresReader
from tests.support import World, running_bot, store_on

SLOW_MS = 300


@contextlib.asynccontextmanager
async def slow_world(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, World]]:
    """The sample on PostgreSQL, its bot's reader cancelling any statement after SLOW_MS."""
    async with (
        store_on("postgresql", tmp_path, "sample", load_sample) as engine,
        running_bot(engine) as world,
    ):
        reader = world.bot.store.reader
        assert isinstance(reader, PostgresReader)
        reader.timeout_ms = {True: SLOW_MS, False: SLOW_MS}
        await reader._release_held(kept=True)  # the connections held so far took the default timeouts
        yield engine, world


@contextlib.asynccontextmanager
async def locked(engine: AsyncEngine, table: str) -> AsyncIterator[None]:
    """`table` locked as an ALTER TABLE locks it, until the block ends."""
    async with engine.connect() as locker:
        await locker.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield
        await locker.rollback()


async def test_a_read_cancelled_by_its_timeout_gets_a_short_reply_and_the_next_one_answers(
    tmp_path: Path,
) -> None:
    """A member's `!race` stuck behind a lock (an operator's ALTER TABLE, say) past the reader's timeout is
    told the store is slow, not that something went wrong; asked again once the lock is gone, it answers.
    (A race asked by a person's name: the process's copies answer places and years without the store.)"""
    async with slow_world(tmp_path) as (engine, world):
        async with locked(engine, "races"):
            slow = await world.text("!race tuberville")
        assert slow == STORE_SLOW
        assert (await world.text("!race tuberville")).startswith("2020 Alabama U.S. Senate")


async def test_a_slash_command_cancelled_by_its_timeout_gets_the_same_reply(tmp_path: Path) -> None:
    async with slow_world(tmp_path) as (engine, world):
        async with locked(engine, "races"):
            exchange = await world.driver.slash(
                world.desk.id, world.desk_channel, world.member, "race", {"query": "tuberville"}
            )
        assert exchange.text == STORE_SLOW


async def test_a_permission_check_too_slow_to_read_refuses_with_the_reply_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Whether a member holds the desk's moderator role is read from the server's settings: when that read
    is cancelled the desk write is refused with the reply, and nothing is written."""
    async with slow_world(tmp_path) as (engine, world):
        async with engine.connect() as connection:
            calls = text("SELECT count(*) FROM calls")
            before = await connection.scalar(calls)
        async with locked(engine, "guild_settings"):
            refused = await world.say("!call alabama general tuberville", author=world.moderator)
        assert refused.ok is False and refused.text == STORE_SLOW
        async with engine.connect() as connection:
            assert await connection.scalar(calls) == before

"""The error handler's replies that need a real database behind them: a read the server cancelled."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from cogs.errors import STORE_SLOW
from db.bootstrap import load_sample
from db.pgread import PostgresReader
from tests.support import running_bot, store_on


async def test_a_read_cancelled_by_its_timeout_gets_a_short_reply_and_the_next_one_answers(
    tmp_path: Path,
) -> None:
    """A member's `!race` stuck behind a lock (an operator's ALTER TABLE, say) past the reader's timeout is
    told the store is slow, not that something went wrong; asked again once the lock is gone, it answers."""
    async with (
        store_on("postgresql", tmp_path, "sample", load_sample) as engine,
        running_bot(engine) as world,
    ):
        reader = world.bot.store.reader
        assert isinstance(reader, PostgresReader)
        reader.timeout_ms = 300
        await reader._release_held(kept=True)  # the connections held so far took the default timeout
        async with engine.connect() as locker:
            await locker.execute(text("LOCK TABLE races IN ACCESS EXCLUSIVE MODE"))
            slow = await world.text("!race alabama 2020")
            await locker.rollback()
        assert slow == STORE_SLOW
        assert (await world.text("!race alabama 2020")).startswith("2020 Alabama U.S. Senate")

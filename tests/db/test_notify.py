"""On PostgreSQL a write in one process drops the read caches of the others at once: the trigger's NOTIFY,
heard by db/notify.py's listener on a connection of its own, which reconnects when that connection is lost
and ends when it is stopped. The writes here come from a real second process, so the cache cannot have
been dropped by this process's own write."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.cache import ReadCache
from db.engine import make_engine, make_sessionmaker
from db.notify import WriteListener
from db.store import Store
from loopback.process import REPO_ROOT
from tests.support import until
from tests.support.stores import al2020, listeners_connected, sample_database

# Another process edits the race's notes through its own Store (an audited write).
WRITE = """
import asyncio, os, sys
from db.audit import Actor
from db.engine import make_engine, make_sessionmaker
from db.store import Store
from db.writes.races import RaceEdit, edit_race

async def main():
    engine = make_engine(os.environ["DATABASE_URL"])
    store = Store(make_sessionmaker(engine))
    edit = RaceEdit(int(sys.argv[1]), fields={"notes": sys.argv[2]})
    await store.write(lambda s: edit_race(s, Actor(id=7, name="desk", guild_id=1), edit))
    await store.close()
    await engine.dispose()

asyncio.run(main())
"""


@dataclass
class Listening:
    url: str
    engine: AsyncEngine
    store: Store
    listener: WriteListener
    race_id: int

    async def write_elsewhere(self, notes: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITE,
            str(self.race_id),
            notes,
            cwd=REPO_ROOT,
            env={**os.environ, "DATABASE_URL": self.url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, out.decode()

    async def notes(self) -> str | None:
        card = await self.store.race_card(self.race_id)
        assert card is not None
        return card.race.notes


@pytest.fixture
async def listening() -> AsyncIterator[Listening]:
    async with sample_database() as url:
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            race_id = (await al2020(session)).id
        cache = ReadCache(sessions)
        listener = WriteListener(engine, cache.invalidate)
        # No periodic check while it listens: only the notification can drop the cache.
        cache.writes_heard = lambda: listener.live
        listener.start()
        store = Store(sessions, cache)
        try:
            await listener.wait_listening()
            yield Listening(url, engine, store, listener, race_id)
        finally:
            await store.close()
            await listener.stop()
            await engine.dispose()


async def test_a_write_in_another_process_is_in_the_next_cached_read(listening: Listening) -> None:
    before = await listening.notes()
    hits = listening.store.cache.hits
    assert await listening.notes() == before and listening.store.cache.hits == hits + 1  # now cached

    await listening.write_elsewhere("Notes written by another process.")
    await until(lambda: listening.listener.heard >= 1, 10, "the write's notification")
    assert await listening.notes() == "Notes written by another process."


async def test_the_listener_reconnects_after_losing_its_connection_and_ends_when_stopped(
    listening: Listening,
) -> None:
    listener = listening.listener
    assert await listeners_connected(listening.url) == 1
    await listening.notes()
    assert listener._connection is not None
    pid = listener._connection.get_server_pid()
    async with listening.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await until(lambda: listener.connections == 2, 30, "the listener reconnected")
    misses = listening.store.cache.misses
    await listening.notes()  # the cache was dropped on reconnecting: writes meanwhile were not heard
    assert listening.store.cache.misses == misses + 1

    await listening.write_elsewhere("Heard after the reconnect.")
    await until(lambda: listener.heard >= 1, 10, "the write's notification")
    assert await listening.notes() == "Heard after the reconnect."

    await listener.stop()
    assert not listener.live
    for _ in range(100):  # the server notices the closed connection as soon as it is read
        if await listeners_connected(listening.url) == 0:
            break
        await asyncio.sleep(0.05)
    assert await listeners_connected(listening.url) == 0

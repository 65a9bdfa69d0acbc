"""Other processes' writes, at once (PostgreSQL): every committed audited write sends NOTIFY racedesk_writes
(the trigger of migration 0004, its payload the store's schema), and each bot process LISTENs on a
connection of its own and drops its read cache when one arrives; a write that added, removed or changed a race
also sends NOTIFY racedesk_races (migration 0010), which drops the process's copy of the races
(db/directory.py); and NOTIFY racedesk_cards (migration 0011) names the races whose cards it changed, which
the process drops from its shelf of cards (db/shelf.py).

The listener reconnects when its connection is lost (with the cache dropped again on reconnecting: what was
written meanwhile was not heard); while it is not listening, the cache falls back to comparing the newest
audit id now and then (db/cache.py), as on SQLite. It runs as one task that ends with the bot (`stop()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.background import cancel_and_wait
from db.shelf import Races, races_in_payload

log = logging.getLogger(__name__)

CHANNEL = "racedesk_writes"  # migration 0004 notifies on it
RACES_CHANNEL = "racedesk_races"  # migration 0010 notifies on it when a race is added, removed or changed
CARDS_CHANNEL = "racedesk_cards"  # migration 0011 notifies on it with the races whose cards a write changed
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)  # waits between attempts to reconnect, the last repeated
KEEPALIVE_SECONDS = (
    10.0  # a silent connection is asked `SELECT 1` this often, to notice one that died quietly
)
APPLICATION_NAME = "racedesk-listener"  # how the connection shows in pg_stat_activity
SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback")

ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class WriteListener:
    """Calls `on_write` for every write committed to this store (by any process), `on_races` for every one
    that added, removed or changed a race, and `on_cards` with the races whose cards one changed (None: any
    race), from LISTEN on a dedicated asyncpg connection. `live`: listening now."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_write: Callable[[], None],
        on_races: Callable[[], None] = lambda: None,
        on_cards: Callable[[Races], None] = lambda _races: None,
    ) -> None:
        self.engine = engine
        self.on_write = on_write
        self.on_races = on_races
        self.on_cards = on_cards
        self.live = False
        self.connections = 0  # how many times it has (re)connected
        self.heard = 0  # notifications for this store
        self._schema: str | None = None
        self._connection: asyncpg.Connection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="racedesk-write-listener")

    async def wait_listening(self, timeout: float = 10.0) -> None:
        """Until it listens (after start, or after a reconnect)."""
        await asyncio.wait_for(self._listening.wait(), timeout)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.live = False

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except ERRORS as problem:
                log.warning("listening for other processes' writes: %s; trying again", problem)
                failures += 1
            finally:
                self.live = False
                self._listening.clear()
                await self._close()
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])

    async def _listen(self) -> None:
        """One connection's life: LISTEN, then hear notifications until the connection is lost."""
        if self._schema is None:
            async with self.engine.connect() as conn:
                self._schema = await conn.scalar(text("SELECT current_schema()"))
        _, options = self.engine.dialect.create_connect_args(self.engine.url)
        for name in SQLALCHEMY_ONLY:
            options.pop(name, None)
        options["server_settings"] = {
            **options.get("server_settings", {}),
            "application_name": APPLICATION_NAME,
        }
        connection = await asyncio.wait_for(asyncpg.connect(**options), KEEPALIVE_SECONDS)
        self._connection = connection
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(CHANNEL, self._notified)
        await connection.add_listener(RACES_CHANNEL, self._races_notified)
        await connection.add_listener(CARDS_CHANNEL, self._cards_notified)
        self.live = True
        self.connections += 1
        self._listening.set()
        # What was written before it listened (or while it was away) was not heard.
        self.on_races()
        self.on_cards(None)
        self.on_write()
        while not connection.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
            if lost.is_set() or connection.is_closed():
                raise ConnectionError("the listening connection was closed")
            await asyncio.wait_for(connection.fetchval("SELECT 1"), KEEPALIVE_SECONDS)

    def _notified(self, _conn: Any, _pid: int, _channel: str, schema: str) -> None:
        if schema == self._schema:
            self.heard += 1
            self.on_write()

    def _races_notified(self, _conn: Any, _pid: int, _channel: str, schema: str) -> None:
        if schema == self._schema:
            self.on_races()

    def _cards_notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        schema, _, races = payload.rpartition(" ")  # (a schema's name may hold a space; the list never does)
        if schema == self._schema:
            self.on_cards(races_in_payload(races))

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), 2.0)
            except ERRORS:
                connection.terminate()

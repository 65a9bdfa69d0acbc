"""Reads on PostgreSQL: outside a transaction, on connections held between reads, prebuilt statements on
asyncpg.

Three round trips a read need not make: BEGIN and ROLLBACK around it (under READ COMMITTED each statement
sees its own snapshot either way, so reads run in autocommit), and the engine pool's ping at each checkout.
The reader keeps up to HELD connections of the bot's engine checked out between reads (the ping is paid
once, at their checkout); a read that fails because its connection was dropped (a server restart, an idle
timeout, a terminated backend) runs once more on another. Its prebuilt statements run on asyncpg itself
(db/direct.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.direct import DirectSession, asyncpg_runner

T = TypeVar("T")
HELD = 4  # connections kept between reads; more run at once on connections given back after their read


class PostgresReader:
    """Runs store reads on PostgreSQL, on connections of the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.idle: list[tuple[AsyncConnection, Any]] = []  # with its asyncpg connection
        self.closed = False

    @classmethod
    def for_engine(cls, engine: AsyncEngine | None) -> PostgresReader | None:
        if engine is None or engine.dialect.name != "postgresql" or engine.dialect.driver != "asyncpg":
            return None
        return cls(engine)

    async def read(self, read: Callable[[AsyncSession], Awaitable[T]], *, at_once: bool = False) -> T:
        """The read's answer (`at_once` is for SQLite's reader: here every read awaits the server)."""
        try:
            return await self._read_once(read)
        except Exception as error:
            if not _dropped(error):
                raise
        return await self._read_once(read)  # the dropped connection is not kept

    async def _read_once(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        connection, driver = await self._checkout()
        direct = DirectSession(
            self.engine.dialect,
            asyncpg_runner(driver),
            lambda: AsyncSession(connection, expire_on_commit=False),
        )
        kept = False
        try:
            found = await read(cast(AsyncSession, direct))
            kept = True
            return found
        except Exception as error:
            kept = not _dropped(error) and driver is not None and not driver.is_closed()
            raise
        finally:
            if (opened := direct.opened_session()) is not None:
                await opened.close()
            await self._checkin(connection, driver, kept)

    async def _checkout(self) -> tuple[AsyncConnection, Any]:
        """A connection and its asyncpg connection (asked once: SQLAlchemy's getter is a greenlet hop)."""
        if self.idle:
            return self.idle.pop()
        connection = await self.engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection, (await connection.get_raw_connection()).driver_connection

    async def _checkin(self, connection: AsyncConnection, driver: Any, kept: bool) -> None:
        if kept and not self.closed and len(self.idle) < HELD and not connection.invalidated:
            self.idle.append((connection, driver))
            return
        if not kept and not connection.invalidated:
            await connection.invalidate()
        await connection.close()

    async def close(self) -> None:
        """Give the held connections back to the engine's pool."""
        self.closed = True
        idle, self.idle = self.idle, []
        for connection, _ in idle:
            await connection.close()


def _dropped(error: Exception) -> bool:
    """Whether a read failed because its connection was lost (then it may run again: reads change nothing)."""
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if isinstance(error, asyncpg.exceptions.PostgresError):
        return error.sqlstate in ADMIN_SHUTDOWN
    # The client's own errors: a closed connection, or one whose protocol a terminated backend's last
    # message left mid-operation ("another operation is in progress").
    client = (asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError, OSError)
    return isinstance(error, client)


ADMIN_SHUTDOWN = {"57P01", "57P02", "57P03"}  # the backend was terminated, the server crashed or restarts

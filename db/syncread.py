"""Reads in one thread hop: a store read run whole on a synchronous connection in a worker thread.

Through aiosqlite every statement of a read is several hops to aiosqlite's thread and back (execute,
fetch, close), each a turn of the event loop shared with every other task: a race card's dozen
statements cost more in hops than in SQLite. Here the same read function (`db.reads`, written against
AsyncSession) runs in a worker thread against `ImmediateSession`, whose awaits finish at once on a
plain sqlite3 connection, so the whole read is one hop; its prebuilt statements run on sqlite3 itself
(db/direct.py). The functions and their answers are the same.

Only for SQLite files: an in-memory database exists only on the connection that made it, and
asyncpg (PostgreSQL) makes no thread hop at all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool

from db.direct import DirectSession, sqlite_runner

T = TypeVar("T")
READ_THREADS = 2


class ImmediateSession:
    """The read side of AsyncSession over a synchronous Session: each await completes without waiting."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.scalar(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.scalars(statement, *args, **kwargs)

    async def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        return self.sync_session.get(entity, ident, **kwargs)

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.get_bind(*args, **kwargs)

    @property
    def no_autoflush(self) -> Any:
        return self.sync_session.no_autoflush


def run_at_once(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends (one awaiting only an ImmediateSession)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a read awaited something other than its session")


class SyncReader:
    """Runs reads on a synchronous engine of the same SQLite file, in READ_THREADS worker threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = concurrent.futures.ThreadPoolExecutor(READ_THREADS, thread_name_prefix="racedesk-read")

    @classmethod
    def for_engine(cls, engine: AsyncEngine | None) -> SyncReader | None:
        """A reader beside an aiosqlite engine on a file; None for anything else (the async path stays)."""
        if engine is None:
            return None
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        if url.query.get("mode") == "memory":
            return None
        sync = create_engine(
            make_url(str(url.render_as_string(hide_password=False))).set(drivername="sqlite"),
            poolclass=SingletonThreadPool,
            pool_size=READ_THREADS + 1,  # and the event loop's thread
            connect_args={"check_same_thread": False},
        )
        event.listen(sync, "connect", _read_only_pragmas)
        return cls(sync)

    def _run(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        with self.engine.connect() as connection:
            direct = DirectSession(
                self.engine.dialect,
                sqlite_runner(connection.connection.driver_connection),
                lambda: ImmediateSession(Session(connection, expire_on_commit=False)),
            )
            try:
                return run_at_once(cast(Coroutine[Any, Any, T], read(cast(AsyncSession, direct))))
            finally:
                if (opened := direct.opened_session()) is not None:
                    opened.sync_session.close()

    async def read(self, read: Callable[[AsyncSession], Awaitable[T]], *, small: bool = False) -> T:
        """The read's answer; `small` (a member's small read, a lookup or a card): run on the event loop's
        own thread, since the hop's two thread switches cost more than its statements, and only one
        thread runs Python at a time anyway."""
        if small:
            return self._run(read)
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._run, read)

    async def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.engine.dispose()


def _read_only_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

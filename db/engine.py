"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

import db.validation  # noqa: F401  (registers the length checks on every session)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # The driver opens a transaction only at the first INSERT, UPDATE or DELETE, leaving the reads
        # before it outside: a write could be made from a read another transaction had changed since (a
        # lost update). A write transaction (`for_writing`) is begun here instead, holding SQLite's one
        # write lock from its first statement, so writes made from reads queue for the lock
        # (busy_timeout) rather than overwrite each other. Other transactions keep the driver's way.
        if not conn.get_execution_options().get(WRITING):
            return
        begin = "BEGIN IMMEDIATE"
        cursor = conn.connection.dbapi_connection.cursor()  # on the driver: not a statement of the work
        try:
            cursor.execute(begin)
        except conn.dialect.dbapi.OperationalError as error:  # "database is locked": retried as any write's
            raise OperationalError(begin, None, error) from error
        finally:
            cursor.close()

    return engine


WRITING = "racedesk_writing"  # the execution option `for_writing` sets


async def for_writing(session: AsyncSession) -> AsyncSession:
    """Mark a transaction about to begin as a write: on SQLite it begins holding the write lock (see
    `_sqlite_engine`); elsewhere nothing changes. Call before the transaction's first statement."""
    await session.connection(execution_options={WRITING: True})
    return session


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every Alembic migration (the same ones `racedesk db upgrade` runs), on PostgreSQL under the
    one-time jobs' advisory lock (db/migrate.py)."""
    from db.migrate import apply_migrations, one_time_jobs

    async with one_time_jobs(engine):
        await apply_migrations(engine)


async def refresh_statistics(engine: AsyncEngine) -> None:
    """After a bulk load, let the planner see it. PostgreSQL plans from table statistics that autovacuum
    refreshes only some time after a big import; until then it may scan a whole table for a join (a race
    card's contests with their candidates took 4 ms instead of 0.16 ms right after 10,000 races were
    stored). ANALYZE of racedesk's own tables (as the search path finds them) takes well under a second.
    SQLite plans from its indexes alone: nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    from db.models import Base

    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f"ANALYZE {tables}"))

"""Alembic, driven from code: no alembic.ini to keep in step, one place for the script path.

The one-time jobs (migrations, the first build of the default data) run under `one_time_jobs`: on
PostgreSQL an advisory lock, so that of many processes starting together one does them and the others
wait, then find them done. SQLite serves one bot process (db/single_process.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_lock's key for the one-time jobs: "racedesk" as a 64-bit number.
ONE_TIME_JOBS_LOCK = int.from_bytes(b"racedesk", "big")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.asynccontextmanager
async def one_time_jobs(engine: AsyncEngine) -> AsyncIterator[None]:
    """On PostgreSQL, hold the one-time jobs' advisory lock (on a connection of its own) for the block:
    another process entering waits until this one leaves. The lock goes with the connection, so a process
    that dies holding it frees it. Elsewhere (SQLite), nothing to hold."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ONE_TIME_JOBS_LOCK})
        await holder.commit()
        try:
            yield
        finally:
            await holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ONE_TIME_JOBS_LOCK})
            await holder.commit()


async def apply_migrations(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """Apply every migration not yet applied (callers hold `one_time_jobs`). Returns the store's revision
    before and after."""

    def run(connection: Connection) -> tuple[str | None, str | None]:
        before = current_revision(connection)
        upgrade_connection(connection)
        return before, current_revision(connection)

    async with engine.begin() as conn:
        return await conn.run_sync(run)

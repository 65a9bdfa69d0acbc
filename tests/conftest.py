"""Shared fixtures: a fresh store on real SQLite, and on a real PostgreSQL when one is reachable.

PostgreSQL: RACEDESK_TEST_POSTGRES_URL (default: the local socket, database racedesk_test).
Tests skip with the reason when no server answers; with RACEDESK_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import make_engine, make_sessionmaker, upgrade

POSTGRES_URL = os.environ.get(
    "RACEDESK_TEST_POSTGRES_URL", "postgresql+asyncpg:///racedesk_test?host=/var/run/postgresql"
)
REQUIRE_POSTGRES = os.environ.get("RACEDESK_REQUIRE_POSTGRES") == "1"
_postgres_problem: str | None = None
_postgres_checked = False


async def _postgres_reachable() -> str | None:
    engine = make_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        return None
    except Exception as problem:  # any failure to connect means: no server for these tests
        return f"{type(problem).__name__}: {problem}"
    finally:
        await engine.dispose()


async def postgres_or_skip() -> None:
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_problem = await asyncio.wait_for(_postgres_reachable(), 15)
        _postgres_checked = True
    if _postgres_problem:
        message = f"no PostgreSQL at {POSTGRES_URL} ({_postgres_problem}); CI starts one"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)


async def postgres_engine() -> tuple[AsyncEngine, str]:
    """An engine whose tables live in a fresh schema of their own, so tests never see each other's rows."""
    await postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    engine = make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    return engine, schema


async def drop_schema(schema: str) -> None:
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty store on each database."""
    if request.param == "sqlite":
        created = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        schema = None
    else:
        created, schema = await postgres_engine()
    await upgrade(created)
    yield created
    await created.dispose()
    if schema:
        await drop_schema(schema)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    created = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await upgrade(created)
    yield created
    await created.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def sample_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """A store holding the shipped sample (the 2020 Alabama race)."""
    from db.bootstrap import load_sample

    async with sessions.begin() as session:
        await load_sample(session)
    return sessions

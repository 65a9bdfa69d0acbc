"""Shared fixtures: a fresh store on real SQLite, and on a real PostgreSQL when one is reachable.

The helpers they build on (and that tests import) are in tests/support/.
PostgreSQL: RACEDESK_TEST_POSTGRES_URL (default: the local socket, database racedesk_test).
Tests skip with the reason when no server answers; with RACEDESK_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import make_engine, make_sessionmaker, upgrade
from tests.support import SPEC, drop_schema, new_store, postgres_engine, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty store on each database."""
    if request.param == "sqlite":
        created = make_engine(sqlite_url(tmp_path / "store.db"))
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
    """A migrated, empty SQLite store."""
    created = await new_store(tmp_path / "store.db")
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


@pytest.fixture
async def store(sqlite_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A migrated, empty SQLite store of its own, as sessions."""
    return make_sessionmaker(sqlite_engine)


@pytest.fixture
def spec_path() -> Path:
    """Discord's OpenAPI spec, which the stand-in checks every body against."""
    return SPEC

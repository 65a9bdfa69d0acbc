"""Shared fixtures: a fresh store on real SQLite, and on a real PostgreSQL when one is reachable.

The helpers they build on (and that tests import) are in tests/support/.
PostgreSQL: RACEDESK_TEST_POSTGRES_URL (default: the local socket, database racedesk_test).
Tests skip with the reason when no server answers; with RACEDESK_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker
from db.lookup import forget_statements
from tests.support import (
    ERRORS,
    SPEC,
    Built,
    build_default,
    check_bot_errors,
    copied_store,
    drop_emptied_schemas,
    in_own_loop,
    remove_templates,
    sqlite_url,
    store_on,
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty store on each database (a copy of a migrated file; a migrated schema emptied)."""
    async with store_on(request.param, tmp_path) as created:
        yield created


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def shared_sample(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The shipped sample on each database, one store for all of a module's tests that only read it.
    They run in the module's event loop: mark them `@pytest.mark.asyncio(loop_scope="module")`."""
    async with store_on(request.param, tmp_path_factory.mktemp("shared"), "sample", load_sample) as created:
        yield make_sessionmaker(created)


@pytest.fixture(autouse=True)
def _bot_errors_fail_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails if an in-process bot logged at ERROR or worse, or an exception of its tasks went
    unretrieved, while it ran (tests/support/world.py), unless it is marked
    `@pytest.mark.bot_errors("pattern", ...)`: then each record must match a pattern and each pattern
    a record."""
    marker = request.node.get_closest_marker("bot_errors")
    patterns = tuple(marker.args) if marker is not None else ()
    ERRORS.take()  # nothing before this test is its
    ERRORS.in_test = True
    try:
        yield
    finally:
        ERRORS.in_test = False
    check_bot_errors(patterns)


@pytest.fixture(scope="session", autouse=True)
def _clean_up_stores() -> Iterator[None]:
    """At the end of the run: drop the PostgreSQL schemas kept for reuse, remove the SQLite templates."""
    yield
    in_own_loop(drop_emptied_schemas)
    remove_templates()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty SQLite store (a copy of a migrated file)."""
    created = copied_store(tmp_path / "store.db")
    yield created
    await created.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
async def sample_sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A store holding the shipped sample (the 2020 Alabama race), on each database."""
    async with store_on(request.param, tmp_path, "sample", load_sample) as created:
        yield make_sessionmaker(created)


@pytest.fixture
async def store(sqlite_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A migrated, empty SQLite store of its own, as sessions."""
    return make_sessionmaker(sqlite_engine)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The default store, as the bot builds it on first start (the sample, then the public files), built once
    for the whole run in a thread with its own event loop: tests read it, or copy it (`built.copy_to`)."""
    path = tmp_path_factory.mktemp("default") / "store.db"
    return in_own_loop(lambda: build_default(path))


@pytest.fixture
async def default_store(built: Built) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The shipped default store, built once per run: for tests that only read it."""
    engine = make_engine(sqlite_url(built.path))
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def lookup_statements_afresh() -> Iterator[None]:
    """Each test builds the lookup's prebuilt statements anew, so that what builds them is under test too
    (they are built once per process; mutation testing runs each mutant where they were built already);
    and none built while a test changed the pick rule outlives it (the next module's bot would use it)."""
    forget_statements()
    yield
    forget_statements()


@pytest.fixture
def spec_path() -> Path:
    """Discord's OpenAPI spec, which the stand-in checks every body against."""
    return SPEC

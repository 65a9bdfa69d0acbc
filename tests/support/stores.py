"""Stores for the tests: migrated SQLite files and PostgreSQL schemas, stores built once and copied per test,
the sample race's facts, and counting rows.

PostgreSQL: RACEDESK_TEST_POSTGRES_URL (default: the local socket, database racedesk_test).
Tests skip with the reason when no server answers; with RACEDESK_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import SYSTEM, Actor
from db.bootstrap import load_sample
from db.dataset import export_document, load_document
from db.engine import make_engine, make_sessionmaker, upgrade
from db.importers.default import build_default_store
from db.importers.run import ImportReport
from db.integrity import problems
from db.models import Base, Candidate, Contest, NameToken, Race
from db.reads.races import race_card
from render.race import race_embed, race_title
from render.results import results_embed
from tests.support.data import load_member_data

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]

MODERATOR = Actor(id=111, name="moderator", guild_id=999)
OTHER_MODERATOR = Actor(id=222, name="other moderator", guild_id=999)

# ---------------------------------------------------------------- PostgreSQL

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


def schema_engine(schema: str) -> AsyncEngine:
    """An engine whose tables are those of `schema`."""
    return make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})


async def postgres_engine() -> tuple[AsyncEngine, str]:
    """An engine whose tables live in a fresh schema of their own, so tests never see each other's rows."""
    await postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return schema_engine(schema), schema


async def drop_schema(schema: str) -> None:
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


_emptied: list[str] = []  # migrated schemas whose test has ended, every table emptied: ready for the next


async def postgres_store() -> tuple[AsyncEngine, str]:
    """A migrated, empty store in a schema of its own; give it back with `release_postgres_store`.
    A schema is migrated once and emptied after each test (migrating takes ten times longer)."""
    await postgres_or_skip()
    if _emptied:
        schema = _emptied.pop()
        return schema_engine(schema), schema
    engine, schema = await postgres_engine()
    await upgrade(engine)
    return engine, schema


async def release_postgres_store(schema: str) -> None:
    """Empty every table but Alembic's (ids start again at 1) for the next test; drop the schema if that
    cannot be done at once."""
    admin = make_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            names = (
                await conn.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
                )
            ).all()
            tables = ", ".join(f'"{schema}"."{name}"' for name in names if name != "alembic_version")
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _emptied.append(schema)
    except Exception:
        await drop_schema(schema)
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database of its own (named after the test database, plus a random tail), for
    tests that start separate processes, which reach it by DATABASE_URL alone; dropped at the end."""
    await postgres_or_skip()
    async with database_at(POSTGRES_URL) as url:
        yield url


@contextlib.asynccontextmanager
async def database_at(base_url: str, tag: str = "") -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL server of `base_url`, named after its database plus `tag` and a
    random tail (also for benchmarks); dropped at the end."""
    base = make_url(base_url)
    name = f"{base.database}_{tag}{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def sample_database() -> AsyncIterator[str]:
    """`fresh_database`, migrated, holding the sample race."""
    async with fresh_database() as url:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine).begin() as session:
                await load_sample(session)
        finally:
            await engine.dispose()
        yield url


async def listeners_connected(url: str) -> int:
    """How many write listeners (db/notify.py: one per bot process) are connected to the database at `url`."""
    from db.notify import APPLICATION_NAME

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        return int(found or 0)
    finally:
        await engine.dispose()


async def drop_emptied_schemas() -> None:
    """At the end of the run: drop the schemas kept for reuse."""
    while _emptied:
        await drop_schema(_emptied.pop())


# ---------------------------------------------------------------- SQLite, and stores built once


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def new_store(path: Path) -> AsyncEngine:
    """A migrated, empty SQLite store at `path`."""
    engine = make_engine(sqlite_url(path))
    await upgrade(engine)
    return engine


def in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end in a thread with its own event loop, so a test's loop (or none) can wait."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


_templates: dict[str, Path] = {}


def template(name: str, fill: Callable[[AsyncSession], Awaitable[Any]] | None = None) -> Path:
    """A migrated SQLite store filled by `fill`, built once per test process under `name` (to copy per test:
    copying the file takes milliseconds, building it can take seconds)."""
    if name not in _templates:
        path = Path(tempfile.mkdtemp(prefix="racedesk-template-")) / f"{name}.db"

        async def build() -> None:
            engine = await new_store(path)
            if fill is not None:
                async with make_sessionmaker(engine).begin() as session:
                    await fill(session)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            await engine.dispose()

        in_own_loop(build)
        _templates[name] = path
    return _templates[name]


def remove_templates() -> None:
    """At the end of the run: remove the templates this process built."""
    while _templates:
        _, path = _templates.popitem()
        shutil.rmtree(path.parent, ignore_errors=True)


def copied_store(
    path: Path, name: str = "empty", fill: Callable[[AsyncSession], Awaitable[Any]] | None = None
) -> AsyncEngine:
    """A copy, at `path`, of the template `name` (by default a migrated, empty store)."""
    shutil.copyfile(template(name, fill), path)
    return make_engine(sqlite_url(path))


@contextlib.asynccontextmanager
async def store_on(
    database: str,
    folder: Path,
    name: str = "empty",
    fill: Callable[[AsyncSession], Awaitable[Any]] | None = None,
) -> AsyncIterator[AsyncEngine]:
    """A migrated store on `database`, filled by `fill` (by default left empty). "sqlite": a copy, in
    `folder`, of the template `name`; "postgresql": a migrated schema of its own, filled here and emptied for
    the next user when done."""
    schema = None
    if database == "sqlite":
        engine = copied_store(folder / "store.db", name, fill)
    else:
        engine, schema = await postgres_store()
        if fill is not None:
            async with make_sessionmaker(engine).begin() as session:
                await fill(session)
    try:
        yield engine
    finally:
        await engine.dispose()
        if schema:
            await release_postgres_store(schema)


def member_engine(tmp_path: Path, big: bool = True) -> AsyncEngine:
    """A fresh SQLite store with the member data (a copy of its template), for one test."""

    async def fill(session: AsyncSession) -> None:
        await load_member_data(session, big=big)

    return copied_store(tmp_path / "member.db", "member-big" if big else "member-small", fill)


@dataclass
class Built:
    """The default store as db/bootstrap.py builds it: the sample, then the public files (twice)."""

    path: Path
    first: ImportReport
    second: ImportReport
    seconds: float

    def copy_to(self, target: Path) -> Path:
        shutil.copy(self.path, target)
        return target


async def build_default(path: Path) -> Built:
    engine = await new_store(path)
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    async with sessions.begin() as session:
        await load_sample(session)
    async with sessions.begin() as session:
        first = await build_default_store(session)
    seconds = time.perf_counter() - started
    async with sessions.begin() as session:
        second = await build_default_store(session)
    await engine.dispose()
    return Built(path, first, second, seconds)


# ---------------------------------------------------------------- what a store holds


async def al2020(session: AsyncSession) -> Race:
    race = await session.scalar(
        select(Race).where(Race.state == "AL", Race.cycle == 2020, Race.office == "senate")
    )
    assert race is not None
    return race


async def contest_of(session: AsyncSession, race_id: int, stage: str) -> Contest:
    contest = await session.scalar(select(Contest).where(Contest.race_id == race_id, Contest.stage == stage))
    assert contest is not None
    return contest


async def pat_example_among_namesakes(session: AsyncSession, namesakes: int) -> Candidate:
    """`namesakes` people named Pat (Pat Number0, Pat Number1, ...), then Pat Example of Alabama, each with
    their name words: more people than one word may find share the first name of the one the surname names."""
    people = [{"name": f"Pat Number{i}", "name_key": f"pat number{i}"} for i in range(namesakes)]
    await session.execute(insert(Candidate), people)
    example = Candidate(name="Pat Example", name_key="pat example", state="AL")
    session.add(example)
    await session.flush()
    pats = await session.execute(
        select(Candidate.id, Candidate.name_key).where(Candidate.name_key.like("pat %"))
    )
    words = [{"token": word, "candidate_id": pid} for pid, key in pats for word in key.split()]
    await session.execute(insert(NameToken), words)
    return example


async def row_counts(store: AsyncSession | Sessions) -> dict[str, int]:
    """Rows in every table, to compare a store before and after: a refused write, or an import run again,
    must leave these unchanged."""
    if isinstance(store, AsyncSession):
        return {
            table.name: int(await store.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }
    async with store() as session:
        return await row_counts(session)


class CheckedSessions(async_sessionmaker[AsyncSession]):
    """Sessions like `make_sessionmaker`'s, but every transaction committed through `begin()` (every write:
    the desk's, undo, config, follows, imports) is followed by the integrity check (db/integrity.py). What it
    finds fails the write's caller and is kept in `found`, for a test to assert on at its end."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.found: list[str] = []

    def begin(self) -> Any:
        return self._checked()

    @contextlib.asynccontextmanager
    async def _checked(self) -> AsyncIterator[AsyncSession]:
        async with super().begin() as session:
            yield session
        async with self() as session:
            found = await problems(session)
        self.found += found
        assert not found, "a write left the store broken:\n" + "\n".join(found)


async def assert_whole(store: AsyncSession | Sessions | AsyncEngine) -> None:
    """The store holds no dangling or cyclic person reference, nor anything else that would break a reader or
    the export (db/integrity.py). Tests call it after their writes."""
    if isinstance(store, AsyncEngine):
        store = make_sessionmaker(store)
    if isinstance(store, AsyncSession):
        found = await problems(store)
    else:
        async with store() as session:
            found = await problems(session)
    assert not found, "the store is not whole:\n" + "\n".join(found)


async def answers(session: AsyncSession) -> dict[str, Any]:
    """What members are told about every race: its card and the results of each of its stages."""
    told: dict[str, Any] = {}
    for race_id in await session.scalars(select(Race.id)):
        card = await race_card(session, race_id)
        assert card is not None
        title = race_title(card.race)
        told[title] = {
            "card": race_embed(card).to_dict(),
            "results": [results_embed(title, view, "history").to_dict() for view in card.contests],
        }
    return told


async def assert_round_trip(store: Sessions, path: Path) -> None:
    """The store's export loads into an empty store (a SQLite file at `path`), which then exports the same
    document, gives the same answers (every race's card and results) and is whole."""
    async with store() as session:
        document = await export_document(session)
        told = await answers(session)
    engine = copied_store(path)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            await load_document(session, document, SYSTEM, "the export")
        async with sessions() as session:
            assert await export_document(session) == document
            assert await answers(session) == told
        await assert_whole(sessions)
    finally:
        await engine.dispose()

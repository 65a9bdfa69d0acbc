"""Fixtures for the importer tests: fresh SQLite stores, and one default store built once per session.

The data files come from the repository (`data/public/`, `tests/importers/data/`), never from
outside it, so a fresh clone runs these tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker, upgrade
from db.importers.default import PUBLIC, build_default_store
from db.importers.run import ImportReport
from db.models import Base

HERE = Path(__file__).parent
DATA = HERE / "data"
MEDSL = PUBLIC / "1976-2020-senate.csv"
POLLS = PUBLIC / "senate_polls.csv"
SPECIAL_2017 = PUBLIC / "20171212__al__special__general__precinct.csv"
PRIMARY_ZIP = PUBLIC / "2020 Primary Precinct Results.zip"
PRIMARY_TOTALS = PUBLIC / "al-2020-primary-totals.json"
HISTORICAL_AL = DATA / "senate_polls_historical_alabama.csv"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def new_store(path: Path) -> AsyncEngine:
    engine = make_engine(sqlite_url(path))
    await upgrade(engine)
    return engine


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated, empty SQLite store of its own."""
    engine = await new_store(tmp_path / "store.db")
    yield make_sessionmaker(engine)
    await engine.dispose()


async def row_counts(session: AsyncSession) -> dict[str, int]:
    """Rows per table (all of them), to compare a store before and after."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return counts


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


async def _build(path: Path) -> Built:
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


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Built once for the whole run, in a thread with its own event loop (tests only read it)."""
    path = tmp_path_factory.mktemp("default") / "store.db"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _build(path)).result()


@pytest.fixture
async def default_store(built: Built) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(sqlite_url(built.path))
    yield make_sessionmaker(engine)
    await engine.dispose()


def csv_sum(path: Path, match: dict[str, str], value: str, *, encoding: str = "utf-8") -> int:
    """The sum of a column over the rows whose columns equal `match`: an independent count."""
    total = 0
    with open(path, encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle):
            if all(row[k] == v for k, v in match.items()):
                total += int(float(row[value] or 0))
    return total


def csv_distinct(path: Path, match: dict[str, str], columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The distinct values of `columns` over the rows whose columns equal `match`."""
    with open(path, newline="") as handle:
        return {
            tuple(row[c] for c in columns)
            for row in csv.DictReader(handle)
            if all(row[k] == v for k, v in match.items())
        }


@pytest.fixture
def tiny_medsl(tmp_path: Path) -> Iterator[Path]:
    """The 2020 Alabama, Georgia and Maine rows of the MEDSL file (and the header)."""
    target = tmp_path / "medsl-small.csv"
    with open(MEDSL, encoding="latin-1", newline="") as source:
        lines = source.readlines()
    keep = [lines[0]] + [
        line
        for line in lines[1:]
        if line.startswith(("2020,", "2021,")) and any(f'"{s}"' in line for s in ("AL", "GA", "ME"))
    ]
    target.write_text("".join(keep), encoding="latin-1", newline="")
    yield target

"""An import's work grows with its own rows, not with what the store holds (issue 8, item 6).

Measured in SQL statements (counted at the driver), never in seconds: the same file sends the same
statements into an empty store and into one already holding other races, and on SQLite (where the
import gives the new rows their keys) twice the races add no statement per race: the writer looks up
what is stored a batch at a time and inserts each table's rows together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_sessionmaker
from db.importers.run import import_file
from db.models import Answer, Candidate, Poll, Question, Race
from tests.support.polls538 import write_polls
from tests.support.stores import store_on

FORMAT = "fivethirtyeight-polls"


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the engine sends while inside (an executemany counts once)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def imported(engine: AsyncEngine, path: Path) -> tuple[int, str]:
    """Import a file; return the statements it sent and the report's summary."""
    with statements(engine) as sent:
        async with make_sessionmaker(engine).begin() as session:
            report = await import_file(session, path, FORMAT)
    return len(sent), report.describe().splitlines()[0]


async def totals(engine: AsyncEngine) -> tuple[int, ...]:
    async with make_sessionmaker(engine)() as session:
        found = []
        for model in (Race, Candidate, Poll, Question, Answer):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        return tuple(found)


def two_files(folder: Path, races: tuple[int, int], answers: tuple[int, int]) -> tuple[Path, Path]:
    """Two synthetic 538 files with no race in common (the first in the 1950s and on, the second from 1900)."""
    paths = folder / "first.csv", folder / "second.csv"
    for path, n, rows, cycle in zip(paths, races, answers, (1950, 1900), strict=True):
        write_polls(path, races=n, answers=rows, first_cycle=cycle)
    return paths


async def test_the_same_file_sends_the_same_statements_whatever_the_store_holds(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    small, other = two_files(tmp_path, (60, 300), (600, 1_200))
    async with make_sessionmaker(engine).begin() as session:
        await import_file(session, other, FORMAT)
    assert await totals(engine) == (300, 600, 600, 600, 1_200)
    into_full, _ = await imported(engine, small)
    assert await totals(engine) == (360, 720, 900, 900, 1_800)
    (tmp_path / "empty").mkdir()
    async with store_on(engine.url.get_backend_name(), tmp_path / "empty") as empty:
        assert await totals(empty) == (0, 0, 0, 0, 0)
        into_empty, _ = await imported(empty, small)
        assert await totals(empty) == (60, 120, 300, 300, 600)
    assert into_full == into_empty


async def test_twice_the_races_add_no_statement_per_race_on_sqlite(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    one, two = two_files(tmp_path, (100, 200), (1_000, 2_000))
    sent_one, said = await imported(sqlite_engine, one)
    assert "100 races" in said and "500 polls" in said
    sent_two, said = await imported(sqlite_engine, two)
    assert "200 races" in said and "1,000 polls" in said
    assert sent_two - sent_one < 10, (sent_one, sent_two)
    assert await totals(sqlite_engine) == (300, 600, 1_500, 1_500, 3_000)

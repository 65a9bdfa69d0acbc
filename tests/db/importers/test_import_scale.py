"""An import's work grows with its own rows, not with what the store holds (issue 8, item 6).

Measured in SQL statements (counted at the driver), never in seconds: the same file sends the same
statements into an empty store and into one already holding other races, and on SQLite (where the
import gives the new rows their keys) twice the races add no statement per race: the writer looks up
what is stored a batch at a time and inserts each table's rows together.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_sessionmaker
from db.importers.common import state_code
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
    await twice_the_races_add_no_statement_per_race(sqlite_engine, tmp_path)


async def twice_the_races_add_no_statement_per_race(engine: AsyncEngine, tmp_path: Path) -> None:
    one, two = two_files(tmp_path, (100, 200), (1_000, 2_000))
    sent_one, said = await imported(engine, one)
    assert "100 races" in said and "500 polls" in said
    sent_two, said = await imported(engine, two)
    assert "200 races" in said and "1,000 polls" in said
    assert sent_two - sent_one < 10, (sent_one, sent_two)
    assert await totals(engine) == (300, 600, 1_500, 1_500, 3_000)


async def test_an_import_reads_whole_only_the_stored_people_its_names_can_match(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The state's other people are never read whole (row, aliases, tokens): only those a name matches by
    key or surname, may be a misspelling of, or looks like; the reconciliation is the same as ever."""
    others = [
        {"key": f"o{i}", "name": f"Filler{letters(i)} Stored{letters(i)}", "state": "AL", "party": "REP"}
        for i in range(40)
    ]
    wanted = [
        {"key": "gdj", "name": "Gordon Douglas Jones", "state": "AL", "party": "DEM"},
        {"key": "jj", "name": "Jim Jones", "state": "AL", "party": "DEM"},
        {"key": "kjo", "name": "Kevin J. O'Connor", "state": "AL", "party": "REP"},
        {"key": "ae", "name": "Ann Exampleton", "state": "AL", "party": "DEM"},
    ]
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await import_file(session, people_document(tmp_path / "stored.json", *others, *wanted))
    async with sessions() as session:
        ids = {name: i for i, name in await session.execute(select(Candidate.id, Candidate.name))}
    incoming = people_document(
        tmp_path / "incoming.json",
        {
            "key": "a",
            "name": "Doug Jones",
            "state": "AL",
            "party": "DEM",
        },  # Gordon Douglas Jones (Jim read too)
        {"key": "b", "name": "KEVIN J. O'CONNER", "state": "AL", "party": "REP"},  # a misspelling of Kevin's
        {
            "key": "c",
            "name": "Ann Exampletin",
            "state": "AL",
            "party": "REP",
        },  # new, looks like Ann Exampleton
        {"key": "d", "name": "Zed Newperson", "state": "AL", "party": "DEM"},  # new, like nobody
    )
    with statements_with_parameters(engine) as sent:
        async with sessions.begin() as session:
            report = await import_file(session, incoming)
    assert report.merges == [
        "'Doug Jones' = 'Gordon Douglas Jones' (AL; goes by middle name)",
        '"KEVIN J. O\'CONNER" = "Kevin J. O\'Connor" (AL; spelling)',
    ]
    assert report.ambiguities == ["'Ann Exampletin' (AL): kept apart, but looks like: 'Ann Exampleton'"]
    assert report.added["candidates"] == 2
    read_whole = [(s, p) for s, p in sent if "candidates.party" in s]
    assert read_whole, "the people the names match are read"
    read = {value for statement, parameters in read_whole for value in parameters}
    expected = {ids[p["name"]] for p in wanted}
    assert read == expected, sorted(read - expected)
    assert len(ids) == 44 and not expected & {ids[p["name"]] for p in others}


def letters(n: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in str(n))


def people_document(path: Path, *people: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"format": "racedesk/1", "candidates": list(people)}), encoding="utf-8")
    return path


@contextlib.contextmanager
def statements_with_parameters(engine: AsyncEngine) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)


async def test_an_import_reads_only_its_own_races_not_every_race_of_their_cycles(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Polls about 10 stored races of a cycle whose 150 races are all stored: the races read are the 10."""
    whole, part = tmp_path / "whole.csv", tmp_path / "part.csv"
    write_polls(whole, races=150, answers=300, first_cycle=1900)  # every Senate race of 1900
    write_polls(part, races=10, answers=20, first_cycle=1900)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await import_file(session, whole, FORMAT)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Race).where(Race.cycle == 1900)) == 150
    with statements_with_parameters(engine) as sent:
        async with sessions.begin() as session:
            report = await import_file(session, part, FORMAT)
    assert report.added["races"] == 0 and report.added["polls"] == 0  # the same polls, stored already
    states = {r["state"] for r in csv.DictReader(part.read_text(encoding="utf-8").splitlines())}
    assert len(states) == 10
    reads = [parameters for statement, parameters in sent if "FROM races" in statement]
    assert reads
    for parameters in reads:  # each bound the natural keys of the file's races, five values a race
        assert len(parameters) % 5 == 0 and 0 < len(parameters) <= 50, parameters
        keys = [parameters[i : i + 5] for i in range(0, len(parameters), 5)]
        assert {(cycle, state) for cycle, state, *_ in keys} <= {(1900, s) for s in map(state_code, states)}


async def test_twice_the_races_add_no_statement_per_race_on_postgresql_too(tmp_path: Path) -> None:
    """On PostgreSQL too the new races, contests, candidacies and people are inserted together, with keys
    taken from their sequences a block at a time, not flushed one by one for their keys."""
    async with store_on("postgresql", tmp_path) as engine:
        await twice_the_races_add_no_statement_per_race(engine, tmp_path)

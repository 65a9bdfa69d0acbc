"""How long imports take, against a baseline measured in the same run.

    python -m bench.imports [--repeat 3] [--races 10000] [--answers 100000]

For FiveThirtyEight's `senate_polls.csv` and MEDSL's senate file (cycles 2018 and 2020, as the
default store has them), each into an empty SQLite database: the time to just read the file
with the csv module (the baseline, "bare parse"), the importer's parse alone, and the whole
import (parse, fit to the store, store, commit). Then the first build as db/bootstrap.py runs
it: the sample, then `build_default_store`. Times are the median of the repeats; rows/s counts
the file's data rows. The ratio ("import takes N x the bare parse") is what to compare across
machines, since both sides slow down together on a busy one.

Then scale, with synthetic FiveThirtyEight polls (tests/support/polls538.py: `--answers` rows in
`--races` races, two people of their own each): the whole file into an empty store (goal: 100,000
rows in 10,000 races under 20 s), and whether the cost grows with the rows and not with the store: a
tenth of the rows into an empty store, the same tenth into a store already holding the whole file's
races (different races; should cost the same, 1.0x), half the rows into an empty store against the
whole (rows x2 should cost about x2) and the tenth against the whole (about x10). Each import's CPU
time (the process's, both threads) is printed beside its wall time: on a machine shared with other
work the wall time also counts the time the import waited for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import json
import statistics
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import xlrd
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker, upgrade
from db.importers import parse
from db.importers.default import DEFAULT_FILES, PUBLIC, build_default_store
from db.importers.run import import_file
from tests.support.polls538 import write_polls

FILES: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("senate_polls.csv", "fivethirtyeight-polls", {"cycles": [2018, 2020]}, "utf-8"),
    ("1976-2020-senate.csv", "medsl", {"years": [2018, 2020]}, "latin-1"),
)


def bare_parse(path: Path, encoding: str = "utf-8") -> int:
    """The baseline: read every row with the csv module (xlrd, json), nothing else. Returns the rows."""
    if path.suffix == ".json":  # a racedesk/1 document: its rows are the candidacies
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
        return sum(len(c.get("candidates", [])) for r in doc.get("races", []) for c in r.get("contests", []))
    if path.suffix == ".zip":
        rows = 0
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                sheet = xlrd.open_workbook(file_contents=archive.read(member)).sheet_by_index(0)
                rows += sum(1 for _ in sheet.get_rows())
        return rows
    with open(path, encoding=encoding, newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def timed_async(
    function: Callable[[async_sessionmaker[AsyncSession]], Awaitable[Any]], repeat: int
) -> tuple[float, Any]:
    """The median time of `function(sessions)`, each run on a new, empty (migrated) SQLite store."""
    times, result = [], None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            await upgrade(engine)
            started = time.perf_counter()
            result = await function(make_sessionmaker(engine))
            times.append(time.perf_counter() - started)
            await engine.dispose()
    return statistics.median(times), result


def line(label: str, seconds: float, rows: int, baseline: float) -> str:
    rate = f"{rows / seconds:>10,.0f} rows/s" if seconds else ""
    return f"  {label:<28} {seconds:7.3f} s {rate}   {seconds / baseline:6.1f}x the bare parse"


async def main(repeat: int) -> None:
    print(f"median of {repeat} runs; SQLite in a temporary directory\n")
    for name, fmt, options, encoding in FILES:
        path = PUBLIC / name
        base, rows = timed(functools.partial(bare_parse, path, encoding), repeat)
        parsing, _ = timed(functools.partial(parse, path, fmt, **options), repeat)

        async def one(
            sessions: async_sessionmaker[AsyncSession],
            path: Path = path,
            fmt: str = fmt,
            options: dict[str, Any] = options,
        ) -> Any:
            async with sessions.begin() as session:
                return await import_file(session, path, fmt, options=options)

        importing, report = await timed_async(one, repeat)
        print(f"{name} ({rows:,} rows; {report.describe().splitlines()[0].split(': ', 1)[1]})")
        print(line("bare parse (csv module)", base, rows, base))
        print(line("importer's parse", parsing, rows, base))
        print(line("import into an empty store", importing, rows, base))
        print()

    files = [PUBLIC / name for name, _, _ in DEFAULT_FILES]
    encodings = {"1976-2020-senate.csv": "latin-1", "1976-2022-senate.csv": "latin-1"}  # MEDSL's senate files
    base, rows = timed(lambda: sum(bare_parse(p, encodings.get(p.name, "utf-8")) for p in files), repeat)

    async def build(sessions: async_sessionmaker[AsyncSession]) -> Any:
        async with sessions.begin() as session:
            await load_sample(session)
        async with sessions.begin() as session:
            return await build_default_store(session)

    building, report = await timed_async(build, repeat)
    print(f"first build: the sample, then the default store ({rows:,} rows in {len(files)} files)")
    print(line("bare parse of the files", base, rows, base))
    print(line("sample + build_default_store", building, rows, base))
    for part in report.parts:
        print(f"    {part.name:<46} {part.seconds:6.2f} s")
    print(f"\n  goal: under 10 s; took {building:.1f} s")


async def import_into(store: Path, path: Path) -> tuple[float, float]:
    """Seconds to import `path` (538 polls) into the SQLite store at `store` (migrated if new): wall, CPU."""
    engine = make_engine(f"sqlite+aiosqlite:///{store}")
    try:
        await upgrade(engine)
        started, cpu = time.perf_counter(), time.process_time()
        async with make_sessionmaker(engine).begin() as session:
            await import_file(session, path, "fivethirtyeight-polls")
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await engine.dispose()


async def scale(races: int, answers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        whole, half, tenth = tmp / "whole.csv", tmp / "half.csv", tmp / "tenth.csv"
        rows = write_polls(whole, races, answers, first_cycle=1900)
        half_rows = write_polls(half, races // 2, answers // 2, first_cycle=1900)
        tenth_rows = write_polls(tenth, races // 10, answers // 10, first_cycle=2050)
        base = timed(functools.partial(bare_parse, whole), 1)[0]
        parsing = timed(functools.partial(parse, whole, "fivethirtyeight-polls"), 1)[0]
        small_empty, small_empty_cpu = await import_into(tmp / "a.db", tenth)
        halved, halved_cpu = await import_into(tmp / "c.db", half)
        big, big_cpu = await import_into(tmp / "b.db", whole)
        small_full, small_full_cpu = await import_into(tmp / "b.db", tenth)
        print(f"\nsynthetic 538 polls: {rows:,} rows in {races:,} races (one run each; wall, and CPU)")
        print(line("bare parse (csv module)", base, rows, base))
        print(line("importer's parse", parsing, rows, base))
        print(line("import into an empty store", big, rows, base) + f"   (CPU {big_cpu:.1f} s)")
        print(f"  goal: under 20 s; took {big:.1f} s (CPU {big_cpu:.1f} s)")
        print(f"\n  {tenth_rows:,} rows in {races // 10:,} other races:")
        print(
            f"    into an empty store                       {small_empty:7.2f} s   (CPU {small_empty_cpu:.2f} s)"
        )
        print(
            f"    into the store holding the {races:,} races   {small_full:7.2f} s   (CPU {small_full_cpu:.2f} s)   "
            f"{small_full / small_empty:.2f}x the empty store's, CPU {small_full_cpu / small_empty_cpu:.2f}x "
            "(same cost: 1.0)"
        )
        for label, other, other_cpu, other_rows in (
            ("half", halved, halved_cpu, half_rows),
            ("tenth", small_empty, small_empty_cpu, tenth_rows),
        ):
            print(
                f"  {rows:,} rows against {other_rows:,} ({label}; both into empty stores): "
                f"{big / other:.1f}x the time (CPU {big_cpu / other_cpu:.1f}x) for {rows / other_rows:.0f}x the rows"
            )


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    arguments.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is shown)")
    arguments.add_argument("--races", type=int, default=10_000, help="races in the synthetic polls file")
    arguments.add_argument("--answers", type=int, default=100_000, help="rows in the synthetic polls file")
    arguments.add_argument("--scale-only", action="store_true", help="only the synthetic polls")
    given = arguments.parse_args()
    if not given.scale_only:
        asyncio.run(main(max(1, given.repeat)))
    asyncio.run(scale(given.races, given.answers))

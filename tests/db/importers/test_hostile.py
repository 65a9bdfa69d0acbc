"""The hostile-input corpus (tests/data/hostile/) through the importers: every file is refused with one
clear line (the file's line number where it has one) and the store left exactly as it was, or stored
correctly; none crashes. On SQLite, and on PostgreSQL for the numbers SQLite would have taken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.importers import UnknownFormat
from db.importers.run import ImportFailed, import_file
from tests.data.hostile.corpus import CASES, make_large, path_of
from tests.support import row_counts, store_on


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The large cases (a zip bomb, a huge line, JSON nested 200,000 deep), made once for the module."""
    folder = tmp_path_factory.mktemp("hostile")
    make_large(folder)
    yield folder


async def outcome(database: str, folder: Path, name: str) -> str:
    """Import the case into a store holding the sample; what happened, the store checked unchanged when refused."""
    async with store_on(database, folder, "sample", load_sample) as engine:
        sessions = make_sessionmaker(engine)
        before = await row_counts(sessions)
        try:
            async with sessions.begin() as session:
                report = await import_file(session, path_of(name, folder))
        except (ImportFailed, UnknownFormat) as problem:
            assert await row_counts(sessions) == before, f"{name} was refused but wrote"
            text = str(problem)
            assert "\n" not in text and text.startswith(f"{name}: ")
            return f"refused: {text}"
        assert not report.skipped
        return f"stored: {report.describe()}"


@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_hostile_file_is_refused_cleanly_or_stored(name: str, large: Path, tmp_path: Path) -> None:
    case = CASES[name]
    done = await outcome("sqlite", large if (large / name).exists() else tmp_path, name)
    assert done.startswith(case.outcome), done
    assert case.says in done, done


@pytest.mark.parametrize(
    "name",
    ["votes_1e30.csv", "sample_1e20.csv", "nul_in_name.csv", "json_nul_name.json", "json_votes_1e30.json"],
)
async def test_postgresql_refuses_them_the_same_way(name: str, tmp_path: Path) -> None:
    done = await outcome("postgresql", tmp_path, name)
    assert done.startswith("refused") and CASES[name].says in done, done


async def test_a_valid_file_after_a_refused_one_is_stored(tmp_path: Path) -> None:
    """Refusing leaves nothing behind that stops the next import (no ImportRun of the refused file)."""
    async with store_on("sqlite", tmp_path, "sample", load_sample) as engine:
        sessions = make_sessionmaker(engine)
        with pytest.raises(ImportFailed):
            async with sessions.begin() as session:
                await import_file(session, path_of("share_minus_40.csv", tmp_path))
        async with sessions.begin() as session:
            report = await import_file(session, path_of("valid_polls.csv", tmp_path))
        assert report.added["polls"] == 1

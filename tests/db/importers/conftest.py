"""Fixtures for the importer tests: the default store (built once, in tests/conftest.py), and a small MEDSL file.

The data files come from the repository (`data/public/`, `tests/db/importers/data/`), never from
outside it, so a fresh clone runs these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import MEDSL


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

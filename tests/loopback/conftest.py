from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # plain `pytest` (not `python -m pytest`) from a checkout
    sys.path.insert(0, str(REPO_ROOT))

SPEC = REPO_ROOT / "tests" / "data" / "discord-openapi.json"


@pytest.fixture
def spec_path() -> Path:
    return SPEC

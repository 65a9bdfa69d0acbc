"""The writes' tests: every transaction they commit is followed by the store's integrity check."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import CheckedSessions, Sessions


@pytest.fixture
def sample_sessions(sample_sessions: Sessions) -> CheckedSessions:
    """The sample store on each database (tests/conftest.py), its integrity checked after every write."""
    engine = sample_sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return CheckedSessions(engine)

"""Writes to shared data: each takes the Actor, checks its input, and records an audit entry in the same
transaction. Nothing here knows Discord; wrong input raises a WriteError that says exactly what is wrong.

Run them through `run_write`, which retries a busy database and turns over-long text into a WriteError.
"""

from db.writes.common import StageRef
from db.writes.errors import Ambiguous, Duplicate, NotFound, WriteError
from db.writes.retry import run_write

__all__ = ["Ambiguous", "Duplicate", "NotFound", "StageRef", "WriteError", "run_write"]

"""Running one write transaction, retried when the database is only busy.

SQLite answers "database is locked" when another connection holds the write lock
past the busy timeout, and at once when a transaction that read first tries to
write after another one committed (WAL's snapshot rule). PostgreSQL can refuse a
transaction with a serialization failure or a deadlock. All of these mean "try
again", never "show the person an error". A unique-constraint race (two people
adding the same race at once) is retried once too: the second run then finds the
first one's row and says so clearly.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import for_writing
from db.validation import TooLong
from db.writes.errors import WriteError

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 12
INTEGRITY_RETRIES = 2
_BUSY_TEXT = ("database is locked", "database table is locked", "database schema is locked")
_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_busy(error: BaseException) -> bool:
    """Whether a database error only means "busy, try again"."""
    if isinstance(error, OperationalError) and any(t in str(error.orig).lower() for t in _BUSY_TEXT):
        return True
    if isinstance(error, DBAPIError):
        orig = error.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if state in _RETRY_SQLSTATES:
            return True
        return any(name in type(orig).__name__ for name in ("SerializationError", "DeadlockDetected"))
    return False


def too_long_message(problem: TooLong) -> str:
    noun = problem.entity.replace("_", " ")
    return f"The {noun}'s {problem.field.replace('_', ' ')} is too long: at most {problem.limit} characters."


async def run_write(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
) -> T:
    """Run `work` in one transaction; commit when it returns, roll back when it raises.

    Busy databases are retried with a short, growing, jittered pause. A WriteError passes through
    (nothing was written); an over-long text becomes a WriteError that names the field.
    """
    integrity_left = INTEGRITY_RETRIES
    for attempt in range(attempts):
        try:
            async with sessions.begin() as session:
                return await work(await for_writing(session))
        except TooLong as problem:
            raise WriteError(too_long_message(problem)) from None
        except IntegrityError:
            if integrity_left == 0:
                raise
            integrity_left -= 1
            log.info("write hit a unique constraint (a concurrent write?); running it again")
        except DBAPIError as error:
            if not is_busy(error) or attempt == attempts - 1:
                raise
            log.debug("database busy (attempt %d): %s", attempt + 1, error.orig)
        await asyncio.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
    raise RuntimeError("the write was retried too often")  # only after repeated unique-constraint races

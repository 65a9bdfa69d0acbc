"""SQLite serves one bot process: the bot holds an exclusive lock on a file beside the database
(`racedesk.db.lock`) while it runs, so a second bot process on the same file is refused at start with
a clear message. The operating system frees the lock when its holder ends, however it ends (even
`kill -9`). PostgreSQL serves several processes (see 'Scaling' in README.md): no lock there."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class StoreInUse(Exception):
    """Another racedesk bot process runs on this SQLite database."""


class ProcessLock:
    """The exclusive lock on `path`, held from `acquire()` until `release()` (or the process ends)."""

    def __init__(self, path: Path, database: Path) -> None:
        self.path = path
        self.database = database
        self._file: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StoreInUse(
                f"another racedesk process{who} runs on the SQLite database {self.database}; SQLite serves "
                "one bot process, so stop that one first, or run several on PostgreSQL "
                "(see 'Scaling' in README.md)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._file = fd

    def release(self) -> None:
        if self._file is not None:
            fd, self._file = self._file, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing frees the lock


def bot_process_lock(database_url: str) -> ProcessLock | None:
    """The lock a bot process holds on a SQLite database file (None: PostgreSQL, or SQLite in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    database.parent.mkdir(parents=True, exist_ok=True)
    return ProcessLock(database.with_name(database.name + ".lock"), database)

"""A read cache for answers that only change when the data does (race lookups, race cards).

Every write records an audit entry. A commit that added one bumps this process's
data version at once, so the desk's own writes are never served stale. Writes by
another process (an import from the command line, a second bot) are noticed by
`refresh()`, which compares the newest audit id at most every REFRESH_SECONDS; on PostgreSQL a
listener (db/notify.py) hears of them at once and calls `invalidate()`, and while it listens
(`writes_heard`) that comparison is not needed.
Entries also expire after TTL_SECONDS, because some answers depend on the clock
("polls close in 2 hours").
One read at a time per answer: who asks for an answer while it is being read
waits for that read (after a write drops the cache, many members ask about the
same race at once), unless a write came between.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from db.models import AuditEntry

T = TypeVar("T")
TTL_SECONDS = 60.0
REFRESH_SECONDS = 2.0
MAX_ENTRIES = 2048
FREE_SLICE = 32  # entries of a dropped cache freed per turn of the event loop

_local_version = 0


def local_version() -> int:
    return _local_version


@event.listens_for(Session, "after_flush")
def _note_audited_write(session: Session, _context: Any) -> None:
    if any(isinstance(obj, AuditEntry) for obj in session.new):
        session.info["audited_write"] = True


@event.listens_for(Session, "after_commit")
def _bump_version(session: Session) -> None:
    global _local_version
    if session.in_nested_transaction():
        return  # a savepoint's commit (SQLAlchemy tells of those too): the transaction is still open
    if session.info.pop("audited_write", False):
        _local_version += 1


@event.listens_for(Session, "after_rollback")
def _forget_write(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps what the transaction wrote before
        session.info.pop("audited_write", None)


class ReadCache:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], float] = time.monotonic
    ):
        self.sessions = sessions
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._seen_local = local_version()
        self._newest_audit: int | None = None
        self._checked_at = float("-inf")
        self.hits = self.misses = 0
        self._generation = 0  # bumped at every clear: a load that began before it is not kept
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}  # loads under way, since the last clear
        self.writes_heard: Callable[[], bool] = lambda: False  # True: other processes' writes are heard

    def clear(self) -> None:
        dropped, self._entries = self._entries, OrderedDict()
        self._generation += 1
        self._loading = {}  # who asks from now on reads afresh, not what a load begun before gives
        free_later(dropped)

    def invalidate(self) -> None:
        """Another process wrote (a notification said so): drop everything."""
        self.clear()

    async def refresh(self) -> None:
        """Drop everything if this process wrote, or (checked now and then) another process did."""
        if self._seen_local != local_version():
            self._seen_local = local_version()
            self.clear()
        if self.writes_heard():
            return
        now = self.clock()
        if now - self._checked_at < REFRESH_SECONDS:
            return
        self._checked_at = now
        async with self.sessions() as session:
            newest = await session.scalar(select(func.max(AuditEntry.id)))
        if newest != self._newest_audit:
            self._newest_audit = newest
            self.clear()

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        await self.refresh()
        while True:
            now = self.clock()
            found = self._entries.get(key)
            if found is not None and now - found[0] < TTL_SECONDS:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, found[1])
            pending = self._loading.get(key)
            if pending is None:
                self.misses += 1
                return await self._load(key, load, now)
            # Someone is reading this already (after a write drops the cache, many members ask about the
            # same race at once): their answer, not the same read again.
            value = await asyncio.shield(pending)
            if value is not _LOAD_AGAIN:
                self.hits += 1
                return cast(T, value)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[T]], now: float) -> T:
        """Read the answer, sharing it with whoever asks for it meanwhile; keep it unless the data changed."""
        loading, generation = self._loading, self._generation
        shared = loading[key] = asyncio.get_running_loop().create_future()
        try:
            value = await load()
        except Exception as error:
            shared.set_exception(error)
            shared.exception()  # those waiting get it; with none waiting it is not "never retrieved"
            raise
        except BaseException:
            shared.set_result(_LOAD_AGAIN)  # this asker was cancelled: one of those waiting reads instead
            raise
        else:
            shared.set_result(value)
        finally:
            if loading.get(key) is shared:
                del loading[key]
        if generation != self._generation:  # written meanwhile: the value may be older than the write
            return value
        self._entries[key] = (now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return value


_LOAD_AGAIN = object()  # what a cancelled load tells those waiting for it


def free_later(entries: OrderedDict[Hashable, tuple[float, Any]]) -> None:
    """Free a dropped cache's entries a slice at a time, one slice per turn of the running event loop: freeing
    a full cache's answers (their embeds, rows and texts) at once would hold every reply for milliseconds, each
    time a write anywhere drops it. Without a running loop they are freed here."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        entries.clear()
        return

    def free_some() -> None:
        for _ in range(min(FREE_SLICE, len(entries))):
            entries.popitem(last=False)
        if entries:
            loop.call_soon(free_some)

    if entries:
        loop.call_soon(free_some)

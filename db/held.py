"""A member's lookup answered from what this process holds, with no connection to the store.

The lookups (`db.lookup.find_races`, `db.reads.people.find_people`) answer most questions from this process's
copies (the races of db/directory.py, the people of the shelf) and send a statement only where those cannot
answer. Yet run through the store, each one took a connection, a read's timeout and turn, a session and a
read-cache entry first: a third of the time of a lookup that then sent nothing.

`held_or_read` runs the same read first with a session that refuses any use (`NeedsStore`, raised at its
first statement, before it changed anything), and asks the store only when it was refused. The answer is
that read's either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class NeedsStore(Exception):
    """The read asked for a statement: what this process holds does not answer it."""


class _NoStore:
    """A session that refuses everything: any attribute asked of it raises NeedsStore."""

    __slots__ = ()

    def __getattr__(self, name: str) -> NoReturn:
        raise NeedsStore(name)


NO_STORE = cast(AsyncSession, _NoStore())


async def held_or_read(
    read: Callable[[AsyncSession], Awaitable[T]],
    from_store: Callable[[], Awaitable[T]],
    holds: bool = True,
) -> T:
    """`read`'s answer from what is held when it sends no statement; else `from_store()`'s. `holds` False: what
    is held cannot answer now (not known current, not filled yet), so the store is asked at once rather than
    the read run twice."""
    if not holds:
        return await from_store()
    try:
        return await read(NO_STORE)
    except NeedsStore:
        return await from_store()

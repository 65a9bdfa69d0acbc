"""Reads on PostgreSQL: outside a transaction, on connections held between reads, prebuilt statements on
asyncpg.

Three round trips a read need not make: BEGIN and ROLLBACK around it (under READ COMMITTED each statement
sees its own snapshot either way, so reads run in autocommit), and the engine pool's ping at each checkout.
The reader keeps up to HELD connections of the bot's engine checked out between reads (the ping is paid
once, at their checkout); a read that fails because its connection was dropped (a server restart, an idle
timeout, a terminated backend) drops every held connection and runs once more on one from the pool. No more
reads run at once than connections are kept: the rest wait their turn, and the pool stays free for writes (a
read that waited TURN_WAIT, behind reads that hang, goes ahead beside them). Its prebuilt statements run on
asyncpg itself (db/direct.py).

A member's small reads (a lookup, a card: a few statements an index answers) run on connections of their
own, with generic plans (GENERIC_PLANS). asyncpg prepares each statement once per connection, but the
server still plans it afresh at every run while it guesses a plan for the values at hand might be cheaper.
A generic plan is cheaper to guess for any id when a few values are named often (one person in many polls,
or a word many names begin with), and the server then plans each run again. For these statements planning
is most of the work: 0.3-0.5 ms, against 0.05 ms to run them. Other reads (the balance of a chamber, the
calendar) keep the server's choice: for them the values matter.

No statement of a read runs (or waits, behind a lock an operator's ALTER TABLE holds, say) longer than
READ_TIMEOUT_MS: 2.5 s for a member's small read, whose reply is due within Discord's 3 s for an interaction,
10 s for the others. The server cancels it, the connection stays usable, and the read raises ReadTooSlow.
A whole read has a limit of its own, READ_LIMIT_SECONDS, for a connection that stopped answering without a
word (the server's timeout cannot fire where its answer never arrives): the read is cancelled, its connection
dropped, and it raises ReadTooSlow too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.direct import DirectSession, asyncpg_runner

T = TypeVar("T")
HELD = {True: 4, False: 2}  # connections kept between reads, small or not, and reads of each kind at once
TURN_WAIT = 0.5  # seconds a read waits for a turn before it reads beside the others (see _turn)
READ_TIMEOUT_MS = {True: 2_500, False: 10_000}  # a statement's longest run (or wait), small read or not
READ_LIMIT_SECONDS = {True: 5.0, False: 20.0}  # a whole read's, its turn and every statement included
GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"
SERVERS_CHOICE = "RESET plan_cache_mode"
NO_TIMEOUT = "RESET statement_timeout"
QUERY_CANCELED = "57014"  # the server cancelled the statement (its timeout, or someone asked it to)
TIMED_OUT = "statement timeout"  # in the server's message when it was the timeout


class ReadTooSlow(Exception):
    """A read ran past the reader's timeout and was cancelled; nothing is wrong with the data."""


class PostgresReader:
    """Runs store reads on PostgreSQL, on connections of the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.timeout_ms = dict(READ_TIMEOUT_MS)  # small or not; taken by each connection at its checkout
        self.limit_seconds = dict(READ_LIMIT_SECONDS)
        # Connections kept between reads, with their asyncpg connections: for small reads and for others.
        self.idle: dict[bool, list[tuple[AsyncConnection, Any]]] = {True: [], False: []}
        # No more reads at once than connections are kept: a burst of members (every write drops the cache)
        # waits its turn for those, rather than taking the engine's whole pool from the writes.
        self.turns = {small: asyncio.Semaphore(held) for small, held in HELD.items()}
        self.closed = False

    @classmethod
    def for_engine(cls, engine: AsyncEngine | None) -> PostgresReader | None:
        if engine is None or engine.dialect.name != "postgresql" or engine.dialect.driver != "asyncpg":
            return None
        return cls(engine)

    async def read(self, read: Callable[[AsyncSession], Awaitable[T]], *, small: bool = False) -> T:
        """The read's answer; `small`: a member's small read, run under generic plans."""
        limit = self.limit_seconds[small]
        try:
            async with asyncio.timeout(limit), self._turn(small):
                return await self._read_again_if_dropped(read, small)
        except TimeoutError as error:  # asyncio.timeout's: the read was cancelled, its connection dropped
            raise ReadTooSlow(f"a read took longer than {limit} s and was cancelled") from error
        except Exception as error:
            if _timed_out(error):
                raise ReadTooSlow(
                    f"a statement ran past {self.timeout_ms[small]} ms and was cancelled"
                ) from error
            raise

    async def _read_again_if_dropped(self, read: Callable[[AsyncSession], Awaitable[T]], small: bool) -> T:
        try:
            return await self._read_once(read, small)
        except Exception as error:
            if not _dropped(error):
                raise
        # What dropped one (a server restart, an idle timeout) may have dropped every held one: read again on
        # a connection from the engine's pool, which pings it first.
        await self._release_held(kept=False)
        return await self._read_once(read, small)

    @contextlib.asynccontextmanager
    async def _turn(self, small: bool) -> AsyncIterator[None]:
        """A turn among this kind's reads; after TURN_WAIT without one (reads that hang, not a burst of quick
        ones), the read goes ahead on a connection of the pool's rather than wait on them."""
        turns = self.turns[small]
        if not turns.locked():
            await turns.acquire()  # a free turn is taken at once (wait_for would start a task for it)
        else:
            try:
                await asyncio.wait_for(turns.acquire(), TURN_WAIT)
            except TimeoutError:
                yield
                return
        try:
            yield
        finally:
            turns.release()

    async def _read_once(self, read: Callable[[AsyncSession], Awaitable[T]], small: bool) -> T:
        connection, driver = await self._checkout(small)
        direct = DirectSession(
            self.engine.dialect,
            asyncpg_runner(driver),
            lambda: AsyncSession(connection, expire_on_commit=False),
        )
        kept = False
        try:
            found = await read(cast(AsyncSession, direct))
            kept = True
            return found
        except Exception as error:
            kept = not _dropped(error) and driver is not None and not driver.is_closed()
            raise
        finally:
            try:
                if (opened := direct.opened_session()) is not None:
                    await opened.close()
            finally:
                await self._checkin(connection, driver, kept, small)

    async def _checkout(self, small: bool) -> tuple[AsyncConnection, Any]:
        """A connection and its asyncpg connection (asked once: SQLAlchemy's getter is a greenlet hop)."""
        if self.idle[small]:
            return self.idle[small].pop()
        connection = await self.engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        driver: Any = (await connection.get_raw_connection()).driver_connection
        settings = [
            f"SET statement_timeout = {int(self.timeout_ms[small])}",
            *([GENERIC_PLANS] if small else []),
        ]
        try:
            await driver.execute("; ".join(settings))
        except BaseException:
            await self._give_back(connection, driver, False, small)
            raise
        return connection, driver

    async def _checkin(self, connection: AsyncConnection, driver: Any, kept: bool, small: bool) -> None:
        if kept and not self.closed and len(self.idle[small]) < HELD[small] and not connection.invalidated:
            self.idle[small].append((connection, driver))
            return
        await self._give_back(connection, driver, kept, small)

    async def _give_back(self, connection: AsyncConnection, driver: Any, kept: bool, small: bool) -> None:
        """Return a connection to the engine's pool as it came (no timeout, the server's own plan choice), or
        drop it."""
        try:
            if kept and not connection.invalidated:
                await driver.execute(f"{SERVERS_CHOICE}; {NO_TIMEOUT}" if small else NO_TIMEOUT)
        except Exception:
            kept = False  # it may still time reads out or plan generically: not back into the pool
        except BaseException:  # cancelled during the reset: dropped, and the cancellation goes on
            kept = False
            raise
        finally:
            if not kept and not connection.invalidated:
                await connection.invalidate()
            await connection.close()

    async def _release_held(self, kept: bool) -> None:
        """Give every held connection back to the pool (`kept`) or drop it; one at a time, so that a cancelled
        release leaves the rest held, not lost."""
        for small, idle in self.idle.items():
            while idle:
                connection, driver = idle.pop()
                await self._give_back(connection, driver, kept, small)

    async def close(self) -> None:
        """Give the held connections back to the engine's pool."""
        self.closed = True
        await self._release_held(kept=True)


def _timed_out(error: Exception) -> bool:
    """Whether the server cancelled a read for its statement timeout, raised by asyncpg or through SQLAlchemy
    (not when an operator cancelled it: that is an error like any other)."""
    found = error.orig if isinstance(error, DBAPIError) else error
    return getattr(found, "sqlstate", None) == QUERY_CANCELED and TIMED_OUT in str(found)


def _dropped(error: Exception) -> bool:
    """Whether a read failed because its connection was lost (then it may run again: reads change nothing)."""
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if isinstance(error, asyncpg.exceptions.PostgresError):
        return error.sqlstate in ADMIN_SHUTDOWN or error.sqlstate.startswith(CONNECTION_EXCEPTION)
    # The client's own errors: a closed connection, or one whose protocol a terminated backend's last
    # message left mid-operation ("another operation is in progress").
    client = (asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError, OSError)
    return isinstance(error, client)


ADMIN_SHUTDOWN = {"57P01", "57P02", "57P03"}  # the backend was terminated, the server crashed or restarts
CONNECTION_EXCEPTION = "08"  # the class of "the connection does not exist" and the like

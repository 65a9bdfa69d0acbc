"""Charts are read and drawn in a worker process, so replies are never held up by them.

The worker is spawned (nothing of the bot is copied into it) on the first chart and kept; it
runs at a lower CPU priority than the bot. It reads the polls itself, over its own connection
to the same database, so neither the rows (thousands for a big race), nor matplotlib's CPU
time, nor the GIL they would hold ever touch the bot's event loop: the bot sends a few ids and
gets a PNG back. If the worker dies, the next chart starts another; if processes cannot be
started, or the database lives in this process's memory, the bot reads the rows itself and
draws in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.reads.polls import PollFilter, chart_rows
from render.chart import ChartRequest, ChartResult, draw, warm_up

log = logging.getLogger(__name__)

CHART_WORKERS = 1
CHART_NICENESS = 10
ENGINES_KEPT = 4
PARENT_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class ChartJob:
    """What the worker needs to read and draw one chart (small and picklable)."""

    database_url: str = field(repr=False)  # may hold a password: never shown in logs
    race_id: int
    flt: PollFilter
    title: str
    contest_labels: tuple[tuple[int, str], ...]
    note: str = ""
    source: str = ""

    def request(self, rows: list[tuple[object, ...]]) -> ChartRequest:
        return ChartRequest(
            self.title,
            (),
            self.contest_labels,
            note=self.note,
            source=self.source,
            rows=tuple(rows),  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------- in the worker process

_loop: asyncio.AbstractEventLoop | None = None
_engines: dict[str, AsyncEngine] = {}


def start_worker() -> None:
    """Yield the CPU to the bot (charts can wait a little, replies should not); warm matplotlib up."""
    watch_parent(os.getppid())
    with contextlib.suppress(OSError, AttributeError):
        os.nice(CHART_NICENESS)
    warm_up()


def watch_parent(parent_pid: int, every: float = PARENT_CHECK_SECONDS) -> threading.Thread:
    """End this worker as soon as the bot that started it is gone, even if it was killed (kill -9),
    so no worker is ever left behind holding memory and a database connection."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every)
        os._exit(0)  # the parent is gone: nothing here is worth finishing

    thread = threading.Thread(target=watch, name="racedesk-parent-watch", daemon=True)
    thread.start()
    return thread


def read_and_draw(job: ChartJob) -> ChartResult | None:
    """Runs in the worker: read the chart's rows over the worker's own connection, then draw."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    rows = _loop.run_until_complete(_read(job))
    return draw(job.request(rows))


async def _read(job: ChartJob) -> list[tuple[object, ...]]:
    from db.engine import make_engine

    engine = _engines.get(job.database_url)
    if engine is None:
        while len(_engines) >= ENGINES_KEPT:
            await _engines.pop(next(iter(_engines))).dispose()
        engine = _engines[job.database_url] = make_engine(job.database_url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return list(await chart_rows(session, job.race_id, job.flt))


# ---------------------------------------------------------------- in the bot


def in_this_process(database_url: str) -> bool:
    """Whether the database exists only in this process (SQLite in memory): no other process can read it."""
    url = make_url(database_url)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class ChartWorker:
    def __init__(self, workers: int = CHART_WORKERS) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._use_thread = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker,
            )
        return self._pool

    async def chart(self, job: ChartJob, sessions: async_sessionmaker[AsyncSession]) -> ChartResult | None:
        """Read and draw in the worker; without one, read here and draw in a thread."""
        if not self._use_thread and not in_this_process(job.database_url):
            loop = asyncio.get_running_loop()
            for _attempt in range(2):
                try:
                    return await loop.run_in_executor(self._executor(), read_and_draw, job)
                except BrokenProcessPool:
                    log.warning("the chart worker died; starting another")
                    self._pool = None
                except OSError:
                    log.warning("cannot start a chart worker process; drawing in a thread", exc_info=True)
                    self._use_thread = True
                    break
        async with sessions() as session:
            rows = await chart_rows(session, job.race_id, job.flt)
        return await self.draw(job.request(list(rows)))

    async def draw(self, request: ChartRequest) -> ChartResult | None:
        """Draw a chart from data already read: in the worker, else in a thread."""
        if not self._use_thread:
            try:
                return await asyncio.get_running_loop().run_in_executor(self._executor(), draw, request)
            except (BrokenProcessPool, OSError):
                log.warning("the chart worker is not available; drawing in a thread", exc_info=True)
                self._pool = None
        return await asyncio.to_thread(draw, request)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

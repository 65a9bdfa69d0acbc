"""Importing a file into the store (`racedesk export`, the inverse, is `db.dataset.export`).

`import_file` parses (in a worker thread, so the bot's event loop keeps running), adjusts the
document to what the store already knows (`db.importers.reconcile`), and stores it with the one writer,
`db.dataset`, inside a SAVEPOINT of the caller's transaction:

- a bad line fails the whole import with its line number (`ImportFailed`) and the savepoint is
  rolled back, so nothing of this file is written; with `skip_bad` each bad line is skipped and
  reported instead;
- `dry_run` does everything, then rolls the savepoint back: the report says what would change;
- an `ImportRun` row records the file's SHA-256 (with the format and parser options): importing the
  same file again changes nothing and says so (`force=True` loads it anyway, which is harmless:
  the writer is idempotent by natural keys).

The caller commits (as with `db.dataset.load_document`).

While a file is read and stored, Python's cyclic garbage collector is paused (`collector_paused`): an
import builds hundreds of thousands of objects that all stay alive until it ends, and each of the
collector's full passes walks all of them again (a quarter of a big import's time). Reference counting
still frees everything else at once; the collector resumes when the import ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import inspect
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.audit import SYSTEM, Actor
from db.dataset import DocumentError, DocumentLoader
from db.importers import detect_format, parse
from db.importers.common import ParseError
from db.importers.files import check_size, sha256_of
from db.importers.reconcile import fit_to_store
from db.importers.report import ImportFailed, ImportReport
from db.models import (
    Answer,
    Call,
    CandidateAlias,
    Endorsement,
    ImportRun,
    NameToken,
    Poll,
    Question,
    ResultCount,
    ResultSnapshot,
)

Progress = Callable[[str], Awaitable[None] | None]
_P = ParamSpec("_P")
_R = TypeVar("_R")


async def _say(progress: Progress | None, message: str) -> None:
    if progress is None:
        return
    result = progress(message)
    if inspect.isawaitable(result):
        await result


def _options_key(options: dict[str, Any]) -> str:
    return json.dumps(
        options, sort_keys=True, default=lambda v: sorted(v) if isinstance(v, set | frozenset) else list(v)
    )


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside (see the module docstring); as it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collector_paused_in(function: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """`function` run with the collector paused (`collector_paused`)."""

    @functools.wraps(function)
    async def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with collector_paused():
            return await function(*args, **kwargs)

    return paused


@_collector_paused_in
async def import_file(
    session: AsyncSession,
    path: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    actor: Actor = SYSTEM,
    progress: Progress | None = None,
    force: bool = False,
    options: dict[str, Any] | None = None,
    name: str | None = None,
) -> ImportReport:
    """Import one file (see the module docstring); `options` go to the format's parser (e.g. years=).

    `name` is the file's name as its sender gave it (an attachment's), when `path` is only where it was
    saved: reports and messages use it, and OpenElections reads the election from it. It is never a path."""
    path = Path(path)
    name = name or path.name
    started = time.perf_counter()
    try:
        check_size(path)
        if fmt == "auto":
            fmt = detect_format(path, name)
        sha = await asyncio.to_thread(sha256_of, path)
    except ParseError as problem:
        raise ImportFailed(name, str(problem), problem.bad) from problem
    opts = {
        k: sorted(v) if isinstance(v, set | frozenset | tuple | list) else v
        for k, v in (options or {}).items()
    }
    report = ImportReport(name=name, format=fmt, sha256=sha, options=opts, dry_run=dry_run)
    if not force:
        runs = await session.scalars(
            select(ImportRun).where(ImportRun.sha256 == sha, ImportRun.format == fmt).order_by(ImportRun.id)
        )
        key = _options_key(opts)
        if any(_options_key((run.summary or {}).get("options", {})) == key for run in runs):
            report.already_imported = True
            report.notes.append("this file was imported before with these options")
            report.seconds = time.perf_counter() - started
            await _say(progress, report.describe())
            return report
    await _say(progress, f"reading {name} ({fmt})")
    named = {"name": name} if fmt == "openelections" and "name" not in opts else {}
    try:
        parsed = await asyncio.to_thread(parse, path, fmt, skip_bad=skip_bad, **opts, **named)
    except ParseError as problem:
        raise ImportFailed(name, str(problem), problem.bad) from problem
    report.rows = parsed.rows
    report.skipped = list(parsed.skipped)
    report.notes += parsed.notes
    doc = parsed.document
    await _say(progress, f"storing {len(doc.get('races', []))} races from {name}")
    savepoint = await session.begin_nested()
    ids = _ClientIds(session) if session.get_bind().dialect.name == "sqlite" else _SequenceIds(session)
    try:
        # The run is written first: on SQLite that takes the write lock, which the client-side ids need.
        run = ImportRun(format=fmt, name=name[:256], sha256=sha, summary={"options": opts})
        session.add(run)
        await session.flush()
        await fit_to_store(session, parsed, report)
        ids.start()
        loader = DocumentLoader(session, actor, source_name=f"{fmt}: {name}"[:64], new_id=ids.take)
        with session.no_autoflush:
            summary = await loader.load(doc)
        await session.flush()
        report.added, report.updated = summary.added, summary.updated
        report.merges = [m.describe() for m in loader.people.merges]
        report.ambiguities = [a.describe() for a in loader.people.ambiguities]
        report.seconds = time.perf_counter() - started
        run.summary = report.as_dict()
        await session.flush()
    except DocumentError as problem:
        await savepoint.rollback()
        raise ImportFailed(name, str(problem)) from problem
    except BaseException:
        await savepoint.rollback()
        raise
    finally:
        ids.stop()
    if dry_run:
        await savepoint.rollback()
    else:
        await savepoint.commit()
    report.seconds = time.perf_counter() - started
    await _say(progress, report.describe())
    return report


class _ClientIds:
    """Primary keys given by the client to the rows an import adds (people, races, contests, candidacies,
    counts, calls, endorsements, polls, questions, answers, aliases and tokens).

    The ORM needs each new row's id back. On PostgreSQL it inserts many rows per statement and
    reads the ids with RETURNING; on SQLite, which cannot return them in order, it falls back to
    one INSERT per row, and an import of FiveThirtyEight's polls makes some 8,000 of them. With
    ids given here the ORM sends one executemany per table instead: the same rows, in the same
    order (`insert_order`), with the ids SQLite would have picked (max + 1). Safe because the
    import holds SQLite's write lock (it has written its ImportRun) before the first id is taken,
    so no other writer can insert until it commits.
    """

    BATCHED = (
        Poll,
        Question,
        Answer,
        ResultSnapshot,
        ResultCount,
        Call,
        Endorsement,
        CandidateAlias,
        NameToken,
    )

    def __init__(self, session: AsyncSession) -> None:
        self.sync = session.sync_session
        self.sync_scalar = session.scalar
        self.next: dict[type[Any], int] = {}

    def start(self) -> None:
        event.listen(self.sync, "before_flush", self.before_flush)

    async def take(self, cls: type[Any]) -> int:
        """The next key of `cls`, for a row the writer needs the key of before it is flushed."""
        if cls not in self.next:
            highest = await self.sync_scalar(select(func.max(cls.id)))
            self.next[cls] = (highest or 0) + 1
        self.next[cls] += 1
        return self.next[cls] - 1

    def stop(self) -> None:
        if event.contains(self.sync, "before_flush", self.before_flush):
            event.remove(self.sync, "before_flush", self.before_flush)

    def before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        pending = [obj for obj in session.new if isinstance(obj, self.BATCHED) and obj.id is None]
        pending.sort(key=lambda obj: obj._sa_instance_state.insert_order)
        for obj in pending:
            cls = type(obj)
            if cls not in self.next:
                highest = session.connection().execute(select(func.max(cls.id))).scalar()
                self.next[cls] = (highest or 0) + 1
            obj.id = self.next[cls]
            self.next[cls] += 1


class _SequenceIds:
    """On PostgreSQL, the keys of the rows an import adds, taken from each table's own sequence a block at
    a time (64, then twice as many each time, at most 4,096): the writer then keeps new rows as plain
    rows and inserts each table's with one executemany, as on SQLite, instead of an ORM object per new
    race, contest, candidacy and person flushed for its key. Other writers take their keys from the same
    sequences, so none is given twice; the keys left over at the end are skipped, as a rolled back
    insert's are."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.free: dict[type[Any], list[int]] = {}
        self.block: dict[type[Any], int] = {}

    def start(self) -> None:
        """(Nothing to set up: `_ClientIds`'s counterpart.)"""

    def stop(self) -> None:
        """(Nothing to undo.)"""

    async def take(self, cls: type[Any]) -> int:
        free = self.free.setdefault(cls, [])
        if not free:
            size = self.block[cls] = min(self.block.get(cls, 32) * 2, 4_096)
            sequence = func.pg_get_serial_sequence(cls.__table__.name, "id")
            taken = await self.session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, size))
            )
            free.extend(sorted(taken, reverse=True))
        return free.pop()

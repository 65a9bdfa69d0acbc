"""The one-time jobs (migrations, the first build of the default data) run once however many processes start
together on one PostgreSQL database: the advisory lock of db/migrate.py. A store built by an earlier
version gains the data shipped since (`racedesk db add-shipped`)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select, text, update

from db.bootstrap import add_shipped, load_sample
from db.engine import make_engine, make_sessionmaker
from db.importers.default import PUBLIC
from db.importers.run import import_file
from db.models import Race
from loopback.process import REPO_ROOT
from tests.support import Built, sqlite_url
from tests.support.stores import copied_store, fresh_database, row_counts

PROCESSES = 6
EDITED = "Notes the desk wrote."
SAMPLE_RACE = (Race.cycle == 2020) & (Race.state == "AL") & (Race.office == "senate")
# One process starting: the bot's own start-up path (build_bot's prepare), logging what it did.
START = """
import asyncio, logging, os, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
from db.bootstrap import prepare
from db.engine import make_engine, make_sessionmaker

async def main():
    engine = make_engine(os.environ["DATABASE_URL"])
    try:
        built = await prepare(engine, make_sessionmaker(engine), default_data=True)
    finally:
        await engine.dispose()
    print("built" if built else "found it built")

asyncio.run(main())
"""


async def start_together(url: str, count: int) -> list[tuple[int, str]]:
    env = {**os.environ, "DATABASE_URL": url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            START,
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(count)
    ]
    try:
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 300)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return [(proc.returncode or 0, out.decode()) for proc, (out, _) in zip(procs, outputs, strict=True)]


async def test_processes_starting_together_migrate_and_build_the_default_store_once(built: Built) -> None:
    async with fresh_database() as url:
        results = await start_together(url, PROCESSES)
        logs = [out for _, out in results]
        assert [code for code, _ in results] == [0] * PROCESSES, "\n".join(logs)
        assert "Traceback" not in "".join(logs)
        migrated = [out for out in logs if "migrated the store from nothing to" in out]
        built_here = [out for out in logs if out.rstrip().endswith("\nbuilt")]
        assert len(migrated) == 1 and len(built_here) == 1, "\n".join(logs)
        assert sum(out.rstrip().endswith("found it built") for out in logs) == PROCESSES - 1
        assert migrated == built_here  # the first to hold the lock did both

        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                heads = (await conn.scalars(text("SELECT version_num FROM alembic_version"))).all()
            counts = await row_counts(make_sessionmaker(engine))
        finally:
            await engine.dispose()
        # The store holds one default build: the same rows as the SQLite store built once by the tests.
        assert len(heads) == 1
        await assert_as_built(counts, built)
        assert counts["races"] > 0


async def assert_as_built(counts: dict[str, int], built: Built) -> None:
    """The rows of every table but the audit's and the imports' are those of the default store built today."""
    reference = make_engine(sqlite_url(built.path))
    try:
        expected = await row_counts(make_sessionmaker(reference))
    finally:
        await reference.dispose()
    same = {name: n for name, n in expected.items() if not name.startswith(("audit", "import"))}
    assert {name: counts[name] for name in same} == same


async def test_a_store_built_by_an_earlier_version_gains_the_files_shipped_since(
    tmp_path: Path, built: Built
) -> None:
    """An earlier version's store: the sample and the Senate results it shipped (the 1976-2020 file).
    `racedesk db add-shipped` adds what is shipped now and the store lacks: the same rows as a store built
    today, and what the desk changed in the sample stays. Run again, it changes nothing."""
    engine = copied_store(tmp_path / "old.db", "sample", load_sample)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            await import_file(
                session, PUBLIC / "1976-2020-senate.csv", "medsl", options={"years": [2018, 2020]}
            )
            await session.execute(update(Race).where(SAMPLE_RACE).values(notes=EDITED))  # the desk's
        added = await add_shipped(engine, sessions)
        counts = await row_counts(sessions)
        again = await add_shipped(engine, sessions)
        assert await row_counts(sessions) == counts
        async with sessions() as session:  # the sample is not loaded again over what the desk changed
            assert await session.scalar(select(Race.notes).where(SAMPLE_RACE)) == EDITED
    finally:
        await engine.dispose()
    await assert_as_built(counts, built)
    assert added.startswith("sample: kept as it is; default store: added ") and " races" in added
    assert again == "sample: kept as it is; default store: already imported; nothing changed"

"""First run: migrate, then build the default store into an empty database.

The store is the hand-made sample (the 2020 Alabama race of the article) merged with the public
data the repository ships (data/public: FiveThirtyEight polls, MEDSL results, OpenElections and
the Alabama Secretary of State), all in one transaction.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import LoadSummary, load_document
from db.engine import for_writing, refresh_statistics
from db.importers.default import build_default_store
from db.importers.run import ImportReport
from db.lookup import race_count
from db.migrate import apply_migrations, one_time_jobs

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA_DIR / "sample" / "alabama-2020.json"


async def load_sample(session: AsyncSession) -> LoadSummary:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return await load_document(session, doc, SYSTEM, source_name=f"data/sample/{SAMPLE.name}")


async def prepare(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], default_data: bool = True
) -> bool:
    """Apply migrations; fill an empty store with the shipped data. Returns whether it built the store.

    Both are one-time jobs: on PostgreSQL, of many processes starting together one does them under the
    advisory lock (db/migrate.py) and the others wait, then find them done."""
    async with one_time_jobs(engine):
        before, after = await apply_migrations(engine)
        if before != after:
            log.info("migrated the store from %s to %s", before or "nothing", after)
        if not default_data:
            return False
        async with sessions.begin() as session:
            await for_writing(session)
            if await race_count(session) > 0:
                return False
            sample, public = await _shipped(session)
        await refresh_statistics(engine)
    log.info("built the default store: sample: %s; public data: %s", sample.describe(), public.describe())
    return True


async def add_shipped(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> str:
    """Migrate, then import each public file racedesk ships that the store has not imported: a store built by
    an earlier version gains the files shipped since (later starts never rebuild a store that holds races).
    A file already imported changes nothing; the sample goes only into a store without races, since loading
    it again would put back what the desk changed in it. Returns what was added, in words."""
    async with one_time_jobs(engine):  # not beside another process's first build
        await apply_migrations(engine)
        async with sessions.begin() as session:
            await for_writing(session)
            if await race_count(session) == 0:
                sample, public = await _shipped(session)
                added = f"sample: {sample.describe()}; {public.describe()}"
            else:
                added = f"sample: kept as it is; {(await build_default_store(session)).describe()}"
        await refresh_statistics(engine)
    return added


async def _shipped(session: AsyncSession) -> tuple[LoadSummary, ImportReport]:
    """The sample, then the public files, into the session's transaction."""
    return await load_sample(session), await build_default_store(session)

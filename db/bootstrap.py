"""First run: migrate, then build the default store into an empty database."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import LoadSummary, load_document
from db.engine import upgrade
from db.lookup import race_count

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA_DIR / "sample" / "alabama-2020.json"


async def load_sample(session: AsyncSession) -> LoadSummary:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return await load_document(session, doc, SYSTEM, source_name=f"data/sample/{SAMPLE.name}")


async def prepare(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], default_data: bool = True
) -> bool:
    """Apply migrations; fill an empty store with the shipped data. Returns whether it built the store."""
    await upgrade(engine)
    if not default_data:
        return False
    async with sessions.begin() as session:
        if await race_count(session) > 0:
            return False
        summary = await load_sample(session)
    log.info("built the default store: %s", summary.describe())
    return True

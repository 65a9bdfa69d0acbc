"""db/engine.py on a real PostgreSQL: after a bulk load the planner's statistics are refreshed at once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.audit import SYSTEM
from db.engine import make_sessionmaker, refresh_statistics
from db.models import Race
from db.store import Store
from tests.support import store_on

REPO = Path(__file__).resolve().parents[2]


async def planned_races(engine: AsyncEngine) -> float:
    """How many rows the planner believes `races` holds (-1: never analyzed), in the engine's schema."""
    async with engine.connect() as conn:
        believed = await conn.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('races')"))
    return float(believed)


async def test_refresh_statistics_lets_postgresql_plan_from_what_was_just_stored(tmp_path: Path) -> None:
    async with store_on("postgresql", tmp_path) as engine:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Race),
                [
                    {"cycle": 2000 + 2 * (i % 12), "state": "TX", "office": "house", "seat": str(i)}
                    for i in range(300)
                ],
            )
        assert await planned_races(engine) != 300
        await refresh_statistics(engine)
        assert await planned_races(engine) == 300


async def test_a_stored_import_refreshes_the_statistics_and_a_dry_run_does_not(tmp_path: Path) -> None:
    primary = REPO / "data" / "public" / "al-2020-primary-totals.json"
    async with store_on("postgresql", tmp_path) as engine:
        store = Store(make_sessionmaker(engine))
        await store.import_file(primary, "auto", SYSTEM, dry_run=True)
        assert await planned_races(engine) <= 0
        report = await store.import_file(primary, "auto", SYSTEM, dry_run=False)
        await store.close()
        assert report.added["races"] > 0
        assert await planned_races(engine) == report.added["races"]

"""One latest_snapshots: each contest's newest count, with its counts loaded, in one query."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import Actor
from db.models import Contest, Race
from db.reads.races import latest_snapshot, latest_snapshots
from db.writes import StageRef, run_write
from db.writes.results import ResultInput, post_result


async def test_the_newest_snapshot_of_each_contest_with_its_counts(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    engine: AsyncEngine = sample_sessions.kw["bind"]
    async with sample_sessions() as session:
        race = await session.scalar(select(Race).where(Race.cycle == 2020))
        assert race is not None
        race_id = race.id
    newer = ResultInput(race_id, StageRef("general"), [("Tuberville", 1_400_000), ("Jones", 930_000)])
    posted = await run_write(sample_sessions, lambda s: post_result(s, Actor(1, "desk"), newer))
    async with sample_sessions() as session:
        contests = {
            c.stage: c.id for c in await session.scalars(select(Contest).where(Contest.race_id == race_id))
        }
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            found = await latest_snapshots(session, list(contests.values()))
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(statements) == 1
        assert set(found) == set(contests.values())
        newest = found[contests["general"]]
        assert newest.id == posted.snapshot.id
        assert sorted(c.votes for c in newest.counts) == [930_000, 1_400_000]
        assert (await latest_snapshot(session, contests["general"])) is newest
        assert await latest_snapshots(session, []) == {}

"""The store on real SQLite and real PostgreSQL: migrations, constraints, time zones, the sample."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.bootstrap import SAMPLE, load_sample, prepare
from db.dataset import DocumentError, load_document
from db.engine import make_engine, make_sessionmaker, upgrade
from db.migrate import alembic_config
from db.models import (
    Base,
    Contest,
    Endorsement,
    Question,
    Race,
    ResultSnapshot,
)
from tests.support import row_counts


async def test_migrations_create_every_table_and_run_twice(engine: AsyncEngine) -> None:
    await upgrade(engine)  # the fixture already ran it once: a second run changes nothing
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
        version = await conn.scalar(text("select version_num from alembic_version"))
    assert set(Base.metadata.tables) <= names
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    # the send order of counts (0002), the feeds (0003), write notifications (0004), the outbox across
    # processes (0005), the index on a race's incumbent (0006), the lookup's indexes (0007), the indexes of
    # the outbox's pending rows (0008), the held targets by a seek (0009), the races' version (0010), the
    # races' cards notified (0011), the name words in code point order (0012)
    assert version == "0012"


async def test_sample_loads_once_and_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        first = await load_sample(session)
    async with sessions() as session:
        counts = await row_counts(session)
    async with sessions.begin() as session:
        second = await load_sample(session)
    async with sessions() as session:
        assert await row_counts(session) == counts
    assert first.changed and not second.changed
    assert second.describe() == "nothing changed"
    assert counts["races"] == 2 and counts["polls"] == 1 and counts["questions"] == 2
    assert counts["endorsements"] == 2 and counts["audit_entries"] == 1


async def test_sample_holds_the_articles_facts(sample_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sample_sessions() as session:
        runoff = await session.scalar(select(Contest).where(Contest.stage == "primary runoff"))
        assert runoff is not None and runoff.date == dt.date(2020, 7, 14)
        snapshot = await session.scalar(select(ResultSnapshot).where(ResultSnapshot.contest_id == runoff.id))
        assert snapshot is not None and snapshot.unofficial  # election-night figures are marked so
        hypothetical = await session.scalars(select(Question.hypothetical).order_by(Question.source_key))
        assert list(hypothetical) == [True, False]  # 538q:125275 (Sessions) is hypothetical
        stances = set(await session.execute(select(Endorsement.endorser, Endorsement.stance)))
        assert stances == {("Donald Trump", "endorse"), ("Donald Trump", "withhold")}
        jones = await session.scalar(select(Race).where(Race.cycle == 2020))
        assert jones is not None and jones.incumbent_party == "DEM"


async def test_times_come_back_aware_in_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    moment = dt.datetime(2020, 7, 14, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    async with sessions.begin() as session:
        race = Race(cycle=2020, state="AL", office="senate", seat="Class II", created_at=moment)
        session.add(race)
    async with sessions() as session:
        stored = await session.scalar(select(Race.created_at))
    assert stored == moment and stored.tzinfo is not None and stored.utcoffset() == dt.timedelta(0)


async def test_foreign_keys_are_enforced(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(Contest(race_id=999_999, stage="general", party=""))


async def test_a_race_is_unique_per_cycle_state_office_seat(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        session.add(Race(cycle=2020, state="AL", office="senate", seat="Class II"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(Race(cycle=2020, state="AL", office="senate", seat="Class II"))


async def test_a_bad_document_writes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["races"][1]["polls"][0]["questions"][0]["answers"][0]["pct"] = "lots"
    with pytest.raises(DocumentError, match=r"races\[1\]\.polls\[0\]\.questions\[0\]\.answers\[0\]"):
        async with sessions.begin() as session:
            await load_document(session, doc, SYSTEM)
    async with sessions() as session:
        assert (await row_counts(session))["races"] == 0


async def test_prepare_builds_an_empty_store_once(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    assert await prepare(engine, sessions) is True
    assert await prepare(engine, sessions) is False


async def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    created = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with created.connect() as conn:
        assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
        assert await conn.scalar(text("PRAGMA busy_timeout")) >= 5000
    await created.dispose()


async def test_text_too_long_for_its_column_is_refused_alike_on_both(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    doc = json.loads(SAMPLE.read_text())
    doc["races"][1]["endorsements"][0]["endorser"] = "E" * 129
    with pytest.raises(DocumentError, match="endorser is longer than 128 characters"):
        async with sessions.begin() as session:
            await load_document(session, doc, SYSTEM)

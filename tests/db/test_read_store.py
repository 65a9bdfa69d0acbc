"""The bot's store: it answers by name, caches what only a write changes, and a write drops the cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import Actor, record
from db.cache import ReadCache
from db.engine import make_sessionmaker
from db.follows import Followed
from db.models import GuildSettings
from db.reads.polls import PollFilter
from db.store import Store
from tests.support import store_on

MOD = Actor(id=42, name="mod", guild_id=5)


class Clock:
    """Still time: the cross-process check and the expiry never fire, so only writes drop answers."""

    def __call__(self) -> float:
        return 0.0


@pytest.fixture
async def store(sample_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Store]:
    opened = Store(sample_sessions, ReadCache(sample_sessions, clock=Clock()))
    yield opened
    await opened.close()


async def test_the_store_answers_by_name(store: Store) -> None:
    matches = await store.find_races("alabama 2020")
    assert matches.chosen is not None
    race_id = matches.chosen.id
    card = await store.race_card(race_id)
    assert card is not None and card.race.state == "AL"
    assert await store.race_card(10_000) is None
    results = await store.race_results(race_id)
    assert results is not None and results.views
    history = await store.count_history(results.views[-1])
    assert history is not None
    contests = await store.race_contests(race_id)
    assert {c.race_id for c in contests.values()} == {race_id}
    page = await store.poll_page(race_id, PollFilter(), 1)
    assert page.total == page.all_polls
    people = await store.find_people("tuberville")
    assert people.chosen is not None
    assert await store.person_card(people.chosen.id) is not None
    rows, count = await store.race_endorsements(race_id)
    assert count >= len(rows)
    calendar = await store.calendar(dt.date(2020, 11, 1), dt.date(2020, 11, 30))
    assert calendar.entries
    senate = await store.office_cycles("senate")
    assert 2020 in senate.cycles and senate.newest_counted == max(senate.cycles)


async def test_answers_are_cached_whatever_the_case_and_spacing(store: Store) -> None:
    first = await store.find_races("Alabama  2020")
    assert await store.find_races(" alabama 2020") is first
    assert first.chosen is not None
    card = await store.race_card(first.chosen.id)
    assert await store.race_card(first.chosen.id) is card
    flt = PollFilter("lv")
    token = await store.chart_token(first.chosen.id, flt)
    assert await store.chart_token(first.chosen.id, flt) is token
    assert await store.chart_token(first.chosen.id, PollFilter()) is not token


async def test_an_audited_write_drops_the_cached_answers(store: Store) -> None:
    matches = await store.find_races("alabama 2020")
    assert matches.chosen is not None
    race_id = matches.chosen.id
    card = await store.race_card(race_id)
    token = await store.chart_token(race_id, PollFilter())

    async def nothing(session: AsyncSession) -> int:
        return 1

    assert await store.write(nothing) == 1
    assert await store.race_card(race_id) is card  # nothing audited, nothing dropped

    async def audited(session: AsyncSession) -> None:
        await record(session, MOD, "test.write", "races", race_id, race_id=race_id)

    await store.write(audited)
    assert await store.race_card(race_id) is not card
    assert await store.chart_token(race_id, PollFilter()) is not token
    assert await store.find_races("alabama 2020") is not matches


async def test_a_write_that_fails_drops_nothing(store: Store) -> None:
    matches = await store.find_races("alabama 2020")

    async def fails(session: AsyncSession) -> None:
        await record(session, MOD, "test.write", "races", None)
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await store.write(fails)
    assert await store.find_races("alabama 2020") is matches


async def test_follows_and_the_audit(store: Store) -> None:
    matches = await store.find_races("alabama 2020")
    assert matches.chosen is not None
    race_id = matches.chosen.id
    assert (await store.follow(MOD, 7, race_id)).result == Followed.ADDED
    assert (await store.follow(MOD, 7, race_id)).result == Followed.ALREADY
    assert [f.race.id for f in await store.followed_races(7)] == [race_id]
    newest = (await store.audit_page(race_id=None, before=None, guild_id=None, limit=1)).entries
    assert [e.action for e in newest] == ["follow.add"]

    async def audited(session: AsyncSession) -> None:
        await record(session, MOD, "test.write", "races", race_id, race_id=race_id)

    await store.write(audited)
    page = await store.audit_page(race_id=race_id, before=None, guild_id=None, limit=15)
    assert page.entries[0].action == "test.write"
    assert set(page.races) == {race_id}
    older = await store.audit_page(race_id=race_id, before=page.entries[0].id, guild_id=None, limit=15)
    assert all(e.id < page.entries[0].id for e in older.entries)
    entry, race = await store.audit_entry(page.entries[0].id)
    assert entry is not None and race is not None and race.id == race_id
    assert await store.audit_entry(10_000_000) == (None, None)
    assert await store.unfollow(MOD, 7, None) == 1
    assert await store.followed_races(7) == []


async def test_server_settings(store: Store) -> None:
    assert await store.guild_settings(5) is None
    assert await store.guild_prefixes() == {}

    async def settings(session: AsyncSession) -> None:
        session.add(GuildSettings(guild_id=5, prefix="?"))
        session.add(GuildSettings(guild_id=6, mod_role_id=1))
        await record(session, MOD, "config.set", "guild_settings", 5, after={"guild_id": 5, "prefix": "?"})

    await store.write(settings)
    row = await store.guild_settings(5)
    assert row is not None and row.prefix == "?"
    assert await store.guild_prefixes() == {5: "?"}
    here = await store.audit_page(race_id=None, before=None, guild_id=5, limit=15)
    elsewhere = await store.audit_page(race_id=None, before=None, guild_id=6, limit=15)
    assert here.entries[0].action == "config.set"
    assert all(e.action != "config.set" for e in elsewhere.entries)
    assert all(
        e.action != "config.set"
        for e in (await store.audit_page(race_id=None, before=None, guild_id=None, limit=15)).entries
    )


async def test_reads_on_postgresql_run_outside_a_transaction(tmp_path: Path) -> None:
    """Each statement of a read is its own snapshot (READ COMMITTED gives no more inside a transaction), so
    no BEGIN and ROLLBACK round trips: two statements of a read run in two transactions."""

    async def one_transaction(session: AsyncSession) -> bool:
        first = await session.scalar(text("SELECT pg_current_xact_id()::text"))
        return bool(first == await session.scalar(text("SELECT pg_current_xact_id()::text")))

    async with store_on("postgresql", tmp_path) as engine:
        sessions = make_sessionmaker(engine)
        store = Store(sessions)
        assert await store._read(one_transaction) is False
        await store.close()
        async with sessions() as session:  # the store's sessions for writes keep their transaction
            assert await one_transaction(session) is True

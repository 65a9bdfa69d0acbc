"""`undo` refuses, with the reason and nothing changed, what would lose something written since (README, Audit
and undo): a race that now holds polls, a call a newer call replaced, a field edited again.

One bot for the module; each test writes to a race or a person no other test touches.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import Candidate, GuildSettings, Race
from tests.support import World, desk_world, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with desk_world(
        tmp_path_factory.mktemp("undo"), results_channels=False, followers=False
    ) as started:
        yield started


async def stored(world: World, text: str) -> int:
    """Post a desk write as the moderator; the audit id its reply offers to undo."""
    exchange = await world.say(text, author=world.moderator)
    assert exchange.ok is True, exchange.text
    found = re.search(r"undo #?(\d+)", exchange.text)
    assert found is not None, exchange.text
    return int(found.group(1))


async def refused_unchanged(world: World, audit_id: int, words: str) -> None:
    """`undo` is refused saying `words`, and the store is as it was."""
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)
    exchange = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert exchange.ok is False and words in exchange.text, exchange.text
    assert await row_counts(sessions) == before


async def test_a_race_that_now_holds_polls_is_not_removed(world: World) -> None:
    added = await stored(world, "!race-add wyoming senate 2026 general=2026-11-03")
    await stored(world, '!candidate-add wyoming 2026 general name="Wren Holloway" party=REP')
    await stored(world, '!candidate-add wyoming 2026 general name="Ada Vance" party=DEM')
    await stored(
        world, '!poll add wyoming 2026 pollster="Mesa Polling" dates="Oct 1-3, 2026" Holloway=52 Vance=40'
    )
    await refused_unchanged(world, added, "now holds polls")  # (and candidates)
    async with make_sessionmaker(world.bot.engine)() as session:
        assert await session.scalar(select(Race.id).where(Race.state == "WY", Race.cycle == 2026))


async def test_a_call_a_newer_call_replaced_is_not_undone(world: World) -> None:
    first = await stored(world, "!call alabama runoff Sessions source=AP")
    second = await stored(world, "!call alabama runoff Tuberville source=AP")
    await refused_unchanged(world, first, "newer call")
    # In order, newest first, both come off.
    assert (await world.say(f"!undo {second}", author=world.moderator)).ok is True
    assert (await world.say(f"!undo {first}", author=world.moderator)).ok is True


async def test_a_race_field_edited_again_is_not_put_back(world: World) -> None:
    first = await stored(world, '!race-edit alabama 2020 notes="First note"')
    await stored(world, '!race-edit alabama 2020 notes="Second note"')
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        notes = await session.scalar(select(Race.notes).where(Race.state == "AL", Race.cycle == 2020))
    assert notes == "Second note"


async def test_a_candidate_field_edited_again_is_not_put_back(world: World) -> None:
    first = await stored(world, '!candidate-edit alabama rep primary candidate=Byrne name="Brad Byrne"')
    await stored(world, '!candidate-edit alabama rep primary candidate="Brad Byrne" name="B. Byrne"')
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "B. Byrne"))


async def test_a_setting_changed_again_is_not_put_back(world: World) -> None:
    first_role = world.standin.add_role(world.desk.id, name="news")
    second_role = world.standin.add_role(world.desk.id, name="alerts")
    first = await stored(world, f"!config ping-role <@&{first_role.id}>")
    await stored(world, f"!config ping-role <@&{second_role.id}>")
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        settings = await session.get(GuildSettings, world.desk.id)
    assert settings is not None and settings.ping_role_id == second_role.id

"""`follow`, `unfollow`, `following` through the real command machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Follow
from tests.support import World, member_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with member_world(tmp_path, big=False) as started:
        yield started


async def follows(world: World) -> int:
    async with world.bot.sessions() as session:
        return int(await session.scalar(select(func.count(Follow.id))) or 0)


async def test_follow_then_following_lists_it(world: World) -> None:
    text = await world.text("!follow alabama")
    assert text.startswith("You now follow the **2020 Alabama U.S. Senate (Class II)** (1 of 25).")
    assert "reach you by direct message" in text and "To stop: `!unfollow alabama 2020`" in text
    listed = await world.text("!following")
    assert "You follow 1 race (of 25)" in listed
    assert "**2020 Alabama U.S. Senate (Class II)**: `!unfollow alabama 2020`" in listed
    assert "You already follow" in await world.text("!follow alabama")
    assert await follows(world) == 1


async def test_unfollow_and_unfollow_all(world: World) -> None:
    await world.say("!follow alabama")
    await world.say("!follow georgia special")
    assert "You no longer follow the **2020 Alabama U.S. Senate (Class II)**" in await world.text(
        "!unfollow alabama"
    )
    assert "You don't follow the **2020 Alabama U.S. Senate (Class II)**" in await world.text(
        "!unfollow alabama"
    )
    assert await world.text("!unfollow all") == "You no longer follow any race (1 removed)."
    assert await world.text("!following") == "You follow no races. Follow one: `!follow alabama`."


async def test_follows_are_per_member(world: World) -> None:
    await world.say("!follow alabama")
    assert "You follow no races." in await world.text("!following", author=world.moderator)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!follow", "Which race? Name a state, a candidate or a year.\nExample: `!follow alabama`"),
        ("!follow 2020", "races match '2020'"),
        ("!follow @everyone", "No race found for '@\u200beveryone'."),
    ],
)
async def test_wrong_input_writes_nothing(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False and expected in exchange.text
    assert await follows(world) == 0


async def test_slash_follow_is_ephemeral(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "follow", {"query": "alabama"}
    )
    assert exchange.messages[0].ephemeral and "You now follow" in exchange.messages[0].text()

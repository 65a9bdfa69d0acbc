"""`sync` is for the bot's owners only, and publishes exactly what the bot has."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import World, running_bot

# Every command but `sync` (prefix only), spelled out: what the bot publishes must be exactly this.
SLASH_COMMANDS = {
    "audit", "calendar", "call", "candidate", "candidate-add", "candidate-edit", "candidate-merge",
    "config", "endorse", "endorsement", "endorsements", "feed", "follow", "following", "governor", "help",
    "house", "import", "poll", "polls", "president", "race", "race-add", "race-edit", "result", "results", "senate",
    "uncall", "undo", "unfollow",
}  # fmt: skip


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    async with running_bot(sqlite_engine) as started:
        yield started


@pytest.mark.parametrize(
    ("who", "where"),
    [("member", "desk_channel"), ("moderator", "desk_channel"), ("other_admin", "other_channel")],
)
async def test_only_owners_may_sync(world: World, who: str, where: str) -> None:
    exchange = await world.say("!sync here", author=getattr(world, who), channel=getattr(world, where))
    assert exchange.text == "Only the bot's owners can do that."
    assert world.standin.commands(world.desk.id) == world.standin.commands(world.other.id) == []


async def test_an_owner_syncs_this_server(world: World) -> None:
    exchange = await world.say("!sync here", author=world.owner)
    published = {c["name"] for c in world.standin.commands(world.desk.id)}
    assert published == SLASH_COMMANDS
    assert exchange.text == "Synced 30 slash commands to this server."
    assert world.standin.commands(world.other.id) == []  # this server only


async def test_sync_with_a_wrong_scope_shows_the_usage(world: World) -> None:
    exchange = await world.say("!sync everywhere", author=world.owner)
    assert "Usage: `!sync [here|global|clear]`" in exchange.text
    assert "Example: `!sync here`" in exchange.text

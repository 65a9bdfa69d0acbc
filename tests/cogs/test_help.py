"""`help` through the real command machinery; every slash command and option carries a description."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from discord.ext import commands

from tests.support import World, assert_fits, member_world

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("help"), big=False) as started:
        yield started


# Spelled out here, not read from the bot: a command that went missing from help (or from the bot)
# must fail this test.
MEMBER_EXAMPLES = [
    "`!race alabama` · Show a race",
    "`!polls alabama` · A race's polls",
    "`!results alabama` · The latest count of a race",
    "`!candidate sessions` · A candidate",
    "`!endorsements alabama` · Who endorsed whom",
    "`!calendar july 14 2020` · What votes on a day",
    "`!governor 2020` · Governorships won by party",
    "`!house 2022` · Balance of power in the House",
    "`!senate 2020` · Balance of power in the Senate",
    "`!president 2020` · A presidential election: electoral votes, 270 to win",
    "`!follow alabama` · Follow a race",
    "`!following` · The races you follow",
    "`!unfollow alabama` · Stop following a race",
    "`!help polls` · What racedesk can do",
    "`!undo 57` · Revert one write by its audit id",
]
DESK_LINE = (
    "For the desk and the bot's owners: `!audit`, `!call`, `!candidate-add`, `!candidate-edit`, "
    "`!candidate-merge`, `!config`, `!endorse`, `!endorsement`, `!feed`, `!import`, `!poll`, `!race-add`, "
    "`!race-edit`, `!result`, `!sync`, `!uncall`"
)
EVERY_COMMAND = {
    "audit", "calendar", "call", "candidate", "candidate-add", "candidate-edit", "candidate-merge",
    "config", "endorse", "endorsement", "endorsements", "feed", "follow", "following", "governor", "help",
    "house", "import", "poll", "polls", "president", "race", "race-add", "race-edit", "result", "results", "senate",
    "sync", "uncall", "undo", "unfollow",
}  # fmt: skip


async def test_help_lists_every_command(world: World) -> None:
    exchange = await world.say("!help")
    assert exchange.ok is True
    text = exchange.text
    for example in MEMBER_EXAMPLES:
        assert example in text, example
    assert DESK_LINE in text.splitlines()
    assert set(re.findall(r"`!([a-z-]+)", text)) == EVERY_COMMAND
    assert {c.name for c in world.bot.commands} == EVERY_COMMAND
    assert "For the desk and the bot's owners" in text and "`!sync`" in text  # a member cannot sync
    assert_fits(exchange.messages[0])


async def test_help_for_one_command(world: World) -> None:
    text = await world.text("!help polls")
    assert text.startswith("!polls <race> [lv|rv|adults]")
    assert "Example: `!polls alabama`" in text
    assert "`population`: Only polls of this population" in text


async def test_help_for_an_unknown_command_suggests_one(world: World) -> None:
    exchange = await world.say("!help pols")
    assert exchange.ok is False
    assert exchange.text == "No command `pols`. Did you mean `!help polls`? `!help` lists them all."


async def test_slash_help(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "help", {"command": "results"}
    )
    assert "Example: `/results alabama`" in exchange.messages[0].text()


MEMBER_COMMANDS = [
    "polls",
    "results",
    "candidate",
    "endorsements",
    "calendar",
    "senate",
    "house",
    "governor",
    "follow",
    "unfollow",
    "following",
    "help",
]


@pytest.mark.parametrize("name", MEMBER_COMMANDS)
async def test_slash_commands_and_options_are_described(world: World, name: str) -> None:
    command = world.bot.get_command(name)
    assert isinstance(command, commands.HybridCommand) and command.app_command is not None
    app = command.app_command
    assert app.description and app.description != "…" and len(app.description) <= 100
    for parameter in app.parameters:
        assert parameter.description and parameter.description != "…", f"/{name} {parameter.name}"
    assert "Example: !" in (command.help or "")  # the error handler shows it on bad arguments


async def test_the_whole_tree_is_described(world: World) -> None:
    for app in world.bot.tree.walk_commands():
        assert app.description and app.description != "…", app.qualified_name
        for parameter in getattr(app, "parameters", []):
            assert parameter.description != "…", f"/{app.qualified_name} {parameter.name}"

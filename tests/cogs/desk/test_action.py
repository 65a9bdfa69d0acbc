"""Each desk action is declared once: its example parses, and its command shows what the action declares."""

from __future__ import annotations

from typing import Any

import pytest
from discord.ext import commands

from cogs import desk
from cogs.desk._action import DeskAction
from cogs.desk._parsing import Draft
from db.models import Race

ACTIONS = list(desk.ACTIONS.values())
COMMANDS = {command.qualified_name: command for command in desk.DeskCog.__cog_commands__}


def test_every_desk_command_is_an_action() -> None:
    assert len(ACTIONS) == 12
    groups = {name for name, command in COMMANDS.items() if isinstance(command, commands.Group)}
    assert groups == {"poll", "endorsement"}
    assert {a.name for a in ACTIONS} == set(COMMANDS) - groups


@pytest.mark.parametrize("action", [a for a in ACTIONS if a.steps.parse is not None], ids=lambda a: a.name)
def test_the_example_is_read_without_a_problem(action: DeskAction[Any, Any]) -> None:
    assert action.steps.parse is not None
    typed = action.example.removeprefix(action.name + " ")
    parsed = action.steps.parse(typed, "!" + action.example)
    data = parsed.make(Race(id=1, cycle=2020)) if isinstance(parsed, Draft) else parsed
    assert getattr(data, "race_id", 1) == 1


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_the_command_shows_what_the_action_declares(action: DeskAction[Any, Any]) -> None:
    command = COMMANDS[action.name]
    assert command.extras["example"] == action.example
    assert (command.help, command.usage, command.aliases) == (
        action.help,
        action.usage,
        action.aliases.split(),
    )
    assert any("can_write_shared" in check.__code__.co_names for check in command.checks)  # desk_writer()
    assert isinstance(command, commands.HybridCommand) and command.app_command is not None
    assert command.app_command.description == action.help
    assert [p.description for p in command.app_command.parameters] == [action.details]


@pytest.mark.parametrize("group", ["poll", "endorsement"])
def test_groups_are_desk_only_and_show_a_subcommand_example(group: str) -> None:
    command = COMMANDS[group]
    assert any("can_write_shared" in check.__code__.co_names for check in command.checks)
    assert command.extras["example"] in {a.example for a in ACTIONS if a.name.startswith(group + " ")}

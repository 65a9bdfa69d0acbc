"""One type for wrong input: parsers raise it, the error handler renders it with the usage and an example."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from discord.ext import commands

from cogs.desk import _parsing as desk_parsing
from cogs.errors import ErrorsCog
from cogs.support import common, parsing
from cogs.support.errors import UsageError, UserFacingError


def test_the_old_names_are_the_one_type() -> None:
    assert parsing.ParseProblem is UsageError
    assert parsing.ParseError is UsageError
    assert desk_parsing.ParseError is UsageError
    assert common.UsageError is UsageError and common.UserFacingError is UserFacingError
    assert issubclass(UsageError, UserFacingError) and issubclass(UsageError, commands.CommandError)


def test_it_carries_the_problem_and_the_example() -> None:
    error = UsageError("'@everyone' is not a date.", "!calendar today")
    assert (error.problem, error.example) == ("'@everyone' is not a date.", "!calendar today")
    assert str(error) == "'@\u200beveryone' is not a date."  # discord.py makes mentions inert
    assert error.text == "'@\u200beveryone' is not a date.\nExample: `!calendar today`"


def test_parsers_raise_it_directly() -> None:
    with pytest.raises(UsageError) as member:
        parsing.parse_when("soon", dt.date(2020, 7, 14))
    with pytest.raises(UsageError) as desk:
        desk_parsing.votes("-5", "Jones", "!result alabama Jones=5")
    assert member.value.example == "" and "soon" in member.value.problem
    assert desk.value.example == "!result alabama Jones=5"


def describe(error: BaseException) -> str | None:
    command = SimpleNamespace(
        qualified_name="calendar", signature="[when]", help="Races by day. Example: !calendar july 14 2020"
    )
    ctx: Any = SimpleNamespace(command=command, shown_prefix="?")
    text, embed = ErrorsCog.describe(None, ctx, error)  # type: ignore[arg-type]
    assert embed is None
    return text


def test_the_error_handler_renders_it_with_usage_and_example() -> None:
    assert (
        describe(UsageError("Give a date.", "?calendar today")) == "Give a date.\nExample: `?calendar today`"
    )
    assert describe(UsageError("Ping <@&123456789012345678>?")) == (
        "Ping <@\u200b&123456789012345678>?\nUsage: `?calendar [when]`\nExample: `?calendar july 14 2020`"
    )

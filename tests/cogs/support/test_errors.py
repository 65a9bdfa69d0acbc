"""One type for wrong input: parsers raise it, the error handler renders it with the usage and an example."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from discord.ext import commands

from cogs.desk import _parsing as desk_parsing
from cogs.errors import ErrorsCog
from cogs.support import dates, parsing
from cogs.support.errors import UsageError, UserFacingError


def test_members_and_desk_parsers_raise_the_one_type() -> None:
    assert issubclass(UsageError, UserFacingError) and issubclass(UsageError, commands.CommandError)
    with pytest.raises(UsageError, match="page as a number"):
        parsing.split_page("alabama page two")
    with pytest.raises(UsageError) as desk:
        desk_parsing.parse_result("alabama Tuberville=lots", "!result alabama Tuberville=1392100")
    assert desk.value.example == "!result alabama Tuberville=1392100"


def test_it_carries_the_problem_and_the_example() -> None:
    error = UsageError("'@everyone' is not a date.", "!calendar today")
    assert (error.problem, error.example) == ("'@everyone' is not a date.", "!calendar today")
    assert str(error) == "'@\u200beveryone' is not a date."  # discord.py makes mentions inert
    assert error.text == "'@\u200beveryone' is not a date.\nExample: `!calendar today`"


def test_parsers_raise_it_directly() -> None:
    with pytest.raises(UsageError) as member:
        dates.parse_when("soon", dt.date(2020, 7, 14))
    with pytest.raises(UsageError) as desk:
        desk_parsing.votes("-5", "Jones", "!result alabama Jones=5")
    assert member.value.example == "" and "soon" in member.value.problem
    assert desk.value.example == "!result alabama Jones=5"


def describe(error: BaseException) -> str | None:
    command = SimpleNamespace(
        qualified_name="calendar",
        signature="[when]",
        help="Races by day. Example: !calendar july 14 2020",
        extras={},
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

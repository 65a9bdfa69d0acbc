"""db/limits.py: the one place that says what numbers and text shared data may hold, for the desk's commands
and every import alike."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cogs.desk._parsing import parse_poll, parse_result
from cogs.support.errors import UsageError
from db import limits
from db.importers.common import ParseError
from db.importers.fivethirtyeight import parse as parse_538
from db.writes.errors import WriteError
from tests.data.hostile.corpus import jones, poll_row, polls


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), ("1,392,100", 1_392_100), (1e6, 1_000_000), (limits.MAX_VOTES, limits.MAX_VOTES)],
)
def test_votes_within_the_limits(value: object, expected: int) -> None:
    assert limits.votes(value) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (-1, "cannot be negative"),
        (10**30, "cannot be over 1,000,000,000"),
        (math.nan, "is not a number of votes"),
        (math.inf, "is not a number of votes"),
        (1.5, "is not a number of votes"),
        ("lots", "is not a number of votes"),
        (True, "is not a number of votes"),
        (None, "is not a number of votes"),
    ],
)
def test_votes_outside_the_limits(value: object, says: str) -> None:
    with pytest.raises(limits.OutOfRange, match=says):
        limits.votes(value, "Tuberville")


@pytest.mark.parametrize(
    ("check", "value", "says"),
    [
        (limits.cycle, 99999, "from 1,788 to 2,100"),
        (limits.cycle, 1787, "from 1,788 to 2,100"),
        (limits.cycle, "2020.5", "whole number"),
        (limits.sample_size, 10**20, "from 1 to 1,000,000"),
        (limits.sample_size, "1e20", "from 1 to 1,000,000"),
        (limits.sample_size, 0, "from 1 to 1,000,000"),
        (limits.reporting, 120, "Reporting cannot be over 100%"),
        (limits.reporting, math.nan, "not a percentage"),
    ],
)
def test_numbers_outside_the_limits(check: object, value: object, says: str) -> None:
    with pytest.raises(limits.OutOfRange, match=says):
        check(value)  # type: ignore[operator]


@pytest.mark.parametrize(("value", "says"), [(-40, "cannot be negative"), (500, "over 100%"), ("nan", "not a percentage"), (math.inf, "not a percentage")])  # fmt: skip
def test_shares_outside_the_limits(value: object, says: str) -> None:
    with pytest.raises(limits.OutOfRange, match=says):
        limits.share(value, "Tuberville")


def test_text_refuses_control_characters_but_not_line_breaks() -> None:
    assert limits.text("Notes\non two lines\tand a tab", "notes")
    for bad in ("Tommy\x00Tuberville", "bell\x07", "esc\x1b[31m", "del\x7f"):
        with pytest.raises(limits.OutOfRange, match="control character"):
            limits.text(bad, "name")


def test_a_refusal_is_a_write_error() -> None:
    """So a desk write refuses with it like any other refusal, and nothing is written."""
    assert issubclass(limits.OutOfRange, WriteError)


def test_the_desk_and_an_import_refuse_the_same_shares_with_the_same_words(tmp_path: Path) -> None:
    """538 shares of -40 and 500 were imported and shown while `poll add` refused them: now one rule."""
    with pytest.raises(UsageError) as desk:
        parse_poll('alabama pollster=AUM dates="July 2-9" Tuberville=-40 Jones=500', "!poll add ...")
    path = tmp_path / "polls.csv"
    path.write_text(polls(poll_row(candidate_name="Tuberville", pct="-40"), jones(pct="500")))
    with pytest.raises(ParseError) as imported:
        parse_538(path)
    assert str(desk.value.args[0]) == "A share cannot be negative: Tuberville=-40."
    assert str(imported.value) == "line 2: A share cannot be negative: Tuberville=-40."


def test_the_desk_refuses_votes_over_the_limit_as_an_import_does() -> None:
    with pytest.raises(UsageError, match=r"Votes cannot be over 1,000,000,000: Tuberville=10,000,000,000"):
        parse_result("alabama general Tuberville=10000000000 Jones=5", "!result ...")

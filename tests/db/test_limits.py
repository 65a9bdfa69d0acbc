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


# ------------------------------------------------------------------ the words of each refusal, whole


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (-12_345, "Votes cannot be negative: Tuberville=-12,345."),
        (-9_999, "Votes cannot be negative: Tuberville=-9999."),
        (-10_000, "Votes cannot be negative: Tuberville=-10,000."),
        (-9_999.0, "Votes cannot be negative: Tuberville=-9999."),
        (-10_000.0, "Votes cannot be negative: Tuberville=-10,000."),
        ("-" + "1" * 40, f"Votes cannot be negative: Tuberville=-{'1' * 39}…."),  # 41 characters: cut
        ("-" + "1" * 39, f"Votes cannot be negative: Tuberville=-{'1' * 39}."),
        ("-1", "Votes cannot be negative: Tuberville=-1."),
        (-2.0, "Votes cannot be negative: Tuberville=-2."),
        (1_000_000_001, "Votes cannot be over 1,000,000,000: Tuberville=1,000,000,001."),
        (2e9, "Votes cannot be over 1,000,000,000: Tuberville=2,000,000,000."),
        (
            1e20,
            "Votes cannot be over 1,000,000,000: Tuberville=1e+20.",
        ),  # past 1e16 a float is not made whole
        (1e16, "Votes cannot be over 1,000,000,000: Tuberville=1e+16."),
        (12.5, "Tuberville: '12.5' is not a number of votes (a whole number, e.g. 1392100)."),
        (-math.inf, "Tuberville: '-inf' is not a number of votes (a whole number, e.g. 1392100)."),
        ("x" * 50, f"Tuberville: '{'x' * 40}…' is not a number of votes (a whole number, e.g. 1392100)."),
    ],
)
def test_a_refused_count_says_what_and_shows_the_number_as_people_write_it(value: object, says: str) -> None:
    """Numbers of five digits and more are shown with thousands separators, shorter ones without; a whole
    float as the whole number; long text cut at 40 characters."""
    with pytest.raises(limits.OutOfRange) as caught:
        limits.votes(value, "Tuberville")
    assert str(caught.value) == says


def test_a_count_without_a_name_is_called_votes() -> None:
    with pytest.raises(limits.OutOfRange) as caught:
        limits.votes(-3)
    assert str(caught.value) == "Votes cannot be negative: votes=-3."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 1,392,100 ", 1_392_100),
        ("+17", 17),
        ("12.0", 12),
        ("9" * 10, None),
        (12.0, 12),
        (0.0, 0),
    ],
)
def test_counts_are_read_from_their_text(value: object, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(limits.OutOfRange, match="cannot be over"):
            limits.votes(value)
        return
    counted = limits.votes(value)
    assert counted == expected and type(counted) is int


@pytest.mark.parametrize(
    ("check", "value", "says"),
    [
        (limits.cycle, 1787, "The cycle (the election's year) must be from 1,788 to 2,100, not 1787."),
        (limits.cycle, 2101, "The cycle (the election's year) must be from 1,788 to 2,100, not 2101."),
        (limits.cycle, "2020.5", "The cycle (the election's year) must be whole number, not 2020.5."),
        (
            limits.cycle,
            "MMXX",
            "The cycle (the election's year): 'MMXX' is not a number from 1,788 to 2,100.",
        ),
        (
            limits.cycle,
            math.nan,
            "The cycle (the election's year): 'nan' is not a number from 1,788 to 2,100.",
        ),
        (limits.cycle, None, "The cycle (the election's year): 'None' is not a number from 1,788 to 2,100."),
        (limits.sample_size, 0, "The sample size must be from 1 to 1,000,000, not 0."),
        (limits.sample_size, 1_000_001, "The sample size must be from 1 to 1,000,000, not 1,000,001."),
        (limits.precincts, -1, "Precincts must be from 0 to 1,000,000, not -1."),
        (limits.precincts, 1_000_001, "Precincts must be from 0 to 1,000,000, not 1,000,001."),
        (limits.seats, 1_001, "Seats not up must be from 0 to 1,000, not 1001."),
        (limits.seats, -1, "Seats not up must be from 0 to 1,000, not -1."),
        (limits.reporting, -0.5, "Reporting cannot be negative: reporting=-0.5."),
        (limits.reporting, 100.5, "Reporting cannot be over 100%: reporting=100.5."),
        (limits.reporting, "most", "reporting=most: 'most' is not a percentage (0 to 100)."),
        (limits.reporting, math.inf, "reporting=inf: 'inf' is not a percentage (0 to 100)."),
    ],
)
def test_each_refusal_says_what_is_allowed(check: object, value: object, says: str) -> None:
    with pytest.raises(limits.OutOfRange) as caught:
        check(value)  # type: ignore[operator]
    assert str(caught.value) == says.replace("must be whole", "must be a whole")


@pytest.mark.parametrize(
    ("check", "low", "high"),
    [
        (limits.cycle, limits.CYCLE_MIN, limits.CYCLE_MAX),
        (limits.sample_size, 1, limits.MAX_SAMPLE_SIZE),
        (limits.precincts, 0, limits.MAX_PRECINCTS),
        (limits.seats, 0, limits.MAX_SEATS),
    ],
)
def test_both_ends_of_each_range_are_allowed(check: object, low: int, high: int) -> None:
    for value, expected in ((low, low), (high, high), (f"{high:,}", high), (float(low), low)):
        got = check(value)  # type: ignore[operator]
        assert got == expected and type(got) is int


def test_a_named_precinct_count_says_its_own_name() -> None:
    with pytest.raises(limits.OutOfRange) as caught:
        limits.precincts(-4, "Precincts reporting")
    assert str(caught.value) == "Precincts reporting must be from 0 to 1,000,000, not -4."


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (100, 100.0), ("43.9", 43.9), (" 35 ", 35.0)])
def test_shares_from_0_to_100_are_kept_as_floats(value: object, expected: float) -> None:
    got = limits.share(value, "Tuberville")
    assert got == expected and type(got) is float
    assert limits.reporting(value) == expected


def test_shares_may_add_up_to_a_little_over_100_for_rounding() -> None:
    assert limits.shares_total([50.5, 50.5]) == 101.0
    assert limits.shares_total(iter([43.9, 35.5])) == pytest.approx(79.4)
    with pytest.raises(limits.OutOfRange) as caught:
        limits.shares_total([50.5, 50.6])
    assert str(caught.value) == "The shares add up to 101.1%, over 100%: check the numbers."


def test_text_refusals_name_the_field_the_character_and_where_it_is() -> None:
    with pytest.raises(limits.OutOfRange) as caught:
        limits.text("Tommy\x00Tuberville", "candidate name")
    assert str(caught.value) == "candidate name holds a control character (U+0000) at position 6."
    with pytest.raises(limits.OutOfRange) as caught:
        limits.text(1392100, "notes")
    assert str(caught.value) == "notes must be text, not int."
    for allowed in ("\r\n", "", "\x80 is not a C0 control", "ok"):
        assert limits.text(allowed, "notes") == allowed
    for bad in ("\x08", "\x0b", "\x0c", "\x0e", "\x1f"):
        with pytest.raises(limits.OutOfRange, match="control character"):
            limits.text(bad, "notes")

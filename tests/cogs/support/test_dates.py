"""One date module for what members and moderators type: the same reader and the same range splitting."""

from __future__ import annotations

import datetime as dt

import pytest

from cogs.desk import _parsing as desk_parsing
from cogs.support import dates
from cogs.support.errors import UsageError

TODAY = dt.date(2026, 11, 27)
EX = '!poll add alabama dates="July 2-9, 2020"'


def test_both_sides_use_the_one_module() -> None:
    assert desk_parsing.date_range is dates.date_range and desk_parsing.date is dates.date


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("july 1 to 15 2020", ("july 1", "15 2020")),
        ("June 28 - July 9", ("June 28", "July 9")),
        ("July 2–9", ("July 2", "9")),
        ("7/2/20-7/9/20", ("7/2/20", "7/9/20")),
        ("2020-07-02 2020-07-09", ("2020-07-02", "2020-07-09")),
        ("2020-07-14", None),
        ("7-14-20", None),
        ("7-14", None),
        ("2020-02", None),
        ("july 14", None),
    ],
)
def test_split_range(typed: str, parts: tuple[str, str] | None) -> None:
    assert dates.split_range(typed) == parts


@pytest.mark.parametrize(
    "typed",
    ["July 2 to July 9, 2020", "June 28 - July 9, 2020", "2020-07-02 to 2020-07-09", "july 2 - 9 2020"],
)
def test_members_and_desk_read_a_range_alike(typed: str) -> None:
    span = dates.parse_when(typed, TODAY)
    start, end = dates.date_range(typed, 2020, EX)
    assert (span.start, span.end) == (start, end)


def test_a_year_left_out_is_the_default_year_on_both_sides() -> None:
    assert dates.parse_when("july 14", TODAY, default_year=2020).start == dt.date(2020, 7, 14)
    assert dates.date("July 14", 2020, EX) == dt.date(2020, 7, 14)


def test_problems_are_the_one_error_type() -> None:
    with pytest.raises(UsageError) as member:
        dates.parse_when("julyy 14", TODAY)
    with pytest.raises(UsageError) as desk:
        dates.date_range("Jully 2-9", 2020, EX)
    assert (member.value.example, desk.value.example) == ("", EX)
    assert "julyy 14" in member.value.problem and "not a date I can read" in desk.value.problem

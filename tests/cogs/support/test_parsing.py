"""The member commands' pure parsers: dates and ranges, poll filters, result stages, pages."""

from __future__ import annotations

import datetime as dt

import pytest

from cogs.support.dates import parse_when
from cogs.support.errors import UsageError
from cogs.support.parsing import split_page, split_poll_query, split_results_query
from db.models import Stage

TODAY = dt.date(2020, 7, 14)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", TODAY, TODAY),
        ("tomorrow", dt.date(2020, 7, 15), dt.date(2020, 7, 15)),
        ("next tuesday", dt.date(2020, 7, 21), dt.date(2020, 7, 21)),
        ("tuesday", TODAY, TODAY),
        ("last tuesday", dt.date(2020, 7, 7), dt.date(2020, 7, 7)),
        ("friday", dt.date(2020, 7, 17), dt.date(2020, 7, 17)),
        ("july 14 2020", TODAY, TODAY),
        ("July 14, 2020", TODAY, TODAY),
        ("2020-07-14", TODAY, TODAY),
        ("7/14/2020", TODAY, TODAY),
        ("nov 3", dt.date(2020, 11, 3), dt.date(2020, 11, 3)),
        ("november 2020", dt.date(2020, 11, 1), dt.date(2020, 11, 30)),
        ("2020-02", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
        ("2020", dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
        ("this week", dt.date(2020, 7, 13), dt.date(2020, 7, 19)),
        ("next week", dt.date(2020, 7, 20), dt.date(2020, 7, 26)),
        ("this month", dt.date(2020, 7, 1), dt.date(2020, 7, 31)),
        ("next 7 days", TODAY, dt.date(2020, 7, 20)),
        ("july 1 to july 15 2020", dt.date(2020, 7, 1), dt.date(2020, 7, 15)),
        ("july 1 - 15 2020", dt.date(2020, 7, 1), dt.date(2020, 7, 15)),
        ("between march 1 and march 10 2020", dt.date(2020, 3, 1), dt.date(2020, 3, 10)),
        ("dec 28 2019 to jan 3 2020", dt.date(2019, 12, 28), dt.date(2020, 1, 3)),
    ],
)
def test_dates_and_ranges(text: str, start: dt.date, end: dt.date) -> None:
    span = parse_when(text, TODAY)
    assert (span.start, span.end) == (start, end)


def test_labels_read_in_a_sentence() -> None:
    assert parse_when("today", TODAY).in_sentence == "today (Tue, Jul 14, 2020)"
    assert parse_when("july 14 2020", TODAY).in_sentence == "on Tue, Jul 14, 2020"
    assert parse_when("november 2020", TODAY).in_sentence == "in November 2020"


def test_a_date_without_a_year_takes_the_default_year() -> None:
    assert parse_when("june", TODAY, default_year=2018).start == dt.date(2018, 6, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "julyy 14",
        "2020-13-45",
        "14",
        "3pm",
        "soon",
        "@everyone",
        "a" * 100,
        "1800",
        "july 20 to july 1 2020",
    ],
)
def test_unreadable_dates_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(UsageError) as problem:
        parse_when(text, TODAY)
    assert "@everyone" not in str(problem.value)  # member text is quoted inert


def test_poll_query_filters() -> None:
    query = split_poll_query("georgia special likely voters since july 1 2020 page 2 chart")
    assert (query.race_text, query.population, query.since_text, query.page, query.chart) == (
        "georgia special",
        "lv",
        "july 1 2020",
        2,
        True,
    )
    assert split_poll_query("alabama rv").population == "rv"
    assert split_poll_query("alabama all adults").population == "a"
    with pytest.raises(UsageError):
        split_poll_query("alabama page two")
    with pytest.raises(UsageError):
        split_poll_query("alabama since")


def test_pages() -> None:
    assert split_page("texas page 3") == ("texas", 3)
    assert split_page("texas") == ("texas", None)
    with pytest.raises(UsageError):
        split_page("texas page 0")


@pytest.mark.parametrize(
    ("text", "race", "stages", "party", "history"),
    [
        ("alabama", "alabama", (), None, False),
        ("alabama runoff", "alabama", (Stage.PRIMARY_RUNOFF, Stage.GENERAL_RUNOFF), None, False),
        ("georgia general runoff history", "georgia", (Stage.GENERAL_RUNOFF,), None, True),
        ("alabama gop primary", "alabama", (Stage.PRIMARY, Stage.JUNGLE_PRIMARY), "REP", False),
        ("alabama primary runoff", "alabama", (Stage.PRIMARY_RUNOFF,), None, False),
        ("alabama 2017 special", "alabama 2017 special", (), None, False),
    ],
)
def test_results_stages(
    text: str, race: str, stages: tuple[str, ...], party: str | None, history: bool
) -> None:
    query = split_results_query(text)
    assert (query.race_text, query.stages, query.party, query.history) == (race, stages, party, history)

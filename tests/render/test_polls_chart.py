"""The polls reply's words around the list and the chart: what a filter keeps, the chart's message."""

from __future__ import annotations

import datetime as dt

from db.reads.polls import PollFilter
from render.chart import ChartResult
from render.polls import chart_embed, chart_filename, describe_filter, poll_credit


def test_a_filter_in_words() -> None:
    assert describe_filter(PollFilter()) == ""
    flt = PollFilter("lv", dt.date(2020, 6, 1), "general", None)
    assert describe_filter(flt, "likely voters") == "likely voters · since Jun 1, 2020 · general polls"
    assert describe_filter(PollFilter("rv")) == "rv"
    assert describe_filter(PollFilter(None, None, "primary", "REP")) == "Republican primary polls"


def test_the_credit_names_only_sources_that_ask_for_it() -> None:
    assert poll_credit(set()) == ""
    assert "FiveThirtyEight" in poll_credit({"FiveThirtyEight", "desk"})


def test_the_chart_message() -> None:
    result = ChartResult(png=b"", matchup="General: *Tuberville* vs Jones", polls=3, shown=6, choices=8)
    embed = chart_embed("2020 Alabama U.S. Senate", "alabama 2020", result, "likely voters", "!", "")
    assert embed.title == "Polls chart · 2020 Alabama U.S. Senate"
    assert (embed.description or "").splitlines() == [
        "General: \\*Tuberville\\* vs Jones · 3 polls",
        "The top 6 of 8 candidates are drawn.",
        "Showing: likely voters",
        "The list: `!polls alabama 2020`",
    ]
    assert chart_filename("alabama 2020") == "polls-alabama-2020.png"
    assert embed.image.url == "attachment://polls-alabama-2020.png"
    assert embed.footer.text == "racedesk"


def test_nothing_to_draw() -> None:
    embed = chart_embed("2020 Alabama U.S. Senate", "alabama 2020", None, "adults", "!", "")
    assert embed.description == "No polls to draw (adults)."
    assert embed.image.url is None
    assert chart_embed("T", "t", None, "", "!", "").description == "No polls to draw."

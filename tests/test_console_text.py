"""How the offline console shows what Discord would render: timestamps in UTC, relative ones in words."""

from __future__ import annotations

import datetime as dt

from cli import plain_timestamps

NOW = dt.datetime(2020, 11, 4, 12, 0, tzinfo=dt.UTC)


def test_absolute_timestamps_show_in_utc() -> None:
    moment = int(dt.datetime(2020, 11, 4, 1, 0, tzinfo=dt.UTC).timestamp())
    assert plain_timestamps(f"polls closed <t:{moment}:f>", NOW) == "polls closed Nov 4, 2020 01:00 UTC"
    assert plain_timestamps(f"on <t:{moment}:D>", NOW) == "on Nov 4, 2020"


def test_relative_timestamps_read_as_words() -> None:
    past = int((NOW - dt.timedelta(hours=3, minutes=5)).timestamp())
    future = int((NOW + dt.timedelta(days=2, hours=1)).timestamp())
    assert plain_timestamps(f"<t:{past}:R>", NOW) == "3 hours ago"
    assert plain_timestamps(f"<t:{future}:R>", NOW) == "in 2 days"
    assert plain_timestamps(f"<t:{int(NOW.timestamp())}:R>", NOW) == "just now"

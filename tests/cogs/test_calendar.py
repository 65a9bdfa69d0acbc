"""`calendar` through the real command machinery: days, ranges, relative dates, pages, bad dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support import World, assert_fits, member_world

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("calendar"), big=False) as started:
        cog = started.bot.get_cog("Calendar")
        assert cog is not None
        cog.today = lambda: dt.date(2020, 7, 14)  # type: ignore[attr-defined]  # the Alabama runoff, a Tuesday
        yield started


@pytest.mark.parametrize(
    "typed", ["!calendar july 14 2020", "!calendar 2020-07-14", "!calendar today", "!calendar 7/14/2020"]
)
async def test_the_alabama_runoff_day(world: World, typed: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is True
    text = exchange.text
    assert "**Tue, Jul 14, 2020**" in text
    assert "2020 Alabama U.S. Senate (Class II): Republican runoff · called" in text


async def test_next_tuesday_and_a_month(world: World) -> None:
    assert "Nothing votes next tuesday (Tue, Jul 21, 2020)" in await world.text("!calendar next tuesday")
    text = await world.text("!calendar november 2020")
    assert "Calendar · November 2020" in text
    assert "2020 Alabama U.S. Senate (Class II): General · certified" in text
    assert "2020 Georgia U.S. Senate special (Class III): General · certified" in text


async def test_this_week_and_no_date(world: World) -> None:
    assert "Calendar · this week (Jul 13–19, 2020)" in await world.text("!calendar this week")
    text = await world.text("!calendar")
    assert "Calendar · the next 30 days (Jul 14–Aug 12, 2020)" in text


async def test_an_empty_range_points_to_the_nearest_dates(world: World) -> None:
    text = await world.text("!calendar august 2020")
    assert text == (
        "Nothing votes in August 2020 in racedesk's data. The nearest dates with contests: "
        "Jul 14, 2020 (`!calendar 2020-07-14`) and Nov 3, 2020 (`!calendar 2020-11-03`)."
    )


async def test_a_long_range_pages(world: World) -> None:
    exchange = await world.say("!calendar 2017-01-01 to 2021-12-31")
    assert "2017 Alabama U.S. Senate special (Class II): General" in exchange.text
    assert "2021" in exchange.text and "General runoff" in exchange.text
    assert_fits(exchange.messages[0])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!calendar julyy 14", "I can't read 'julyy 14' as a date."),
        ("!calendar 2020-13-45", "I can't read '2020-13-45' as a date (month must be in 1..12)."),
        ("!calendar 14", "I can't tell which day '14' means: add the month."),
        ("!calendar @everyone", "I can't read '@\u200beveryone' as a date."),
        ("!calendar july 20 to july 1 2020", "ends before it starts"),
    ],
)
async def test_an_unreadable_date_is_explained_with_examples(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False
    assert expected in exchange.text
    assert "`!calendar next tuesday`" in exchange.text and "`!calendar november 2020`" in exchange.text
    assert exchange.text.endswith("Example: `!calendar july 14 2020`")


async def test_slash_calendar(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "calendar", {"when": "2020-07-14"}
    )
    assert "Republican runoff" in exchange.messages[0].text()

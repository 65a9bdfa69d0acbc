"""`senate` (and `house`, `governor`) through the real command machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support import World, assert_fits, member_world

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("balance"), big=False) as started:
        yield started


async def test_senate_2020(world: World) -> None:
    exchange = await world.say("!senate")
    assert exchange.ok is True
    embed = exchange.messages[0].embeds[0]
    assert embed["title"] == "2020 U.S. Senate: balance of power"
    assert embed["description"].startswith("**D 36 · R 31** on seats decided or not up")
    assert "Kamala Harris (D)" in embed["description"] and "breaks 50–50 ties" in embed["description"]
    assert (
        "Democrats need 14 more of the 33 undecided; Republicans need 20 more of the 33 undecided."
        in embed["description"]
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Not up (data)"] == "D 35 · R 30"
    assert fields["Up in 2020"] == "35 up · won: D 1 · R 1 · not in racedesk's data: 33"
    assert "Alabama: R won (Tuberville) · gain from D" in fields["Seats"]
    assert "Georgia (special): D won (Warnick) · gain from R" in fields["Seats"]
    assert "Data: seats not up" in embed["footer"]["text"] and "Computed:" in embed["footer"]["text"]
    assert_fits(exchange.messages[0])


async def test_senate_2018_has_a_republican_vice_president(world: World) -> None:
    text = await world.text("!senate 2018")
    assert "Mike Pence (R)" in text and "Republicans need 8 more" in text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "!senate 1990",
            "racedesk has no U.S. Senate data for 1990. It has: 2020, 2018, 2017.\nExample: `!senate 2020`",
        ),
        ("!senate soon", "'soon' is not an election year.\nExample: `!senate 2020`"),
    ],
)
async def test_wrong_cycle_gets_a_usage_reply(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False and exchange.text == expected


async def test_house_and_governor_without_data_say_so(world: World) -> None:
    assert "racedesk has no data on U.S. House yet" in await world.text("!house")
    assert "racedesk has no data on governorships yet" in await world.text("!governor")

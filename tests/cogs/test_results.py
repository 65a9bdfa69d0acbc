"""`results` through the real command machinery: the latest count, stages, runoffs, calls and history."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support import World, assert_fits, assert_inert, member_world

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("results")) as started:
        yield started


async def test_results_alabama_shows_the_2020_general_count(world: World) -> None:
    exchange = await world.say("!results alabama")
    assert exchange.ok is True
    embed = exchange.messages[0].embeds[0]
    assert embed["title"] == "2020 Alabama U.S. Senate (Class II) · General · Nov 3, 2020"
    assert "✅ **Tommy Tuberville (R)**: 1,392,076 · 60.1%" in embed["description"]
    assert "**Doug Jones (D) · incumbent**: 920,478 · 39.7%" in embed["description"]
    assert "Write-ins: 3,891" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Margin"] == "Tuberville won by 20.4 points (471,598 votes)"
    assert fields["Counted"] == "100% of precincts · final, certified"
    assert fields["Updated"].startswith("<t:1605873600:R> (<t:1605873600:f>)")  # in each reader's time zone
    assert fields["Call"].startswith("✅ Tuberville won · AP · <t:")
    assert "Source: MEDSL" in embed["footer"]["text"]
    assert_fits(exchange.messages[0])


async def test_runoff_means_the_primary_runoff_in_alabama(world: World) -> None:
    text = await world.text("!results alabama runoff")
    assert "Republican runoff · Jul 14, 2020" in text
    assert (
        "Tommy Tuberville (R)**: 333,890 · 60.7%" in text and "Counted: 99% of precincts · unofficial" in text
    )


async def test_runoff_means_the_general_runoff_in_georgia(world: World) -> None:
    text = await world.text("!results georgia special runoff")
    assert "General runoff · Jan 5, 2021" in text
    assert "Raphael Warnick (D)**: 2,289,000" in text


async def test_a_primary_with_its_call_to_a_runoff(world: World) -> None:
    text = await world.text("!results alabama gop primary")
    assert "→ **Jeff Sessions (R)**: 227,082 · 31.6%" in text
    assert "→ Tuberville and Sessions advance to a runoff · AP" in text


async def test_history_shows_votes_added_and_how_they_split(world: World) -> None:
    exchange = await world.say("!results georgia special runoff history")
    text = exchange.text
    assert "how the count moved" in text
    lines = [line for line in text.splitlines() if line.startswith("**Jan")]  # the driver shows <t:…> as UTC
    assert len(lines) == 4
    assert "10% in · first count: Lofton +160,000 (57%), Warnick +120,000 (43%)" in lines[0]
    assert "+1,770,000 votes: Lofton +890,000 (50%), Warnick +880,000 (50%) → 2,050,000 in all" in lines[1]
    assert_fits(exchange.messages[0])


async def test_twenty_candidates_fit(world: World) -> None:
    exchange = await world.say("!results georgia special general")
    text = exchange.text
    assert "Raphael Warnick (D)**: 1,600,000" in text and "+5 more:" in text  # 15 listed, the rest summed
    assert "→ Warnick and Lofton advance to a runoff" in text
    assert_fits(exchange.messages[0])


async def test_two_primaries_of_thirty_each_fit_in_one_reply(world: World) -> None:
    exchange = await world.say("!results texas primary")
    message = exchange.messages[0]
    assert len(message.embeds) == 2
    assert_fits(message)
    assert_inert(exchange.messages[0])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!results", "Which race? Name a state, a candidate or a year.\nExample: `!results alabama`"),
        (
            "!results alabama general runoff",
            "has no general runoff stage. It has: Republican primary (Mar 3, 2020)",
        ),
        ("!results alabama dem primary", "has no primary stage for that party"),
        ("!results narnia", "No race found for 'narnia'."),
    ],
)
async def test_wrong_input_gets_a_usage_reply(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False and expected in exchange.text


async def test_slash_results_with_a_stage_and_history(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.member,
        "results",
        {"query": "georgia special", "stage": "runoff", "history": True},
    )
    assert exchange.ok is True and "how the count moved" in exchange.messages[0].text()

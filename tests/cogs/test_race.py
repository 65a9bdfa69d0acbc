"""`race` through discord.py's real command machinery: prefix and slash, against the loopback Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import Race
from tests.support import World, new_store, running_bot

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    engine = await new_store(tmp_path_factory.mktemp("race") / "store.db")
    async with make_sessionmaker(engine).begin() as session:
        await load_sample(session)
        session.add_all(
            [
                Race(cycle=2020, state="GA", office="senate", seat="Class II"),
                Race(cycle=2020, state="GA", office="senate", seat="Class III", special=True),
            ]
        )
    async with running_bot(engine) as started:
        yield started
    await engine.dispose()


async def test_race_alabama_answers_with_the_card(world: World) -> None:
    exchange = await world.say("!race alabama")
    assert exchange.ok is True and len(exchange.messages) == 1
    message = exchange.messages[0]
    assert message.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"
    assert "Tuberville defeated Sessions, 60.7%–39.3% (unofficial)" in exchange.text
    assert message.allowed_mentions == {"parse": []}  # nothing in a reply can ping


@pytest.mark.parametrize("typed", ["!race AL", "!race bama", "!race Alabama senate 2020", "!RACE alabma"])
async def test_other_spellings_find_the_same_race(world: World, typed: str) -> None:
    assert "2020 Alabama U.S. Senate (Class II)" in await world.text(typed)


async def test_slash_race_answers_through_the_interaction(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "race", {"query": "alabama"}
    )
    assert exchange.ok is True
    response = exchange.messages[0]
    assert response.kind == "interaction_response"
    assert response.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"


async def test_autocomplete_offers_races(world: World) -> None:
    choices = await world.standin.send_autocomplete(
        world.desk.id, world.desk_channel, world.member, "race", {"query": "bama"}, focused="query"
    )
    assert {"name": "2020 Alabama U.S. Senate (Class II)", "value": "alabama 2020"} in choices
    assert {"name": "2017 Alabama U.S. Senate special (Class II)", "value": "alabama 2017 special"} in choices


async def test_bare_race_says_what_to_type(world: World) -> None:
    exchange = await world.say("!race")
    assert exchange.ok is False
    assert exchange.text == "Which race? Name a state, a candidate or a year.\nExample: `!race alabama`"


async def test_unknown_race_says_so(world: World) -> None:
    text = await world.text("!race atlantis")
    assert text.startswith("No race found for 'atlantis'.")


async def test_two_races_give_a_short_list_with_how_to_ask(world: World) -> None:
    text = await world.text("!race georgia")
    assert "2 races match 'georgia'" in text
    # Each race listed with words that reach exactly it: the regular seat says so.
    assert "`!race georgia 2020 regular`" in text and "`!race georgia 2020 special`" in text
    assert "2020 Georgia U.S. Senate special (Class III)" in await world.text("!race georgia 2020 special")
    assert "2020 Georgia U.S. Senate (Class II)" in await world.text("!race georgia 2020 regular")
    assert "2020 Georgia U.S. Senate (Class II)" in await world.text("!race ga class 2")


async def test_mentions_typed_into_a_query_never_ping(world: World) -> None:
    exchange = await world.say("!race @everyone <@&1234>")
    assert "@everyone" not in exchange.text.replace("@\u200beveryone", "")
    assert all(m.allowed_mentions == {"parse": []} for m in exchange.messages)


async def test_examples_show_the_prefix_the_member_used_and_a_mention_as_a_name(world: World) -> None:
    assert world.bot.user is not None
    assert "Example: `!race alabama`" in await world.text("!race")
    mentioned = await world.text(f"<@{world.bot.user.id}> race")
    assert f"Example: `@{world.bot.user.display_name} race alabama`" in mentioned
    assert f"<@{world.bot.user.id}>" not in mentioned

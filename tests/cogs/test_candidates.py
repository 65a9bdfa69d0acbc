"""`candidate` and `endorsements` through the real command machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support import World, assert_fits, member_world, new_messages

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("candidates")) as started:
        yield started


@pytest.mark.parametrize(
    "typed", ["!candidate sessions", "!candidate Jeff Sessions", "!candidate SESSIONS", "!candidate sesions"]
)
async def test_candidate_sessions_shows_his_primary_and_runoff(world: World, typed: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is True
    text = exchange.text
    assert text.startswith("Jeff Sessions (R)")
    assert (
        "Republican primary · Mar 3, 2020: advanced to the runoff · 227,082 votes (31.6%), 2nd of 7" in text
    )
    assert "Republican runoff · Jul 14, 2020: lost · 215,831 votes (39.3%), 2nd of 2" in text
    assert "Donald Trump (president) refused to endorse Jeff Sessions" in text
    assert "Hypothetical general: Sessions 48.9, Jones 43.3" in text
    assert_fits(exchange.messages[0])


async def test_candidate_tuberville_in_capitals(world: World) -> None:
    text = await world.text("!candidate TUBERVILLE")
    assert "Tommy Tuberville (R)" in text and "General · Nov 3, 2020: ✅ won · 1,392,076 votes" in text


async def test_several_people_give_a_short_list_to_choose_from(world: World) -> None:
    exchange = await world.say("!candidate doug")
    assert exchange.ok is False
    assert "2 people match 'doug'" in exchange.text
    assert "`!candidate Doug Jones`" in exchange.text and "`!candidate Doug Collier`" in exchange.text


async def test_the_short_list_shows_the_words_asked_as_typed(world: World) -> None:
    """Markdown in the words asked has no effect in the list's title, as in the reply above it."""
    exchange = await world.say("!candidate **doug**")
    assert exchange.messages[0].embeds[0]["title"] == "2 people match '\\*\\*doug\\*\\*'"


async def test_a_thirty_race_candidate_card_fits(world: World) -> None:
    exchange = await world.say("!candidate achterberg")
    assert_fits(exchange.messages[0])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!candidate", "Who? Give a name, or part of one.\nExample: `!candidate sessions`"),
        ("!candidate zzzzqqq", "No candidate matches 'zzzzqqq'. Try a surname or a full name"),
        ("!candidate @here qqqq", "No candidate matches '@\u200bhere qqqq'"),
    ],
)
async def test_wrong_input_gets_a_usage_reply(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False and expected in exchange.text


async def test_endorsements_alabama_trump_for_tuberville_withheld_from_sessions(world: World) -> None:
    exchange = await world.say("!endorsements alabama")
    assert exchange.ok is True
    lines = exchange.messages[0].embeds[0]["description"].splitlines()
    assert lines[0] == "Donald Trump (president) endorsed Tommy Tuberville · Mar 10, 2020 · Twitter"
    assert lines[1].startswith("Donald Trump (president) refused to endorse Jeff Sessions · Jul 11, 2020")
    assert lines[2].startswith("> “Jeff Sessions is a disaster")


async def test_endorsements_of_a_candidate_name_the_race(world: World) -> None:
    text = await world.text("!endorsements tuberville")
    assert "Endorsements · Tommy Tuberville" in text
    assert "endorsed Tommy Tuberville · Mar 10, 2020 · 2020 Alabama U.S. Senate (Class II) · Twitter" in text


async def test_sixty_endorsements_page_and_never_ping(world: World) -> None:
    exchange = await world.say("!endorsements texas")
    first = exchange.messages[0]
    assert "page 1/5" in exchange.text and first.button_labels() == ["◀ Prev", "Next ▶"]
    assert_fits(first)
    last = await world.text("!endorsements texas page 5")
    for stance in ("opposes", "refused to endorse", "withdrew the endorsement of"):  # after the endorsements
        assert stance in last and stance not in exchange.text
    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.member)
    (turned,) = await new_messages(world, before)
    assert "page 2/5" in turned.text()
    assert "page 3/5" in await world.text("!endorsements texas page 3")


async def test_no_endorsements_says_so(world: World) -> None:
    assert await world.text("!endorsements alabama 2017 special") == (
        "No endorsements recorded for 2017 Alabama U.S. Senate special (Class II)."
    )


async def test_candidate_autocomplete(world: World) -> None:
    choices = await world.standin.send_autocomplete(
        world.desk.id, world.desk_channel, world.member, "candidate", {"name": "sess"}, focused="name"
    )
    assert {"name": "Jeff Sessions (R-AL)", "value": "Jeff Sessions"} in choices

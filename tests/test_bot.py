"""bot.py: the client's own settings, through a running bot."""

from __future__ import annotations

from pathlib import Path

from tests.support import member_world, new_messages


async def test_the_bot_keeps_no_message_cache_and_pages_still_turn(tmp_path: Path) -> None:
    async with member_world(tmp_path, big=False) as world:
        for text in ("!race alabama", "!senate 2020"):
            assert (await world.say(text)).ok is True
        paged = await world.say("!polls georgia 2020 special")
        assert paged.ok is True
        assert len(world.bot.cached_messages) == 0  # neither the members' messages nor the bot's own
        before = len(world.standin.messages)
        await world.standin.click_button(paged.messages[0], paged.messages[0].button_id("Next"), world.member)
        (turned,) = await new_messages(world, before)
        assert (
            turned.response_type == 7 and "page 2/" in turned.text()
        )  # the click edits the reply it came from

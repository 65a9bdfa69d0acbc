"""bot.py: the client's own settings, through a running bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import desk_world, member_world, new_messages, until


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


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_every_races_answers_are_held_from_start_and_a_desk_write_is_in_the_next(
    tmp_path: Path, database: str
) -> None:
    async with desk_world(tmp_path, database=database, results_channels=False, followers=False) as world:
        shelf = world.bot.store.shelf
        # The sample's two races and their eight people, before the first member asks.
        assert len(shelf.races) == 2 and len(shelf.person_cards) == 8
        for asked in (
            "!race alabama 2020",
            "!polls alabama 2020",
            "!results alabama 2020",
            "!candidate tuberville",
        ):
            assert (await world.say(asked)).ok is True
        assert shelf.hits == 4
        stored = await world.say(
            "!result alabama 2020 general Tuberville=1392100 Jones=920500 reporting=100%",
            author=world.moderator,
        )
        assert stored.ok is True
        # The write dropped the race as it committed: the next answer has the new count, read or held again.
        assert "1,392,100" in await world.text("!results alabama 2020")
        await until(lambda: len(shelf.races) == 2, what="the race read again")
        hits = shelf.hits
        assert "1,392,100" in await world.text("!results alabama 2020") and shelf.hits == hits + 1
        # A person's card shows the count of each race they ran in: theirs was dropped with the race.
        assert "1,392,100" in await world.text("!candidate tuberville")
        await until(lambda: len(shelf.person_cards) == 8, what="the race's people read again")
        hits = shelf.hits
        assert "1,392,100" in await world.text("!candidate tuberville") and shelf.hits == hits + 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_races_copy_read_at_start_is_kept_for_the_first_member(
    tmp_path: Path, database: str
) -> None:
    async with desk_world(tmp_path, database=database, results_channels=False, followers=False) as world:
        directory = world.bot.store.directory
        # On PostgreSQL the listener drops the copy as it begins to listen: a copy read before that was lost,
        # and the first member's lookup read the races again on the event loop.
        assert directory.races is not None and directory.loads == 1
        assert (await world.say("!race alabama 2020")).ok is True
        assert directory.loads == 1

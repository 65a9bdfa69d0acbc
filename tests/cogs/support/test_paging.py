"""Paged replies keep nothing per reply: each button's id says what it shows, and a click builds it afresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from sqlalchemy import select

import render.calendar
from cogs.support.paging import CUSTOM_ID_LIMIT, PAGE_ID, Paged, page_source, page_sources
from db.models import Poll
from tests.support import World, assert_fits, member_world, new_messages

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAGED_ASKS = (
    "!polls georgia special",
    "!endorsements texas",
    "!calendar this year",  # words carried in the buttons' ids
    "!calendar january 1 2017 to december 31 2021",  # too long to carry: carried as the span's dates
)


@pytest.fixture(autouse=True)
def short_calendar_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The member data's calendar holds 9 stages: 3 to a page, so that it pages."""
    monkeypatch.setattr(render.calendar, "PAGE_LINES", 4)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("paging")) as started:
        cog = started.bot.get_cog("Calendar")
        assert cog is not None
        cog.today = lambda: dt.date(2020, 7, 14)  # type: ignore[attr-defined]
        yield started


async def test_paged_replies_leave_no_view_for_discord_py_to_keep(world: World) -> None:
    store = world.bot._connection._view_store  # discord.py's record of the views it waits on
    for asked in PAGED_ASKS:
        exchange = await world.say(asked)
        assert exchange.ok is True and "Next ▶" in exchange.messages[0].button_labels(), asked
    assert store._synced_message_views == {} and not any(store._views.values())


@pytest.mark.parametrize("asked", PAGED_ASKS)
async def test_every_paged_reply_turns_to_its_second_page_and_back(world: World, asked: str) -> None:
    exchange = await world.say(asked)
    first = exchange.messages[0]
    title = first.embeds[0]["title"]
    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.member)
    (turned,) = await new_messages(world, before)
    # The same message, edited, under the same title (the calendar's own words too).
    assert turned.response_type == 7 and turned.embeds[0]["title"] == title
    assert turned.text() != exchange.text and not turned.button_disabled("Prev")
    typed = await world.say(f"{asked} page 2")  # what `page 2` in prefix form shows
    assert turned.text() == typed.messages[0].text()
    assert_fits(turned)
    before = len(world.standin.messages)
    await world.standin.click_button(first, turned.button_id("Prev"), world.member)
    (back,) = await new_messages(world, before)
    assert back.text() == first.text()


async def test_a_reply_to_a_mention_or_a_slash_command_pages_too(world: World) -> None:
    assert world.bot.user is not None
    mentioned = await world.say(f"<@{world.bot.user.id}> polls georgia special")
    first = mentioned.messages[0]
    assert first.button_labels() == ["◀ Prev", "Next ▶", "📈 Chart"]
    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.moderator)
    (refusal,) = await new_messages(world, before)
    assert (
        "Run `!polls georgia 2020 special`" in refusal.text()
    )  # the server's prefix stands in for a mention
    await world.standin.click_button(first, first.button_id("Next"), world.member)
    (turned,) = await new_messages(world, before + 1)
    assert "page 2/3" in turned.text()

    slashed = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "polls", {"query": "georgia special"}
    )
    first = slashed.messages[0]
    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.moderator)
    (refusal,) = await new_messages(world, before)
    assert "Run `/polls georgia 2020 special`" in refusal.text()
    store = world.bot._connection._view_store
    assert store._synced_message_views == {} and not any(store._views.values())


async def test_a_button_of_a_reply_from_before_says_it_is_old(world: World) -> None:
    channel = world.bot.get_channel(world.desk_channel)
    assert isinstance(channel, discord.TextChannel)
    old = discord.ui.View(timeout=None)
    old.add_item(discord.ui.Button(label="Next ▶", custom_id="racedesk:page:next"))
    old.stop()
    sent = await channel.send("Polls · an old reply", view=old)
    before = len(world.standin.messages)
    await world.standin.click_button(sent.id, "racedesk:page:next", world.member)
    (answer,) = await new_messages(world, before)
    assert answer.ephemeral and "from before racedesk restarted" in answer.text()


async def test_a_source_gives_nothing_for_what_is_gone_and_the_last_page_past_the_end(world: World) -> None:
    sources = {
        "polls": ["999999...."],
        "endorsements": ["r999999", "p999999"],
        "president": ["1788"],
        "calendar": [f"{dt.date(2020, 7, 14).toordinal()}.august 2020"],  # nothing votes then
    }
    for name, keys in sources.items():
        build = page_sources()[name]
        for key in keys:
            assert await build(world.bot, Paged(name, key, world.member, "!"), 1) is None, (name, key)
    last = await world.say("!polls georgia special page 3")
    key = first_page_key(last.messages[0].button_id("Next"))
    shown = await page_sources()["polls"](world.bot, Paged("polls", key, world.member, "!"), 40)
    assert shown is not None and (shown.page, shown.pages) == (3, 3)
    assert "page 3/3" in (shown.embed.footer.text or "") + (shown.embed.description or "")


async def test_a_click_after_the_list_shrank_or_emptied(tmp_path: Path) -> None:
    async with member_world(tmp_path, big=False) as world:
        first = (await world.say("!polls georgia special")).messages[0]
        assert "page 1/3" in first.text()
        race_id = int(first_page_key(first.button_id("Next")).split(".")[0])
        ids = await poll_ids(world, race_id)
        await delete_polls(world, ids[:9])  # 6 left: two pages
        before = len(world.standin.messages)
        await world.standin.click_button(first, first.button_id("Next"), world.member)
        (turned,) = await new_messages(world, before)
        assert "Polls 6–6 of 6, newest first · page 2/2" in turned.text()
        assert turned.button_disabled("Next") and not turned.button_disabled("Prev")

        await delete_polls(world, ids[9:])  # none left
        before = len(world.standin.messages)
        await world.standin.click_button(first, turned.button_id("Prev"), world.member)
        got = await new_messages(world, before, lambda ms: len(ms) == 2)
        assert any(m.ephemeral and "no longer there" in m.text() for m in got)
        assert any(
            m.response_type == 7 and m.button_ids() == [] for m in got
        )  # the asker's click: buttons off


async def poll_ids(world: World, race_id: int) -> list[int]:
    async with world.bot.sessions() as session:
        return list(await session.scalars(select(Poll.id).where(Poll.race_id == race_id).order_by(Poll.id)))


async def delete_polls(world: World, ids: list[int]) -> None:
    """The desk removes them (`poll remove`), as it would."""
    for poll_id in ids:
        removed = await world.say(f"!poll remove {poll_id}", author=world.owner)
        assert removed.ok is True and "emoved" in removed.text, removed.text


async def test_a_button_id_fits_discord_and_reads_back() -> None:
    paged = Paged("polls", "123456.lv.737972.general runoff.REP", 2**63, "longpfx:")
    custom_id = paged.button_id("n", 12)
    assert len(custom_id) <= CUSTOM_ID_LIMIT
    read = PAGE_ID.fullmatch(custom_id)
    assert read is not None and read["key"] == paged.key and read["prefix"] == "longpfx:"
    assert (read["source"], read["turn"], read["page"], read["owner"]) == ("polls", "n", "12", str(2**63))
    with pytest.raises(ValueError):
        Paged("polls", "x" * 49, 1, "!").button_id("n", 2)  # a key longer than an id carries
    with pytest.raises(ValueError):
        Paged("polls", "a:b", 1, "!").button_id("n", 2)  # a key holding the separator
    with pytest.raises(ValueError):
        page_source("Polls")


def first_page_key(custom_id: str) -> str:
    read = PAGE_ID.fullmatch(custom_id)
    assert read is not None
    return read["key"]

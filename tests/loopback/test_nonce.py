"""Like Discord, the stand-in enforces a message's nonce: with `enforce_nonce`, a repeated nonce in the same
channel within the window returns the message already posted instead of posting again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.http import Route, handle_message_parameters

from loopback import StandIn
from loopback.floorbot import make_floor_bot, run_bot_against


@pytest.fixture
async def standin(spec_path: Path) -> AsyncIterator[StandIn]:
    async with StandIn(spec_path) as s:
        s.add_guild("Test Server")
        yield s


def channel_pair(s: StandIn) -> tuple[int, int]:
    guild = next(iter(s.guilds))
    return s.add_channel(guild, "results").id, s.add_channel(guild, "news").id


async def post(bot: Any, channel: int, text: str, nonce: str | None, enforce: bool = True) -> int:
    if enforce:
        with handle_message_parameters(content=text, nonce=nonce) as params:
            data = await bot.http.send_message(channel, params=params)
    else:  # a nonce without enforce_nonce, as older clients send it
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel)
        data = await bot.http.request(route, json={"content": text, "nonce": nonce})
    return int(data["id"])


async def test_a_repeated_nonce_returns_the_first_message(standin: StandIn) -> None:
    results, news = channel_pair(standin)
    async with run_bot_against(standin, make_floor_bot()) as bot:
        first = await post(bot, results, "count update", "announce-1")
        again = await post(bot, results, "count update", "announce-1")
        other = await post(bot, results, "count update", "announce-2")
        elsewhere = await post(bot, news, "count update", "announce-1")
    assert again == first
    assert len({first, other, elsewhere}) == 3
    posted = [(m.channel_id, m.message_id) for m in standin.messages]
    assert posted == [(results, first), (results, other), (news, elsewhere)]
    assert standin.nonce_repeats == [(results, "announce-1", first)]
    sent = [r for r in standin.requests if r.method == "POST"]
    assert len(sent) == 4 and all(r.body["enforce_nonce"] is True for r in sent)
    assert standin.spec_errors == []


async def test_without_enforce_nonce_or_after_the_window_it_posts_again(standin: StandIn) -> None:
    results, _news = channel_pair(standin)
    async with run_bot_against(standin, make_floor_bot()) as bot:
        plain = [await post(bot, results, "hello", "n-1", enforce=False) for _ in range(2)]
        standin.nonce_window = 0.0  # Discord forgets a nonce after a few minutes
        late = [await post(bot, results, "hello", "n-2") for _ in range(2)]
    assert len(set(plain)) == 2 and len(set(late)) == 2
    assert len(standin.messages) == 4 and standin.nonce_repeats == []


async def test_a_deleted_message_does_not_answer_for_its_nonce(standin: StandIn) -> None:
    results, _news = channel_pair(standin)
    async with run_bot_against(standin, make_floor_bot()) as bot:
        first = await post(bot, results, "hello", "n-1")
        await bot.http.delete_message(results, first)
        second = await post(bot, results, "hello", "n-1")
    assert second != first and standin.nonce_repeats == []


async def test_a_hook_runs_after_the_message_is_stored_and_before_the_answer(standin: StandIn) -> None:
    results, _news = channel_pair(standin)
    seen: list[int] = []

    async def hook() -> None:
        seen.append(len(standin.messages))  # stored already; the bot has not had the answer yet
        assert not answered

    answered = False
    rule = standin.after_accepting("POST", rf"/channels/{results}/messages", hook)
    async with run_bot_against(standin, make_floor_bot()) as bot:
        await post(bot, results, "hello", "n-1")
        answered = True
        await post(bot, results, "again", "n-2")  # the hook fired once only
        with pytest.raises(discord.HTTPException):  # refused requests do not fire hooks
            await post(bot, results, "", "n-3")
    assert seen == [1] and rule.fired == 1 and rule.times == 0

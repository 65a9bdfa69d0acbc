"""The member commands through the real bot process (`python cli.py run`) and the loopback Discord,
on the shipped sample: the issue's acceptance checks, one message each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import BotProcess, sample_bot_process

TOKEN = "e2e.member-token.value"


@dataclass
class Running:
    bot: BotProcess
    last: Any = None  # the latest reply

    async def ask(self, text: str, wait_for_file: bool = False) -> str:
        await self.bot.standin.send_message(self.bot.channel_id, self.bot.member, text)
        reply = await self.bot.standin.wait_for_message(
            self.bot.channel_id,
            predicate=(lambda m: bool(m.attachments)) if wait_for_file else None,
            timeout=60,
        )
        assert reply.allowed_mentions == {"parse": []}
        self.last = reply
        return reply.text()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async with sample_bot_process(tmp_path, TOKEN) as bot:
        yield Running(bot)
    assert bot.standin.spec_errors == []
    assert "Traceback" not in bot.output[0], bot.output[0]


async def test_the_member_commands_answer_through_the_bot_process(running: Running) -> None:
    polls = await running.ask("!polls alabama")
    assert "Auburn University at Montgomery · Jul 2–9, 2020" in polls
    assert "General: Tuberville 43.9, Jones 35.5 · Tuberville +8.4" in polls
    assert "Hypothetical general: Sessions 48.9, Jones 43.3" in polls

    await running.ask("!polls alabama chart", wait_for_file=True)
    (name, png), *_ = running.last.attachments
    assert name.endswith(".png") and png.startswith(b"\x89PNG")  # drawn by the worker the process spawned

    endorsements = await running.ask("!endorsements alabama")
    assert "Donald Trump (president) endorsed Tommy Tuberville" in endorsements
    assert "Donald Trump (president) refused to endorse Jeff Sessions" in endorsements

    candidate = await running.ask("!candidate sessions")
    assert "Republican primary · Mar 3, 2020: advanced to the runoff · 227,082 votes" in candidate
    assert "Republican runoff · Jul 14, 2020: lost" in candidate

    results = await running.ask("!results alabama")
    assert (
        "Tommy Tuberville (R)**: 1,392,076" in results and "Doug Jones (D) · incumbent**: 920,478" in results
    )

    assert "Republican runoff" in await running.ask("!calendar july 14 2020")
    assert "You now follow the **2020 Alabama U.S. Senate (Class II)**" in await running.ask(
        "!follow alabama"
    )
    assert "**2020 Alabama U.S. Senate (Class II)**: `!unfollow alabama 2020`" in await running.ask(
        "!following"
    )
    assert "Kamala Harris (D)" in await running.ask("!senate 2020")

    help_text = await running.ask("!help")
    for name in (
        "race",
        "polls",
        "results",
        "candidate",
        "endorsements",
        "calendar",
        "senate",
        "follow",
        "help",
    ):
        assert f"!{name}" in help_text

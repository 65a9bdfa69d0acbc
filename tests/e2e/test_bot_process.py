"""End to end: the real bot process (`python cli.py run`) against the loopback Discord."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loopback import StandIn
from loopback.process import REPO_ROOT, start_bot_process, stop_bot_process
from tests.support import SPEC, Built, sqlite_url

TOKEN = "e2e.secret-token.value"


@dataclass
class Running:
    standin: StandIn
    guild_id: int
    channel_id: int
    member: int
    output: list[str]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async with StandIn(SPEC, token=TOKEN) as standin:
        guild = standin.add_guild(name="Members")
        channel = standin.add_channel(guild.id, name="general")
        member = standin.add_member(guild.id, "member")
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
            "LOG_LEVEL": "INFO",
        }
        proc = await start_bot_process(standin, env=env)
        output: list[str] = []
        try:
            await standin.wait_until_ready(timeout=90)
            yield Running(standin, guild.id, channel.id, member, output)
        finally:
            output.append(await stop_bot_process(proc))
        assert standin.spec_errors == []
        log = "".join(output)
        assert "Traceback" not in log, log
        assert TOKEN not in log  # the token never appears in logs
        assert re.search(r"heap settled: [1-9]\d* objects", log), log  # bot.py settle_heap, at start


async def test_the_bot_process_answers_race_alabama(running: Running) -> None:
    standin = running.standin
    await standin.send_message(running.channel_id, running.member, "!race alabama 2020")
    reply = await standin.wait_for_message(running.channel_id, timeout=30)
    assert reply.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"
    assert "Tuberville defeated Sessions" in reply.text()

    await standin.send_slash(
        running.guild_id, running.channel_id, running.member, "race", {"query": "alabama 2020"}
    )
    response = await standin.wait_for_message(
        running.channel_id, predicate=lambda m: m.kind == "interaction_response", timeout=30
    )
    assert response.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"


def test_without_a_token_the_bot_says_what_to_set(tmp_path: Path, built: Built) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["DATABASE_URL"] = sqlite_url(built.copy_to(tmp_path / "notoken.db"))
    done = subprocess.run(
        [sys.executable, "cli.py"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("DISCORD_TOKEN is not set") and "README.md" in first
    assert "Traceback" not in done.stderr

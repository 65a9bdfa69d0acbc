"""Stopping the real bot process: SIGTERM closes it cleanly (exit 0, no process left behind), and the
chart worker it spawned ends on its own when the bot is killed outright."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import WSCloseCode

from loopback.process import bot_process_output
from tests.support import BotProcess, sample_bot_process, until

TOKEN = "e2e.shutdown-token.value"
CLEAN_EXIT_SECONDS = 10  # what systemd and docker wait before they SIGKILL


def children_of(pid: int) -> set[int]:
    """Every live process whose parent is `pid` (read from /proc, as ps does)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """The pids still alive after `timeout` seconds (empty as soon as all have ended)."""
    deadline = time.monotonic() + timeout
    # Another process's end: no event to await, so look every tenth of a second.
    while (left := {pid for pid in pids if alive(pid)}) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    return left


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with sample_bot_process(tmp_path, TOKEN) as bot:
        yield bot


async def start_chart_worker(running: BotProcess) -> set[int]:
    """Ask for a chart, so the bot spawns its worker; return the bot's child processes."""
    await running.standin.send_message(running.channel_id, running.member, "!polls alabama chart")
    reply = await running.standin.wait_for_message(
        running.channel_id, predicate=lambda m: bool(m.attachments), timeout=60
    )
    assert reply.attachments[0][1].startswith(b"\x89PNG")
    workers = children_of(running.proc.pid)
    assert workers, "the chart was drawn without a worker process"
    return workers


async def test_sigterm_closes_the_bot_cleanly_and_leaves_no_process(running: BotProcess) -> None:
    workers = await start_chart_worker(running)

    running.proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(running.proc.wait(), CLEAN_EXIT_SECONDS)

    output = bot_process_output(running.proc)
    assert code == 0, output
    assert "SIGTERM: stopping" in output and "Traceback" not in output
    assert await wait_until_gone(workers, 5) == set()
    # discord.py's close sends a close frame (4000); a connection that just drops ends as 1006.
    assert running.standin.gateway_close_codes == [4000], "the bot did not close its gateway connection"


async def test_the_chart_worker_ends_when_the_bot_is_killed(running: BotProcess) -> None:
    workers = await start_chart_worker(running)

    running.proc.kill()  # kill -9: the bot runs no code of its own
    await asyncio.wait_for(running.proc.wait(), 10)  # a worker left alive would hold its output open
    await until(lambda: bool(running.standin.gateway_close_codes), 10, "the stand-in saw the connection end")
    assert running.standin.gateway_close_codes == [WSCloseCode.ABNORMAL_CLOSURE]  # it closed nothing itself

    assert await wait_until_gone(workers, 10) == set()

"""start_bot_process / stop_bot_process, with a script that does what cli.py does with the addresses."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from loopback import StandIn
from loopback.floorbot import FLOOR_REPLY
from loopback.process import bot_process_output, start_bot_process, stop_bot_process

SCRIPT = Path(__file__).resolve().parent / "floor_script.py"


@pytest.mark.parametrize("sigint", ["default", "ignored"])
async def test_bot_process_end_to_end(spec_path: Path, sigint: str) -> None:
    """Also when started with SIGINT ignored, as a background job's children are: SIGINT still stops it."""
    async with StandIn(spec_path) as s:
        guild = s.add_guild("Test Server")
        general = s.add_channel(guild.id, "general")
        alice = s.add_member(guild.id, "alice")
        inherited = signal.signal(
            signal.SIGINT, signal.SIG_IGN if sigint == "ignored" else signal.getsignal(signal.SIGINT)
        )
        try:
            proc = await start_bot_process(s, {"RACEDESK_TEST_MARK": "1"}, script=SCRIPT)
        finally:
            signal.signal(signal.SIGINT, inherited)
        try:
            await s.wait_until_ready(timeout=30)
            await s.send_message(general.id, alice, "!race alabama")
            reply = await s.wait_for_message(general.id, timeout=10)
            assert reply.text() == FLOOR_REPLY
        except BaseException:
            print(bot_process_output(proc))
            raise
        finally:
            output = await stop_bot_process(proc, timeout=5)
        assert proc.returncode == 0, output
        assert "floor bot stopped" in output
        assert s.spec_errors == []
        assert s.requests[0].path == "/users/@me"

"""SQLite serves one bot process: a second bot process on the same database file is refused at start with a
clear one-line message, the first one goes on answering, and the lock is freed when its holder dies, even by
kill -9 (db/single_process.py)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from loopback.process import bot_process_output, start_bot_process, stop_bot_process
from tests.support import sample_bot_process, until

TOKEN = "single.secret-token.value"


async def test_a_second_bot_process_on_one_sqlite_file_is_refused_until_the_first_is_gone(
    tmp_path: Path,
) -> None:
    async with sample_bot_process(tmp_path, TOKEN) as first:
        standin = first.standin
        second = await start_bot_process(standin, env=first.env)
        assert await asyncio.wait_for(second.wait(), 120) == 2
        refusal = (await stop_bot_process(second)).strip()
        database = first.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
        assert refusal == (
            f"racedesk: another racedesk process (pid {first.proc.pid}) runs on the SQLite database {database}; "
            "SQLite serves one bot process, so stop that one first, or run several on PostgreSQL "
            "(see 'Scaling' in README.md)"
        )
        assert standin.identify_count == 1  # the second never reached Discord

        await standin.send_message(first.channel_id, first.member, "!race alabama")
        reply = await standin.wait_for_message(first.channel_id, timeout=30)
        assert reply.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"

        first.proc.send_signal(signal.SIGKILL)  # dies holding the lock: the system frees it
        await first.proc.wait()
        third = await start_bot_process(standin, env=first.env)
        try:
            await until(
                lambda: standin.identify_count >= 2 or third.returncode is not None, 90, "the third connected"
            )
            assert third.returncode is None, bot_process_output(third)
            await standin.wait_until_ready(timeout=30)
            await standin.send_message(first.channel_id, first.member, "!race alabama")
            reply = await standin.wait_for_message(first.channel_id, timeout=30)
            assert reply.embeds[0]["title"] == "2020 Alabama U.S. Senate (Class II)"
        finally:
            output = await stop_bot_process(third)
        assert "Traceback" not in output and "another racedesk process" not in output

"""`cli.py run` for bench/feeds.py, with the event loop watched from inside the bot process.

RACEDESK_BENCH_LAG=<file>: every 50 ms the loop is asked to wake; how late it wakes (the lag) and the CPU
time the loop's thread used meanwhile are appended to the file, one `<unix time> <seconds late> <cpu
seconds>` line per sample, written once a second. On a loaded machine a late wake can be the process
waiting for a core; the lag the loop itself caused is at most the CPU its thread used in that tick. RACEDESK_BENCH_PROFILE=<file>: the event loop's thread is profiled (cProfile) from the bot's
start, the stats written there when it stops (the parse threads are not in it: only what holds the loop).
RACEDESK_BENCH_SLOW=<file>: asyncio's debug mode names every callback or task step that held the loop for
more than 50 ms, in that file (debug mode slows the bot: for finding culprits, not for figures)."""

from __future__ import annotations

import asyncio
import atexit
import cProfile
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cli
from bot import RaceBot

TICK = 0.05
_tasks: list[asyncio.Task[None]] = []


async def sample_lag(path: Path) -> None:
    loop = asyncio.get_running_loop()
    lines: list[str] = []
    flushed = loop.time()
    while True:
        asked, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(TICK)
        late, used = max(0.0, loop.time() - asked - TICK), time.thread_time() - cpu
        lines.append(f"{time.time():.3f} {late:.6f} {used:.6f}\n")
        if loop.time() - flushed >= 1.0:
            with path.open("a") as out:
                out.writelines(lines)
            lines, flushed = [], loop.time()


def watch() -> None:
    original = RaceBot.setup_hook
    lag, profile = os.environ.get("RACEDESK_BENCH_LAG"), os.environ.get("RACEDESK_BENCH_PROFILE")

    slow = os.environ.get("RACEDESK_BENCH_SLOW")

    async def setup_hook(self: Any) -> None:
        await original(self)
        if slow:
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = 0.05
            handler = logging.FileHandler(slow)
            handler.setLevel(logging.WARNING)
            logging.getLogger("asyncio").addHandler(handler)
        if lag:
            _tasks.append(asyncio.get_running_loop().create_task(sample_lag(Path(lag))))

    RaceBot.setup_hook = setup_hook  # type: ignore[method-assign]
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()

        def dump() -> None:
            profiler.disable()
            profiler.dump_stats(profile)

        atexit.register(dump)


if __name__ == "__main__":
    watch()
    raise SystemExit(cli.main(sys.argv[1:]))

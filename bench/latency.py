"""Reply latency of `!race alabama` with 10,000 races stored, against a minimal discord.py bot (the floor).

Both run as processes against the same loopback stand-in for Discord; the two are
measured in alternating rounds so machine noise falls on both. Goal: p50 ≤ 1.5×
the floor, p99 ≤ 2× the floor.

    python bench/latency.py [--races 10000] [--samples 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from common import (
    FLOOR_SCRIPT,
    Figures,
    bot_process,
    build_store,
    racedesk_env,
    reply_latency,
    report,
    sample,
)

GOALS = {"!race alabama": (1.5, 2.0)}


async def main(races: int, samples: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = await build_store(Path(tmp) / "bench.db", races=races)
        print(f"store: {races:,} races built in {time.perf_counter() - started:.1f}s")
        floor, racedesk = Figures("floor (minimal discord.py)", []), Figures("!race alabama", [])
        per_round = max(1, samples // rounds)
        for _ in range(rounds):
            async with bot_process({}, script=FLOOR_SCRIPT) as place:
                floor.samples += await sample(lambda: reply_latency(place, "!race alabama"), per_round)
            async with bot_process(racedesk_env(url)) as place:
                racedesk.samples += await sample(lambda: reply_latency(place, "!race alabama"), per_round)
        print(f"{len(floor.samples)} samples each, {rounds} alternating rounds")
        print(report(floor, [racedesk], GOALS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--races", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.races, args.samples, args.rounds))

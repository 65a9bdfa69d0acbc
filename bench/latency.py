"""Reply latency of `!race`, with 10,000 races stored, against a minimal discord.py bot (the floor).

Two figures, each labelled:

- uncached: `!race <race>` asking a different one of the stored races each sample, so every answer
  is looked up and read from the store (racedesk keeps lookups and cards in a per-process cache);
- cached: `!race alabama` asked again and again, answered from that cache after the first time.

racedesk and the floor run as processes against their own loopback stand-ins, both at once, and
are asked alternately, sample by sample, so machine noise falls on both alike. Every reply is
checked: the race card's title for racedesk, the floor's fixed reply for the floor; an error or
another race's card stops the run. Goal (cached): p50 ≤ 1.5× the floor, p99 ≤ 2× the floor.

`--polls N` also stores N polls (ten a race), so each card reads its polls too.

    python bench/latency.py [--races 10000] [--samples 200] [--polls 0]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from common import (
    ALABAMA_TITLE,
    FLOOR_SCRIPT,
    Figures,
    alternate,
    asking,
    bot_process,
    build_store,
    racedesk_env,
    report,
    same,
)
from db.engine import make_engine, make_sessionmaker
from db.lookup import race_hint
from db.models import Race
from loopback.floorbot import FLOOR_REPLY
from render.race import race_title

UNCACHED = "!race <race>, uncached (a different race each sample)"
CACHED = "!race alabama, cached (the same question again)"
GOALS = {CACHED: (1.5, 2.0)}
WARMUP = 3


async def stored_races(url: str, n: int, seed: int = 3) -> list[tuple[str, str]]:
    """n different stored House races: the words that ask for each, and its card's title."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            races = list(await session.scalars(select(Race).where(Race.office == "house")))
    finally:
        await engine.dispose()
    chosen = random.Random(seed).sample(races, n)
    return [(f"!race {race_hint(race)}", race_title(race)) for race in chosen]


def each_once(questions: list[tuple[str, str]]) -> Callable[[], tuple[str, str]]:
    remaining = iter(questions)
    return lambda: next(remaining)


async def main(races: int, samples: int, polls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = await build_store(Path(tmp) / "bench.db", races=races, polls=polls)
        print(f"store: {races:,} races, {polls:,} polls built in {time.perf_counter() - started:.1f}s")
        questions = await stored_races(url, samples + WARMUP)
        uncached, cached = Figures(UNCACHED, []), Figures(CACHED, [])
        async with (
            bot_process({}, script=FLOOR_SCRIPT) as floor_place,
            bot_process(racedesk_env(url)) as place,
        ):
            floor = asking(floor_place, same("!race alabama", FLOOR_REPLY))
            uncached.add(await alternate(floor, asking(place, each_once(questions)), samples, WARMUP))
            cached.add(await alternate(floor, asking(place, same("!race alabama", ALABAMA_TITLE)), samples))
        print(f"{samples} samples each, alternating with the floor sample by sample; every reply checked")
        print(report([uncached, cached], GOALS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--races", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--polls", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.races, args.samples, args.polls))

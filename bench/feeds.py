"""200 results feeds polled every 30 s by one bot process, against a local feed server: the bot's CPU share,
the polls it made, and member reply latency (`!race alabama`) as ratios to the floor.

The feed server (in this process, on 127.0.0.1) serves the AP sample of Florida's 2012 Senate race, each
feed at its own URL with an ETag; every `--change` seconds the count rises, so each feed fetches the ~600 kB file, parses it
(off the event loop) and tries to store it (the first stores, the rest find the count already stored), and
answers 304 in between. The floor (a minimal discord.py bot) and racedesk are measured in alternating
rounds. Goal: member replies p50 ≤ 1.5× the floor while the feeds run.

    python bench/feeds.py [--feeds 200] [--every 30] [--change 60] [--seconds 120] [--samples 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from aiohttp import web

from common import FLOOR_SCRIPT, Figures, Place, bot_process, build_store, racedesk_env, reply_latency, report
from db.audit import Actor
from db.engine import make_engine, make_sessionmaker
from db.feeds.formats import read_feed
from db.models import Feed
from db.writes import StageRef, run_write
from db.writes.feeds import FeedInput, add_feed
from tests.support.feeds import FLORIDA, add_florida_2012, ap_snapshot, feed_server

GOALS = {"!race alabama, feeds running": (1.5, 3.0)}
BENCH = Actor(id=None, name="bench")


class FeedServer:
    def __init__(self, change: float) -> None:
        self.every, self.started = change, time.monotonic()
        self.bodies: dict[int, bytes] = {}
        self.ok = self.not_modified = 0

    def step(self) -> int:
        return int((time.monotonic() - self.started) // self.every)

    async def handle(self, request: web.Request) -> web.Response:
        step = self.step()
        etag = f'"{step}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304)
        if step not in self.bodies:
            self.bodies = {step: ap_snapshot(step)}
        self.ok += 1
        return web.Response(body=self.bodies[step], headers={"ETag": etag}, content_type="application/json")


async def attach_feeds(url: str, base: str, feeds: int, every: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    race = await run_write(sessions, lambda s: add_florida_2012(s, BENCH))
    reading = read_feed(ap_snapshot())
    for n in range(feeds):
        data = FeedInput(race.id, StageRef("general"), f"{base}/{n}", reading, FLORIDA, every, "auto")
        await run_write(sessions, lambda s, data=data: add_feed(s, BENCH, data))
    async with sessions() as session:
        assert len(list(await session.scalars(Feed.__table__.select()))) == feeds
    await engine.dispose()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def spread(place: Place, samples: int, seconds: float) -> list[float]:
    gap = seconds / samples
    out = []
    for _ in range(samples):
        out.append(await reply_latency(place, "!race alabama"))
        await asyncio.sleep(gap)
    return out


async def main(feeds: int, every: int, change: int, seconds: float, samples: int) -> None:
    server = FeedServer(change)
    with tempfile.TemporaryDirectory() as tmp:
        url = await build_store(Path(tmp) / "bench.db", races=1000)
        async with feed_server({"/feed/{n}": server.handle}) as root:
            base = f"{root}/feed"
            await attach_feeds(url, base, feeds, every)
            floor = Figures("floor (minimal discord.py)", [])
            idle = Figures("!race alabama, no feeds", [])
            busy = Figures("!race alabama, feeds running", [])
            async with bot_process({}, script=FLOOR_SCRIPT) as place:
                floor.samples += await spread(place, samples, seconds / 3)
            async with bot_process(racedesk_env(url)) as place:  # FEED_HOSTS unset: no feed may be fetched
                idle.samples += await spread(place, samples, seconds / 3)
            env = {**racedesk_env(url), "FEED_HOSTS": "127.0.0.1"}
            async with bot_process(env) as place:
                assert place.pid is not None
                pid = place.pid
                await asyncio.sleep(min(5.0, every / 4))  # every feed polled once
                cpu0, wall0, ok0, nm0 = cpu_seconds(pid), time.monotonic(), server.ok, server.not_modified
                busy.samples += await spread(place, samples, seconds)
                cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
                ok, nm = server.ok - ok0, server.not_modified - nm0
        print(f"{feeds} feeds every {every} s, the count rising every {change} s, measured for {wall:.0f} s:")
        print(f"{ok} full fetches (~600 kB each, parsed), {nm} answered 304")
        print(f"bot process CPU: {cpu:.1f} s of {wall:.0f} s = {100 * cpu / wall:.1f}% of one core")
        print(report(floor, [idle, busy], GOALS))
        print(f"feeds running vs no feeds: p50 {busy.p50 / idle.p50:.2f}×, p99 {busy.p99 / idle.p99:.2f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--every", type=int, default=30)
    parser.add_argument("--change", type=int, default=60, help="seconds between rises of the count")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--samples", type=int, default=120)
    args = parser.parse_args()
    asyncio.run(main(args.feeds, args.every, args.change, args.seconds, args.samples))

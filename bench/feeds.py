"""200 results feeds polled every 30 s by one bot process, against a local feed server: the bot's CPU share,
its event-loop lag, and member reply latency (`!race alabama`) as ratios to the floor, with and without feeds.

The feed server (in this process, on 127.0.0.1) serves the AP sample of Florida's 2012 Senate race, each
feed at its own URL with an ETag; every `--change` seconds the count rises, so each feed fetches the ~600 kB
file again, and answers 304 in between. The floor (a minimal discord.py bot) runs throughout; racedesk runs
twice on the same store, first with no feed attached, then with the feeds polled, each time asked
alternately with the floor, the samples spread over `--seconds`. The racedesk process is `cli.py run` watched
from inside (bench/feeds_bot.py): its event loop's lag sampled every 50 ms; RACEDESK_BENCH_PROFILE=<file>
profiles the busy run's loop thread, RACEDESK_BENCH_SLOW=<file> names the steps that held it over 50 ms.
Goal: member replies p50 ≤ 1.5× the floor (p99 ≤ 3×) while the feeds run.

    python bench/feeds.py [--feeds 200] [--every 30] [--change 60] [--seconds 120] [--samples 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from common import (
    ALABAMA_TITLE,
    FLOOR_SCRIPT,
    Figures,
    Place,
    asking,
    bot_process,
    build_store,
    percentile,
    racedesk_env,
    report,
    same,
)
from db.audit import Actor
from db.engine import make_engine, make_sessionmaker
from db.feeds.formats import read_feed
from db.models import Feed
from db.writes import StageRef, run_write
from db.writes.feeds import FeedInput, add_feed
from loopback.floorbot import FLOOR_REPLY
from tests.support.feeds import FLORIDA, add_florida_2012, ap_snapshot, feed_server

GOALS = {"!race alabama, feeds running": (1.5, 3.0)}
WATCHED = Path(__file__).resolve().parent / "feeds_bot.py"  # cli.py run, its event loop watched
PROFILE = os.environ.get("RACEDESK_BENCH_PROFILE")  # a file: the busy bot's loop thread is profiled
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


def lags_between(path: Path, start: float, end: float) -> list[tuple[float, float]]:
    """The event-loop samples the bot process wrote (bench/feeds_bot.py) between two unix times: (seconds
    late, CPU seconds its loop thread used in that tick)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        when, late, used = line.split()
        if start <= float(when) <= end:
            out.append((float(late), float(used)))
    return out


@dataclass
class Phase:
    """One racedesk process measured: replies (with the floor's, asked alternately), CPU, loop lag."""

    figures: Figures
    cpu: float = 0.0
    wall: float = 0.0
    lags: list[tuple[float, float]] = field(default_factory=list)

    def line(self) -> str:
        late = [lag for lag, _ in self.lags]
        held = [min(lag, used) for lag, used in self.lags]  # what the loop's own work can explain

        def ms(values: list[float]) -> str:
            return (
                f"p50 {percentile(values, 50) * 1000:.1f} ms, p99 {percentile(values, 99) * 1000:.1f} ms, "
                f"max {max(values) * 1000:.0f} ms"
            )

        return (
            f"{self.figures.name}: CPU {100 * self.cpu / self.wall:.1f}% of one core; event-loop lag "
            f"{ms(late)}; of it held by the loop's own work {ms(held)} ({len(self.lags)} samples)"
        )


async def measure(
    floor: Place, place: Place, phase: Phase, samples: int, seconds: float, lag_file: Path
) -> None:
    """`samples` pairs spread over `seconds`, the floor and racedesk asked alternately (first one, then the
    other), so the feeds' bursts and the machine's noise fall on both alike."""
    assert place.pid is not None
    ask_floor = asking(floor, same("!race alabama", FLOOR_REPLY))
    ask_racedesk = asking(place, same("!race alabama", ALABAMA_TITLE))
    for _ in range(3):  # warm up
        await ask_floor()
        await ask_racedesk()
    gap = seconds / samples
    cpu0, wall0, unix0 = cpu_seconds(place.pid), time.monotonic(), time.time()
    for i in range(samples):
        pair = (ask_floor, ask_racedesk) if i % 2 == 0 else (ask_racedesk, ask_floor)
        first, second = await pair[0](), await pair[1]()
        floor_t, racedesk_t = (first, second) if i % 2 == 0 else (second, first)
        phase.figures.floor.append(floor_t)
        phase.figures.samples.append(racedesk_t)
        await asyncio.sleep(gap)
    phase.cpu, phase.wall = cpu_seconds(place.pid) - cpu0, time.monotonic() - wall0
    await asyncio.sleep(1.2)  # the lag file is written once a second
    phase.lags = lags_between(lag_file, unix0, time.time())


async def main(feeds: int, every: int, change: int, seconds: float, samples: int) -> None:
    server = FeedServer(change)
    with tempfile.TemporaryDirectory() as tmp:
        url = await build_store(Path(tmp) / "bench.db", races=1000)
        idle_url = f"sqlite+aiosqlite:///{Path(tmp) / 'idle.db'}"
        shutil.copy(Path(tmp) / "bench.db", Path(tmp) / "idle.db")  # the same store, no feed attached
        lag_file = Path(tmp) / "lag.txt"
        idle = Phase(Figures("!race alabama, no feeds", []))
        busy = Phase(Figures("!race alabama, feeds running", []))
        async with feed_server({"/feed/{n}": server.handle}) as root:
            await attach_feeds(url, f"{root}/feed", feeds, every)
            async with bot_process({}, script=FLOOR_SCRIPT) as floor:
                env = {**racedesk_env(idle_url), "RACEDESK_BENCH_LAG": str(lag_file)}
                async with bot_process(env, script=WATCHED) as place:
                    await measure(floor, place, idle, samples, seconds, lag_file)
                env = {**racedesk_env(url), "FEED_HOSTS": "127.0.0.1", "RACEDESK_BENCH_LAG": str(lag_file)}
                if PROFILE:
                    env["RACEDESK_BENCH_PROFILE"] = PROFILE
                async with bot_process(env, script=WATCHED) as place:
                    await asyncio.sleep(min(5.0, every / 4))  # the first polls begin
                    ok0, nm0 = server.ok, server.not_modified
                    await measure(floor, place, busy, samples, seconds, lag_file)
                    ok, nm = server.ok - ok0, server.not_modified - nm0
    print(
        f"{feeds} feeds every {every} s, the count rising every {change} s, measured for {busy.wall:.0f} s:"
    )
    print(f"{ok} full fetches (~600 kB each), {nm} answered 304")
    print(idle.line())
    print(busy.line())
    print(report([idle.figures, busy.figures], GOALS))
    print(
        f"feeds running vs no feeds: p50 {busy.figures.p50 / idle.figures.p50:.2f}×, "
        f"p99 {busy.figures.p99 / idle.figures.p99:.2f}×"
    )


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

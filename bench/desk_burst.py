"""A burst from the desk: 20 results announced to 500 servers' results channels, while members ask `!race`.

The loopback stand-in does not rate-limit, so this benchmark puts Discord's limits in front of it: 50
requests a second for the whole bot (a global 429) and 5 messages per 5 seconds per channel (a route
429; not in the channel where latency is sampled, since members ask in many channels), answered with
the headers and body Discord sends, which discord.py obeys.

The floor (a minimal discord.py bot answering `?race alabama` with a fixed text) runs beside racedesk,
connected to the same stand-in at the same time, and the two are asked in turn: so the floor feels the
same machine and the same stand-in load as racedesk does, moment by moment, and the ratio is fair on a
shared, noisy machine. It reports

- how many 429s the stand-in answered during the burst (global and per channel): the goal is no storm;
- every announcement sent delivered exactly once, how long the burst took, and messages a second; the
  counts superseded (a newer count of the stage came before they went out: latest count wins);
- the time from the newest count until every results channel shows it, as a ratio to the limit that
  Discord's budget sets: channels ÷ announcements a second (the announcer's 30);
- `!race alabama` reply latency (p50, p99) idle and during the burst, as ratios to the floor asked in the
  same moments: the goal is within 2x the floor during the burst.

`--unpaced` runs the burst again with the announcer's pace lifted (RACEDESK_ANNOUNCE_RATE), as a control.

    python bench/desk_burst.py [--channels 500] [--results 20] [--races 10000] [--samples 40] [--unpaced]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from common import ALABAMA_TITLE, Figures, Place, build_store, racedesk_env, reply_latency, report
from db.engine import make_engine, make_sessionmaker
from db.models import GuildSettings, OutboxMessage, ResultSnapshot
from loopback import FailRule, StandIn
from loopback.floorbot import FLOOR_REPLY
from loopback.process import start_bot_process, stop_bot_process

GLOBAL_PER_SECOND = 50
CHANNEL_PER_5S = 5
MESSAGES = re.compile(r"/channels/(\d+)/messages")
MEMBER_INTERVAL = 0.1  # seconds between members' questions: about ten a second
FLOOR_PREFIX = "?"
GOALS = {"!race alabama, during the burst": (2.0, 2.0)}


class RateLimitedStandIn(StandIn):
    """The stand-in with Discord's limits in front: a 429 once the bot goes over them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unlimited_channels: set[str] = set()  # no per-channel limit (members ask in many channels)
        self.uncounted_channels: set[str] = set()  # another bot's: not racedesk's limits at all
        self.window: collections.deque[float] = collections.deque()
        self.per_channel: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.global_429 = 0
        self.route_429 = 0

    def reset_counts(self) -> None:
        self.global_429 = self.route_429 = 0

    def _take_failure(self, method: str, path: str) -> FailRule | None:
        injected = super()._take_failure(method, path)
        if injected is not None or path.startswith(("/interactions/", "/webhooks/", "/gateway")):
            return injected
        match = MESSAGES.fullmatch(path)
        if match and match.group(1) in self.uncounted_channels:
            return None
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1:
            self.window.popleft()
        if len(self.window) >= GLOBAL_PER_SECOND:
            self.global_429 += 1
            wait = self.window[0] + 1 - now
            return FailRule(
                method, re.compile(""), 429, 1, retry_after=round(wait, 3) + 0.001, is_global=True
            )
        if method == "POST" and match and match.group(1) not in self.unlimited_channels:
            sent = self.per_channel[match.group(1)]
            while sent and sent[0] <= now - 5:
                sent.popleft()
            if len(sent) >= CHANNEL_PER_5S:
                self.route_429 += 1
                return FailRule(
                    method, re.compile(""), 429, 1, retry_after=round(sent[0] + 5 - now, 3) + 0.001
                )
            sent.append(now)
        self.window.append(now)
        return None


@dataclass
class World:
    standin: RateLimitedStandIn
    place: Place  # where members ask racedesk
    floor_place: (
        Place  # where they ask the floor bot (another bot: Discord's limits for racedesk leave it be)
    )
    owner: int
    results: list[int] = field(default_factory=list)


@contextlib.asynccontextmanager
async def world(channels: int) -> AsyncIterator[World]:
    async with RateLimitedStandIn() as standin:
        guild = standin.add_guild(name="Bench")
        channel = standin.add_channel(guild.id, name="bench")
        standin.unlimited_channels.add(str(channel.id))  # members ask in many channels
        floor_channel = standin.add_channel(guild.id, name="floor")
        standin.uncounted_channels.add(str(floor_channel.id))
        member = standin.add_member(guild.id, "member")
        owner = standin.add_member(guild.id, "desk-owner")
        results = []
        for n in range(channels):
            server = standin.add_guild(name=f"Server {n}")
            results.append(standin.add_channel(server.id, name="results").id)
        place = Place(standin, guild.id, channel.id, member)
        yield World(standin, place, Place(standin, guild.id, floor_channel.id, member), owner, results)


async def answered(place: Place, text: str, timeout: float = 180) -> None:
    """Until a bot answers `text` (it has connected and is ready)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await place.standin.send_message(place.channel_id, place.member, text)
            await place.standin.wait_for_message(place.channel_id, timeout=5)
            return
        except (TimeoutError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def running(
    bench: World, place: Place, env: dict[str, str], args: tuple[str, ...], probe: str
) -> AsyncIterator[Any]:
    script = Path(__file__) if args == ("floor",) else "cli.py"
    proc = await start_bot_process(bench.standin, env=env, args=args, script=script)
    failed = False
    try:
        await answered(place, probe)
        await asyncio.sleep(2)  # start-up work settles
        bench.standin.consume_all()
        yield proc
    except BaseException:
        failed = True
        raise
    finally:
        output = await stop_bot_process(proc)
        if failed or "Traceback" in output:
            start = output.find("Traceback")
            shown = output[max(0, start - 500) : start + 4000] if start >= 0 else output[-4000:]
            print(f"--- {args[0]} output ---\n{shown}", flush=True)


async def configure(db_url: str, bench: World) -> None:
    """Every server but the bench's own has set a results channel."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            session.add_all(
                GuildSettings(guild_id=bench.standin.channels[cid].guild_id, results_channel_id=cid)
                for cid in bench.results
            )
    finally:
        await engine.dispose()


async def scalar(db_url: str, query: Any) -> int:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


SNAPSHOTS = select(func.count(ResultSnapshot.id))
PENDING = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
SENT = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
SUPERSEDED = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "superseded")
ANNOUNCE_RATE = 30.0  # the announcer's pace (cogs/announcer.py): the limit is channels ÷ this


@dataclass
class Pair:
    """The floor and racedesk, asked in turn."""

    floor: Figures
    racedesk: Figures
    unanswered: int = 0

    async def ask(self, bench: World) -> None:
        for figures, place, text, expect in (
            (self.floor, bench.floor_place, f"{FLOOR_PREFIX}race alabama", FLOOR_REPLY),
            (self.racedesk, bench.place, "!race alabama", ALABAMA_TITLE),
        ):
            try:
                latency = await reply_latency(place, text, expect)
            except TimeoutError:  # no reply within a minute: count it as a minute
                latency = 60.0
                self.unanswered += 1
            figures.samples.append(latency)
            if figures is self.floor:
                self.racedesk.floor.append(latency)  # the floor racedesk is compared with
            await asyncio.sleep(MEMBER_INTERVAL)


@dataclass
class Burst:
    pair: Pair
    elapsed: float
    expected: int  # rows sent (the outbox's count)
    delivered: int
    duplicates: int
    superseded: int
    newest_after: float  # seconds from the newest count's post until every results channel showed it
    channels: int
    rate: float
    global_429: int
    route_429: int
    failed_replies: int


def _footer(message: Any) -> str:
    return str((message.embeds[0].get("footer") or {}).get("text", "")) if message.embeds else ""


async def burst(
    bench: World, db_url: str, results: int, name: str, offset: int = 0, rate: float = ANNOUNCE_RATE
) -> Burst:
    standin, place = bench.standin, bench.place
    targets = set(bench.results)
    await asyncio.sleep(1.5)  # a quiet second: the limits' windows start empty
    standin.reset_counts()
    first = len(standin.messages)
    stored_before = await scalar(db_url, SNAPSHOTS)
    started = time.perf_counter()
    failed_replies = 0
    sent_before, superseded_before = await scalar(db_url, SENT), await scalar(db_url, SUPERSEDED)
    newest = f"{1_392_100 + offset + results - 1:,}"
    last_posted = started
    for n in range(results):
        text = f"!result alabama general Tuberville={1_392_100 + offset + n} Jones=920500"
        last_posted = time.perf_counter()
        await standin.send_message(place.channel_id, bench.owner, text)
        try:
            reply = await standin.wait_for_message(place.channel_id, timeout=60)
        except TimeoutError:
            failed_replies += 1
            continue
        if not reply.text().startswith("Stored result #"):
            failed_replies += 1  # a storm of 429s can make discord.py give up on a reply
    # What counts is what was stored: a write commits even when its reply is lost in a storm.
    stored = await scalar(db_url, SNAPSHOTS) - stored_before
    pair = Pair(Figures(f"floor, during the {name}", []), Figures(f"!race alabama, during the {name}", []))
    seen: collections.Counter[tuple[int, str]] = collections.Counter()
    showing_newest: set[int] = set()
    newest_at = None
    scanned = first
    deadline = time.perf_counter() + stored * len(targets) / 10 + 120
    while True:  # until every channel shows the newest count and nothing is left to send
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(showing_newest)}/{len(targets)} channels show the newest count")
        await pair.ask(bench)
        for message in standin.messages[scanned:]:
            if message.channel_id in targets and message.kind == "message":
                seen[(message.channel_id, _footer(message))] += 1
                if newest in message.text():
                    showing_newest.add(message.channel_id)
        scanned = len(standin.messages)
        if newest_at is None and showing_newest == targets:
            newest_at = time.perf_counter()
        if newest_at is not None and not await scalar(db_url, PENDING):
            break
    elapsed = time.perf_counter() - started
    await asyncio.sleep(2)  # anything delivered twice would show now
    for message in standin.messages[scanned:]:
        if message.channel_id in targets and message.kind == "message":
            seen[(message.channel_id, _footer(message))] += 1
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    assert newest_at is not None
    expected = await scalar(db_url, SENT) - sent_before
    superseded = await scalar(db_url, SUPERSEDED) - superseded_before
    if expected + superseded != stored * len(targets):
        raise RuntimeError(f"{stored * len(targets)} queued, but {expected} sent and {superseded} superseded")
    return Burst(
        pair,
        elapsed,
        expected,
        len(seen),
        duplicates,
        superseded,
        newest_at - last_posted,
        len(targets),
        rate,
        standin.global_429,
        standin.route_429,
        failed_replies,
    )


def describe(name: str, run: Burst) -> str:
    limit = run.channels / run.rate
    text = (
        f"{name}: {run.delivered:,}/{run.expected:,} announcements sent in {run.elapsed:.1f}s "
        f"({run.delivered / run.elapsed:.1f}/s), {run.duplicates} delivered twice, {run.superseded:,} counts "
        f"superseded; 429s answered: {run.global_429} global, {run.route_429} per channel; the newest count "
        f"in every results channel {run.newest_after:.1f}s after it was posted: "
        f"{run.newest_after / limit:.2f}x the limit ({run.channels} channels / {run.rate:g} a second = {limit:.1f}s)"
    )
    if run.pair.unanswered:
        text += f"; {run.pair.unanswered} member questions unanswered for a minute"
    if run.failed_replies:
        text += f"; {run.failed_replies} of the desk's own replies lost"
    return text


async def main(channels: int, results: int, races: int, samples: int, unpaced: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        built = time.perf_counter()
        url = await build_store(Path(tmp) / "bench.db", races=races)
        print(f"store: {races:,} races built in {time.perf_counter() - built:.1f}s", flush=True)
        async with world(channels) as bench:
            await configure(url, bench)
            env = {**racedesk_env(url), "OWNER_IDS": str(bench.owner)}
            bursts: list[tuple[str, Burst]] = []
            async with running(bench, bench.floor_place, {}, ("floor",), f"{FLOOR_PREFIX}race alabama"):
                async with running(bench, bench.place, env, ("run",), "!race alabama"):
                    idle = Pair(Figures("floor, idle", []), Figures("!race alabama, idle", []))
                    for _ in range(samples):
                        await idle.ask(bench)
                    paced = await burst(bench, url, results, "burst")
                    bursts.append(("paced burst", paced))
                    print(describe("paced burst", paced), flush=True)
                    if await scalar(url, PENDING):
                        raise RuntimeError("announcements left pending after the burst")
                if unpaced:
                    async with running(
                        bench,
                        bench.place,
                        {**env, "RACEDESK_ANNOUNCE_RATE": "1000"},
                        ("run",),
                        "!race alabama",
                    ):
                        control = await burst(bench, url, results, "unpaced burst", offset=1000, rate=1000.0)
                        bursts.append(("unpaced burst (control)", control))
                        print(describe("unpaced burst (control)", control), flush=True)
        print(
            f"\n{channels} results channels, {results} results: {results * channels:,} announcements per burst"
        )
        for name, run in bursts:
            print(describe(name, run))
        print("\nAgainst the floor asked in the same moments (the goal: within 2x during the burst):")
        rows = [idle.racedesk]
        goals = {}
        for _name, run in bursts:
            rows.append(run.pair.racedesk)
            goals[run.pair.racedesk.name] = GOALS["!race alabama, during the burst"]
        for row in rows:
            print(report([row], goals))
        print("\nEverything against the floor idle:")
        floors = [run.pair.floor for _n, run in bursts]
        print(report([Figures(f.name, f.samples, idle.floor.samples) for f in [*floors, *rows]]))


def floor_main() -> None:
    """The floor bot, as a child process: answers `?race alabama` with a fixed text."""
    from loopback.floorbot import make_floor_bot, run_until_interrupted
    from loopback.patching import point_discord_from_env

    if not point_discord_from_env():
        raise SystemExit("RACEDESK_DISCORD_API and RACEDESK_DISCORD_GATEWAY must be set")
    run_until_interrupted(make_floor_bot(prefix=FLOOR_PREFIX))


if __name__ == "__main__":
    if sys.argv[1:] == ["floor"]:
        floor_main()
        raise SystemExit(0)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--results", type=int, default=20)
    parser.add_argument("--races", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--unpaced", action="store_true", help="also run the burst with the pace lifted")
    args = parser.parse_args()
    asyncio.run(main(args.channels, args.results, args.races, args.samples, args.unpaced))

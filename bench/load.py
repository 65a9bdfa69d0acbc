"""Election night on two processes: the highest command rate racedesk keeps up with, against the floor's.

Setup: a PostgreSQL database of its own (made from --postgres, dropped at the end), filled with the
sample Alabama race, 10,000 synthetic House races with 2 polls and a count each, 2,000 synthetic people
(bench/common.py `fill_store` and bench/member_commands.py `extend_store`), then 500 results channels and
1,000 members following Alabama. Two racedesk processes (SHARD_COUNT=2, SHARD_IDS=0 and 1) run against one
loopback stand-in; members ask in 64 channels of 8 servers, half on each shard. Two floor processes (the
minimal discord.py bot of loopback/floorbot.py, as shards 0 and 1 of 2) run against a stand-in of their own.

Members ask `race`, `polls`, `results`, `candidate` and `senate`: 80% of the questions are about a race (or
person) nobody asked before (`race`/`polls`/`results <a synthetic race>`, `candidate <a synthetic person>`),
20% are asked again (`race`/`polls`/`results alabama`, `candidate sessions`, `senate 2020`). Every reply is
checked to be the answer asked for (the race's title, the person, the balance of power), never an error.
Meanwhile the desk posts a count for Alabama every 2 s (all through the stepping, while either system is
measured), each announced to the 500 results channels and the 1,000 followers (latest count wins).

The rate: a step offers `rate` questions a second for --step-seconds (and at least --min-replies, 30),
open loop (each question is due at its moment; a reply's latency counts from that moment, so a backlog
shows as latency). A step passes when every question got its right reply and the step's p99 (nearest
rank: of 30 replies, the slowest) ≤ 5 × the floor's idle p50 (the floor asked 100 times one at a time
before the steps, the desk already posting: the background every step has). Rates go up by --factor
from --start-rate; the floor and racedesk are stepped in turn at each rate (the same machine noise falls
on both). A step that misses a limit is tried again once (--retries: a lone stall on a shared machine),
and fails only when every try missed. A system's highest rate is the highest step it passed before its
first failure; the report is racedesk's highest rate ÷ the floor's (goal ≥ 0.5). The same figure is
given for looser limits (p99 ≤ 10× and 20× the floor's idle p50) from the same steps, since on a loaded
machine even the floor's p99 may miss 5×, and for p99 ≤ 5× the floor's idle p99 (a p99 held to the
floor's own p99): each system is stepped until it fails every limit.

Also reported: 429s (the stand-in has Discord's limits in front, as in bench/desk_burst.py: 50 requests a
second for the bot, 5 messages per 5 s per channel; the members' channels are exempt, since the steps offer
more replies than one token may send); lost and duplicated announcements (after the outbox drains: per
results channel and follower, the messages at the stand-in against the outbox's sent rows, and every target
showing the newest count); RSS (now and peak) per process. Before each measurement the benchmark takes
what it holds so far out of its own garbage collector's view and holds the collector until the measurement
ends (bench/common.py `collector_held`), and reports its own longest collection while it timed replies,
which would delay every reply in flight, floor and racedesk alike.

    python bench/load.py [--postgres URL] [--step-seconds 6] [--start-rate 2] [--factor 2] [--races 10000]

Ctrl-C (or SIGTERM) stops the processes and drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import os
import random
import re
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk_burst import RateLimitedStandIn, scalar
from member_commands import extend_store
from sqlalchemy import func, insert, select

from common import (
    ALABAMA_TITLE,
    COLLECTIONS,
    WrongReply,
    check_reply,
    collector_held,
    fill_store,
    percentile,
)
from db.engine import make_engine, make_sessionmaker, refresh_statistics
from db.lookup import race_hint
from db.models import (
    Candidacy,
    Contest,
    Follow,
    GuildSettings,
    OutboxMessage,
    Race,
    ResultCount,
    ResultSnapshot,
)
from loopback.floorbot import FLOOR_REPLY
from loopback.gateway import guild_id_on_shard
from loopback.models import RecordedMessage
from loopback.process import start_bot_process, stop_bot_process
from render.race import race_title
from tests.support.stores import database_at

SHARDS = 2
SERVERS, CHANNELS, MEMBERS = 8, 8, 25  # member servers per system, channels in each, members in each
FRESH_SHARE = 0.8
LIMIT_TIMES_FLOOR = 5.0  # the goal's limit: p99 ≤ 5 × the floor's idle p50
MULTIPLES = (LIMIT_TIMES_FLOOR, 10.0, 20.0)  # also at looser limits, from the same steps (a loaded machine)
GOAL = f"p99 ≤ {LIMIT_TIMES_FLOOR:g} × the floor's idle p50"
IDLE_ASKS = 100  # each system asked one at a time before the steps: the floor's idle p50 and p99
REPLY_TIMEOUT = 30.0
ASKED_AGAIN = [
    ("!race alabama", ALABAMA_TITLE),
    ("!polls alabama", "Alabama U.S. Senate"),
    ("!results alabama", "Alabama U.S. Senate"),
    ("!candidate sessions", "Jeff Sessions"),
    ("!senate 2020", "2020 U.S. Senate: balance of power"),
]
TOKEN = "load-bench.token.value"
ROUTE = re.compile(r"/\d+")


class LoadStandIn(RateLimitedStandIn):
    """The rate-limited stand-in, handing each channel's next bot message to whoever waits for it (the
    stand-in's own wait_for_message scans every message recorded, too slow for thousands a minute)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[int, asyncio.Future[RecordedMessage]] = {}
        self.by_channel: dict[int, list[RecordedMessage]] = collections.defaultdict(list)
        self.limited: collections.Counter[str] = collections.Counter()  # 429s by route

    def _take_failure(self, method: str, path: str) -> Any:
        failure = super()._take_failure(method, path)
        if failure is not None and failure.status == 429:
            self.limited[f"{method} {ROUTE.sub('/{id}', path)}"] += 1
        return failure

    def _record(self, *args: Any, **kwargs: Any) -> RecordedMessage:
        rec = super()._record(*args, **kwargs)
        if rec.kind == "message" and rec.channel_id is not None:
            self.by_channel[rec.channel_id].append(rec)
            waiter = self.waiting.pop(rec.channel_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(rec)
        return rec

    async def ask(self, channel: int, author: int, question: str) -> RecordedMessage:
        """Post `question`; the bot's next message in that channel (one question a channel at a time)."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[channel] = waiter
        try:
            await self.send_message(channel, author, question)
            return await asyncio.wait_for(waiter, REPLY_TIMEOUT)
        finally:
            self.waiting.pop(channel, None)


@dataclass
class System:
    """One bot (racedesk or the floor) as two shard processes on a stand-in, and its members' channels."""

    name: str
    standin: LoadStandIn
    channels: asyncio.Queue[tuple[int, int]]  # (channel, a member there), free to ask in
    question: Callable[[], tuple[str, str]]
    procs: list[Any] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    highest: dict[str, float] = field(default_factory=dict)  # by limit: the highest rate passed
    passing: set[str] = field(default_factory=set)  # limits not failed yet


def member_servers(standin: LoadStandIn) -> asyncio.Queue[tuple[int, int]]:
    """SERVERS servers, half on each shard, CHANNELS channels and MEMBERS members in each."""
    free: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for n in range(SERVERS):
        guild = standin.add_guild(f"Members {n}", guild_id=guild_id_on_shard(n % SHARDS, SHARDS))
        members = [standin.add_member(guild.id, f"member {n}.{m}") for m in range(MEMBERS)]
        for c in range(CHANNELS):
            channel = standin.add_channel(guild.id, f"talk-{c}").id
            standin.unlimited_channels.add(str(channel))
            standin.uncounted_channels.add(str(channel))
            free.put_nowait((channel, members[c % MEMBERS]))
    return free


@dataclass
class Step:
    rate: float
    latencies: list[float]
    unanswered: int
    wrong: int

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99) if self.latencies else float("inf")


async def step(system: System, rate: float, seconds: float, least: int) -> Step:
    """Offer `rate` questions a second for `seconds`, each due at its moment; wait for every reply."""
    latencies: list[float] = []
    counts = {"unanswered": 0, "wrong": 0}
    rng = random.Random(int(rate * 1000))

    async def one(due: float) -> None:
        channel, member = await system.channels.get()
        try:
            question, expect = system.question()
            try:
                reply = await system.standin.ask(channel, member, question)
            except TimeoutError:
                counts["unanswered"] += 1
                return
            latencies.append(time.perf_counter() - due)
            try:
                check_reply(question, reply.text(), expect)
            except WrongReply as wrong:
                counts["wrong"] += 1
                system.wrong.append(str(wrong))
        finally:
            system.channels.put_nowait((channel, member))

    tasks = []
    with collector_held():
        start = time.perf_counter() + 0.05
        for i in range(max(least, round(rate * seconds))):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    await asyncio.sleep(rng.uniform(0.2, 0.4))  # a breath between steps
    return Step(rate, latencies, counts["unanswered"], counts["wrong"])


class Questions:
    """80% about a race or person not asked before, 20% asked again; each with what its reply must hold."""

    def __init__(self, races: list[tuple[str, str]], people: list[str], seed: int = 3) -> None:
        self.rng = random.Random(seed)
        self.races, self.people = races, people
        self.rng.shuffle(self.races)
        self.next_race = self.next_person = 0
        self.fresh = self.again = self.reused = 0

    def __call__(self) -> tuple[str, str]:
        if self.rng.random() >= FRESH_SHARE:
            self.again += 1
            return self.rng.choice(ASKED_AGAIN)
        self.fresh += 1
        command = self.rng.choice(("race", "polls", "results", "candidate"))
        if command == "candidate":
            words = self.people[self.next_person % len(self.people)]
            self.next_person += 1
            self.reused += self.next_person > len(self.people)
            return f"!candidate {words}", f"Benchmark {words.title()}"
        hint, title = self.races[self.next_race % len(self.races)]
        self.next_race += 1
        self.reused += self.next_race > len(self.races)
        return f"!{command} {hint}", title


async def build(url: str, races: int, polls: int) -> tuple[list[tuple[str, str]], list[str], int]:
    """The store: sample + synthetic races with polls, people, a count for every synthetic race.
    Returns the synthetic races' (hint, title), the people's words and Alabama's race id."""
    await fill_store(url, races=races, polls=polls)
    _, people = await extend_store(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            uncounted = list(
                await session.scalars(
                    select(Contest.id)
                    .join(Race, Race.id == Contest.race_id)
                    .where(Race.office == "house", Contest.id.not_in(select(ResultSnapshot.contest_id)))
                )
            )
            conn = await session.connection()
            now = dt.datetime.now(dt.UTC)
            snaps: Sequence[Any] = []
            if uncounted:  # (an empty list would insert one row of defaults)
                snaps = (
                    await conn.execute(
                        insert(ResultSnapshot).returning(ResultSnapshot.id, ResultSnapshot.contest_id),
                        [
                            {
                                "contest_id": c,
                                "taken_at": now,
                                "reporting_pct": 75.0,
                                "digest": f"load{c}",
                                "unofficial": True,
                                "final": False,
                            }
                            for c in uncounted
                        ],
                    )
                ).all()
            by_contest: dict[int, list[int]] = collections.defaultdict(list)
            for contest, candidacy in await session.execute(
                select(Candidacy.contest_id, Candidacy.id).where(Candidacy.contest_id.in_(uncounted))
            ):
                by_contest[contest].append(candidacy)
            rng = random.Random(5)
            counts = [
                {
                    "snapshot_id": sid,
                    "candidacy_id": cand,
                    "kind": "candidate",
                    "votes": rng.randint(1000, 99999),
                }
                for sid, contest in snaps
                for cand in by_contest[contest]
            ]
            if counts:
                await conn.execute(insert(ResultCount), counts)
            synthetic = list(await session.scalars(select(Race).where(Race.office == "house")))
            alabama = await session.scalar(
                select(Race.id).where(Race.state == "AL", Race.office == "senate", Race.cycle == 2020)
            )
        assert alabama is not None
        await refresh_statistics(engine)  # as a real import does (db/engine.py)
        return [(race_hint(r), race_title(r)) for r in synthetic], people, alabama
    finally:
        await engine.dispose()


async def announce_targets(
    url: str, standin: LoadStandIn, alabama: int, channels: int, followers: int
) -> None:
    """`channels` servers (spread over both shards) with a results channel; `followers` following Alabama."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            for n in range(channels):
                guild = standin.add_guild(f"Results {n}", guild_id=guild_id_on_shard(n % SHARDS, SHARDS))
                channel = standin.add_channel(guild.id, "results").id
                session.add(GuildSettings(guild_id=guild.id, results_channel_id=channel))
            for n in range(followers):
                session.add(Follow(user_id=standin.add_user(f"follower {n}"), race_id=alabama))
    finally:
        await engine.dispose()


async def start(system: System, env: dict[str, str], floor: bool) -> None:
    for shard in range(SHARDS):
        args = ("floor", str(shard)) if floor else ("run",)
        script = Path(__file__) if floor else "cli.py"
        shard_env = {**env, "SHARD_COUNT": str(SHARDS), "SHARD_IDS": str(shard)}
        system.procs.append(await start_bot_process(system.standin, env=shard_env, args=args, script=script))
    await system.standin.wait_for_shards({(n, SHARDS) for n in range(SHARDS)}, timeout=300)
    for _ in range(3):  # the first answers (connections, caches of the default commands) settle
        channel, member = await system.channels.get()
        await system.standin.ask(channel, member, "!race alabama")
        system.channels.put_nowait((channel, member))
    system.standin.consume_all()


async def stop(system: System) -> None:
    outputs = await asyncio.gather(*(stop_bot_process(p) for p in system.procs))
    for shard, output in enumerate(outputs):
        if "Traceback" in output:
            at = output.find("Traceback")
            print(f"--- {system.name} shard {shard} output ---\n{output[max(0, at - 300) : at + 3000]}")


def rss(pid: int) -> tuple[float, float, float]:
    """The process's resident memory now and at its peak (MB), and the CPU seconds it has used."""
    fields = {}
    cpu = 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return int(fields.get("VmRSS", 0)) / 1024, int(fields.get("VmHWM", 0)) / 1024, cpu


@dataclass
class Desk:
    """Posts a count for Alabama every `interval` seconds until stopped."""

    standin: LoadStandIn
    channel: int
    owner: int
    interval: float
    posted: int = 0
    stored: int = 0
    failed: list[str] = field(default_factory=list)
    newest: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            began = time.perf_counter()
            votes = 1_400_000 + self.posted
            self.posted += 1
            try:
                reply = await self.standin.ask(
                    self.channel, self.owner, f"!result alabama general Tuberville={votes} Jones=920500"
                )
                if reply.text().startswith("Stored result #"):
                    self.stored += 1
                    self.newest = votes
                else:
                    self.failed.append(reply.text()[:200])
            except TimeoutError:
                self.failed.append("no reply")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stop.wait(), max(0.0, self.interval - (time.perf_counter() - began))
                )


PENDING = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")


async def audit_announcements(url: str, standin: LoadStandIn, desk: Desk) -> dict[str, int]:
    """After the outbox drained: each target's messages at the stand-in against the outbox's sent rows."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.target_kind,
                        OutboxMessage.target_id,
                        OutboxMessage.status,
                        OutboxMessage.message_id,
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    statuses = collections.Counter(status for _, _, status, _ in rows)
    sent: dict[int, set[int]] = collections.defaultdict(set)
    targets: set[int] = set()
    for kind, target, status, message_id in rows:
        channel = standin.dm_channel_id(target) if kind == "dm" else target
        targets.add(channel)
        if status == "sent" and message_id is not None:
            sent[channel].add(message_id)
    lost = duplicated = stale = 0
    newest = f"{desk.newest:,}"
    for channel in targets:
        arrived = [m.message_id for m in standin.by_channel.get(channel, [])]
        lost += len(sent[channel] - set(arrived))
        duplicated += len(arrived) - len(set(arrived)) + len(set(arrived) - sent[channel])
        last = standin.by_channel.get(channel)
        stale += not last or newest not in last[-1].text()
    return {
        "targets": len(targets),
        "queued": len(rows),
        "sent": statuses["sent"],
        "superseded": statuses["superseded"],
        "other": len(rows) - statuses["sent"] - statuses["superseded"],
        "lost": lost,
        "duplicated": duplicated,
        "not showing the newest count": stale,
        "nonce repeats": len(standin.nonce_repeats),
    }


def describe(system: System, steps: list[Step], floor_p50: float) -> str:
    """Each step: its rate, p50 and p99 (ms, and p99 as a multiple of the floor's idle p50)."""
    passed = "; ".join(
        f"{s.rate:g}/s p50 {statistics.median(s.latencies) * 1000:.0f} p99 {s.p99 * 1000:.0f} ms "
        f"({s.p99 / floor_p50:.1f}×)"
        + (f" ({s.unanswered} unanswered)" if s.unanswered else "")
        + (f" ({s.wrong} wrong)" if s.wrong else "")
        for s in steps
        if s.latencies
    )
    return f"{system.name}: {passed}"


async def run(args: argparse.Namespace) -> None:
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    async with database_at(args.postgres, tag="load_") as url:
        built = time.perf_counter()
        races, people, alabama = await build(url, args.races, args.polls)
        print(
            f"store (PostgreSQL): sample + {args.races:,} synthetic races, {args.polls:,} polls, a count each, "
            f"{len(people):,} people, built in {time.perf_counter() - built:.0f}s",
            flush=True,
        )
        racedesk_standin = LoadStandIn(token=TOKEN, shard_count=SHARDS)
        floor_standin = LoadStandIn(token=TOKEN, shard_count=SHARDS)
        async with racedesk_standin, floor_standin:
            owner = racedesk_standin.add_user("desk-owner")
            desk_guild = racedesk_standin.add_guild(
                "Election Desk", guild_id=guild_id_on_shard(0, SHARDS), owner_id=owner
            )
            racedesk_standin.add_member(desk_guild.id, "desk-owner", owner)
            desk_channel = racedesk_standin.add_channel(desk_guild.id, "desk").id
            racedesk_standin.unlimited_channels.add(str(desk_channel))
            await announce_targets(url, racedesk_standin, alabama, args.channels, args.followers)
            questions = Questions(races, people)
            racedesk = System("racedesk", racedesk_standin, member_servers(racedesk_standin), questions)
            floor = System(
                "floor", floor_standin, member_servers(floor_standin), lambda: ("!race alabama", FLOOR_REPLY)
            )
            env = {
                "DATABASE_URL": url,
                "RACEDESK_DEFAULT_DATA": "0",
                "DESK_GUILD_IDS": str(desk_guild.id),
                "OWNER_IDS": str(owner),
                "LOG_LEVEL": "WARNING",
            }
            try:
                await start(floor, {}, floor=True)
                await start(racedesk, env, floor=False)
                await measure(args, floor, racedesk, questions, url, desk_channel, owner)
            finally:
                await stop(racedesk)
                await stop(floor)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


def by_kind(asked: list[tuple[str, float]]) -> str:
    """p50 and slowest (ms) of each kind of question: where one-at-a-time time goes."""
    kinds: dict[str, list[float]] = collections.defaultdict(list)
    for kind, seconds in asked:
        kinds[kind].append(seconds * 1000)
    return "; ".join(
        f"{kind} {statistics.median(ms):.1f}/{max(ms):.1f} ms ({len(ms)})"
        for kind, ms in sorted(kinds.items())
    )


def idle_limits(floor_p50: float, floor_p99: float) -> dict[str, float]:
    """The limits a step's p99 is held to: the goal's and looser multiples of the floor's idle p50 (on a
    loaded machine even the floor's p99 may miss 5×), and 5 × the floor's own idle p99 (p99 against p99)."""
    limits = {f"p99 ≤ {m:g} × the floor's idle p50": m * floor_p50 for m in MULTIPLES}
    limits[f"p99 ≤ {LIMIT_TIMES_FLOOR:g} × the floor's idle p99"] = LIMIT_TIMES_FLOOR * floor_p99
    return limits


async def one_at_a_time(system: System, n: int) -> list[tuple[str, float]]:
    """n questions, each asked when the last was answered (checked): each one's kind and latency."""
    with collector_held():
        latencies = []
        asked_again = {question for question, _ in ASKED_AGAIN}
        for _ in range(n):
            channel, member = await system.channels.get()
            try:
                question, expect = system.question()
                kind = question.split()[0] + (" again" if question in asked_again else "")
                began = time.perf_counter()
                reply = await system.standin.ask(channel, member, question)
                latencies.append((kind, time.perf_counter() - began))
                try:
                    check_reply(question, reply.text(), expect)
                except WrongReply as wrong:
                    system.wrong.append(str(wrong))
            finally:
                system.channels.put_nowait((channel, member))
    return latencies


async def measure(
    args: argparse.Namespace,
    floor: System,
    racedesk: System,
    questions: Questions,
    url: str,
    desk_channel: int,
    owner: int,
) -> None:
    desk = Desk(racedesk.standin, desk_channel, owner, args.desk_interval)
    racedesk.standin.reset_counts()
    poster = asyncio.create_task(desk.run())
    steps: dict[str, list[Step]] = {"floor": [], "racedesk": []}
    rate = args.start_rate
    try:
        await asyncio.sleep(2 * args.desk_interval)  # the announcements under way, as in every step
        COLLECTIONS.longest, COLLECTIONS.measuring = 0.0, False  # counted within each measurement from here
        floor_idle = [seconds for _, seconds in await one_at_a_time(floor, IDLE_ASKS)]
        floor_p50, floor_p99 = statistics.median(floor_idle), percentile(floor_idle, 99)
        limits = idle_limits(floor_p50, floor_p99)
        limit = limits[GOAL]
        for system in (floor, racedesk):
            system.highest, system.passing = dict.fromkeys(limits, 0.0), set(limits)
        asked = await one_at_a_time(racedesk, IDLE_ASKS)
        serial = [seconds for _, seconds in asked]
        print(
            f"asked one at a time, {IDLE_ASKS} each, the desk posting: floor p50 {floor_p50 * 1000:.1f} ms, "
            f"p99 {floor_p99 * 1000:.1f} ms (its idle figures); racedesk p50 "
            f"{statistics.median(serial) * 1000:.1f} ms ({statistics.median(serial) / floor_p50:.1f}×), "
            f"p99 {percentile(serial, 99) * 1000:.1f} ms ({percentile(serial, 99) / floor_p99:.1f}×); "
            f"the limit: {GOAL} = {limit * 1000:.1f} ms",
            flush=True,
        )
        print(f"racedesk one at a time, by question: {by_kind(asked)}", flush=True)
        for _ in range(args.max_steps):
            if not floor.passing and not racedesk.passing:
                break
            for system in (floor, racedesk):
                if not system.passing:
                    continue
                for attempt in range(1 + args.retries):
                    result = await step(system, rate, args.step_seconds, args.min_replies)
                    steps[system.name].append(result)
                    answered = not result.unanswered and not result.wrong
                    missed = {m for m in system.passing if not (answered and result.p99 <= limits[m])}
                    ok = answered and result.p99 <= limit
                    print(
                        f"  {system.name:8} {rate:7.2f}/s: {len(result.latencies)} replies, p50 "
                        f"{statistics.median(result.latencies or [0]) * 1000:.0f} ms, p99 {result.p99 * 1000:.0f} "
                        f"ms ({result.p99 / floor_p50:.1f}×)"
                        f"{', ' + str(result.unanswered) + ' unanswered' if result.unanswered else ''}"
                        f"{', ' + str(result.wrong) + ' wrong' if result.wrong else ''}: "
                        f"{'passed' if ok else 'FAILED'}{' (tried again)' if attempt else ''}",
                        flush=True,
                    )
                    if not missed:
                        break
                for multiple in system.passing - missed:
                    system.highest[multiple] = rate
                system.passing -= missed
            rate = round(rate * args.factor, 2)
    finally:
        own_collection = COLLECTIONS.longest
        desk.stop.set()
        if sys.exc_info()[0] is not None:  # interrupted: the desk's reply may never come
            poster.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poster
    memory = {
        f"{system.name} shard {n}": rss(proc.pid)
        for system in (racedesk, floor)
        for n, proc in enumerate(system.procs)
    }
    memory["this benchmark (both stand-ins)"] = rss(os.getpid())
    drain_started = time.perf_counter()
    drained = True
    while await scalar(url, PENDING):
        if time.perf_counter() - drain_started > args.drain_timeout:
            drained = False
            break
        await asyncio.sleep(1)
    drain_seconds = time.perf_counter() - drain_started
    await asyncio.sleep(2)  # anything delivered twice would show now
    audit = await audit_announcements(url, racedesk.standin, desk)

    print("\n=== load: 2 racedesk processes (2 shards) on PostgreSQL ===")
    print(describe(floor, steps["floor"], floor_p50))
    print(describe(racedesk, steps["racedesk"], floor_p50))
    for name, seconds in limits.items():
        mine, floors = racedesk.highest[name], floor.highest[name]
        ratio = f"{mine / floors:.2f}" if floors else "- (the floor passed no step: start lower)"
        goal = f" (goal ≥ 0.5: {'met' if floors and mine / floors >= 0.5 else 'NOT met'})"
        print(
            f"highest rate with {name} ({seconds * 1000:.0f} ms): "
            f"racedesk {mine:g}/s ÷ floor {floors:g}/s = {ratio}{goal if name == GOAL else ''}"
        )
    print(
        f"questions to racedesk: {questions.fresh} about a race or person not asked before, {questions.again} "
        f"asked again ({questions.reused} fresh ones had to repeat); wrong replies: {len(racedesk.wrong)}"
    )
    for wrong in racedesk.wrong[:3]:
        print(f"  {wrong}")
    print(
        f"desk: {desk.posted} counts posted every {desk.interval:g}s, {desk.stored} stored"
        f"{', ' + str(len(desk.failed)) + ' failed: ' + repr(desk.failed[:2]) if desk.failed else ''}; "
        + (
            f"outbox drained {drain_seconds:.0f}s after the last"
            if drained
            else f"the outbox did NOT drain within {args.drain_timeout:g}s: the figures below are not final "
            "(a message whose send is not recorded yet counts as duplicated)"
        )
    )
    print(
        "announcements to {targets} targets: {queued} queued, {sent} sent, {superseded} superseded, {other} "
        "neither; lost {lost}, duplicated {duplicated}, not showing the newest count {not showing the newest "
        "count}; nonce repeats {nonce repeats}".format(**audit)
    )
    print(
        f"429s answered by the stand-in: {racedesk.standin.global_429} global, {racedesk.standin.route_429} "
        f"per channel (goal 0){'; by route: ' + str(dict(racedesk.standin.limited)) if racedesk.standin.limited else ''}"
    )
    print(
        "the benchmark's own longest garbage collection while it timed replies (each delays them): "
        f"{own_collection * 1000:.0f} ms"
    )
    for name, (now, peak, cpu) in memory.items():
        print(f"RSS {name}: {now:.0f} MB (peak {peak:.0f} MB); CPU used {cpu:.0f} s")


def floor_main(shard: int) -> None:
    """A floor process: the minimal discord.py bot as shard `shard` of SHARDS."""
    from loopback.floorbot import make_floor_bot, run_until_interrupted
    from loopback.patching import point_discord_from_env

    if not point_discord_from_env():
        raise SystemExit("RACEDESK_DISCORD_API and RACEDESK_DISCORD_GATEWAY must be set")
    bot = make_floor_bot(shard_id=shard, shard_count=SHARDS)
    run_until_interrupted(bot)


def main() -> None:
    if sys.argv[1:2] == ["floor"]:
        floor_main(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("RACEDESK_BENCH_POSTGRES_URL") or os.environ.get("RACEDESK_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL whose server the benchmark may make a database on "
        "(default: $RACEDESK_BENCH_POSTGRES_URL, else $RACEDESK_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--races", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=500, help="results channels")
    parser.add_argument("--followers", type=int, default=1_000)
    parser.add_argument("--desk-interval", type=float, default=2.0)
    parser.add_argument("--start-rate", type=float, default=2.0, help="questions a second at the first step")
    parser.add_argument("--factor", type=float, default=2.0, help="each step's rate over the last one's")
    parser.add_argument("--step-seconds", type=float, default=6.0, help="longer: steadier figures")
    parser.add_argument(
        "--min-replies",
        type=int,
        default=30,
        help="questions a step asks at least (more: a p99 below the slowest)",
    )
    parser.add_argument(
        "--retries", type=int, default=1, help="a step that misses a limit is tried again this many times"
    )
    parser.add_argument("--max-steps", type=int, default=16)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give --postgres (e.g. postgresql+asyncpg:///racedesk?host=/var/run/postgresql)")

    async def guarded() -> None:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):  # (SIGINT too when started with it ignored)
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        await run(args)

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(guarded())


if __name__ == "__main__":
    main()

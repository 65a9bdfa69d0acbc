"""Shared benchmark machinery: a filled store, bot processes against the loopback Discord, latency figures.

Every figure is reported as a ratio against a floor measured in the same run (a
minimal discord.py bot answering the same message through the same stand-in),
because the machines are shared and noisy.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.bootstrap import load_sample  # noqa: E402
from db.engine import make_engine, make_sessionmaker, refresh_statistics, upgrade  # noqa: E402
from db.models import Answer, Candidacy, Candidate, Contest, NameToken, Poll, Question, Race  # noqa: E402
from db.names import name_key, name_tokens  # noqa: E402
from loopback import StandIn  # noqa: E402
from loopback.process import start_bot_process, stop_bot_process  # noqa: E402

FLOOR_SCRIPT = ROOT / "tests" / "loopback" / "floor_script.py"
#: What `!race alabama` must answer: the sample race's card, whose title is this.
ALABAMA_TITLE = "2020 Alabama U.S. Senate (Class II)"
STATES = [
    "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
    "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
]  # fmt: skip


async def build_store(path: Path | str, races: int = 10_000, polls: int = 0, seed: int = 7) -> str:
    """A store with the sample Alabama race plus `races` synthetic House races and `polls` polls: a SQLite
    file at `path`, or (`path` a PostgreSQL URL) that database, emptied first."""
    if isinstance(path, str):
        url = path
        await empty_database(url)
    else:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    await fill_store(url, races, polls, seed)
    return url


async def empty_database(url: str) -> None:
    """Drop everything in the PostgreSQL database at `url` (a benchmark's own)."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def fill_store(url: str, races: int = 10_000, polls: int = 0, seed: int = 7) -> None:
    """Migrate the (empty) store at `url`, SQLite or PostgreSQL, and fill it as build_store does."""
    engine = make_engine(url)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await load_sample(session)
    rng = random.Random(seed)
    async with engine.begin() as conn:
        rows = [
            {
                "cycle": 1976 + 2 * (i // (len(STATES) * 10) % 24),
                "state": STATES[i % len(STATES)],
                "office": "house",
                "seat": str(1 + (i // len(STATES)) % 10 + 10 * (i // (len(STATES) * 10 * 24))),
                "special": False,
                "created_at": dt.datetime.now(dt.UTC),
            }
            for i in range(races)
        ]
        await conn.execute(insert(Race), rows)
    if polls:
        await _add_polls(sessions, polls, rng)
    await refresh_statistics(engine)  # as a real import does (db/engine.py)
    await engine.dispose()


async def _add_polls(sessions: async_sessionmaker[AsyncSession], polls: int, rng: random.Random) -> None:
    """Spread `polls` polls over the synthetic races, a Tuberville-style two-way question each, between the
    race's own two candidates, named as people are (`_person`): two people named in every poll of every
    race, or names that all begin alike, would skew PostgreSQL's statistics as no real store does."""
    async with sessions.begin() as session:
        conn = await session.connection()
        race_ids = list(await session.scalars(select(Race.id).where(Race.office == "house")))
        targets = race_ids[: min(len(race_ids), polls)]
        contests = [
            {"race_id": r, "stage": "general", "party": "", "date": dt.date(2020, 11, 3)} for r in targets
        ]
        contest_of = {race: cid for cid, race in await _inserted(conn, Contest, Contest.race_id, contests)}
        names = {r: (_person(2 * i, rng), _person(2 * i + 1, rng)) for i, r in enumerate(targets)}
        rows = [{"name": n, "name_key": name_key(n), "party": p} for pair in names.values()
                for n, p in zip(pair, ("DEM", "REP"), strict=True)]  # fmt: skip
        person_of = {name: pid for pid, name in await _inserted(conn, Candidate, Candidate.name, rows)}
        await conn.execute(
            insert(NameToken),
            [{"candidate_id": pid, "token": t} for name, pid in person_of.items() for t in name_tokens(name)],
        )
        await conn.execute(
            insert(Candidacy),
            [{"contest_id": contest_of[r], "candidate_id": person_of[n]} for r in targets for n in names[r]],
        )
    race_of = {cid: race for race, cid in contest_of.items()}
    async with sessions.begin() as session:
        conn = await session.connection()
        poll_rows = [
            {
                "race_id": targets[n % len(targets)],
                "pollster": f"Pollster {n % 200}",
                "start_date": dt.date(2020, 1, 1) + dt.timedelta(days=n % 300),
                "end_date": dt.date(2020, 1, 4) + dt.timedelta(days=n % 300),
                "sample_size": 400 + n % 900,
                "population": "lv",
                "internal": False,
                "created_at": dt.datetime.now(dt.UTC),
            }
            for n in range(polls)
        ]
        polled = await _inserted(conn, Poll, Poll.race_id, poll_rows)
        question_rows = [{"poll_id": pid, "contest_id": contest_of[race], "hypothetical": False}
                         for pid, race in polled]  # fmt: skip
        answers = []
        for qid, cid in await _inserted(conn, Question, Question.contest_id, question_rows):
            a = round(rng.uniform(35, 55), 1)
            for name, pct in zip(names[race_of[cid]], (a, round(90 - a, 1)), strict=True):
                answers.append(
                    {"question_id": qid, "candidate_id": person_of[name], "choice": name, "pct": pct}
                )
        await conn.execute(insert(Answer), answers)


FIRST_NAMES = (
    "Alex", "Blair", "Casey", "Dana", "Elliot", "Frances", "Glenn", "Harper", "Irene", "Jordan", "Kendall",
    "Lee", "Morgan", "Noel", "Owen", "Paige", "Quinn", "Reese", "Sasha", "Terry", "Val", "Wren",
)  # fmt: skip
SYLLABLES = ("ba", "co", "di", "fe", "gu", "ha", "ki", "lo", "ma", "ne", "pi", "ro", "su", "ta", "vo", "we")


def _person(k: int, rng: random.Random) -> str:
    """The `k`th synthetic person's name: a first name, and a surname of its own whose first letters vary
    from one person to the next (as surnames' do), never the same prefix for all."""
    syllables = [SYLLABLES[(k // len(SYLLABLES) ** d) % len(SYLLABLES)] for d in range(4)]
    return f"{rng.choice(FIRST_NAMES)} {''.join(syllables).capitalize()}"


async def _inserted(conn: Any, model: Any, key: Any, rows: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Insert `rows` of `model`'s table in one statement; each new row's id with its `key` column (the order
    in which a database returns the rows is not promised, so nothing here relies on it)."""
    return [(row[0], row[1]) for row in await conn.execute(insert(model).returning(model.id, key), rows)]


@dataclass
class Place:
    standin: StandIn
    guild_id: int
    channel_id: int
    member: int
    pid: int | None = None  # the bot process's


@contextlib.asynccontextmanager
async def bot_process(
    env: dict[str, str], script: str | Path = "cli.py", ready_timeout: float = 120
) -> AsyncIterator[Place]:
    """A stand-in with one server, and a bot process (racedesk, or the floor script) connected to it."""
    async with StandIn() as standin:
        guild = standin.add_guild(name="Bench")
        channel = standin.add_channel(guild.id, name="bench")
        member = standin.add_member(guild.id, "member")
        proc = await start_bot_process(standin, env=env, script=script)
        try:
            await standin.wait_until_ready(timeout=ready_timeout)
            await asyncio.sleep(0.5)  # let start-up work (guild chunking, caches) settle
            yield Place(standin, guild.id, channel.id, member, proc.pid)
        finally:
            await stop_bot_process(proc)


def racedesk_env(db_url: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}


class WrongReply(Exception):
    """A sample's reply was not the answer it asked for (an error, a usage reply, another race): a fast
    wrong answer must not count as a fast answer."""


ERROR_SIGNS = ("Something went wrong", "Usage:", "No race matches", "not found")


def check_reply(text: str, shown: str, expect: str) -> None:
    if expect not in shown or any(sign in shown for sign in ERROR_SIGNS):
        raise WrongReply(f"{text!r} was answered {shown[:300]!r}; expected {expect!r} in it")


async def reply_latency(place: Place, text: str, expect: str) -> float:
    """Seconds from the member's message to the bot's reply being received by Discord; the reply must hold
    `expect` (e.g. the race card's title) and no error, or WrongReply is raised."""
    start = time.perf_counter()
    await place.standin.send_message(place.channel_id, place.member, text)
    reply = await place.standin.wait_for_message(place.channel_id, timeout=60)
    elapsed = time.perf_counter() - start
    check_reply(text, reply.text(), expect)
    return elapsed


Measure = Callable[[], Awaitable[float]]


def asking(place: Place, question: Callable[[], tuple[str, str]]) -> Measure:
    """A measurement: ask the next (text, expected part of the reply) and time the reply."""

    async def measure() -> float:
        text, expect = question()
        return await reply_latency(place, text, expect)

    return measure


def same(text: str, expect: str) -> Callable[[], tuple[str, str]]:
    return lambda: (text, expect)


class Collections:
    """This process's garbage collections while a measurement runs: the longest one, in seconds
    (gc.callbacks)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.measuring = True  # bench/load.py counts only within its measurements (`collector_held`)
        self.settling = False  # settle_heap's own collection is no reply's
        self._began = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, _info: dict[str, Any]) -> None:
        if self.settling or not self.measuring:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._began)


COLLECTIONS = Collections()


def settle_heap() -> None:
    """Take what this process holds so far (the store it built, the stand-ins' records of every message) out
    of the garbage collector's view before a measurement: its full collections then scan only what the
    measurement makes. Unsettled, they scanned it all, 0.1-0.4 s at a time, during which no reply is
    received: a p99 of hundreds of ms for the floor and racedesk alike (bench/load.py), and a sample of
    100+ ms now and then in bench/member_commands.py."""
    COLLECTIONS.settling = True
    try:
        gc.collect()
        gc.freeze()
    finally:
        COLLECTIONS.settling = False


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """`settle_heap`, then no collection by this process's garbage collector until the measurement ends
    (objects freed by reference counting are freed meanwhile; cycles wait for the end). Settling alone left
    bench/load.py's fastest steps, 800-3,000 replies each, making enough objects for a collection of 75 ms
    within a step (one run, counted within steps only), which held every reply in flight, the floor's or
    racedesk's, whichever was timed."""
    settle_heap()
    gc.disable()
    COLLECTIONS.measuring = True
    try:
        yield
    finally:
        COLLECTIONS.measuring = False
        gc.enable()


async def alternate(
    floor: Measure, measured: Measure, n: int, warmup: int = 3
) -> tuple[list[float], list[float]]:
    """n samples of each, alternating per sample (floor first, then racedesk first, ...) so machine noise
    falls on both alike. Returns (floor samples, measured samples)."""
    for _ in range(warmup):
        await floor()
        await measured()
    settle_heap()
    floor_samples: list[float] = []
    samples: list[float] = []
    for i in range(n):
        if i % 2 == 0:
            floor_samples.append(await floor())
            samples.append(await measured())
        else:
            samples.append(await measured())
            floor_samples.append(await floor())
    return floor_samples, samples


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Figures:
    """A row: its samples, and the floor's samples taken alternately with them (its own floor)."""

    name: str
    samples: list[float]
    floor: list[float] = field(default_factory=list)

    def add(self, pair: tuple[list[float], list[float]]) -> None:
        floor, samples = pair
        self.floor += floor
        self.samples += samples

    p50 = property(lambda self: statistics.median(self.samples))
    p99 = property(lambda self: percentile(self.samples, 99))
    floor_p50 = property(lambda self: statistics.median(self.floor))
    floor_p99 = property(lambda self: percentile(self.floor, 99))


def report(rows: Sequence[Figures], goals: dict[str, tuple[float, float]] | None = None) -> str:
    """A table of p50/p99 in ms and as ratios to the floor sampled alternately with each row; goals:
    name -> (p50 ratio, p99 ratio) limits."""
    width = max(28, *(len(row.name) for row in rows))
    floor = [t for row in rows for t in row.floor]
    lines = [
        f"{'':{width}} {'p50 ms':>8} {'p99 ms':>8} {'p50 ×floor':>11} {'p99 ×floor':>11}  goal",
        f"{'floor (minimal discord.py)':{width}} {statistics.median(floor) * 1000:8.2f} "
        f"{percentile(floor, 99) * 1000:8.2f} {1:11.2f} {1:11.2f}",
    ]
    for row in rows:
        r50, r99 = row.p50 / row.floor_p50, row.p99 / row.floor_p99
        goal = ""
        if goals and row.name in goals:
            g50, g99 = goals[row.name]
            met = r50 <= g50 and r99 <= g99
            goal = f"p50 ≤ {g50}×, p99 ≤ {g99}×: {'met' if met else 'NOT met'}"
        lines.append(
            f"{row.name:{width}} {row.p50 * 1000:8.2f} {row.p99 * 1000:8.2f} {r50:11.2f} {r99:11.2f}  {goal}"
        )
    return "\n".join(lines)

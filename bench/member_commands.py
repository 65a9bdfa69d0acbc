"""Reply latency of the member commands with 10,000 races and 100,000 polls stored, against the floor.

The floor is a minimal discord.py bot answering `!race alabama` through a loopback stand-in of its
own (bench/common.py); racedesk and the floor run as processes at the same time and are asked
alternately, sample by sample, so machine noise falls on both alike. Every reply is checked for
the answer it asked for (the race's title, the person's name, a chart), never an error. Measured,
each figure labelled:

- uncached: race, polls, results and candidate on a different race or person each sample (none in
  the read cache): cards, polls and results of 10-poll House races, cards of people who ran in one race
  each, and of people the polls name (their card shows their race's poll averages too). The bot holds
  every race's card, first page of polls and count, every person as the name finder reads them, and
  the card of every person a race names, from its start (db/shelf.py): there all four come from memory;
- cached: `!polls alabama`, `!results alabama`, `!candidate sessions` asked again (answered from
  racedesk's read cache after the first time);
- charts: `!polls <race> chart` on a different 10-poll race each time (each one drawn), and on the
  500-poll race with a different start date each time;
- `!race alabama` and `!polls alabama` while another channel keeps asking for fresh charts.

Goals: uncached, p50 ≤ 2× the floor and p99 ≤ 3× (issue 8); cached, p50 ≤ 2×; a chart p50 under
300 ms; replies while charts are drawn p50 ≤ 2× the floor. The bot's resident memory (VmRSS, at the
end of each round) is reported against the floor bot's (goal ≤ 4×). Before each row the benchmark takes its
own heap (the store it built) out of its garbage collector's view, whose full collections would otherwise
hold the sample in flight (bench/common.py `settle_heap`), and it reports its own longest collection.

`--postgres URL` builds the store in that PostgreSQL database instead (it is emptied first: give
one of its own, e.g. postgresql+asyncpg:///racedesk_bench?host=/var/run/postgresql).

    python bench/member_commands.py [--samples 100] [--rounds 2] [--races 10000] [--polls 100000]
                                    [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import func, insert, select

from common import (
    COLLECTIONS,
    FLOOR_SCRIPT,
    Figures,
    Measure,
    Place,
    alternate,
    asking,
    bot_process,
    build_store,
    racedesk_env,
    reply_latency,
    report,
    same,
)
from db.audit import SYSTEM
from db.dataset import load_document
from db.engine import make_engine, make_sessionmaker, refresh_statistics
from db.lookup import race_hint
from db.models import Answer, Candidacy, Candidate, Contest, NameToken, Race, ResultCount, ResultSnapshot
from loopback import StandIn
from loopback.floorbot import FLOOR_REPLY
from loopback.process import start_bot_process, stop_bot_process
from render.race import race_title
from tests.support.data import distinct_big_race

T = TypeVar("T")

BENCH_PEOPLE = 2_000  # people who ran in one synthetic race each (for uncached `candidate`)
ROTATION = 400  # synthetic races cycled through for uncached polls, results and charts
ROWS = [
    "!race <race>, uncached",
    "!polls <race>, uncached",
    "!results <race>, uncached",
    "!candidate <name>, uncached",
    "!candidate <polled person>, uncached",
    "!race alabama, cached",
    "!polls alabama, cached",
    "!results alabama, cached",
    "!candidate sessions, cached",
    "chart, 10-poll race (drawn)",
    "chart, 500-poll race (drawn)",
    "chart, same again (kept)",
    "!race alabama, cached, charts drawing",
    "!polls alabama, cached, charts drawing",
]
GOALS = {name: (2.0, 3.0 if "uncached" in name else 99.0) for name in ROWS if not name.startswith("chart")}
ALABAMA = "Alabama U.S. Senate"
BIG_RACE = "Texas"
CHART_GOAL_MS = 300


async def extend_store(url: str, seed: int = 11) -> tuple[list[tuple[str, str]], list[str]]:
    """Add the 500-poll race, counts for the rotated races, and BENCH_PEOPLE people; return the rotated
    races' (hint, title) and the people's words."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    rng = random.Random(seed)
    async with sessions.begin() as session:
        await load_document(session, distinct_big_race(), SYSTEM, source_name="bench")
    async with sessions.begin() as session:
        rows = list(
            await session.execute(
                select(Race, Contest.id)
                .join(Contest, Contest.race_id == Race.id)
                .where(Race.office == "house")
                .order_by(Race.id)
            )
        )
        rotated = rng.sample(rows, min(ROTATION, len(rows)))
        hints = [(race_hint(race), race_title(race)) for race, _ in rotated]
        conn = await session.connection()
        # Every rotated race gets a count, so `results` has something to show.
        contest_ids = [cid for _, cid in rotated]
        candidacies = {
            cid: ids
            for cid, ids in _group(
                await session.execute(
                    select(Candidacy.contest_id, Candidacy.id).where(Candidacy.contest_id.in_(contest_ids))
                )
            ).items()
        }
        now = dt.datetime.now(dt.UTC)
        snap_rows = [
            {
                "contest_id": cid,
                "taken_at": now,
                "reporting_pct": 80.0,
                "digest": f"bench{cid}",
                "unofficial": True,
                "final": False,
            }
            for cid in contest_ids
        ]
        snap_ids = list(
            (await conn.execute(insert(ResultSnapshot).returning(ResultSnapshot.id), snap_rows)).scalars()
        )
        counts = [
            {
                "snapshot_id": sid,
                "candidacy_id": cand,
                "kind": "candidate",
                "votes": rng.randint(1_000, 200_000),
            }
            for sid, cid in zip(snap_ids, contest_ids, strict=True)
            for cand in candidacies.get(cid, [])
        ]
        await conn.execute(insert(ResultCount), counts)
        # People who each ran in one synthetic race: `!candidate <name>` on a different one each time.
        all_contests = [cid for _, cid in rows]
        people = [
            {
                "name": f"Benchmark Person{i:04d}",
                "name_key": f"benchmark person{i:04d}",
                "party": "REP",
                "state": "TX",
            }
            for i in range(BENCH_PEOPLE)
        ]
        ids = list((await conn.execute(insert(Candidate).returning(Candidate.id), people)).scalars())
        await conn.execute(
            insert(NameToken),
            [
                {"token": t, "candidate_id": pid}
                for i, pid in enumerate(ids)
                for t in ("benchmark", f"person{i:04d}")
            ],
        )
        await conn.execute(
            insert(Candidacy),
            [
                {
                    "contest_id": all_contests[i % len(all_contests)],
                    "candidate_id": pid,
                    "party": "REP",
                    "votes": 1000 + i,
                }
                for i, pid in enumerate(ids)
            ],
        )
    await refresh_statistics(engine)  # as a real import does (db/engine.py)
    await engine.dispose()
    return hints, [f"person{i:04d}" for i in range(BENCH_PEOPLE)]


async def polled_people(url: str, count: int = ROTATION, seed: int = 13) -> list[str]:
    """Names of people the synthetic races' polls name, each name one person's: `!candidate` on them also
    shows the averages of their race's polls."""
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        named = select(Answer.candidate_id).where(Answer.candidate_id.is_not(None)).distinct()
        names = list(
            await session.scalars(
                select(Candidate.name)
                .where(Candidate.id.in_(named))
                .group_by(Candidate.name)
                .having(func.count() == 1)
                .order_by(Candidate.name)
            )
        )
    await engine.dispose()
    return random.Random(seed).sample(names, min(count, len(names)))


def _group(rows: object) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for key, value in rows:  # type: ignore[attr-defined]
        grouped.setdefault(key, []).append(value)
    return grouped


@contextlib.asynccontextmanager
async def two_channels(env: dict[str, str]) -> AsyncIterator[tuple[Place, Place]]:
    """racedesk with two channels: one to measure in, one to keep busy with charts."""
    async with StandIn() as standin:
        guild = standin.add_guild(name="Bench")
        measured = standin.add_channel(guild.id, name="measured")
        busy = standin.add_channel(guild.id, name="charts")
        member = standin.add_member(guild.id, "member")
        other = standin.add_member(guild.id, "other")
        proc = await start_bot_process(standin, env=env)
        try:
            await standin.wait_until_ready(timeout=120)
            yield (
                Place(standin, guild.id, measured.id, member, proc.pid),
                Place(standin, guild.id, busy.id, other, proc.pid),
            )
        finally:
            await stop_bot_process(proc)


class Drawing:
    """Keeps one fresh 500-poll chart in flight in another channel; measures replies while one is."""

    def __init__(self, busy: Place, days: Cycle, seed: int = 5) -> None:
        self.busy, self.days = busy, days
        self.stop = asyncio.Event()
        self.in_flight = asyncio.Event()
        self.drawn = 0
        self.rng = random.Random(seed)

    async def run(self) -> None:
        while not self.stop.is_set():
            self.in_flight.set()
            await reply_latency(
                self.busy, f"!polls texas senate since {self.days.next()} chart", "Polls chart"
            )
            self.in_flight.clear()
            self.drawn += 1

    def measuring(self, place: Place, text: str, expect: str) -> Callable[[], Awaitable[float]]:
        """A reply's latency, asked at a random moment while a chart is being read, drawn or sent."""

        async def measure() -> float:
            while True:
                await self.in_flight.wait()
                await asyncio.sleep(self.rng.uniform(0.005, 0.15))  # a random moment, on purpose
                if self.in_flight.is_set():
                    return await reply_latency(place, text, expect)

        return measure


class Cycle(Generic[T]):
    """The next of a list each time, so every question asked is a different one."""

    def __init__(self, items: list[T]) -> None:
        self.items, self.i = items, 0

    def next(self) -> T:
        self.i += 1
        return self.items[self.i % len(self.items)]


@dataclass
class Cycles:
    races: Cycle[tuple[str, str]]
    people: Cycle[str]
    charts: Cycle[tuple[str, str]]
    days: Cycle[str]
    polled: Cycle[str]


def question(
    command: str, races: Cycle[tuple[str, str]], heading: str = "", then: str = ""
) -> Callable[[], tuple[str, str]]:
    """`command <the next race> then`, expecting the race's title (after `heading`) in the reply."""

    def ask() -> tuple[str, str]:
        hint, title = races.next()
        return f"{command} {hint}{then}", f"{heading}{title}"

    return ask


async def racedesk_round(
    floor: Measure,
    place: Place,
    busy: Place,
    figures: dict[str, Figures],
    cycles: Cycles,
    per_round: int,
    charts: int,
) -> int:
    """Each row alternately with the floor, sample by sample; uncached rows first."""

    def person() -> tuple[str, str]:
        words = cycles.people.next()
        return f"!candidate {words}", f"Benchmark {words.title()}"

    def polled_person() -> tuple[str, str]:
        name = cycles.polled.next()
        return f"!candidate {name}", name

    rows: list[tuple[str, Callable[[], tuple[str, str]], int]] = [
        ("!race <race>, uncached", question("!race", cycles.races), per_round),
        ("!polls <race>, uncached", question("!polls", cycles.races, "Polls · "), per_round),
        ("!results <race>, uncached", question("!results", cycles.races), per_round),
        ("!candidate <name>, uncached", person, per_round),
        ("!candidate <polled person>, uncached", polled_person, per_round),
        ("!race alabama, cached", same("!race alabama", ALABAMA), per_round),
        ("!polls alabama, cached", same("!polls alabama", ALABAMA), per_round),
        ("!results alabama, cached", same("!results alabama", ALABAMA), per_round),
        ("!candidate sessions, cached", same("!candidate sessions", "Jeff Sessions"), per_round),
        (
            "chart, 10-poll race (drawn)",
            question("!polls", cycles.charts, "Polls chart · ", " chart"),
            charts,
        ),
        (
            "chart, 500-poll race (drawn)",
            lambda: (f"!polls texas senate since {cycles.days.next()} chart", BIG_RACE),
            charts,
        ),
        ("chart, same again (kept)", same("!polls texas senate chart", BIG_RACE), charts),
    ]
    for name, ask, n in rows:
        figures[name].add(await alternate(floor, asking(place, ask), n))
    drawing = Drawing(busy, cycles.days)
    drawer = asyncio.create_task(drawing.run())
    try:
        for text, name in (
            ("!race alabama", "!race alabama, cached, charts drawing"),
            ("!polls alabama", "!polls alabama, cached, charts drawing"),
        ):
            figures[name].add(await alternate(floor, drawing.measuring(place, text, ALABAMA), per_round))
    finally:
        drawing.stop.set()
        await drawer
    return drawing.drawn


def rss_kb(pid: int | None) -> int:
    """A process's resident memory now (VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise KeyError(pid)


async def main(races: int, polls: int, samples: int, rounds: int, postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = await build_store(postgres or Path(tmp) / "bench.db", races=races, polls=polls)
        hints, names = await extend_store(url)
        print(
            f"store: {races:,} races, {polls:,} polls, a 500-poll race built in {time.perf_counter() - started:.1f}s"
        )
        env = racedesk_env(url)
        figures = {name: Figures(name, []) for name in ROWS}
        days = Cycle([f"2020-{m:02d}-{d:02d}" for m in range(1, 10) for d in range(1, 29)])
        per_round = max(1, samples // rounds)
        charts = max(10, per_round // 3)
        polled = await polled_people(url)
        cycles = Cycles(Cycle(hints), Cycle(names), Cycle(hints[len(hints) // 2 :]), days, Cycle(polled))
        memory: list[tuple[int, int]] = []
        COLLECTIONS.longest = 0.0  # (building the store is no sample's)
        for _ in range(rounds):  # each round a fresh racedesk process: the cache starts empty again
            async with (
                bot_process({}, script=FLOOR_SCRIPT) as floor_place,
                two_channels(env) as (place, busy),
            ):
                floor = asking(floor_place, same("!race alabama", FLOOR_REPLY))
                drawn = await racedesk_round(floor, place, busy, figures, cycles, per_round, charts)
                memory.append((rss_kb(place.pid), rss_kb(floor_place.pid)))
            print(f"  ({drawn} fresh 500-poll charts drawn in the other channel meanwhile)")
        database = "PostgreSQL" if postgres else "SQLite"
        print(
            f"{rounds} rounds on {database}; each row alternating with the floor sample by sample; every reply checked"
        )
        print(report([figures[name] for name in ROWS], GOALS))
        for name in ("chart, 10-poll race (drawn)", "chart, 500-poll race (drawn)"):
            p50 = figures[name].p50 * 1000
            verdict = "met" if p50 < CHART_GOAL_MS else "NOT met"
            print(f"{name}: p50 {p50:.0f} ms (goal < {CHART_GOAL_MS} ms: {verdict})")
        bot, floor_rss = max(m for m, _ in memory), max(f for _, f in memory)
        verdict = "met" if bot <= 4 * floor_rss else "NOT met"
        print(
            f"memory (VmRSS after a round): racedesk {bot / 1024:.0f} MB, the floor bot {floor_rss / 1024:.0f} MB: "
            f"{bot / floor_rss:.2f}x (goal ≤ 4x: {verdict})"
        )
        print(
            "the benchmark's own longest garbage collection while it measured (each delays the sample in "
            f"flight; its heap is frozen before each row, bench/common.py settle_heap): {COLLECTIONS.longest * 1000:.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--races", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", help="a PostgreSQL URL to build the store in (emptied first)")
    args = parser.parse_args()
    asyncio.run(main(args.races, args.polls, args.samples, args.rounds, args.postgres))

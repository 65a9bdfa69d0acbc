"""The announcer's pace at its real rate (30 a second), on a fake clock: no wall time is measured or waited."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import subprocess
from collections.abc import Awaitable
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

from cogs.announcer import RATE_ENV, AnnouncerCog, Pacer, claimer_id, outlived, process_shards
from db.outbox import Shards


class FakeClock:
    """Time that moves only when every task is waiting on it: then to the earliest wake-up."""

    def __init__(self) -> None:
        self.time = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.time + seconds, next(self._order), future))
        await future

    async def run(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every task that can run reach its next wait (no time passes)
                await asyncio.sleep(0)
            if task.done():
                break
            assert self._sleepers, "the work is stuck on something other than the clock"
            wake, _, future = heapq.heappop(self._sleepers)
            self.time = max(self.time, wake)
            future.set_result(None)
        await task


def at_most_per_second(times: list[float], limit: int) -> bool:
    """No window of one second holds more than `limit` of the times."""
    ordered = sorted(times)
    return all(ordered[k + limit] - ordered[k] >= 1.0 - 1e-9 for k in range(len(ordered) - limit))


async def test_the_announcer_sends_30_a_second_at_most_across_all_targets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RATE_ENV, raising=False)
    clock = FakeClock()
    marked: list[Any] = []

    async def write(work: Any) -> None:
        marked.append(work)

    cog = AnnouncerCog(SimpleNamespace(store=SimpleNamespace(write=write)), clock)  # type: ignore[arg-type]
    assert cog.rate == 30
    sent: list[tuple[int, int, float]] = []  # (target, row, fake time of the send)

    async def send(row: Any) -> int:
        sent.append((row.target_id, row.id, clock.now()))
        return 1000 + row.id

    cog._send = send  # type: ignore[method-assign]
    targets, each = 12, 10
    rows = {
        t: [
            SimpleNamespace(id=t * 100 + n, attempts=0, target_kind="channel", target_id=t)
            for n in range(each)
        ]
        for t in range(targets)
    }
    gate = asyncio.Semaphore(cog.concurrency)
    await clock.run(asyncio.gather(*(cog._serve(target_rows, gate) for target_rows in rows.values())))

    times = [when for _t, _r, when in sent]
    assert len(sent) == targets * each == cog.sent
    assert at_most_per_second(times, 30)
    # Evenly spaced at the rate, no burst and no needless gap: the k-th send at k/30 s.
    assert sorted(times) == pytest.approx([k / 30 for k in range(targets * each)])
    assert clock.now() == pytest.approx((targets * each - 1) / 30)
    for t, target_rows in rows.items():  # one target's rows in order
        assert [r for target, r, _ in sent if target == t] == [row.id for row in target_rows]


async def test_opening_a_dm_channel_spends_the_budget_like_a_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """A follower's first DM costs two requests (open the channel, send): both count against the 30 a second,
    so a burst of DMs to new followers stays within Discord's global limit."""
    monkeypatch.delenv(RATE_ENV, raising=False)
    clock = FakeClock()
    requests: list[tuple[str, int, float]] = []

    async def start_private_message(user_id: int) -> dict[str, Any]:
        requests.append(("open", user_id, clock.now()))
        return {"id": str(10_000 + user_id)}

    async def send_message(channel_id: int, *, params: Any) -> dict[str, Any]:
        requests.append(("send", channel_id, clock.now()))
        return {"id": str(len(requests))}

    async def write(work: Any) -> None:
        return None

    bot = SimpleNamespace(
        store=SimpleNamespace(write=write),
        http=SimpleNamespace(start_private_message=start_private_message, send_message=send_message),
        allowed_mentions=None,
    )
    cog = AnnouncerCog(bot, clock)  # type: ignore[arg-type]
    followers, each = 20, 2
    rows = {
        user: [
            SimpleNamespace(
                id=user * 10 + n,
                attempts=0,
                target_kind="dm",
                target_id=user,
                payload={"content": f"news {n}"},
                dedupe_key=f"dm:{user}:{n}",
            )
            for n in range(each)
        ]
        for user in range(1, followers + 1)
    }
    gate = asyncio.Semaphore(cog.concurrency)
    await clock.run(asyncio.gather(*(cog._serve(user_rows, gate) for user_rows in rows.values())))

    opens = [r for r in requests if r[0] == "open"]
    assert len(opens) == followers and cog.sent == followers * each  # each channel opened once
    times = [when for _kind, _id, when in requests]
    assert len(times) == followers * (each + 1)
    assert at_most_per_second(times, 30)
    assert sorted(times) == pytest.approx([k / 30 for k in range(len(times))])


async def test_a_pacer_resumes_its_pace_after_an_idle_spell() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock)
    times: list[float] = []

    async def burst(n: int) -> None:
        async def one() -> None:
            await pacer.wait()
            times.append(clock.now())

        await asyncio.gather(*(one() for _ in range(n)))

    await clock.run(burst(45))
    clock.time += 10.0  # nobody sent for ten seconds: no credit is saved up for a burst
    await clock.run(burst(45))
    assert at_most_per_second(times, 30)
    assert times[45] == pytest.approx(44 / 30 + 10.0)
    assert times[46:] == pytest.approx([44 / 30 + 10.0 + k / 30 for k in range(1, 45)])


def test_each_process_paces_at_its_shards_part_of_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discord's limit is per bot token: the processes of one bot split the budget by their shards."""
    monkeypatch.delenv(RATE_ENV, raising=False)
    intents = discord.Intents.none()
    unsharded = commands.Bot(command_prefix="!", intents=intents)
    one_of_two = commands.Bot(command_prefix="!", intents=intents, shard_id=1, shard_count=2)
    # A plain Bot given a count but no shard id identifies without a shard (Discord sends it every server):
    # it serves every shard's rows.
    counted_only = commands.Bot(command_prefix="!", intents=intents, shard_count=2)
    three_of_four = commands.AutoShardedBot(
        command_prefix="!", intents=intents, shard_count=4, shard_ids=[0, 2, 3]
    )
    all_of_four = commands.AutoShardedBot(command_prefix="!", intents=intents, shard_count=4)
    assert process_shards(unsharded) == Shards()
    assert process_shards(one_of_two) == Shards(2, frozenset({1}))
    assert process_shards(counted_only) == Shards(2, frozenset({0, 1}))
    assert process_shards(three_of_four) == Shards(4, frozenset({0, 2, 3}))
    assert process_shards(all_of_four) == Shards(4, frozenset(range(4)))
    rates = [AnnouncerCog(bot).pacer.rate for bot in (unsharded, one_of_two, three_of_four, all_of_four)]  # type: ignore[arg-type]
    assert rates == pytest.approx([30.0, 15.0, 22.5, 30.0])
    monkeypatch.setenv(RATE_ENV, "40")  # the budget of the whole bot, whatever its processes
    assert AnnouncerCog(three_of_four).pacer.interval == pytest.approx(1 / 30)  # type: ignore[arg-type]


def test_only_an_ended_run_on_this_machine_counts_as_outlived() -> None:
    """At start the announcer releases the claims of processes of this machine that are gone."""
    me = claimer_id()
    host, pid, _token = me.split(":")
    # A live process of this test's own (not the test runner's parent, which a wrong `outlived` that
    # signalled what it looks at would stop).
    alive = subprocess.Popen(["sleep", "30"])
    try:
        assert not outlived(f"{host}:{alive.pid}:0000", me)
    finally:
        alive.kill()
        alive.wait()
    assert not outlived(me, me)
    assert outlived(f"{host}:{pid}:0000", me)  # this process id, an earlier run (a container's pid 1)
    assert not outlived(f"elsewhere:{pid}:0000", me)  # another machine: its lease decides
    assert not outlived(f"{host}:not-a-pid:0000", me)
    with open("/proc/sys/kernel/pid_max") as limit:
        never = int(limit.read()) + 1  # no process can have this id
    assert outlived(f"{host}:{never}:0000", me)

"""The announcer's rules for one send, against a real store: what goes in the request (nonce, mentions, the
DM channel), which of Discord's answers are retried and which drop a row for good, the growing backoff, and
when a delivery is recorded; then its loop without a bot: rounds, a poke, start and stop, failures, shards.
Discord's HTTP client is replaced by a recorder; the rows are real."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cogs.announcer import RATE_ENV, AnnouncerCog, allowed_mentions, announce_rate, claimer_id, outlived
from db import outbox
from db.audit import record
from db.models import OutboxMessage
from db.outbox import CHANNEL, DM, Target
from db.writes import run_write
from tests.support import MODERATOR, al2020

Sessions = async_sessionmaker[AsyncSession]


class Http:
    """Records each request; answers with the next outcome queued for its route (an exception is raised)."""

    token = "a-bot-token"

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.opened: list[int] = []
        self.send_outcomes: list[Exception] = []
        self.dm_outcomes: list[Exception] = []
        self.channel_outcomes: dict[int, list[Exception]] = {}  # for one channel only
        self.started: list[int] = []  # every send begun, answered or not
        self.holding: dict[int, asyncio.Event] = {}  # a send to this channel waits for its event

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        self.started.append(channel_id)
        if channel_id in self.holding:
            await self.holding[channel_id].wait()
        if self.send_outcomes:
            raise self.send_outcomes.pop(0)
        if self.channel_outcomes.get(channel_id):
            raise self.channel_outcomes[channel_id].pop(0)
        self.sent.append((channel_id, dict(params.payload)))
        return {"id": str(9000 + len(self.sent))}

    async def start_private_message(self, user_id: int) -> dict[str, Any]:
        if self.dm_outcomes:
            raise self.dm_outcomes.pop(0)
        self.opened.append(user_id)
        return {"id": str(user_id + 1)}


def a_pid_no_process_has() -> int:
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def answer(status: int, reason: str = "refused") -> Any:
    return SimpleNamespace(status=status, reason=reason)


def cog_on(sessions: Sessions, http: Http) -> Any:
    async def write(work: Callable[[AsyncSession], Any]) -> Any:
        return await run_write(sessions, work)

    bot = SimpleNamespace(store=SimpleNamespace(write=write), http=http, allowed_mentions=None)
    cog = AnnouncerCog(bot)  # type: ignore[arg-type]
    cog.pacer = type(cog.pacer)(1e6)
    return cog


async def enqueued(
    sessions: Sessions, targets: list[Target], body: dict[str, Any], ping: bool = False
) -> None:
    """A write's announcements to `targets`, queued (not claimed)."""
    async with sessions() as session:
        race_id = (await al2020(session)).id
    async with sessions.begin() as session:
        entry = await record(session, MODERATOR, "poll.add", "polls", 1, race_id=race_id)
        await outbox.enqueue(
            session, audit_id=entry.id, race_id=race_id, body=body, targets=targets, ping=ping
        )


async def queued(
    sessions: Sessions, targets: list[Target], body: dict[str, Any], ping: bool = False
) -> list[Any]:
    """Queued and claimed, as a round would have them."""
    await enqueued(sessions, targets, body, ping)
    now = dt.datetime.now(dt.UTC)
    return await run_write(sessions, lambda s: outbox.claim(s, now, 50, "me:1:a"))


async def stored(sessions: Sessions) -> dict[tuple[str, int], OutboxMessage]:
    async with sessions() as session:
        return {(r.target_kind, r.target_id): r for r in await session.scalars(select(OutboxMessage))}


def test_the_rate_is_read_from_the_environment_only_when_it_is_a_positive_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert [announce_rate(raw, 30.0) for raw in (None, "", "45", "2.5", "0.5", "0", "-3")] == [
        30,
        30,
        45,
        2.5,
        0.5,
        30,
        30,
    ]
    with caplog.at_level(logging.WARNING, logger="racedesk.announcer"):
        assert announce_rate("fast", 30.0) == 30.0
    assert caplog.messages == [f"{RATE_ENV}='fast' is not a number of messages a second; using 30"]


def test_only_the_roles_a_server_chose_may_ping() -> None:
    nothing: list[dict[str, Any] | None] = [None, {}, {"roles": []}, {"parse": []}]
    for data in nothing:
        quiet = allowed_mentions(data)
        assert (quiet.everyone, quiet.users, quiet.roles, quiet.replied_user) == (False, False, False, False)
    chosen = allowed_mentions({"parse": [], "roles": ["222", "333"]})
    assert (chosen.everyone, chosen.users, chosen.replied_user) == (False, False, False)
    assert isinstance(chosen.roles, list) and [role.id for role in chosen.roles] == [222, 333]


async def test_a_send_carries_its_rows_nonce_body_and_mentions(sample_sessions: Sessions) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    body = {"content": "", "embeds": [{"title": "count update"}], "dm_content": "stop with !unfollow"}
    rows = await queued(
        sample_sessions, [Target(CHANNEL, 22, 222, 2), Target(DM, 7), Target(DM, 8)], body, ping=True
    )
    for row in rows:
        assert await cog._deliver(row) is True
    # Recorded sent, with Discord's message id, when the deliveries are recorded.
    assert {r.status for r in (await stored(sample_sessions)).values()} == {"pending"}
    await cog.record_deliveries()
    marked = {r.id: (r.status, r.message_id, r.attempts) for r in (await stored(sample_sessions)).values()}
    assert marked == {row.id: ("sent", 9001 + n, 1) for n, row in enumerate(rows)}
    # Member 7 again: the DM channel opened once is remembered.
    again = await queued(sample_sessions, [Target(DM, 7)], {"content": "again", "embeds": []})
    assert len(again) == 1 and await cog._deliver(again[0]) is True
    assert http.opened == [7, 8]
    assert [channel for channel, _ in http.sent] == [22, 8, 9, 8]
    channel, first_dm, last_dm = http.sent[0][1], http.sent[1][1], http.sent[3][1]
    assert channel["content"] == "<@&222>" and channel["allowed_mentions"] == {"parse": [], "roles": [222]}
    assert channel["embeds"] == [discord.Embed.from_dict({"title": "count update"}).to_dict()]
    assert first_dm["content"] == "stop with !unfollow" and first_dm["allowed_mentions"] == {"parse": []}
    assert (last_dm["content"], last_dm["embeds"]) == ("again", [])
    for row, (_, payload) in zip([*rows, *again], http.sent, strict=True):
        assert (payload["nonce"], payload["enforce_nonce"]) == (outbox.nonce_of(row.dedupe_key), True)
    assert (cog.sent, cog.retried, cog.dropped) == (4, 0, 0)


async def test_deliveries_are_recorded_as_soon_as_a_batch_is_full(sample_sessions: Sessions) -> None:
    cog = cog_on(sample_sessions, Http())
    cog.mark_batch = 2
    rows = await queued(
        sample_sessions, [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2)], {"content": "x"}
    )
    assert await cog._deliver(rows[0]) is True
    assert {r.status for r in (await stored(sample_sessions)).values()} == {"pending"}
    assert await cog._deliver(rows[1]) is True
    assert {r.status for r in (await stored(sample_sessions)).values()} == {"sent"}


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (discord.Forbidden(answer(403, "Forbidden"), "Missing Access"), "403 Missing Access"),
        (discord.NotFound(answer(404, "Not Found"), ""), "404 404 Not Found (error code: 0)"),
        (
            discord.HTTPException(answer(400, "Bad Request"), "Invalid Form Body"),
            "Discord refused it: 400 Invalid Form Body",
        ),
        (discord.HTTPException(answer(413), "too big"), "Discord refused it: 413 too big"),
    ],
)
async def test_what_discord_refuses_for_good_is_dropped_with_why(
    sample_sessions: Sessions, error: Exception, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = await queued(sample_sessions, [Target(CHANNEL, 11, None, 1), Target(DM, 22)], {"content": "x"})
    http.send_outcomes = [error]
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        assert await cog._deliver(rows[0]) is True  # the target's next row may go
    row = (await stored(sample_sessions))[CHANNEL, 11]
    assert (row.status, row.last_error, row.attempts) == ("dropped", reason, 1)
    assert (cog.sent, cog.retried, cog.dropped) == (0, 0, 1)
    assert caplog.messages == [f"announcement {rows[0].id} to channel 11 dropped for good: {reason}"]
    # A row tried twice before: its attempts count all three.
    rows[1].attempts = 2
    http.send_outcomes = [error]
    assert await cog._deliver(rows[1]) is True
    row = (await stored(sample_sessions))[DM, 22]
    assert (row.status, row.last_error, row.attempts) == ("dropped", reason, 3)
    assert (cog.sent, cog.retried, cog.dropped) == (0, 0, 2)


@pytest.mark.parametrize(
    ("error", "reason", "at_least"),
    [
        (discord.HTTPException(answer(503), "down"), "Discord answered 503", 0.0),
        (discord.HTTPException(answer(500), ""), "Discord answered 500", 0.0),
        (discord.HTTPException(answer(429), "slow down"), "Discord answered 429", 0.0),
        (discord.RateLimited(42.0), "rate limited for 42.0s", 42.0),
        (aiohttp.ClientConnectionError("reset"), "network: ClientConnectionError: reset", 0.0),
        (ConnectionRefusedError(111, "refused"), "network: ConnectionRefusedError: [Errno 111] refused", 0.0),
        (TimeoutError("slow"), "network: TimeoutError: slow", 0.0),
    ],
)
async def test_what_may_pass_is_retried_later_with_a_growing_backoff(
    sample_sessions: Sessions,
    error: Exception,
    reason: str,
    at_least: float,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = await queued(sample_sessions, [Target(CHANNEL, 11, None, 1), Target(DM, 22)], {"content": "x"})
    row = rows[0]
    for attempt, base in ((1, 1.0), (3, 4.0), (10, 300.0)):  # 1 s, doubling, at most 5 minutes
        row.attempts = attempt - 1
        http.send_outcomes = [error]
        before = dt.datetime.now(dt.UTC)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
            assert await cog._deliver(row) is False  # the target's later rows wait
        after = dt.datetime.now(dt.UTC)
        stored_row = (await stored(sample_sessions))[CHANNEL, 11]
        assert (stored_row.status, stored_row.last_error, stored_row.attempts) == ("pending", reason, attempt)
        low, high = max(0.8 * base, at_least), max(1.2 * base, at_least)
        assert before + dt.timedelta(seconds=low) <= stored_row.next_attempt_at
        assert stored_row.next_attempt_at <= after + dt.timedelta(seconds=high)
        said = re.fullmatch(rf"announcement {row.id}: (.+); retrying in (\d+\.\d)s", caplog.messages[-1])
        assert said is not None and said[1] == reason, caplog.messages
        assert low - 0.05 <= float(said[2]) <= high + 0.05
    assert (cog.sent, cog.retried, cog.dropped) == (0, 3, 0)
    # The twelfth failed attempt is the last: dropped, saying so.
    caplog.clear()
    for n, last in enumerate(rows, 1):
        last.attempts = cog.max_attempts - 1
        http.send_outcomes = [error]
        with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
            assert await cog._deliver(last) is True
        assert (cog.sent, cog.retried, cog.dropped) == (0, 3, n)
    saved = await stored(sample_sessions)
    for key in ((CHANNEL, 11), (DM, 22)):
        assert (saved[key].status, saved[key].last_error, saved[key].attempts) == (
            "dropped",
            f"gave up after 12 attempts: {reason}",
            12,
        )
    assert caplog.messages == [
        f"announcement {rows[0].id} to channel 11 dropped: gave up after 12 attempts: {reason}",
        f"announcement {rows[1].id} to dm 22 dropped: gave up after 12 attempts: {reason}",
    ]


async def test_a_member_without_a_dm_channel_is_dropped_and_a_failed_opening_retried(
    sample_sessions: Sessions,
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = {
        r.target_id: r
        for r in await queued(sample_sessions, [Target(DM, 7), Target(DM, 8)], {"content": "x"})
    }
    http.dm_outcomes = [discord.Forbidden(answer(403), "Cannot send messages to this user")]
    assert await cog._deliver(rows[7]) is True
    http.dm_outcomes = [discord.HTTPException(answer(502), "bad gateway")]
    assert await cog._deliver(rows[8]) is False
    saved = await stored(sample_sessions)
    assert (saved[DM, 7].status, saved[DM, 7].last_error) == (
        "dropped",
        "no DM channel: 403 Cannot send messages to this user",
    )
    assert (saved[DM, 8].status, saved[DM, 8].last_error) == ("pending", "Discord answered 502")
    http.dm_outcomes = [discord.HTTPException(answer(429), "slow down")]
    with pytest.raises(discord.HTTPException):
        await cog._dm_channel(8)
    assert http.opened == [] and await cog._dm_channel(8) == 9 and http.opened == [8]


async def test_the_dm_channels_remembered_are_the_10_000_latest_used(sample_sessions: Sessions) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    for user in range(10_000):
        await cog._dm_channel(user)
    assert await cog._dm_channel(0) == 1  # used again: now the latest
    await cog._dm_channel(10_000)  # one more: the least recently used (member 1) is forgotten
    assert len(http.opened) == 10_001
    assert await cog._dm_channel(0) == 1 and await cog._dm_channel(2) == 3 and len(http.opened) == 10_001
    assert await cog._dm_channel(1) == 2 and http.opened[-1] == 1


async def test_opening_a_dm_channel_refused_drops_and_failed_retries(sample_sessions: Sessions) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = {
        r.target_id: r
        for r in await queued(sample_sessions, [Target(DM, 7), Target(DM, 8)], {"content": "x"})
    }
    http.dm_outcomes = [discord.HTTPException(answer(400), "Invalid Recipient")]
    assert await cog._deliver(rows[7]) is True
    http.dm_outcomes = [discord.HTTPException(answer(500), "oops")]
    assert await cog._deliver(rows[8]) is False
    saved = await stored(sample_sessions)
    assert (saved[DM, 7].status, saved[DM, 7].last_error) == (
        "dropped",
        "no DM channel: 400 Invalid Recipient",
    )
    assert (saved[DM, 8].status, saved[DM, 8].last_error) == ("pending", "Discord answered 500")


async def test_a_first_retry_waits_about_the_backoff_base_only(sample_sessions: Sessions) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    cog.backoff_base = 0.01
    row = (await queued(sample_sessions, [Target(CHANNEL, 11, None, 1)], {"content": "x"}))[0]
    http.send_outcomes = [discord.HTTPException(answer(503), "down")]
    before = dt.datetime.now(dt.UTC)
    assert await cog._deliver(row) is False
    after = dt.datetime.now(dt.UTC)
    when = (await stored(sample_sessions))[CHANNEL, 11].next_attempt_at
    assert before + dt.timedelta(seconds=0.008) <= when <= after + dt.timedelta(seconds=0.012)


async def test_the_offline_console_leaves_the_outbox_to_the_running_bot(
    sample_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    cog = cog_on(sample_sessions, Http())
    cog.bot.http.token = "offline-console"
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog.cog_load()
    assert not cog.running and cog._marker is None
    assert "offline console: announcements stay in the outbox for the running bot" in caplog.messages


def test_looking_whether_a_claimer_outlived_never_signals_it() -> None:
    me = claimer_id()
    host = me.split(":")[0]
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert not outlived(f"{host}:{child.pid}:0000", me)
        with pytest.raises(subprocess.TimeoutExpired):  # looked at, not signalled: it keeps running
            child.wait(timeout=1)
    finally:
        child.kill()
        child.wait()
    assert outlived(f"{host}:{child.pid}:0000", me)


@pytest.fixture
def a_live_process() -> Iterator[subprocess.Popen[bytes]]:
    """A process of the test's own that stays alive: what `outlived` looks at, never the test runner's parent
    (a wrong `outlived` that signalled what it looks at would stop that)."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


async def test_at_start_the_claims_of_an_ended_run_on_this_machine_are_released(
    sample_sessions: Sessions, caplog: pytest.LogCaptureFixture, a_live_process: subprocess.Popen[bytes]
) -> None:
    cog = cog_on(sample_sessions, Http())
    host = cog.owner.split(":")[0]
    never = a_pid_no_process_has()
    ended, elsewhere = f"{host}:{never}:0000", f"elsewhere:{never}:0000"
    alive = f"{host}:{a_live_process.pid}:0000"
    targets = [Target(CHANNEL, 11, None, 1), Target(DM, 7), Target(DM, 8), Target(DM, 9)]
    rows = await queued(sample_sessions, targets, {"content": "x"})
    holders = {7: ended, 8: alive, 9: elsewhere, 11: ended}
    async with sample_sessions.begin() as session:
        for row in rows:
            stored_row = await session.get(OutboxMessage, row.id)
            assert stored_row is not None
            stored_row.claimed_by = holders[row.target_id]
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog._release_outlived()
    assert "2 announcements claimed by an ended run of the bot are due again" in caplog.messages
    claims = {key[1]: r.claimed_by for key, r in (await stored(sample_sessions)).items()}
    assert claims == {11: None, 7: None, 8: alive, 9: elsewhere}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog._release_outlived()  # nothing more to release: nothing said
    assert caplog.messages == []


# ---------------------------------------------------------------- rounds, the running loop, start and stop


async def eventually(check: Callable[[], Any], what: str, timeout: float = 5.0) -> None:
    """Until `check()` (a bool, or an awaitable of one) holds, while the announcer's tasks run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        held = check()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.01)


def rounds_of(cog: Any) -> list[int]:
    """Each round's count of rows handled, in order, as the running loop makes them."""
    rounds: list[int] = []
    one_round = cog.run_once

    async def counted() -> int:
        handled = await one_round()
        rounds.append(handled)
        return int(handled)

    cog.run_once = counted
    return rounds


async def statuses(sessions: Sessions) -> dict[tuple[int, str], tuple[str, int, str | None]]:
    """(target, content): (status, attempts, claimed_by) of every row."""
    return {
        (r.target_id, r.payload["content"]): (r.status, r.attempts, r.claimed_by)
        for r in (await stored_all(sessions))
    }


async def stored_all(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def announcer_on(sessions: Sessions, **settings: Any) -> tuple[Any, Http]:
    """A cog on `sessions` with a recording Http, its settings (`idle_poll=60.0`, ...) changed as given."""
    http = Http()
    cog = cog_on(sessions, http)
    for name, value in settings.items():
        setattr(cog, name, value)
    return cog, http


async def test_a_round_delivers_what_is_due_each_target_in_order_and_records_it(
    sample_sessions: Sessions,
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    targets = [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2), Target(DM, 7)]
    await enqueued(sample_sessions, targets, {"content": "first"})
    await enqueued(sample_sessions, targets, {"content": "second"})
    http.channel_outcomes = {22: [discord.HTTPException(answer(503), "down")]}
    assert await cog.run_once() == 6
    # Channel 22's first failed: its second waits behind it. The others got both, in order (the DM through
    # member 7's channel, 8).
    got: dict[int, list[str]] = {}
    for channel, payload in http.sent:
        got.setdefault(channel, []).append(payload["content"])
    assert got == {11: ["first", "second"], 8: ["first", "second"]}
    # Recorded by the round's end, with Discord's message ids.
    rows = await stored_all(sample_sessions)
    sent_ids = {r.message_id for r in rows if r.status == "sent"}
    assert sent_ids == {9001, 9002, 9003, 9004}
    after = await statuses(sample_sessions)
    assert {key: value[:2] for key, value in after.items()} == {
        (11, "first"): ("sent", 1),
        (11, "second"): ("sent", 1),
        (7, "first"): ("sent", 1),
        (7, "second"): ("sent", 1),
        (22, "first"): ("pending", 1),
        (22, "second"): ("pending", 0),
    }
    assert (cog.sent, cog.retried, cog.dropped) == (4, 1, 0)
    # Nothing else is due: the retry waits its backoff, the row behind it waits for it.
    assert await cog.run_once() == 0 and len(http.sent) == 4


async def test_a_round_takes_at_most_a_batch_and_serves_8_targets_at_once(sample_sessions: Sessions) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    await enqueued(sample_sessions, [Target(CHANNEL, c, None, c) for c in range(1, 4)], {"content": "x"})
    cog.batch = 2
    assert await cog.run_once() == 2 and [c for c, _ in http.sent] == [1, 2]
    assert await cog.run_once() == 1 and [c for c, _ in http.sent] == [1, 2, 3]
    # Ten targets whose sends hang: eight are begun, the other two wait for a free place.
    wait = asyncio.Event()
    channels = range(101, 111)
    http.holding = dict.fromkeys(channels, wait)
    await enqueued(sample_sessions, [Target(CHANNEL, c, None, c) for c in channels], {"content": "y"})
    cog.batch = 30
    round_ = asyncio.create_task(cog.run_once())
    await eventually(lambda: len(http.started) == 3 + 8, "eight sends begun")
    for _ in range(20):  # every task that could begin a send has had its turn
        await asyncio.sleep(0)
    assert http.started[3:] == list(channels)[:8]
    wait.set()
    assert await asyncio.wait_for(round_, 10) == 10
    assert http.started[3:] == list(channels) and len(http.sent) == 13


async def test_the_running_announcer_looks_when_poked_and_waits_when_idle(sample_sessions: Sessions) -> None:
    cog, http = announcer_on(sample_sessions, idle_poll=60.0)  # within the test only a poke wakes it
    rounds = rounds_of(cog)
    await cog.cog_load()
    try:
        assert cog.running
        await eventually(lambda: rounds == [0], "the first look at the outbox")
        await enqueued(sample_sessions, [Target(CHANNEL, 11, None, 1), Target(DM, 7)], {"content": "news"})
        cog.poke()
        # A round that handled rows is followed by another at once; then it waits.
        await eventually(lambda: len(rounds) >= 3, "the rounds after the poke")
        await asyncio.sleep(0.1)  # idle: no further round may start without a poke
        assert rounds == [0, 2, 0]
        assert {value[0] for value in (await statuses(sample_sessions)).values()} == {"sent"}
        assert [c for c, _ in http.sent] == [11, 8]
    finally:
        await asyncio.wait_for(cog.cog_unload(), 10)
    assert not cog.running and cog._task is None and cog._marker is None


async def test_at_stop_a_send_in_flight_finishes_and_the_rest_is_given_back(
    sample_sessions: Sessions,
) -> None:
    cog, http = announcer_on(sample_sessions, concurrency=1)
    await enqueued(
        sample_sessions, [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2)], {"content": "a"}
    )
    await enqueued(sample_sessions, [Target(CHANNEL, 11, None, 1)], {"content": "b"})
    answer_it = asyncio.Event()
    http.holding = {11: answer_it}
    await cog.cog_load()
    await eventually(lambda: http.started == [11], "the first send begun")
    stopping = asyncio.create_task(cog.cog_unload())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not stopping.done()  # waiting for the send in flight
    answer_it.set()
    await asyncio.wait_for(stopping, 10)
    assert not cog.running and http.started == [11]
    assert await statuses(sample_sessions) == {
        (11, "a"): ("sent", 1, cog.owner),
        (11, "b"): ("pending", 0, None),  # claimed by this process, given back: due at once elsewhere
        (22, "a"): ("pending", 0, None),
    }


async def test_at_stop_a_send_that_hangs_is_abandoned_after_the_drain_timeout(
    sample_sessions: Sessions,
) -> None:
    cog, http = announcer_on(sample_sessions, drain_timeout=0.05, mark_interval=60.0)
    never = asyncio.Event()
    http.holding = {11: never}
    await enqueued(
        sample_sessions, [Target(CHANNEL, 22, None, 2), Target(CHANNEL, 11, None, 1)], {"content": "a"}
    )
    await cog.cog_load()
    await eventually(lambda: http.started == [22, 11] and len(http.sent) == 1, "both sends begun")
    stopping = asyncio.create_task(cog.cog_unload())
    try:  # (the stop swallows a cancellation: wait_for around it would not fail)
        await asyncio.wait({stopping}, timeout=5)
        assert stopping.done(), "the stop waited for the hanging send past the drain timeout"
    finally:
        never.set()
        await stopping
    assert not cog.running and cog._task is None and cog._marker is None
    assert await statuses(sample_sessions) == {
        (22, "a"): ("sent", 1, cog.owner),
        (11, "a"): ("pending", 0, None),
    }


async def test_a_failed_round_is_logged_and_the_next_one_delivers(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cog, http = announcer_on(sample_sessions, idle_poll=0.01)
    real_claim = outbox.claim
    failures = [RuntimeError("the database went away")]

    async def claim(*args: Any, **kwargs: Any) -> list[OutboxMessage]:
        if failures:
            raise failures.pop()
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(outbox, "claim", claim)
    await enqueued(sample_sessions, [Target(CHANNEL, 11, None, 1)], {"content": "a"})
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog.cog_load()
        try:
            await eventually(lambda: len(http.sent) == 1, "the send after the failed round")
            assert cog.running
        finally:
            await asyncio.wait_for(cog.cog_unload(), 10)
    assert "the announcer failed a round; trying again shortly" in caplog.messages
    assert await statuses(sample_sessions) == {(11, "a"): ("sent", 1, cog.owner)}


async def test_deliveries_are_recorded_every_mark_interval_even_within_a_round(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cog, _http = announcer_on(sample_sessions, mark_interval=0.01, idle_poll=60.0)
    rows = await queued(
        sample_sessions, [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2)], {"content": "a"}
    )
    real_mark = outbox.mark_sent_many
    failures = [RuntimeError("the database went away")]

    async def mark_sent_many(*args: Any, **kwargs: Any) -> int:
        if failures:
            raise failures.pop()
        return await real_mark(*args, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent_many", mark_sent_many)

    async def recorded(row_id: int) -> bool:
        return {r.id: r.status for r in await stored_all(sample_sessions)}[row_id] == "sent"

    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog.cog_load()
        try:
            cog._delivered.append((rows[0].id, 4242, 1))
            await eventually(lambda: not failures, "the failed recording")
            cog._delivered.append((rows[1].id, 4343, 2))  # a send made after it
            await eventually(lambda: recorded(rows[1].id), "the delivery recorded by the marker")
        finally:
            await asyncio.wait_for(cog.cog_unload(), 10)
    assert "could not record deliveries; trying again" in caplog.messages
    saved = {r.id: (r.status, r.message_id, r.attempts) for r in await stored_all(sample_sessions)}
    assert saved[rows[1].id] == ("sent", 4343, 2)


async def test_the_pace_and_the_claims_follow_the_shards_discord_py_learns(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(RATE_ENV, raising=False)
    http = Http()
    cog = cog_on(sample_sessions, http)
    assert cog.shards == outbox.EVERY and cog.rate == 30.0
    # Servers and members in shard 0 and shard 1 of 2 (Discord's formula: (id >> 22) % 2).
    shard_0, shard_1 = 2 << 22, 3 << 22
    await enqueued(
        sample_sessions,
        [
            Target(CHANNEL, 11, None, shard_0),
            Target(CHANNEL, 22, None, shard_1),
            Target(DM, shard_0),
            Target(DM, shard_1),
        ],
        {"content": "a"},
    )
    cog.bot.shard_count, cog.bot.shard_id = 2, 1  # discord.py connected as shard 1 of 2
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        assert await cog.run_once() == 2
    assert sorted(c for c, _ in http.sent) == sorted([22, shard_1 + 1])
    assert cog.shards == outbox.Shards(2, frozenset({1}))
    assert (cog.rate, cog.pacer.rate) == (15.0, 15.0) and cog.pacer.interval == pytest.approx(1 / 15)
    assert caplog.messages == ["announcing for shards [1] of 2 at 15.0 a second"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        assert await cog.run_once() == 0  # the same shards: nothing to say
    assert caplog.messages == []


async def test_failing_to_release_claims_at_start_or_stop_is_a_warning(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(outbox, "claimers", broken)
    monkeypatch.setattr(outbox, "release", broken)
    await enqueued(sample_sessions, [Target(CHANNEL, 11, None, 1)], {"content": "a"})
    with caplog.at_level(logging.INFO, logger="racedesk.announcer"):
        await cog.cog_load()
        try:
            await eventually(lambda: len(http.sent) == 1, "the send")  # started all the same
        finally:
            await asyncio.wait_for(cog.cog_unload(), 10)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "could not release the claims of an ended run of the bot",
        "could not release the announcements this process had claimed",
    ]
    # Each with the error that caused it, for whoever reads the log.
    assert [str(r.exc_info[1]) if r.exc_info else None for r in warnings] == ["the database went away"] * 2


def test_a_claimer_id_fits_the_outbox_column_whatever_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Machine (at most 40 characters), process id, and a token of 8 hex digits new at each start."""
    monkeypatch.setattr("socket.gethostname", lambda: "h" * 70)
    first, second = claimer_id(), claimer_id()
    pid = os.getpid()
    for made in (first, second):
        assert re.fullmatch(rf"h{{40}}:{pid}:[0-9a-f]{{8}}", made), made
        assert len(made) <= OutboxMessage.__table__.c.claimed_by.type.length  # type: ignore[attr-defined]
    assert first != second


def test_a_process_not_ours_to_signal_is_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another user's process answers EPERM (this test runs as root, so the answer is made up here)."""
    me = claimer_id()
    host = me.split(":")[0]
    asked: list[tuple[int, int]] = []

    def kill(pid: int, signal: int) -> None:
        asked.append((pid, signal))
        raise PermissionError(1, "Operation not permitted")

    other = os.getpid() + 1  # not this process (that one is an earlier run of it, without asking)
    monkeypatch.setattr(os, "kill", kill)
    assert not outlived(f"{host}:{other}:0000", me)
    assert asked == [(other, 0)]  # only looked at

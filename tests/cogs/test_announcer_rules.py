"""The announcer's rules for one send, against a real store: what goes in the request (nonce, mentions, the
DM channel), which of Discord's answers are retried and which drop a row for good, the growing backoff, and
when a delivery is recorded. Discord's HTTP client is replaced by a recorder; the rows are real."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from collections.abc import Callable
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

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.opened: list[int] = []
        self.send_outcomes: list[Exception] = []
        self.dm_outcomes: list[Exception] = []

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        if self.send_outcomes:
            raise self.send_outcomes.pop(0)
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


async def queued(
    sessions: Sessions, targets: list[Target], body: dict[str, Any], ping: bool = False
) -> list[Any]:
    async with sessions() as session:
        race_id = (await al2020(session)).id
    async with sessions.begin() as session:
        entry = await record(session, MODERATOR, "poll.add", "polls", 1, race_id=race_id)
        await outbox.enqueue(
            session, audit_id=entry.id, race_id=race_id, body=body, targets=targets, ping=ping
        )
    now = dt.datetime.now(dt.UTC)
    return await run_write(sessions, lambda s: outbox.claim(s, now, 50, "me:1:a"))


async def stored(sessions: Sessions) -> dict[tuple[str, int], OutboxMessage]:
    async with sessions() as session:
        return {(r.target_kind, r.target_id): r for r in await session.scalars(select(OutboxMessage))}


def test_the_rate_is_read_from_the_environment_only_when_it_is_a_positive_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert [announce_rate(raw, 30.0) for raw in (None, "", "45", "2.5", "0", "-3")] == [
        30,
        30,
        45,
        2.5,
        30,
        30,
    ]
    with caplog.at_level(logging.WARNING, logger="racedesk.announcer"):
        assert announce_rate("fast", 30.0) == 30.0
    assert f"{RATE_ENV}='fast' is not a number of messages a second; using 30" in caplog.text


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
    sample_sessions: Sessions, error: Exception, reason: str
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = await queued(
        sample_sessions, [Target(CHANNEL, 11, None, 1), Target(CHANNEL, 22, None, 2)], {"content": "x"}
    )
    http.send_outcomes = [error]
    assert await cog._deliver(rows[0]) is True  # the target's next row may go
    row = (await stored(sample_sessions))[CHANNEL, 11]
    assert (row.status, row.last_error, row.attempts) == ("dropped", reason, 1)
    assert (cog.sent, cog.retried, cog.dropped) == (0, 0, 1)


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
    sample_sessions: Sessions, error: Exception, reason: str, at_least: float
) -> None:
    http = Http()
    cog = cog_on(sample_sessions, http)
    rows = await queued(sample_sessions, [Target(CHANNEL, 11, None, 1)], {"content": "x"})
    row = rows[0]
    for attempt, base in ((1, 1.0), (3, 4.0), (10, 300.0)):  # 1 s, doubling, at most 5 minutes
        row.attempts = attempt - 1
        http.send_outcomes = [error]
        before = dt.datetime.now(dt.UTC)
        assert await cog._deliver(row) is False  # the target's later rows wait
        after = dt.datetime.now(dt.UTC)
        stored_row = (await stored(sample_sessions))[CHANNEL, 11]
        assert (stored_row.status, stored_row.last_error, stored_row.attempts) == ("pending", reason, attempt)
        low, high = max(0.8 * base, at_least), max(1.2 * base, at_least)
        assert before + dt.timedelta(seconds=low) <= stored_row.next_attempt_at
        assert stored_row.next_attempt_at <= after + dt.timedelta(seconds=high)
    assert (cog.sent, cog.retried, cog.dropped) == (0, 3, 0)
    # The twelfth failed attempt is the last: dropped, saying so.
    row.attempts = cog.max_attempts - 1
    http.send_outcomes = [error]
    assert await cog._deliver(row) is True
    stored_row = (await stored(sample_sessions))[CHANNEL, 11]
    assert (stored_row.status, stored_row.last_error, stored_row.attempts) == (
        "dropped",
        f"gave up after 12 attempts: {reason}",
        12,
    )
    assert (cog.sent, cog.retried, cog.dropped) == (0, 3, 1)


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


async def test_at_start_the_claims_of_an_ended_run_on_this_machine_are_released(
    sample_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    cog = cog_on(sample_sessions, Http())
    host = cog.owner.split(":")[0]
    never = a_pid_no_process_has()
    ended, alive, elsewhere = f"{host}:{never}:0000", f"{host}:{os.getppid()}:0000", f"elsewhere:{never}:0000"
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

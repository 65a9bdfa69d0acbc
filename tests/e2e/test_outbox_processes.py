"""End to end: two real bot processes (unsharded) on one PostgreSQL against one loopback Discord share the
outbox: a burst reaches every results channel and follower exactly once, also when one process is killed
(`kill -9`) mid-burst and started again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from db import outbox
from db.audit import record
from db.engine import make_engine, make_sessionmaker, upgrade
from db.models import GuildSettings, OutboxMessage
from loopback import StandIn
from loopback.process import bot_process_output, start_bot_process, stop_bot_process
from tests.support import MODERATOR, SPEC, outbox_settled, until
from tests.support.stores import fresh_database

TOKEN = "outbox-e2e.secret-token.value"
SERVERS, MEMBERS, ROUNDS = 40, 5, 3


@dataclass
class Pair:
    standin: StandIn
    env: dict[str, str]
    db_url: str
    channels: list[int]
    members: list[int]
    procs: list[Any] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    async def start(self, n: int = 1) -> Any:
        """Start `n` processes at once; until each has connected. Returns the last."""
        identified = self.standin.identify_count
        for _ in range(n):
            self.procs.append(await start_bot_process(self.standin, env=self.env))
        await until(lambda: self.standin.identify_count >= identified + n, 90, "the processes connected")
        return self.procs[-1]

    def arrived(self, tag: str, channel: int) -> list[Any]:
        return [
            m
            for m in self.standin.messages
            if m.channel_id == channel and m.kind == "message" and tag in m.text()
        ]

    async def wait_for_claims_of(self, pid: int) -> None:
        """Until process `pid` holds claims on rows it has not delivered yet."""
        engine = make_engine(self.db_url)
        try:
            sessions = make_sessionmaker(engine)
            for _ in range(3000):
                async with sessions() as session:
                    held = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == "pending", OutboxMessage.claimed_by.like(f"%:{pid}:%"))
                    )
                if held:
                    return
            raise TimeoutError(f"process {pid} never held a claim")
        finally:
            await engine.dispose()

    def targets(self) -> list[int]:
        return [*self.channels, *(self.standin.dm_channel_id(m) for m in self.members)]

    async def burst(self, tag: str) -> None:
        """ROUNDS announcements to every results channel and every member, queued at once."""
        engine = make_engine(self.db_url)
        try:
            async with make_sessionmaker(engine).begin() as session:
                for n in range(ROUNDS):
                    entry = await record(session, MODERATOR, "poll.add", "polls", n + 1)
                    targets = await outbox.targets_for(session, None)
                    targets += [outbox.Target(outbox.DM, member) for member in self.members]
                    body = {"content": f"{tag} {n}", "embeds": []}
                    await outbox.enqueue(session, audit_id=entry.id, race_id=None, body=body, targets=targets)
        finally:
            await engine.dispose()

    async def all_delivered(self, tag: str) -> None:
        def done() -> bool:
            return all(len(self.arrived(tag, t)) >= ROUNDS for t in self.targets())

        try:
            await until(done, 60, "every announcement delivered")
        except TimeoutError:
            raise TimeoutError("\n".join(bot_process_output(p)[-2000:] for p in self.procs)) from None
        engine = make_engine(self.db_url)
        try:
            await outbox_settled(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    def assert_exactly_once_in_order(self, tag: str) -> None:
        for target in self.targets():
            texts = [m.text() for m in self.arrived(tag, target)]
            assert texts == [f"{tag} {n}" for n in range(ROUNDS)], (target, texts)

    async def claimers(self, bursts: int) -> set[str]:
        engine = make_engine(self.db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                rows = await session.execute(
                    select(OutboxMessage.status, OutboxMessage.claimed_by, func.count()).group_by(
                        OutboxMessage.status, OutboxMessage.claimed_by
                    )
                )
                found = {(status, who): n for status, who, n in rows}
        finally:
            await engine.dispose()
        assert {status for status, _ in found} == {"sent"}
        assert sum(found.values()) == bursts * ROUNDS * (SERVERS + MEMBERS)
        return {str(who) for _, who in found}


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    async with fresh_database() as db_url, StandIn(SPEC, token=TOKEN) as standin:
        engine = make_engine(db_url)
        channels = []
        try:
            await upgrade(engine)  # once, before both start
            async with make_sessionmaker(engine).begin() as session:
                for n in range(SERVERS):
                    guild = standin.add_guild(name=f"Server {n}")
                    channel = standin.add_channel(guild.id, name="results").id
                    channels.append(channel)
                    session.add(GuildSettings(guild_id=guild.id, results_channel_id=channel))
        finally:
            await engine.dispose()
        members = [standin.add_user(f"member-{n}") for n in range(MEMBERS)]
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_URL": db_url,
            "RACEDESK_DEFAULT_DATA": "0",
            "LOG_LEVEL": "INFO",
            "RACEDESK_ANNOUNCE_RATE": "40",  # each: the two unsharded processes are not told of each other
        }
        pair = Pair(standin, env, db_url, channels, members)
        try:
            await pair.start(2)
            yield pair
        finally:
            pair.output += await asyncio.gather(*(stop_bot_process(proc) for proc in pair.procs))
        assert standin.spec_errors == []
        log = "".join(pair.output)
        assert "Traceback" not in log, log[-3000:]
        assert TOKEN not in log


async def test_two_processes_deliver_a_burst_exactly_once_also_through_a_kill_and_restart(pair: Pair) -> None:
    await pair.burst("first")
    await pair.all_delivered("first")
    pair.assert_exactly_once_in_order("first")
    assert pair.standin.nonce_repeats == []  # no row was sent twice, not even one the nonce caught
    assert len(await pair.claimers(1)) == 2  # both processes delivered part of it

    victim = pair.procs[0]
    await pair.burst("second")
    await pair.wait_for_claims_of(victim.pid)
    victim.kill()  # SIGKILL: no clean stop, its claims stay in the store
    await victim.wait()
    pair.output.append(await stop_bot_process(victim))
    pair.procs.remove(victim)
    restarted = await pair.start()  # its next run releases the claims the dead one held
    await pair.all_delivered("second")
    assert "claimed by an ended run of the bot are due again" in bot_process_output(restarted)
    pair.assert_exactly_once_in_order("second")
    # Only rows in flight when it died can have been sent again: the nonce made Discord return the first.
    assert len(pair.standin.nonce_repeats) <= 30
    await pair.claimers(2)

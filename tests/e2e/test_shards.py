"""End to end: two real bot processes as the two shards of one bot (SHARD_COUNT=2, SHARD_IDS=0 and 1) on one
real PostgreSQL, against one loopback Discord. Each answers its own servers and only those; a desk write in
one is in the other's next answer (the write's notification drops the other's read cache)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from loopback import StandIn
from loopback.gateway import guild_id_on_shard
from loopback.process import bot_process_output, start_bot_process, stop_bot_process
from tests.support import SPEC, until
from tests.support.stores import listeners_connected, sample_database

TOKEN = "shards-e2e.secret-token.value"
TITLE = "2020 Alabama U.S. Senate (Class II)"


@dataclass
class Shards:
    standin: StandIn
    procs: list[object]  # asyncio.subprocess.Process, one per shard
    channels: list[int]  # a channel in a server on shard 0, then one on shard 1
    member: int  # in both servers
    desk_owner: int  # owns the desk server (on shard 0)
    database_url: str

    def output(self, shard: int) -> str:
        return bot_process_output(self.procs[shard])  # type: ignore[arg-type]

    async def ask(self, shard: int, text: str, author: int | None = None) -> tuple[int, str]:
        """Post in shard `shard`'s server; the message's id and the one reply it gets."""
        channel = self.channels[shard]
        mid = await self.standin.send_message(channel, author or self.member, text)
        reply = await self.standin.wait_for_message(channel, timeout=30)
        return mid, reply.text()


@pytest.fixture
async def shards() -> AsyncIterator[Shards]:
    async with sample_database() as url, StandIn(SPEC, token=TOKEN, shard_count=2) as standin:
        desk_owner = standin.add_user("desk-owner")
        desk = standin.add_guild("Election Desk", guild_id=guild_id_on_shard(0, 2), owner_id=desk_owner)
        friends = standin.add_guild("Friends", guild_id=guild_id_on_shard(1, 2))
        member = standin.add_user("member")
        for guild in (desk, friends):
            standin.add_member(guild.id, "member", member)
        channels = [standin.add_channel(g.id, "general").id for g in (desk, friends)]
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_URL": url,
            "RACEDESK_DEFAULT_DATA": "0",
            "DESK_GUILD_IDS": str(desk.id),
            "LOG_LEVEL": "INFO",
            "SHARD_COUNT": "2",
        }
        procs = [await start_bot_process(standin, env={**env, "SHARD_IDS": str(n)}) for n in (0, 1)]
        outputs: list[str] = []
        try:
            await standin.wait_for_shards({(0, 2), (1, 2)}, timeout=120)
            yield Shards(standin, list(procs), channels, member, desk_owner, url)
        finally:
            for proc in procs:
                outputs.append(await stop_bot_process(proc))
        for _ in range(200):  # the listeners ended with their processes (the server sees the sockets close)
            if await listeners_connected(url) == 0:
                break
            await asyncio.sleep(0.05)
        assert await listeners_connected(url) == 0
        assert standin.spec_errors == []
        log = "".join(outputs)
        assert "Traceback" not in log and " ERROR " not in log, log[-5000:]
        assert TOKEN not in log


def session_of(output: str) -> set[str]:
    """The gateway sessions a process says it connected (discord.py logs each shard's session id)."""
    return set(re.findall(r"has connected to Gateway \(Session ID: (\w+)\)", output))


async def test_each_process_answers_its_own_servers_and_only_those(shards: Shards) -> None:
    await until(lambda: all(session_of(shards.output(n)) for n in (0, 1)), 30, "each shard's READY handled")
    sessions = [session_of(shards.output(n)) for n in (0, 1)]
    assert all(len(s) == 1 for s in sessions) and sessions[0] != sessions[1]
    for shard in (0, 1):
        mid, reply = await shards.ask(shard, "!race alabama")
        assert TITLE in reply
        delivered = shards.standin.delivered_to("MESSAGE_CREATE", mid)
        assert delivered == [(next(iter(sessions[shard])), [shard, 2])]  # to this shard's process only
    answers = [m for m in shards.standin.messages if m.kind == "message"]
    assert [m.channel_id for m in answers] == shards.channels  # one answer each, never two


async def test_a_desk_write_in_one_process_is_in_the_others_next_answer(shards: Shards) -> None:
    for _ in range(600):  # each process listens for the other's writes (connected just after it starts)
        if await listeners_connected(shards.database_url) == 2:
            break
        await asyncio.sleep(0.05)
    assert await listeners_connected(shards.database_url) == 2
    _, before = await shards.ask(1, "!results alabama")  # shard 1's process reads, and caches, the count
    assert "Tuberville" in before and "1,392,111" not in before
    _, again = await shards.ask(1, "!results alabama")
    assert again == before

    _, stored = await shards.ask(
        0, "!result alabama general Tuberville=1392111 Jones=920500 reporting=100%", shards.desk_owner
    )
    assert "Stored" in stored, stored
    _, after = await shards.ask(1, "!results alabama")  # the other process, its very next answer
    assert "1,392,111" in after, after

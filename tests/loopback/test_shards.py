"""The stand-in learns shards: IDENTIFY's `shard`, each session getting only its shard's guilds by Discord's
formula (guild_id >> 22) % shard_count, DMs on shard 0, and GET /gateway/bot reporting the shard count."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from loopback import StandIn
from loopback.floorbot import run_bot_against
from loopback.gateway import guild_id_on_shard
from tests.support import until


class ShardBot(commands.AutoShardedBot):
    """A sharded bot that answers `!where` with its shard and keeps every message it was sent."""

    def __init__(self, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, help_command=None, **options)
        self.seen: list[discord.Message] = []

        @self.command(name="where")
        async def where(ctx: commands.Context[commands.AutoShardedBot]) -> None:
            shard = ctx.guild.shard_id if ctx.guild is not None else 0
            await ctx.send(f"shard {shard} of {self.shard_count}")

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id != self.user.id:  # type: ignore[union-attr]
            self.seen.append(message)
        await self.process_commands(message)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause between this process's own IDENTIFYs (the stand-in has no identify limit)."""


@contextlib.asynccontextmanager
async def two_shards(spec_path: Path) -> AsyncIterator[tuple[StandIn, ShardBot, ShardBot, dict[str, Any]]]:
    async with StandIn(spec_path, shard_count=2) as s:
        guilds = [s.add_guild(f"guild {n}", guild_id=guild_id_on_shard(n % 2, 2)) for n in range(3)]
        member = s.add_user("member")
        channels = []
        for guild in guilds:
            s.add_member(guild.id, "member", member)
            channels.append(s.add_channel(guild.id, "general").id)
        world = {"guilds": guilds, "channels": channels, "member": member}
        bot0, bot1 = ShardBot(shard_count=2, shard_ids=[0]), ShardBot(shard_count=2, shard_ids=[1])
        async with run_bot_against(s, bot0), run_bot_against(s, bot1):
            await s.wait_for_shards({(0, 2), (1, 2)})
            yield s, bot0, bot1, world


async def test_each_shard_gets_ready_and_the_guilds_of_its_shard_only(spec_path: Path) -> None:
    async with two_shards(spec_path) as (s, bot0, bot1, world):
        ids = [g.id for g in world["guilds"]]
        assert {g.id for g in bot0.guilds} == {gid for gid in ids if (gid >> 22) % 2 == 0}
        assert {g.id for g in bot1.guilds} == {gid for gid in ids if (gid >> 22) % 2 == 1}
        assert len(bot0.guilds) == 2 and len(bot1.guilds) == 1
        shards = sorted(session.shard for session in s._live_sessions() if session.shard)
        assert shards == [[0, 2], [1, 2]]
        for session in s._live_sessions():
            ready = next(p["d"] for p in session.sent if p["t"] == "READY")
            assert ready["shard"] == session.shard
            assert {int(g["id"]) for g in ready["guilds"]} == {
                gid for gid in ids if (gid >> 22) % 2 == session.shard[0]
            }

        # A guild added now is created on its own shard only.
        late = s.add_guild("late", guild_id=guild_id_on_shard(1, 2))
        await until(lambda: bot1.get_guild(late.id) is not None, 10, "the late guild on shard 1")
        assert bot0.get_guild(late.id) is None
    assert s.spec_errors == []


async def test_a_message_goes_to_the_shard_of_its_guild_and_a_dm_to_shard_0(spec_path: Path) -> None:
    async with two_shards(spec_path) as (s, bot0, bot1, world):
        for guild, channel in zip(world["guilds"], world["channels"], strict=True):
            await s.send_message(channel, world["member"], "!where")
            reply = await s.wait_for_message(channel, timeout=10)
            shard = (guild.id >> 22) % 2
            assert reply.content == f"shard {shard} of 2"
        await until(lambda: len(bot0.seen) + len(bot1.seen) == 3, 10, "three messages seen")
        assert {m.guild.id for m in bot0.seen if m.guild} == {g.id for g in world["guilds"][0::2]}
        assert {m.guild.id for m in bot1.seen if m.guild} == {world["guilds"][1].id}
        assert len([m for m in s.messages if m.kind == "message"]) == 3  # one answer each, never two
        for message in bot0.seen + bot1.seen:
            shard = (message.guild.id >> 22) % 2  # type: ignore[union-attr]
            assert [sent[1] for sent in s.delivered_to("MESSAGE_CREATE", message.id)] == [[shard, 2]]

        await s.send_dm(world["member"], "hello")
        await until(lambda: any(m.guild is None for m in bot0.seen), 10, "the DM on shard 0")
        assert not any(m.guild is None for m in bot1.seen)


async def test_gateway_bot_reports_the_shard_count_and_an_unsharded_bot_runs_them_all(
    spec_path: Path,
) -> None:
    async with StandIn(spec_path, shard_count=3) as s:
        async with aiohttp.ClientSession() as http:
            answer = await http.get(
                f"{s.api_base}/gateway/bot", headers={"Authorization": "Bot loopback-token"}
            )
            assert (await answer.json())["shards"] == 3
        guilds = [s.add_guild(f"guild {n}", guild_id=guild_id_on_shard(n, 3)) for n in range(3)]
        async with run_bot_against(s, ShardBot()) as bot:  # no shard_count: asks GET /gateway/bot
            await s.wait_for_shards({(0, 3), (1, 3), (2, 3)})
            assert bot.shard_count == 3
            await until(lambda: len(bot.guilds) == 3, 10, "every guild, one per shard")
            assert {g.id: g.shard_id for g in bot.guilds} == {g.id: n for n, g in enumerate(guilds)}
    assert s.spec_errors == []


async def test_an_identify_with_a_shard_out_of_range_is_closed_4010(spec_path: Path) -> None:
    async with StandIn(spec_path, shard_count=2) as s, aiohttp.ClientSession() as http:
        for shard in ([2, 2], [-1, 2], [0], "0,2"):
            async with http.ws_connect(f"{s.gateway_url}?v=10&encoding=json") as ws:
                hello = await ws.receive_json()
                assert hello["op"] == 10
                identify = {"token": "t", "intents": 513, "properties": {}, "shard": shard}
                await ws.send_str(json.dumps({"op": 2, "d": identify}))
                closed = await asyncio.wait_for(ws.receive(), 10)
                assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010, shard

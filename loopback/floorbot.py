"""The smallest useful discord.py bot, and a way to run any bot against a StandIn in-process.

The floor bot answers ``!race alabama`` with a fixed short text: the time it takes is the
latency floor (discord.py + the loopback) that benchmarks of the real bot compare against.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from .patching import point_discord_at
from .standin import StandIn

__all__ = ["FLOOR_REPLY", "make_floor_bot", "run_bot_against", "run_until_interrupted"]

FLOOR_REPLY = "Alabama: floor reply."


def run_until_interrupted(bot: discord.Client) -> None:
    """A floor bot as a process of its own (`DISCORD_TOKEN`), until SIGINT: a clean stop, exit status 0.
    Also when started with SIGINT ignored, as a background job's children are (then Python would leave it
    ignored, and only the SIGTERM after it would stop the process)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)


def make_floor_bot(
    *,
    prefix: str = "!",
    intents: discord.Intents | None = None,
    guild_ready_timeout: float = 0.1,
    **options: Any,
) -> commands.Bot:
    """A minimal bot: ``!race <state>`` and ``/race state:`` answer FLOOR_REPLY, ``!ping`` answers "pong".

    Intents: the defaults plus message_content unless given. ``guild_ready_timeout`` is short so
    on_ready fires right after the GUILD_CREATEs (discord.py's default waits 2 s for more)."""
    if intents is None:
        intents = discord.Intents.default()
        intents.message_content = True
    bot = commands.Bot(
        command_prefix=prefix,
        intents=intents,
        help_command=None,
        guild_ready_timeout=guild_ready_timeout,
        **options,
    )

    @bot.command(name="race")
    async def race(ctx: commands.Context[commands.Bot], *, state: str = "") -> None:
        await ctx.send(FLOOR_REPLY)

    @bot.command(name="ping")
    async def ping(ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send("pong")

    @bot.tree.command(name="race", description="A race, the floor way")
    @app_commands.describe(state="A state")
    async def race_slash(interaction: discord.Interaction, state: str) -> None:
        await interaction.response.send_message(FLOOR_REPLY)

    return bot


@contextlib.asynccontextmanager
async def run_bot_against(
    standin: StandIn, bot: discord.Client, *, token: str = "loopback-token", timeout: float = 20.0
) -> AsyncIterator[discord.Client]:
    """Point discord.py at the stand-in, start the bot, wait until it is ready (the stand-in sent
    READY and the GUILD_CREATEs, and the bot fired on_ready); on exit close the bot and put the
    addresses back."""
    with point_discord_at(standin.api_base, standin.gateway_url):
        task = asyncio.create_task(bot.start(token), name="loopback-bot")
        try:
            waiter = asyncio.create_task(standin.wait_until_ready(timeout))
            done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                waiter.cancel()
                task.result()  # raises what stopped the bot
                raise RuntimeError("the bot stopped before it was ready")
            if waiter not in done:
                waiter.cancel()
                raise TimeoutError("the bot did not connect to the stand-in")
            waiter.result()
            await asyncio.wait_for(bot.wait_until_ready(), timeout)
            yield bot
        finally:
            with contextlib.suppress(Exception):
                await bot.close()
            try:
                await asyncio.wait_for(task, 10)
            except (asyncio.CancelledError, TimeoutError):
                task.cancel()
            except Exception:
                pass

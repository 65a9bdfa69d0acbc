"""Owner tools: explicit slash-command sync (never on every start)."""

from __future__ import annotations

from typing import Literal

import discord
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import reply
from cogs.support.context import RaceContext


class AdminCog(commands.Cog, name="Owner"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @commands.command(name="sync", usage="[here|global|clear]")
    @commands.is_owner()
    async def sync(self, ctx: RaceContext, scope: Literal["here", "global", "clear"] = "global") -> None:
        """Publish the slash commands (owners only). `here` syncs this server at once. Example: !sync here"""
        if scope == "global":
            synced = await self.bot.tree.sync()
            await reply(
                ctx, f"Synced {len(synced)} slash commands globally (Discord may take up to an hour)."
            )
            return
        if ctx.guild is None:
            await reply(ctx, "`here` and `clear` work in a server. Example: `!sync here`")
            return
        guild = discord.Object(id=ctx.guild.id)
        if scope == "clear":
            self.bot.tree.clear_commands(guild=guild)
        else:
            self.bot.tree.copy_global_to(guild=guild)
        synced = await self.bot.tree.sync(guild=guild)
        await reply(ctx, f"Synced {len(synced)} slash commands to this server.")


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(AdminCog(bot))

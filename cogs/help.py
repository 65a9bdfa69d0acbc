"""`help` and `help <command>`: every command the bot has, grouped, one example each.

Generated from the loaded commands, so commands other cogs add (the desk's) appear
without changes here. Commands a member cannot run are listed apart, by name.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot import RaceBot
from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UserFacingError
from render.format import escape
from render.help import command_embed, overview_embed
from render.limits import clip


async def command_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    bot: RaceBot = interaction.client
    typed = current.lower().strip()
    names = sorted(c.qualified_name for c in bot.walk_commands() if not c.hidden)
    return [app_commands.Choice(name=n, value=n) for n in names if typed in n][:25]


class HelpCog(commands.Cog, name="Help"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot
        self._default_help = bot.help_command
        bot.help_command = None  # this command replaces discord.py's

    async def cog_unload(self) -> None:
        self.bot.help_command = self._default_help

    @hybrid_command(
        name="help",
        aliases=["commands"],
        usage="[command]",
        description="What racedesk can do, one example per command",
    )
    @app_commands.describe(command="A command to explain, e.g. polls")
    @app_commands.autocomplete(command=command_autocomplete)
    async def help(self, ctx: RaceContext, *, command: str | None = None) -> None:
        """Every command with one example; `help <command>` explains one. Example: !help polls"""
        prefix = ctx.shown_prefix
        if command and command.strip():
            await self.explain(ctx, command.strip().lstrip("!/").lower(), prefix)
            return
        usable: list[commands.Command[Any, ..., Any]] = []
        restricted: list[commands.Command[Any, ..., Any]] = []
        for cmd in sorted(self.bot.commands, key=lambda c: c.qualified_name):
            if cmd.hidden:
                continue
            (usable if await self.can_run(ctx, cmd) else restricted).append(cmd)
        await reply(ctx, embed=overview_embed(usable, restricted, prefix))

    async def can_run(self, ctx: RaceContext, command: commands.Command[Any, ..., Any]) -> bool:
        try:
            return await command.can_run(ctx)
        except commands.CommandError:
            return False

    async def explain(self, ctx: RaceContext, name: str, prefix: str) -> None:
        found = self.bot.get_command(name)
        if found is None or found.hidden:
            names = [c.qualified_name for c in self.bot.walk_commands() if not c.hidden]
            close = process.extractOne(name[:40], names, scorer=OSA.normalized_similarity, score_cutoff=0.5)
            hint = f" Did you mean `{prefix}help {close[0]}`?" if close else ""
            raise UserFacingError(
                f"No command `{escape(clip(name, 40))}`.{hint} `{prefix}help` lists them all."
            )
        await reply(ctx, embed=command_embed(found, prefix, await self.can_run(ctx, found)))


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(HelpCog(bot))

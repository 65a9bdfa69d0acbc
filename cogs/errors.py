"""The one error handler: short replies for wrong input, a reference id for the unexpected."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot import RaceBot
from cogs.support.common import reply
from cogs.support.context import RaceContext
from cogs.support.errors import STORE_SLOW, UsageError, UserFacingError
from db.pgread import ReadTooSlow
from render.format import escape
from render.help import declared_example

log = logging.getLogger("racedesk.errors")
WRAPPERS = (commands.CommandInvokeError, commands.HybridCommandError, app_commands.CommandInvokeError)


def usage_of(ctx: RaceContext) -> str:
    command = ctx.command
    if command is None:
        return ""
    return f"{ctx.shown_prefix}{command.qualified_name} {command.signature}".strip()


def example_of(ctx: RaceContext) -> str:
    """The command's example ("!race alabama"), as help shows it; "" if it has none."""
    return (declared_example(ctx.command, ctx.shown_prefix) if ctx.command else None) or ""


class ErrorsCog(commands.Cog):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot
        self._default_tree_handler = bot.tree.on_error
        bot.tree.error(self.on_app_command_error)

    async def cog_unload(self) -> None:
        setattr(self.bot.tree, "on_error", self._default_tree_handler)  # noqa: B010  (mypy forbids assigning a method)

    @commands.Cog.listener()
    async def on_command_error(self, ctx: RaceContext, error: commands.CommandError) -> None:
        cause: BaseException = error
        while isinstance(cause, WRAPPERS):  # a slash call of a hybrid command wraps it twice
            cause = cause.original
        text, embed = self.describe(ctx, cause)
        if text is None and embed is None:
            return
        try:
            await reply(ctx, text, embed=embed)
        except discord.HTTPException:
            log.warning("could not send the error reply in channel %s", ctx.channel.id)

    def describe(self, ctx: RaceContext, error: BaseException) -> tuple[str | None, discord.Embed | None]:
        if isinstance(error, UsageError):
            return (error.text if error.example else error.reply(usage_of(ctx), example_of(ctx))), None
        if isinstance(error, UserFacingError):
            return error.text if error.embed is None else None, error.embed
        if isinstance(error, commands.CommandNotFound):
            return self.unknown_command(ctx), None
        if isinstance(error, commands.UserInputError):
            example = example_of(ctx)
            detail = (
                str(error)
                if not isinstance(error, commands.MissingRequiredArgument)
                else f"Missing `{error.param.name}`."
            )
            text = f"{detail}\nUsage: `{usage_of(ctx)}`"
            return (text + (f"\nExample: `{example}`" if example else "")), None
        if isinstance(error, commands.NotOwner):
            return "Only the bot's owners can do that.", None
        if isinstance(error, commands.NoPrivateMessage):
            return "That works in a server, not in DMs.", None
        if isinstance(error, commands.CommandOnCooldown):
            return f"Slow down: try again in {error.retry_after:.0f}s.", None
        if isinstance(error, commands.CheckFailure):
            return str(error) or "You can't use that command here.", None
        if isinstance(error, ReadTooSlow):
            log.warning("%s: %r", error, ctx.message.content[:200])
            return STORE_SLOW, None
        ref = secrets.token_hex(3)
        log.error("unexpected error (ref %s) in %r", ref, ctx.message.content[:200], exc_info=error)
        return f"Something went wrong (ref {ref}). The desk has been told.", None

    def unknown_command(self, ctx: RaceContext) -> str:
        typed = (ctx.invoked_with or "")[:40]
        prefix = ctx.shown_prefix
        names = [c.name for c in self.bot.commands if not c.hidden]
        close = process.extractOne(typed.lower(), names, scorer=OSA.normalized_similarity, score_cutoff=0.6)
        hint = f" Did you mean `{prefix}{close[0]}`?" if close else ""
        return f"Unknown command `{prefix}{escape(typed)}`.{hint} Try `{prefix}help` for the list."

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        # Hybrid commands report through on_command_error; this catches pure app commands.
        original = getattr(error, "original", error)
        if isinstance(original, UserFacingError):
            text, embed = (original.text if original.embed is None else None), original.embed
        elif isinstance(original, ReadTooSlow):
            log.warning("%s: /%s", original, interaction.command and interaction.command.name)
            text, embed = STORE_SLOW, None
        else:
            ref = secrets.token_hex(3)
            log.error(
                "unexpected error (ref %s) in /%s",
                ref,
                interaction.command and interaction.command.name,
                exc_info=original,
            )
            text, embed = f"Something went wrong (ref {ref}).", None
        send = (
            interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
        )
        kwargs: dict[str, Any] = {"ephemeral": True, "allowed_mentions": discord.AllowedMentions.none()}
        if embed is not None:
            kwargs["embed"] = embed
        await send(text or "", **kwargs)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ErrorsCog(bot))

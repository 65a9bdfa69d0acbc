"""What every cog shares: user-facing errors, race resolution, autocomplete and safe replies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from cogs.support.context import RaceContext
from cogs.support.errors import UsageError, UserFacingError
from db.lookup import RaceMatches
from db.models import Race
from render.limits import fit_message
from render.race import matches_embed, no_match_text, race_title

if TYPE_CHECKING:
    from bot import RaceBot


CommandCallback = Callable[..., Coroutine[Any, Any, None]]


def hybrid_command(**attrs: Any) -> Callable[[CommandCallback], commands.HybridCommand[Any, ..., None]]:
    """`commands.hybrid_command`, typed so mypy accepts cog methods (discord.py's hints defeat it)."""
    decorator: Any = commands.hybrid_command(**attrs)
    return cast(Callable[[CommandCallback], commands.HybridCommand[Any, ..., None]], decorator)


async def reply(
    ctx: RaceContext,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    **kwargs: Any,
) -> discord.Message:
    """Send within Discord's limits; mentions never ping (the bot default is AllowedMentions.none())."""
    content, fitted = fit_message(content, ([embed] if embed else []) + (embeds or []))
    return await ctx.send(
        content=content, embeds=fitted, allowed_mentions=discord.AllowedMentions.none(), **kwargs
    )


async def resolve_race(ctx: RaceContext, query: str | None, command: str) -> Race:
    """The one race a query names, or a UserFacingError that lists the choices or suggestions."""
    prefix = ctx.shown_prefix
    if not query or not query.strip():
        raise UsageError("Which race? Name a state, a candidate or a year.", f"{prefix}{command} alabama")
    return race_from_matches(await ctx.bot.store.find_races(query), prefix, command)


def race_from_matches(matches: RaceMatches, prefix: str, command: str) -> Race:
    if matches.chosen is not None:
        return matches.chosen
    if matches.races:
        raise UserFacingError(
            f"Several races match '{matches.query.text}'.", embed=matches_embed(matches, prefix, command)
        )
    raise UserFacingError(no_match_text(matches, prefix, command))


async def race_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    bot: RaceBot = interaction.client
    if not current.strip():
        return []
    matches = await bot.store.find_races(current, limit=25)
    return [
        app_commands.Choice(name=race_title(r)[:100], value=matches.hint(r)[:100]) for r in matches.found[:25]
    ]


def hybrid_group(**attrs: Any) -> Callable[[CommandCallback], commands.HybridGroup[Any, ..., None]]:
    """`commands.hybrid_group`, typed like `hybrid_command` above."""
    decorator: Any = commands.hybrid_group(**attrs)
    return cast(Callable[[CommandCallback], commands.HybridGroup[Any, ..., None]], decorator)


def hybrid_subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[CommandCallback], commands.HybridCommand[Any, ..., None]]:
    """`group.command(...)` for a hybrid group, typed like `hybrid_command` above."""
    decorator: Any = group.command(**attrs)
    return cast(Callable[[CommandCallback], commands.HybridCommand[Any, ..., None]], decorator)

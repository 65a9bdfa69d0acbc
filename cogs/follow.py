"""`follow`, `unfollow`, `following`: a member follows races; the desk's updates to them come by DM."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import (
    UserFacingError,
    hybrid_command,
    race_autocomplete,
    reply,
    resolve_race,
)
from cogs.support.context import RaceContext
from db.follows import FOLLOW_LIMIT, Followed, followed_races
from db.follows import follow as add_follow
from db.follows import unfollow as remove_follows
from render.format import escape
from render.limits import clip, clip_lines
from render.race import race_hint, race_title


async def followed_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The races this member follows, narrowed by what they typed; then any race."""
    bot: RaceBot = interaction.client
    async with bot.sessions() as session:
        follows = await followed_races(session, interaction.user.id)
    typed = current.lower().strip()
    mine = [
        app_commands.Choice(name=clip(race_title(f.race), 100), value=clip(race_hint(f.race), 100))
        for f in follows
        if not typed or typed in race_title(f.race).lower() or typed in race_hint(f.race)
    ]
    if len(mine) < 25 and typed:
        mine += [
            c for c in await race_autocomplete(interaction, current) if c.value not in {m.value for m in mine}
        ]
    return mine[:25]


class FollowCog(commands.Cog, name="Follows"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        name="follow",
        usage="<race>",
        description="Follow a race: the desk's results, calls and new polls for it reach you by DM",
    )
    @app_commands.describe(query="The race: a state, candidate or year, e.g. alabama, georgia special")
    @app_commands.autocomplete(query=race_autocomplete)
    async def follow(self, ctx: RaceContext, *, query: str | None = None) -> None:
        """Follow a race: the desk's updates to it (results, calls, new polls) reach you by direct message.
        Up to 25 races. Example: !follow alabama"""
        prefix = ctx.shown_prefix
        race = await resolve_race(ctx, query, "follow")
        hint = race_hint(race)
        async with self.bot.sessions.begin() as session:
            outcome = await add_follow(session, ctx.actor, ctx.author.id, race.id)
        title = escape(race_title(race))
        stop = f"To stop: `{prefix}unfollow {hint}`. Your list: `{prefix}following`."
        if outcome.result == Followed.FULL:
            raise UserFacingError(
                f"You follow {outcome.count} races, the most one member can. Stop following one first: "
                f"`{prefix}unfollow <race>` (your list: `{prefix}following`)."
            )
        if outcome.result == Followed.ALREADY:
            await reply(ctx, f"You already follow the **{title}**. {stop}", ephemeral=True)
            return
        await reply(
            ctx,
            f"You now follow the **{title}** ({outcome.count} of {FOLLOW_LIMIT}). The desk's updates to it "
            "(results, calls, new polls) will reach you by direct message; if your DMs are closed, they are "
            f"dropped, not retried. {stop}",
            ephemeral=True,
        )

    @hybrid_command(
        name="unfollow", usage="<race | all>", description="Stop following a race (or all of them)"
    )
    @app_commands.describe(query="A race you follow, or 'all'")
    @app_commands.autocomplete(query=followed_autocomplete)
    async def unfollow(self, ctx: RaceContext, *, query: str | None = None) -> None:
        """Stop following a race, or every race with `all`: no more DMs for it. Example: !unfollow alabama"""
        prefix = ctx.shown_prefix
        if query is not None and query.strip().lower() == "all":
            async with self.bot.sessions.begin() as session:
                removed = await remove_follows(session, ctx.actor, ctx.author.id, None)
            text = (
                f"You no longer follow any race ({removed} removed)." if removed else "You follow no races."
            )
            await reply(ctx, text, ephemeral=True)
            return
        race = await resolve_race(ctx, query, "unfollow")
        async with self.bot.sessions.begin() as session:
            removed = await remove_follows(session, ctx.actor, ctx.author.id, race.id)
        title = escape(race_title(race))
        if not removed:
            await reply(
                ctx, f"You don't follow the **{title}**. Your list: `{prefix}following`.", ephemeral=True
            )
            return
        await reply(
            ctx,
            f"You no longer follow the **{title}**: no more DMs for it. Follow again: `{prefix}follow {race_hint(race)}`.",
            ephemeral=True,
        )

    @hybrid_command(name="following", aliases=["follows"], description="The races you follow")
    async def following(self, ctx: RaceContext) -> None:
        """The races you follow, each with how to stop. Example: !following"""
        prefix = ctx.shown_prefix
        async with self.bot.sessions() as session:
            follows = await followed_races(session, ctx.author.id)
        if not follows:
            await reply(ctx, f"You follow no races. Follow one: `{prefix}follow alabama`.", ephemeral=True)
            return
        lines = [f"**{escape(race_title(f.race))}**: `{prefix}unfollow {race_hint(f.race)}`" for f in follows]
        embed = discord.Embed(
            title=f"You follow {len(follows)} race{'s' if len(follows) != 1 else ''} (of {FOLLOW_LIMIT})",
            description=clip_lines(lines, 4000),
            colour=discord.Colour.from_rgb(44, 95, 170),
        )
        embed.set_footer(
            text=f"The desk's updates to these reach you by DM. Stop them all: {prefix}unfollow all"
        )
        await reply(ctx, embed=embed, ephemeral=True)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(FollowCog(bot))

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
from db.follows import Followed
from db.lookup import race_hint
from render import follow as replies
from render.race import race_title


async def followed_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The races this member follows, narrowed by what they typed; then any race."""
    bot: RaceBot = interaction.client
    follows = await bot.store.followed_races(interaction.user.id)
    typed = current.lower().strip()
    mine = [
        app_commands.Choice(name=replies.choice_name(f.race), value=replies.choice_value(f.race))
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
        outcome = await self.bot.store.follow(ctx.actor, ctx.author.id, race.id)
        if outcome.result == Followed.FULL:
            raise UserFacingError(replies.follow_full_text(outcome, prefix))
        if outcome.result == Followed.ALREADY:
            await reply(ctx, replies.already_following_text(race, prefix), ephemeral=True)
            return
        await reply(ctx, replies.followed_text(race, outcome, prefix), ephemeral=True)

    @hybrid_command(
        name="unfollow", usage="<race | all>", description="Stop following a race (or all of them)"
    )
    @app_commands.describe(query="A race you follow, or 'all'")
    @app_commands.autocomplete(query=followed_autocomplete)
    async def unfollow(self, ctx: RaceContext, *, query: str | None = None) -> None:
        """Stop following a race, or every race with `all`: no more DMs for it. Example: !unfollow alabama"""
        prefix = ctx.shown_prefix
        if query is not None and query.strip().lower() == "all":
            removed = await self.bot.store.unfollow(ctx.actor, ctx.author.id, None)
            await reply(ctx, replies.unfollowed_all_text(removed), ephemeral=True)
            return
        race = await resolve_race(ctx, query, "unfollow")
        removed = await self.bot.store.unfollow(ctx.actor, ctx.author.id, race.id)
        if not removed:
            await reply(ctx, replies.not_following_text(race, prefix), ephemeral=True)
            return
        await reply(ctx, replies.unfollowed_text(race, prefix), ephemeral=True)

    @hybrid_command(name="following", aliases=["follows"], description="The races you follow")
    async def following(self, ctx: RaceContext) -> None:
        """The races you follow, each with how to stop. Example: !following"""
        prefix = ctx.shown_prefix
        follows = await self.bot.store.followed_races(ctx.author.id)
        if not follows:
            await reply(ctx, replies.no_follows_text(prefix), ephemeral=True)
            return
        await reply(ctx, embed=replies.following_embed(follows, prefix), ephemeral=True)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(FollowCog(bot))

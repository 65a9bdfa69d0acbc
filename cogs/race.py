"""`race`: the race card."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.president import answer_presidency
from cogs.support.common import hybrid_command, race_autocomplete, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.errors import UserFacingError
from db.lookup import asks_for_presidency
from render.race import race_embed


class RaceCog(commands.Cog, name="Races"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(name="race", usage="<state, candidate or year>")
    @app_commands.describe(
        query="A state, candidate, office or year, e.g. alabama, AL-02, tuberville, georgia special"
    )
    @app_commands.autocomplete(query=race_autocomplete)
    async def race(self, ctx: RaceContext, *, query: str | None = None) -> None:
        """Show a race: its stages, candidates, latest poll and average, endorsements. Example: !race alabama"""
        national = asks_for_presidency(query or "")
        if national is not None:  # `race president 2020`: the whole country
            await answer_presidency(ctx, national, "president")
            return
        found = await resolve_race(ctx, query, "race")
        card = await self.bot.store.race_card(found.id)
        if card is None:  # deleted between the lookup and now
            raise UserFacingError("That race was just removed. Try again.")
        await reply(ctx, embed=race_embed(card))


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(RaceCog(bot))

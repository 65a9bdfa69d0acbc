"""`results`: a stage's latest count, the leader and margin, how much is counted, the call; `history`."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import hybrid_command, race_autocomplete, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError
from cogs.support.parsing import split_results_query
from db.lookup import race_hint
from db.models import Stage
from db.reads.races import ContestView
from db.reads.results import choose_contests
from db.vocabulary import ANY_RUNOFF, PARTY_SHORT, stages_meant
from render.limits import EMBED_TOTAL
from render.race import race_title
from render.results import history_embed, missing_stage_text, no_stages_text, results_embed

STAGES_SHOWN = 4
STAGE_OPTIONS: dict[str, tuple[str, ...]] = {"latest": ()} | {
    said: stages_meant(said)
    for said in (Stage.PRIMARY, ANY_RUNOFF, Stage.PRIMARY_RUNOFF, Stage.GENERAL, Stage.GENERAL_RUNOFF)
}


def stage_words(view: ContestView) -> str:
    """Words that ask `results` for exactly this stage: "gop primary", "general runoff"."""
    words = view.contest.stage
    party = PARTY_SHORT.get(view.contest.party or "")
    return (
        f"{party} {words}" if party and view.contest.stage in (Stage.PRIMARY, Stage.PRIMARY_RUNOFF) else words
    )


class ResultsCog(commands.Cog, name="Results"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        name="results",
        aliases=["count"],
        usage="<race> [primary|runoff|general] [history]",
        description="The latest count of a race: votes, shares, margin, how much is counted, the call",
    )
    @app_commands.describe(
        query="The race: a state, candidate or year, e.g. alabama, georgia special",
        stage="Which stage (default: the most recent one with a count)",
        history="Show how the count moved, update by update",
    )
    @app_commands.choices(stage=[app_commands.Choice(name=k, value=k) for k in STAGE_OPTIONS])
    @app_commands.autocomplete(query=race_autocomplete)
    async def results(
        self,
        ctx: RaceContext,
        *,
        query: str | None = None,
        stage: str | None = None,
        history: bool = False,
    ) -> None:
        """The latest count per candidate (votes and share), the leader and margin, how much is counted,
        when it was updated and the call with its source. Name a stage (primary, runoff, general) or add
        `history` to see how the count moved. Example: !results alabama"""
        prefix = ctx.shown_prefix
        asked = split_results_query(query or "")
        if stage:
            asked.stage = stage if stage in STAGE_OPTIONS and stage != "latest" else None
            asked.stages = STAGE_OPTIONS.get(stage, ())
        race = await resolve_race(ctx, asked.race_text, "results")
        hint = race_hint(race)
        found = await self.bot.store.race_results(race.id)
        title = race_title(race)
        if found is None or not found.views:
            await reply(ctx, no_stages_text(title))
            return
        views = choose_contests(found.views, asked.stages, asked.party)
        if not views:
            said = asked.stage or "that"
            raise UsageError(
                missing_stage_text(title, said, found.views, for_party=bool(asked.party)),
                f"{prefix}results {hint} {stage_words(found.views[-1])}",
            )
        views = views[:STAGES_SHOWN]
        if history or asked.history:
            histories = [await self.bot.store.count_history(v) for v in views]
            await reply(ctx, embeds=[history_embed(title, h) for h in histories])
            return
        budget = EMBED_TOTAL // len(views)
        embeds = [
            results_embed(title, v, f"{prefix}results {hint} {stage_words(v)} history", budget=budget)
            for v in views
        ]
        await reply(ctx, embeds=embeds)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ResultsCog(bot))

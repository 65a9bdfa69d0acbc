"""`polls`: a race's polls, newest first, with the average per match-up, filters, pages and a chart."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections import OrderedDict
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.chart_worker import ChartJob, ChartWorker
from cogs.support.common import hybrid_command, race_autocomplete, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.dates import parse_when
from cogs.support.errors import UsageError
from cogs.support.paging import (
    KEY_AND_PREFIX,
    Paged,
    Shown,
    checked_id,
    enable_paging,
    gone,
    not_yours,
    page_buttons,
    page_source,
    say_privately,
)
from cogs.support.parsing import (
    split_poll_query,
    split_results_query,
)
from db.lookup import race_hint
from db.models import Race
from db.reads.polls import PollFilter, PollPage
from db.reads.rows import RaceLike
from db.vocabulary import POPULATION_NAME
from render.chart import ChartResult
from render.format import escape, stage_title
from render.polls import chart_embed, chart_filename, describe_filter, no_polls_text, poll_credit, polls_embed
from render.race import race_title

log = logging.getLogger(__name__)

CHARTS_KEPT = 32


class PollsCog(commands.Cog, name="Polls"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot
        self.charts = ChartWorker()
        self._drawn: OrderedDict[tuple[object, ...], ChartResult | None] = OrderedDict()

    async def cog_unload(self) -> None:
        self.charts.close()

    @hybrid_command(
        name="polls",
        usage="<race> [lv|rv|adults] [since <date>] [runoff|general|primary] [page <n>] [chart]",
        description="A race's polls, newest first, with the polling average (and a chart)",
    )
    @app_commands.describe(
        query="The race: a state, candidate or year, e.g. alabama, georgia special",
        population="Only polls of this population",
        since="Only polls that ended on or after this date, e.g. june, 2020-06-01",
        page="Which page of polls (5 a page)",
        chart="Draw each candidate's share over time instead of the list",
    )
    @app_commands.choices(
        population=[
            app_commands.Choice(name=f"{label} ({code.upper()})", value=str(code))
            for code, label in POPULATION_NAME.items()
        ]
    )
    @app_commands.autocomplete(query=race_autocomplete)
    async def polls(
        self,
        ctx: RaceContext,
        *,
        query: str | None = None,
        population: str | None = None,
        since: str | None = None,
        page: app_commands.Range[int, 1, 10_000] | None = None,
        chart: bool = False,
    ) -> None:
        """A race's polls, newest first: pollster, dates, sample, each answer's share and the leader's margin,
        with the average of each match-up. Narrow with lv/rv/adults, `since <date>` or a stage; `page 2`
        turns the page; `chart` draws the shares over time. Example: !polls alabama"""
        prefix = ctx.shown_prefix
        try:
            asked = split_poll_query(query or "")
            stages = split_results_query(asked.race_text, history=False)
        except UsageError as problem:
            raise problem.with_example(f"{prefix}polls alabama lv since june page 2") from None
        race = await resolve_race(ctx, stages.race_text, "polls")
        hint = race_hint(race)
        since_text = since or asked.since_text
        since_day: dt.date | None = None
        if since_text:
            try:
                since_day = parse_when(since_text, dt.date.today(), default_year=race.cycle).start
            except UsageError as problem:
                raise problem.with_example(f"{prefix}polls {hint} since june {race.cycle}") from None
        stage = party = None
        if stages.stages:
            contests = await self.bot.store.race_contests(race.id)
            have = [s for s in stages.stages if any(c.stage == s for c in contests.values())]
            if not have:
                raise UsageError(
                    f"The {escape(race_title(race))} has no {stages.stages[0]} stage.",
                    f"{prefix}polls {hint}",
                )
            stage, party = have[0], stages.party
        flt = PollFilter(population or asked.population, since_day, stage, party)
        described = described_filter(flt)
        if chart or asked.chart:
            await ctx.defer()
            await self.send_chart(ctx, race, flt, described)
            return
        wanted = page or asked.page or 1
        first = await self.bot.store.poll_page(race.id, flt, wanted)
        if first.total == 0:
            await reply(ctx, no_polls_text(race_title(race), first, described, prefix, hint))
            return
        if wanted > first.pages:
            raise UsageError(
                f"There {'is' if first.pages == 1 else 'are'} only {first.pages} page{'s' if first.pages > 1 else ''} of polls.",
                f"{prefix}polls {hint} page {first.pages}",
            )
        paged = Paged.asked(ctx, "polls", filter_key(race.id, flt))
        shown = polls_shown(race, flt, first, paged)
        await reply(ctx, embed=shown.embed, view=page_buttons(paged, shown))

    async def chart_message(
        self, race: RaceLike, flt: PollFilter, described: str, prefix: str = "!"
    ) -> tuple[discord.Embed, discord.File | None]:
        contests = await self.bot.store.race_contests(race.id)
        credit = poll_credit(await self.bot.store.poll_sources(race.id))
        job = ChartJob(
            # The worker connects with the bot's engine's URL (options passed beside the URL are not carried).
            self.bot.engine.url.render_as_string(hide_password=False),
            race.id,
            flt,
            race_title(race),
            tuple(sorted((c.id, stage_title(c.stage, c.party)) for c in contests.values())),
            note=described,
            source=credit,
        )
        result = await self.drawn(job)
        hint = race_hint(race)
        embed = chart_embed(race_title(race), hint, result, described, prefix, credit)
        if result is None:
            return embed, None
        return embed, discord.File(io.BytesIO(result.png), filename=chart_filename(hint))

    async def drawn(self, job: ChartJob) -> ChartResult | None:
        """The chart for this race and filter: drawn once, then kept while the data stays the same (the
        read cache hands out a new token whenever a write may have changed it)."""
        token = await self.bot.store.chart_token(job.race_id, job.flt)
        key = (job, token)
        if key in self._drawn:
            self._drawn.move_to_end(key)
            return self._drawn[key]
        result = await self.charts.chart(job, self.bot.store.sessions)
        self._drawn[key] = result
        while len(self._drawn) > CHARTS_KEPT:
            self._drawn.popitem(last=False)
        return result

    async def send_chart(self, ctx: RaceContext, race: Race, flt: PollFilter, described: str) -> None:
        embed, file = await self.chart_message(race, flt, described, ctx.shown_prefix)
        if file is None:
            await reply(ctx, embed=embed)
        else:
            await reply(ctx, embed=embed, file=file)


def filter_key(race_id: int, flt: PollFilter) -> str:
    """A race and a filter as a button's id carries them: `12.lv.737972.general.` (see `read_filter_key`)."""
    since = str(flt.since.toordinal()) if flt.since else ""
    return ".".join((str(race_id), flt.population or "", since, flt.stage or "", flt.party or ""))


def read_filter_key(key: str) -> tuple[int, PollFilter]:
    race_id, population, since, stage, party = key.split(".")
    day = dt.date.fromordinal(int(since)) if since else None
    return int(race_id), PollFilter(population or None, day, stage or None, party or None)


def described_filter(flt: PollFilter) -> str:
    return describe_filter(flt, POPULATION_NAME.get(flt.population or ""))


def polls_shown(race: RaceLike, flt: PollFilter, page: PollPage, paged: Paged) -> Shown:
    """A page of a race's polls, with the chart button: the reply's first page and every turn of it."""
    chart = discord.ui.Button[Any](
        label="📈 Chart",
        style=discord.ButtonStyle.primary,
        custom_id=chart_button_id(paged.owner_id, paged.key, paged.prefix),
    )
    return Shown(
        polls_embed(race_title(race), page, described_filter(flt)),
        page.page,
        page.pages,
        again=f"{paged.prefix}polls {race_hint(race)}",
        extra=(chart,),
    )


@page_source("polls")
async def polls_page(bot: RaceBot, paged: Paged, page: int) -> Shown | None:
    race_id, flt = read_filter_key(paged.key)
    card = await bot.store.race_card(race_id)
    if card is None:
        return None
    first = await bot.store.poll_page(race_id, flt, page)
    if first.total == 0:
        return None
    if page > first.pages:  # fewer polls since: the last page
        first = await bot.store.poll_page(race_id, flt, first.pages)
    return polls_shown(card.race, flt, first, paged)


CHART_ID = re.compile(r"rd:ch:(?P<owner>\d{1,20}):" + KEY_AND_PREFIX)


def chart_button_id(owner_id: int, key: str, prefix: str) -> str:
    return checked_id(CHART_ID, f"rd:ch:{owner_id}:{key}:{prefix}", key=key, prefix=prefix)


class ChartButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CHART_ID):
    """A click on a polls reply's Chart button: the chart, posted in the channel."""

    def __init__(self, owner_id: int, key: str, prefix: str) -> None:
        super().__init__(discord.ui.Button(custom_id=chart_button_id(owner_id, key, prefix)))
        self.owner_id, self.key, self.prefix = owner_id, key, prefix

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChartButton:
        return cls(int(match["owner"]), match["key"], match["prefix"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.post_chart(interaction)
        except Exception:
            log.exception("the chart button failed for %s", self.key)
            await say_privately(interaction, "Something went wrong drawing the chart. Ask again.")

    async def post_chart(self, interaction: discord.Interaction[Any]) -> None:
        bot: RaceBot = interaction.client
        race_id, flt = read_filter_key(self.key)
        card = await bot.store.race_card(race_id)
        cog = bot.get_cog("Polls")
        if card is None or not isinstance(cog, PollsCog):
            await gone(interaction, self.owner_id)
            return
        if interaction.user.id != self.owner_id:
            await say_privately(interaction, not_yours(f"{self.prefix}polls {race_hint(card.race)}"))
            return
        await interaction.response.defer(thinking=True)
        embed, file = await cog.chart_message(card.race, flt, described_filter(flt), self.prefix)
        none = discord.AllowedMentions.none()
        if file is None:
            await interaction.followup.send(embed=embed, allowed_mentions=none)
        else:
            await interaction.followup.send(embed=embed, file=file, allowed_mentions=none)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(PollsCog(bot))
    enable_paging(bot)
    bot.add_dynamic_items(ChartButton)

"""`calendar`: the stages voting on a day or in a range ("today", "next tuesday", "november 2020")."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.dates import DATE_EXAMPLES, parse_when
from cogs.support.errors import UsageError
from cogs.support.paging import Pager
from cogs.support.parsing import split_page
from render.calendar import calendar_pages, empty_calendar_text

# "Today" is the day in the eastern United States, where election days end last but one (the
# Pacific and Alaska close later, but a day's contests are listed by their own date).
HOME = zoneinfo.ZoneInfo("America/New_York")
DEFAULT_DAYS = 30


def today() -> dt.date:
    return dt.datetime.now(HOME).date()


class CalendarCog(commands.Cog, name="Calendar"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot
        self.today: Callable[[], dt.date] = today  # tests set the day

    @hybrid_command(
        name="calendar",
        aliases=["cal", "schedule"],
        usage="[when] [page <n>]",
        description="What votes on a day or in a range: today, next tuesday, july 14 2020, november 2020",
    )
    @app_commands.describe(
        when="A day or range: today, next tuesday, july 14 2020, 2020-07-14, november 2020, this week",
        page="Which page, when there are many",
    )
    async def calendar(
        self,
        ctx: RaceContext,
        *,
        when: str | None = None,
        page: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        """The stages voting on a day or in a range, each with its race, stage and party. Dates: today,
        next tuesday, july 14 2020, 2020-07-14, november 2020, this week (no date: the next 30 days).
        Example: !calendar july 14 2020"""
        prefix = ctx.shown_prefix
        examples = ", ".join(f"`{prefix}calendar {e}`" for e in DATE_EXAMPLES)
        try:
            text, typed_page = split_page(when or "")
            span = parse_when(text if text.strip() else f"next {DEFAULT_DAYS} days", self.today())
        except UsageError as problem:
            raise UsageError(f"{problem.problem} Try {examples}.", f"{prefix}calendar july 14 2020") from None
        wanted = page or typed_page or 1
        found = await self.bot.store.calendar(span.start, span.end)
        if not found.entries:
            await reply(ctx, empty_calendar_text(found, span.in_sentence, prefix))
            return
        pages = calendar_pages(found, span.label)
        if wanted > len(pages):
            raise UsageError(
                f"There {'is' if len(pages) == 1 else 'are'} only {len(pages)} page{'s' if len(pages) > 1 else ''}.",
                f"{prefix}calendar {text.strip()} page {len(pages)}",
            )

        async def render(n: int) -> discord.Embed:
            return pages[n - 1]

        view = Pager(
            ctx.author.id, wanted, len(pages), render, again=f"{prefix}calendar {text.strip()}".strip()
        )
        if view.useful:
            view.message = await reply(ctx, embed=pages[wanted - 1], view=view)
        else:
            await reply(ctx, embed=pages[wanted - 1])


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(CalendarCog(bot))

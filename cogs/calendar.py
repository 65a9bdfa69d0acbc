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
from cogs.support.dates import DATE_EXAMPLES, DateSpan, parse_when
from cogs.support.errors import UsageError
from cogs.support.paging import Paged, Shown, enable_paging, page_buttons, page_source
from cogs.support.parsing import split_page
from render.calendar import calendar_pages, empty_calendar_text

# "Today" is the day in the eastern United States, where election days end last but one (the
# Pacific and Alaska close later, but a day's contests are listed by their own date).
HOME = zoneinfo.ZoneInfo("America/New_York")
DEFAULT_DAYS = 30
SPAN_WORDS_KEPT = 30  # characters of the member's words a page button's id carries


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
            asked = self.today()
            text, typed_page = split_page(when or "")
            span = parse_when(text if text.strip() else f"next {DEFAULT_DAYS} days", asked)
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

        paged = Paged.asked(ctx, "calendar", span_key(asked, text, span))
        shown = calendar_shown(pages, wanted, paged, text)
        await reply(ctx, embed=shown.embed, view=page_buttons(paged, shown))


def span_key(asked: dt.date, text: str, span: DateSpan) -> str:
    """The day asked and the words, as a button's id carries them: `739585.next tuesday`. Words too long
    for an id are carried as the span's own dates, which read back to the same days."""
    words = " ".join(text.split())
    if len(words) > SPAN_WORDS_KEPT or ":" in words:
        words = f"{span.start.isoformat()} to {span.end.isoformat()}"
    return f"{asked.toordinal()}.{words}"


def calendar_shown(pages: list[discord.Embed], page: int, paged: Paged, text: str) -> Shown:
    return Shown.of_pages(pages, page, again=f"{paged.prefix}calendar {text.strip()}".strip())


@page_source("calendar")
async def calendar_page(bot: RaceBot, paged: Paged, page: int) -> Shown | None:
    asked, _, text = paged.key.partition(".")
    span = parse_when(text or f"next {DEFAULT_DAYS} days", dt.date.fromordinal(int(asked)))
    found = await bot.store.calendar(span.start, span.end)
    if not found.entries:
        return None
    return calendar_shown(calendar_pages(found, span.label), page, paged, text)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(CalendarCog(bot))
    enable_paging(bot)

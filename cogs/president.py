"""`president`: the national picture of a presidential election (also `!race president 2020`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError, UserFacingError
from cogs.support.paging import Paged, Shown, enable_paging, page_buttons, page_source
from cogs.support.parsing import split_page
from db.models import NATIONAL
from db.reads.president import Presidency
from render.format import escape
from render.limits import clip
from render.president import no_presidency_text, pages, presidency_embed
from render.race import race_embed

if TYPE_CHECKING:
    from bot import RaceBot


def read_cycle(text: str) -> int | None:
    """ "2020" or "'20" -> 2020; "" -> None (the newest); anything else is not a year."""
    typed = text.strip().lstrip("'\u2019")
    if not typed:
        return None
    if not typed.isdigit() or len(typed) not in (2, 4):
        raise ValueError(text)
    return int(typed) + (2000 if len(typed) == 2 else 0)


async def answer_presidency(ctx: RaceContext, text: str, command: str = "president") -> None:
    """Reply with the national picture of the year `text` names (the newest when it names none)."""
    bot: RaceBot = ctx.bot
    prefix = ctx.shown_prefix
    cycles = await bot.store.president_cycles()
    example = f"{prefix}{command} {cycles[0] if cycles else 2020}"
    try:
        rest, page = split_page(text)
    except UsageError as problem:
        raise problem.with_example(f"{example} page 2") from None
    try:
        year = read_cycle(rest)
    except ValueError:
        raise UsageError(f"'{escape(clip(rest, 40))}' is not an election year.", example) from None
    if not cycles:
        await reply(ctx, no_presidency_text())
        return
    year = year or cycles[0]
    found = await bot.store.presidency(year) if year in cycles else None
    if found is None:
        await answer_national_race(ctx, year, page, cycles, example)
        return
    total = pages(found)
    wanted = page or 1
    if wanted > total:
        raise UsageError(
            f"There {'is' if total == 1 else 'are'} only {total} page{'s' if total > 1 else ''}.",
            f"{prefix}{command} {year} page {total}",
        )

    paged = Paged.asked(ctx, "president", str(year))
    shown = presidency_shown(found, wanted, paged)
    await reply(ctx, embed=shown.embed, view=page_buttons(paged, shown))


def presidency_shown(found: Presidency, page: int, paged: Paged) -> Shown:
    shown_page = min(page, pages(found))
    return Shown(
        presidency_embed(found, shown_page, paged.prefix),
        shown_page,
        pages(found),
        again=f"{paged.prefix}president {found.cycle}",
    )


@page_source("president")
async def presidency_page(bot: RaceBot, paged: Paged, page: int) -> Shown | None:
    found = await bot.store.presidency(int(paged.key))
    return None if found is None else presidency_shown(found, page, paged)


async def answer_national_race(
    ctx: RaceContext, year: int, page: int | None, cycles: list[int], example: str
) -> None:
    """A year with no results by state but a national race (one polls made, e.g. 2024): its card."""
    bot: RaceBot = ctx.bot
    matches = await bot.store.find_races(f"united states president {year}")
    national = matches.chosen
    if national is None or national.state != NATIONAL or national.cycle != year:
        have = ", ".join(str(c) for c in cycles[:12])
        raise UsageError(f"racedesk has no presidential election in {year}. It has: {have}.", example)
    if page is not None and page > 1:
        raise UsageError("There is only 1 page.", f"{ctx.shown_prefix}president {year}")
    card = await bot.store.race_card(national.id)
    if card is None:  # deleted between the lookup and now
        raise UserFacingError("That race was just removed. Try again.")
    await reply(ctx, embed=race_embed(card))


class PresidentCog(commands.Cog, name="President"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        name="president",
        aliases=["potus"],
        usage="[year] [page <n>]",
        description="A presidential election: electoral votes, 270 to win, states by margin, popular vote",
    )
    @app_commands.describe(query="The election year and page, e.g. 2020 or 2016 page 2 (default: the newest)")
    async def president(self, ctx: RaceContext, *, query: str | None = None) -> None:
        """A presidential election across the country: the electoral votes won (and cast, where electors
        broke their pledge), 270 to win, Maine's and Nebraska's split by district, the states by margin
        (closest first, a page at a time) and the popular vote. A year with only polls (2024): the national
        race's card. A state's own result: `race pennsylvania president 2020`. Example: !president 2020"""
        await answer_presidency(ctx, query or "", ctx.command.name if ctx.command else "president")


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(PresidentCog(bot))
    enable_paging(bot)

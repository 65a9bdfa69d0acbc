"""`senate`, `house`, `governor`: the balance of power after a cycle's elections."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError
from db.models import Office
from render.balance import CHAMBER_NAME, balance_embed, no_balance_text
from render.format import escape
from render.limits import clip


class BalanceCog(commands.Cog, name="Balance of power"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    async def answer(self, ctx: RaceContext, office: str, cycle: str | None) -> None:
        prefix = ctx.shown_prefix
        command = ctx.command.name if ctx.command else office
        known = await self.bot.store.office_cycles(office)
        cycles = known.cycles
        chamber = CHAMBER_NAME.get(office, office)
        if not cycles:
            await reply(ctx, no_balance_text(chamber))
            return
        # No year: the newest cycle with something counted (a cycle only polled has nothing decided yet).
        newest = known.newest_counted or cycles[0]
        example = f"{prefix}{command} {newest}"
        if cycle is None or not cycle.strip():
            year = newest
        else:
            typed = cycle.strip().lstrip("'")
            if not typed.isdigit() or len(typed) not in (2, 4):
                raise UsageError(f"'{escape(clip(cycle, 40))}' is not an election year.", example)
            year = int(typed) + (2000 if len(typed) == 2 else 0)
        if year not in cycles:
            have = ", ".join(str(c) for c in cycles[:12])
            raise UsageError(f"racedesk has no {chamber} data for {year}. It has: {have}.", example)
        found = await self.bot.store.chamber_balance(office, year)
        if found is None:
            raise UsageError(f"racedesk has no {chamber} data for {year}.", example)
        await reply(ctx, embed=balance_embed(found, prefix))

    @hybrid_command(
        name="senate",
        usage="[cycle]",
        description="Balance of power in the Senate: seats not up, won and leading, what each side needs",
    )
    @app_commands.describe(cycle="The election year, e.g. 2020 (default: the newest with counts)")
    async def senate(self, ctx: RaceContext, cycle: str | None = None) -> None:
        """The Senate after a cycle's elections: seats not up by party (data), seats won or leading as
        results and calls arrive, the net change, and what each side needs for control (the vice
        president breaks a 50–50 tie). Example: !senate 2020"""
        await self.answer(ctx, Office.SENATE, cycle)

    @hybrid_command(
        name="house",
        usage="[cycle]",
        description="Balance of power in the House, where racedesk has House races",
    )
    @app_commands.describe(cycle="The election year, e.g. 2022 (default: the newest with counts)")
    async def house(self, ctx: RaceContext, cycle: str | None = None) -> None:
        """The House after a cycle's elections: its 435 seats (the District of Columbia's delegate has no
        vote), state affiliates such as Minnesota's DFL counted with their national party, seats won or
        leading, and what each side needs for a majority. Example: !house 2022"""
        await self.answer(ctx, Office.HOUSE, cycle)

    @hybrid_command(
        name="governor",
        aliases=["governors"],
        usage="[cycle]",
        description="Governorships won by party in a cycle, where racedesk has them",
    )
    @app_commands.describe(cycle="The election year, e.g. 2020 (default: the newest with counts)")
    async def governor(self, ctx: RaceContext, cycle: str | None = None) -> None:
        """Governorships after a cycle's elections, from the governor races racedesk holds. Example: !governor 2020"""
        await self.answer(ctx, Office.GOVERNOR, cycle)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(BalanceCog(bot))

"""Running a write from a command: one transaction through the bot's store (retried when the database is
busy), a refused write as a clear reply, and a nudge to the announcer once it has committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.support.context import RaceContext
from cogs.support.errors import UserFacingError
from db.writes import Duplicate, WriteError
from render.format import timestamp

if TYPE_CHECKING:
    from bot import RaceBot

T = TypeVar("T")


def refusal(problem: WriteError) -> UserFacingError:
    text = discord.utils.escape_mentions(str(problem))
    if isinstance(problem, Duplicate) and problem.at is not None:
        text += f" (posted {timestamp(problem.at, 'R')})"
    return UserFacingError(text)


async def commit_write(ctx: RaceContext, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction and nudge the announcer; wrong input becomes a reply, nothing written."""
    return await commit(ctx.bot, work)


async def commit(bot: RaceBot, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`commit_write` for a write that no command runs (a button's): the same transaction and nudge."""
    try:
        result = await bot.store.write(work)
    except WriteError as problem:
        raise refusal(problem) from None
    announcer = bot.get_cog("Announcer")
    if announcer is not None:
        announcer.poke()  # type: ignore[attr-defined]
    return result

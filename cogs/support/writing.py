"""Running a desk write from a command: who the actor is, the transaction (retried when the database is
busy), domain errors as clear replies, and a nudge to the announcer once it has committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.support.context import RaceContext
from cogs.support.errors import UserFacingError
from db.writes import Duplicate, WriteError, run_write
from render.format import timestamp

if TYPE_CHECKING:
    pass

T = TypeVar("T")


def refusal(problem: WriteError) -> UserFacingError:
    text = discord.utils.escape_mentions(str(problem))
    if isinstance(problem, Duplicate) and problem.at is not None:
        text += f" (posted {timestamp(problem.at, 'R')})"
    return UserFacingError(text)


async def store(ctx: RaceContext, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction and nudge the announcer; wrong input becomes a reply, nothing written."""
    try:
        result = await run_write(ctx.bot.sessions, work)
    except WriteError as problem:
        raise refusal(problem) from None
    announcer = ctx.bot.get_cog("Announcer")
    if announcer is not None:
        announcer.poke()  # type: ignore[attr-defined]
    return result

"""Who may do what, as checks that work on both the prefix and the slash side of a hybrid command.

Shared data (races, candidates, polls, endorsements, results, calls) is written by
- the bot's owners (OWNER_IDS, and the application's owner), anywhere;
- in a desk server (DESK_GUILD_IDS): members with that server's moderator role, or Manage Server.
Nobody else: an admin or the owner of a server that is not a desk cannot change what everyone reads.

A server's own settings (`config`) belong to its admins: Manage Server, or the server's owner. In a desk
server, its moderators may also set the results channel, ping role and prefix (not the moderator role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord.ext import commands

from cogs.support.context import RaceContext
from cogs.support.errors import STORE_SLOW
from db.pgread import ReadTooSlow

if TYPE_CHECKING:
    from bot import RaceBot

T = TypeVar("T")

NOT_DESK = (
    "Only the election desk can change shared data, and this server is not a desk server. "
    "Its admins can choose where updates are announced here with `config results-channel`."
)
NOT_MODERATOR = "Only desk moderators can change shared data. A server admin can give you the moderator role."
DESK_IN_DMS = "Changing shared data works in a desk server (bot owners can do it anywhere)."
CONFIG_IN_DMS = "Server settings are changed in the server."
NOT_ADMIN = "Only this server's admins (Manage Server) can change its settings."


async def mod_role_id(bot: RaceBot, guild_id: int) -> int | None:
    """The server's moderator role; a read too slow to say is a check that fails with STORE_SLOW (a click's
    check answers it like any refusal)."""
    try:
        settings = await bot.store.guild_settings(guild_id)
    except ReadTooSlow as slow:
        raise commands.CheckFailure(STORE_SLOW) from slow
    return settings.mod_role_id if settings is not None else None


def _member(ctx: RaceContext) -> discord.Member | None:
    author = ctx.author
    return author if isinstance(author, discord.Member) else None


async def is_desk_moderator(ctx: RaceContext) -> bool:
    """A member of a desk server with its moderator role or Manage Server (owners aside)."""
    member = _member(ctx)
    if ctx.guild is None or member is None or ctx.guild.id not in ctx.bot.settings.desk_guild_ids:
        return False
    if member.guild_permissions.manage_guild:
        return True
    role = await mod_role_id(ctx.bot, ctx.guild.id)
    return role is not None and any(r.id == role for r in member.roles)


async def write_refusal(bot: RaceBot, guild: discord.Guild | None, user: discord.abc.User) -> str | None:
    """Why `user` may not change shared data from `guild` now, or None if they may. Commands ask it when
    they run; buttons that write ask it again at the click (the state then, not when the view was made)."""
    if await bot.is_owner(user):
        return None
    if guild is None:
        return DESK_IN_DMS
    if guild.id not in bot.settings.desk_guild_ids:
        return NOT_DESK
    if isinstance(user, discord.Member):
        if user.guild_permissions.manage_guild:
            return None
        role = await mod_role_id(bot, guild.id)
        if role is not None and any(r.id == role for r in user.roles):
            return None
    return NOT_MODERATOR


async def can_write_shared(ctx: RaceContext) -> bool:
    """Raises CheckFailure with the reason when the author may not change shared data."""
    refusal = await write_refusal(ctx.bot, ctx.guild, ctx.author)
    if refusal is not None:
        raise commands.CheckFailure(refusal)
    return True


async def can_configure(ctx: RaceContext, *, roles: bool = False) -> bool:
    """Manage Server or the server's owner; in a desk server also its moderators, unless `roles` (who is a
    moderator stays with the admins)."""
    member = _member(ctx)
    if ctx.guild is None or member is None:
        raise commands.CheckFailure(CONFIG_IN_DMS)
    if member.guild_permissions.manage_guild or ctx.guild.owner_id == member.id:
        return True
    if not roles and await is_desk_moderator(ctx):
        return True
    raise commands.CheckFailure(NOT_ADMIN)


def desk_writer() -> Callable[[T], T]:
    """Decorator: only those who may change shared data run this command (prefix and slash alike)."""

    async def predicate(ctx: RaceContext) -> bool:
        return await can_write_shared(ctx)

    return commands.check(predicate)


def server_admin(*, roles: bool = False) -> Callable[[T], T]:
    """Decorator: only this server's admins (and, for most settings, a desk server's moderators)."""

    async def predicate(ctx: RaceContext) -> bool:
        return await can_configure(ctx, roles=roles)

    return commands.check(predicate)

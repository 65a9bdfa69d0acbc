"""The context every racedesk command runs with: it knows the prefix to show and who is acting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from db.audit import Actor

if TYPE_CHECKING:
    from bot import RaceBot  # noqa: F401  (named in the base class below)


def actor_for(user: discord.abc.User, guild: discord.Guild | None) -> Actor:
    """Who did a write, as the audit records it (also for a button click, which has no context)."""
    return Actor(id=user.id, name=str(user)[:128], guild_id=guild.id if guild else None)


class RaceContext(commands.Context["RaceBot"]):
    @property
    def shown_prefix(self) -> str:
        """The prefix to show in examples: the one the member used, or `/` for slash commands."""
        if self.interaction is not None:
            return "/"
        if self.prefix and self.prefix.startswith("<@"):  # the bot's mention, shown as @name
            return self.clean_prefix
        # (clean_prefix compiles a pattern and looks up the bot's member: asked by every lookup, not needed)
        return self.prefix or "!"

    @property
    def actor(self) -> Actor:
        return actor_for(self.author, self.guild)

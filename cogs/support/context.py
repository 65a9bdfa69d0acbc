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
        return "/" if self.interaction is not None else (self.clean_prefix or "!")

    @property
    def actor(self) -> Actor:
        return actor_for(self.author, self.guild)

"""The replies of `follow`, `unfollow` and `following`: what a member follows and how to stop.

Pure: data in, text or an embed out, within Discord's limits. Race titles are escaped.
"""

from __future__ import annotations

import discord

from db.follows import FOLLOW_LIMIT, FollowOutcome
from db.lookup import race_hint
from db.models import Follow, Race
from render.format import escape
from render.limits import clip, clip_lines, fit_embed
from render.race import race_title

COLOUR = discord.Colour.from_rgb(44, 95, 170)


def choice_name(race: Race) -> str:
    """A race as an autocomplete choice shows it (Discord allows 100 characters)."""
    return clip(race_title(race), 100)


def choice_value(race: Race) -> str:
    """What an autocomplete choice types for a race."""
    return clip(race_hint(race), 100)


def _stop(race: Race, prefix: str) -> str:
    return f"To stop: `{prefix}unfollow {race_hint(race)}`. Your list: `{prefix}following`."


def follow_full_text(outcome: FollowOutcome, prefix: str) -> str:
    """A member who follows as many races as one may asks for another."""
    full = f"You follow {outcome.count} races, the most one member can."
    return f"{full} Stop following one first: `{prefix}unfollow <race>` (your list: `{prefix}following`)."


def already_following_text(race: Race, prefix: str) -> str:
    return f"You already follow the **{escape(race_title(race))}**. {_stop(race, prefix)}"


def followed_text(race: Race, outcome: FollowOutcome, prefix: str) -> str:
    return (
        f"You now follow the **{escape(race_title(race))}** ({outcome.count} of {FOLLOW_LIMIT}). The desk's "
        "updates to it (results, calls, new polls) will reach you by direct message; if your DMs are closed, "
        f"they are dropped, not retried. {_stop(race, prefix)}"
    )


def unfollowed_all_text(removed: int) -> str:
    return f"You no longer follow any race ({removed} removed)." if removed else "You follow no races."


def not_following_text(race: Race, prefix: str) -> str:
    return f"You don't follow the **{escape(race_title(race))}**. Your list: `{prefix}following`."


def unfollowed_text(race: Race, prefix: str) -> str:
    again = f"Follow again: `{prefix}follow {race_hint(race)}`."
    return f"You no longer follow the **{escape(race_title(race))}**: no more DMs for it. {again}"


def no_follows_text(prefix: str) -> str:
    return f"You follow no races. Follow one: `{prefix}follow alabama`."


def following_embed(follows: list[Follow], prefix: str) -> discord.Embed:
    """The races a member follows, each with how to stop it."""
    lines = [f"**{escape(race_title(f.race))}**: `{prefix}unfollow {race_hint(f.race)}`" for f in follows]
    title = f"You follow {len(follows)} race{'s' if len(follows) != 1 else ''} (of {FOLLOW_LIMIT})"
    footer = f"The desk's updates to these reach you by DM. Stop them all: {prefix}unfollow all"
    embed = discord.Embed(title=title, description=clip_lines(lines, 4000), colour=COLOUR)
    return fit_embed(embed.set_footer(text=footer))

"""The replies of `config`: a server's settings, and what a change did (with how to undo it).

Pure: data in, text or an embed out, within Discord's limits.
"""

from __future__ import annotations

import discord

from db.models import GuildSettings
from db.writes.config import SettingChange
from render.limits import fit_embed

COLOUR = discord.Colour.from_rgb(44, 95, 170)
CLEARED = {
    "results-channel": "Nothing is announced in this server now.",
    "mod-role": "No role moderates the desk here now (Manage Server still does, in desk servers).",
    "ping-role": "Announcements ping nobody now.",
}


def settings_embed(
    guild_name: str, row: GuildSettings | None, *, desk: bool, default_prefix: str, prefix: str
) -> discord.Embed:
    """A server's settings; `default_prefix` is the bot's, `prefix` the one to show in examples."""
    channel = (
        f"<#{row.results_channel_id}>"
        if row and row.results_channel_id
        else "not set: nothing is announced here"
    )
    mod = f"<@&{row.mod_role_id}>" if row and row.mod_role_id else "not set"
    ping = f"<@&{row.ping_role_id}>" if row and row.ping_role_id else "none: announcements ping nobody"
    server_prefix = (row.prefix if row and row.prefix else None) or default_prefix
    lines = [
        f"Results channel: {channel}",
        f"Moderator role: {mod}" + ("" if desk else " (used only in desk servers)"),
        f"Ping role: {ping}",
        f"Prefix: `{server_prefix}`",
        "This is a desk server: its moderators change shared data."
        if desk
        else "This is not a desk server: shared data is changed by the desk.",
    ]
    embed = discord.Embed(
        title=f"Settings of {discord.utils.escape_markdown(guild_name)}",
        description="\n".join(lines),
        colour=COLOUR,
    )
    embed.set_footer(
        text=f"Change one with {prefix}config results-channel #channel, or {prefix}config clear ping-role"
    )
    return fit_embed(embed)


def recorded(change: SettingChange, prefix: str) -> str:
    """How to undo a change, or that nothing changed."""
    if change.audit is None:
        return "It already was; nothing changed."
    return f"Undo: `{prefix}undo {change.audit.id}`."


def cannot_post_text(channel_mention: str, missing: list[str]) -> str:
    """The bot lacks permissions it needs in a results channel."""
    return f"I can't post in {channel_mention}: I need {', '.join(missing)} there."


def results_channel_set(channel_mention: str, change: SettingChange, prefix: str) -> str:
    return f"Announcements go to {channel_mention} from now on. {recorded(change, prefix)}"


def mod_role_set(role_mention: str, change: SettingChange, prefix: str, *, desk: bool) -> str:
    note = "" if desk else " (This server is not a desk server, so the role changes nothing until it is one.)"
    return f"Desk moderators are members with {role_mention}.{note} {recorded(change, prefix)}"


def ping_role_set(role_mention: str, change: SettingChange, prefix: str, *, will_ping: bool) -> str:
    """`will_ping` is False when Discord will not ping the role (not mentionable, no Mention Everyone)."""
    warning = (
        ""
        if will_ping
        else " Note: the role is not mentionable and I lack Mention Everyone, so Discord will not ping it."
    )
    return (
        f"Race calls here will ping {role_mention}; nothing else pings.{warning} {recorded(change, prefix)}"
    )


def prefix_set(value: str, change: SettingChange, prefix: str) -> str:
    return f"The prefix here is `{value}` now, e.g. `{value}race alabama`. {recorded(change, prefix)}"


def cleared(setting: str, change: SettingChange, prefix: str, *, default_prefix: str) -> str:
    """One setting is back to its default."""
    what = f"The prefix is back to `{default_prefix}`." if setting == "prefix" else CLEARED[setting]
    return f"{what} {recorded(change, prefix)}"

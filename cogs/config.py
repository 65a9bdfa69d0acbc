"""`config`: a server's own settings, for its admins (Manage Server, or the server's owner).

!config results-channel #results   where the desk's announcements appear in this server
!config mod-role @desk             (desk servers) who may post results, calls, polls
!config ping-role @election-news   pinged by race calls; nothing pings unless this is set
!config prefix ?                   this server's command prefix
!config clear ping-role            back to the default (off)
!config show
"""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.checks import can_configure, server_admin
from cogs.support.common import UsageError, UserFacingError, hybrid_group, hybrid_subcommand, reply
from cogs.support.context import RaceContext
from cogs.support.writing import store
from db.writes.config import SettingChange, guild_settings, set_setting

Setting = Literal["results-channel", "mod-role", "prefix", "ping-role"]
FIELDS: dict[str, str] = {
    "results-channel": "results_channel_id",
    "mod-role": "mod_role_id",
    "prefix": "prefix",
    "ping-role": "ping_role_id",
}
PREFIX_LIMIT = 8
COLOUR = discord.Colour.from_rgb(44, 95, 170)


def check_prefix(prefix: str, example: str) -> str:
    text = prefix.strip()
    if not text:
        raise UsageError("Give the prefix to use.", example)
    if len(text) > PREFIX_LIMIT or any(c.isspace() for c in text):
        raise UsageError(f"A prefix is 1 to {PREFIX_LIMIT} characters without spaces.", example)
    if text[0] in "/@#<`" or "`" in text:
        raise UsageError("A prefix cannot start with / @ # < or hold a backtick.", example)
    return text


class ConfigCog(commands.Cog, name="Config"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    async def _set(self, ctx: RaceContext, name: str, value: Any) -> SettingChange:
        assert ctx.guild is not None
        actor = ctx.actor
        guild_id = ctx.guild.id
        return await store(ctx, lambda session: set_setting(session, actor, guild_id, FIELDS[name], value))

    @staticmethod
    def _recorded(change: SettingChange, prefix: str) -> str:
        if change.audit is None:
            return "It already was; nothing changed."
        return f"Undo: `{prefix}undo {change.audit.id}`."

    @hybrid_group(
        brief="This server's settings (admins): results channel, moderator role, ping role, prefix.",
        name="config",
        invoke_without_command=True,
        usage="results-channel|mod-role|ping-role|prefix|clear|show",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @server_admin()
    async def config(self, ctx: RaceContext) -> None:
        """This server's settings (admins): results channel, moderator role, ping role, prefix. Example: !config results-channel #results"""
        await self.show_settings(ctx)

    @hybrid_subcommand(config, brief="Show this server's settings.", name="show")
    @server_admin()
    async def show(self, ctx: RaceContext) -> None:
        """Show this server's settings. Example: !config show"""
        await self.show_settings(ctx)

    async def show_settings(self, ctx: RaceContext) -> None:
        assert ctx.guild is not None
        async with self.bot.sessions() as session:
            row = await guild_settings(session, ctx.guild.id)
        prefix = ctx.shown_prefix
        desk = ctx.guild.id in self.bot.settings.desk_guild_ids
        channel = (
            f"<#{row.results_channel_id}>"
            if row and row.results_channel_id
            else "not set: nothing is announced here"
        )
        mod = f"<@&{row.mod_role_id}>" if row and row.mod_role_id else "not set"
        ping = f"<@&{row.ping_role_id}>" if row and row.ping_role_id else "none: announcements ping nobody"
        server_prefix = (row.prefix if row and row.prefix else None) or self.bot.settings.prefix
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
            title=f"Settings of {discord.utils.escape_markdown(ctx.guild.name)}",
            description="\n".join(lines),
            colour=COLOUR,
        )
        embed.set_footer(
            text=f"Change one with {prefix}config results-channel #channel, or {prefix}config clear ping-role"
        )
        await reply(ctx, embed=embed)

    @hybrid_subcommand(
        config,
        brief="Announce the desk's results, calls and polls in a channel of this server.",
        name="results-channel",
        usage="<#channel>",
    )
    @server_admin()
    @app_commands.describe(channel="Where the desk's results, calls and polls are announced in this server")
    async def results_channel(self, ctx: RaceContext, channel: discord.TextChannel) -> None:
        """Announce the desk's results, calls and polls in a channel of this server. Example: !config results-channel #results"""
        assert ctx.guild is not None
        if channel.guild.id != ctx.guild.id:
            raise UserFacingError("That channel is in another server.")
        me = ctx.guild.me
        if me is not None:
            perms = channel.permissions_for(me)
            missing = [
                name
                for name, ok in (
                    ("View Channel", perms.view_channel),
                    ("Send Messages", perms.send_messages),
                    ("Embed Links", perms.embed_links),
                )
                if not ok
            ]
            if missing:
                raise UserFacingError(
                    f"I can't post in {channel.mention}: I need {', '.join(missing)} there."
                )
        change = await self._set(ctx, "results-channel", channel.id)
        await reply(
            ctx,
            f"Announcements go to {channel.mention} from now on. {self._recorded(change, ctx.shown_prefix)}",
        )

    @hybrid_subcommand(
        config,
        brief="Choose who moderates the desk here (desk servers only; admins only).",
        name="mod-role",
        usage="<@role>",
    )
    @server_admin(roles=True)
    @app_commands.describe(
        role="Members with this role may post results, calls, polls and endorsements (desk servers)"
    )
    async def mod_role(self, ctx: RaceContext, role: discord.Role) -> None:
        """Choose who moderates the desk here (desk servers only; admins only). Example: !config mod-role @desk"""
        assert ctx.guild is not None
        if role.is_default():
            raise UserFacingError(
                "@everyone cannot be the moderator role: everyone could change shared data."
            )
        if role.managed:
            raise UserFacingError("That role belongs to a bot or an integration; pick a role people hold.")
        change = await self._set(ctx, "mod-role", role.id)
        note = (
            ""
            if ctx.guild.id in self.bot.settings.desk_guild_ids
            else " (This server is not a desk server, so the role changes nothing until it is one.)"
        )
        await reply(
            ctx,
            f"Desk moderators are members with {role.mention}.{note} {self._recorded(change, ctx.shown_prefix)}",
        )

    @hybrid_subcommand(
        config,
        brief="Ping a role when the desk calls or uncalls a race here (nothing pings otherwise).",
        name="ping-role",
        usage="<@role>",
    )
    @server_admin()
    @app_commands.describe(role="Pinged when the desk calls a race; without one nothing pings")
    async def ping_role(self, ctx: RaceContext, role: discord.Role) -> None:
        """Ping a role when the desk calls or uncalls a race here (nothing pings otherwise). Example: !config ping-role @election-news"""
        assert ctx.guild is not None
        if role.is_default():
            raise UserFacingError("@everyone cannot be pinged by announcements; make a role for it.")
        if role.managed:
            raise UserFacingError("That role belongs to a bot or an integration; pick a role people hold.")
        me = ctx.guild.me
        warning = ""
        if not role.mentionable and me is not None and not me.guild_permissions.mention_everyone:
            warning = (
                " Note: the role is not mentionable and I lack Mention Everyone, so Discord will not ping it."
            )
        change = await self._set(ctx, "ping-role", role.id)
        await reply(
            ctx,
            f"Race calls here will ping {role.mention}; nothing else pings.{warning} {self._recorded(change, ctx.shown_prefix)}",
        )

    @hybrid_subcommand(config, brief="Set this server's command prefix.", name="prefix", usage="<prefix>")
    @server_admin()
    @app_commands.describe(prefix="1 to 8 characters, e.g. ? or rd!")
    async def prefix(self, ctx: RaceContext, prefix: str) -> None:
        """Set this server's command prefix. Example: !config prefix ?"""
        assert ctx.guild is not None
        value = check_prefix(prefix, f"{ctx.shown_prefix}config prefix ?")
        change = await self._set(ctx, "prefix", value)
        self.bot.guild_prefixes[ctx.guild.id] = value
        await reply(
            ctx,
            f"The prefix here is `{value}` now, e.g. `{value}race alabama`. {self._recorded(change, ctx.shown_prefix)}",
        )

    @hybrid_subcommand(
        config,
        brief="Set one setting back to its default (no channel, no role, the usual prefix).",
        name="clear",
        usage="<results-channel|mod-role|ping-role|prefix>",
    )
    @server_admin()
    @app_commands.describe(setting="The setting to set back to its default")
    async def clear(self, ctx: RaceContext, setting: Setting) -> None:
        """Set one setting back to its default (no channel, no role, the usual prefix). Example: !config clear ping-role"""
        assert ctx.guild is not None
        if setting == "mod-role":
            await can_configure(ctx, roles=True)  # who moderates stays with the admins
        change = await self._set(ctx, setting, None)
        if setting == "prefix":
            self.bot.guild_prefixes.pop(ctx.guild.id, None)
        what = {
            "results-channel": "Nothing is announced in this server now.",
            "mod-role": "No role moderates the desk here now (Manage Server still does, in desk servers).",
            "ping-role": "Announcements ping nobody now.",
            "prefix": f"The prefix is back to `{self.bot.settings.prefix}`.",
        }[setting]
        await reply(ctx, f"{what} {self._recorded(change, ctx.shown_prefix)}")


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ConfigCog(bot))

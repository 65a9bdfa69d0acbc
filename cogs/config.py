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
from cogs.support.common import hybrid_group, hybrid_subcommand, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError, UserFacingError
from cogs.support.writing import commit_write
from db.writes.config import SettingChange, set_setting
from render.config import (
    cannot_post_text,
    cleared,
    mod_role_set,
    ping_role_set,
    prefix_set,
    results_channel_set,
    settings_embed,
)

Setting = Literal["results-channel", "mod-role", "prefix", "ping-role"]
FIELDS: dict[str, str] = {
    "results-channel": "results_channel_id",
    "mod-role": "mod_role_id",
    "prefix": "prefix",
    "ping-role": "ping_role_id",
}
PREFIX_LIMIT = 8


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
        return await commit_write(
            ctx, lambda session: set_setting(session, actor, guild_id, FIELDS[name], value)
        )

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
        row = await self.bot.store.guild_settings(ctx.guild.id)
        embed = settings_embed(
            ctx.guild.name,
            row,
            desk=ctx.guild.id in self.bot.settings.desk_guild_ids,
            default_prefix=self.bot.settings.prefix,
            prefix=ctx.shown_prefix,
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
                raise UserFacingError(cannot_post_text(channel.mention, missing))
        change = await self._set(ctx, "results-channel", channel.id)
        await reply(ctx, results_channel_set(channel.mention, change, ctx.shown_prefix))

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
        desk = ctx.guild.id in self.bot.settings.desk_guild_ids
        await reply(ctx, mod_role_set(role.mention, change, ctx.shown_prefix, desk=desk))

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
        will_ping = role.mentionable or me is None or me.guild_permissions.mention_everyone
        change = await self._set(ctx, "ping-role", role.id)
        await reply(ctx, ping_role_set(role.mention, change, ctx.shown_prefix, will_ping=will_ping))

    @hybrid_subcommand(config, brief="Set this server's command prefix.", name="prefix", usage="<prefix>")
    @server_admin()
    @app_commands.describe(prefix="1 to 8 characters, e.g. ? or rd!")
    async def prefix(self, ctx: RaceContext, prefix: str) -> None:
        """Set this server's command prefix. Example: !config prefix ?"""
        assert ctx.guild is not None
        value = check_prefix(prefix, f"{ctx.shown_prefix}config prefix ?")
        change = await self._set(ctx, "prefix", value)
        self.bot.guild_prefixes[ctx.guild.id] = value
        await reply(ctx, prefix_set(value, change, ctx.shown_prefix))

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
        await reply(ctx, cleared(setting, change, ctx.shown_prefix, default_prefix=self.bot.settings.prefix))


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ConfigCog(bot))

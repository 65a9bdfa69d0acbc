"""A server's own settings: results channel, moderator role, prefix, ping role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import Actor, record
from db.models import AuditEntry, GuildSettings
from db.writes.errors import WriteError

SETTINGS = ("results_channel_id", "mod_role_id", "prefix", "ping_role_id")


@dataclass
class SettingChange:
    guild_id: int
    field: str
    before: Any
    after: Any
    audit: AuditEntry | None  # None: it already had that value


async def guild_settings(session: AsyncSession, guild_id: int) -> GuildSettings | None:
    return await session.get(GuildSettings, guild_id)


async def set_setting(
    session: AsyncSession, actor: Actor, guild_id: int, field: str, value: Any
) -> SettingChange:
    if field not in SETTINGS:
        raise WriteError(f"There is no setting '{field}'.")
    await session.execute(  # take the row first (see db.writes.common.lock_race)
        update(GuildSettings)
        .where(GuildSettings.guild_id == guild_id)
        .values(guild_id=GuildSettings.guild_id)
    )
    row = await session.scalar(select(GuildSettings).where(GuildSettings.guild_id == guild_id))
    if row is None:
        row = GuildSettings(guild_id=guild_id)
        session.add(row)
    before = getattr(row, field)
    if before == value:
        return SettingChange(guild_id, field, before, value, None)
    setattr(row, field, value)
    await session.flush()
    entry = await record(
        session,
        actor,
        "config.set",
        "guild_settings",
        None,
        before={"guild_id": guild_id, field: before},
        after={"guild_id": guild_id, field: value},
    )
    return SettingChange(guild_id, field, before, value, entry)


async def restore_settings(session: AsyncSession, values: dict[str, Any]) -> GuildSettings:
    guild_id = int(values["guild_id"])
    row = await session.get(GuildSettings, guild_id)
    if row is None:
        row = GuildSettings(guild_id=guild_id)
        session.add(row)
    for field, value in values.items():
        if field in SETTINGS:
            setattr(row, field, value)
    await session.flush()
    return row

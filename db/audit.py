"""The audit trail: every write records who, when, from where, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Race


@dataclass(frozen=True)
class Actor:
    """Who is writing: a Discord user (with the server it wrote from) or the system."""

    id: int | None
    name: str
    guild_id: int | None = None


SYSTEM = Actor(id=None, name="system")


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    race_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    undoes_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction, so it commits or rolls back with the write."""
    entry = AuditEntry(
        actor_id=actor.id,
        actor_name=actor.name[:128],
        guild_id=actor.guild_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        race_id=race_id,
        before=before,
        after=after,
        undoes_id=undoes_id,
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class AuditPage:
    """The newest entries asked for, newest first, with the races they touched."""

    entries: list[AuditEntry]
    races: dict[int, Race]


async def audit_page(
    session: AsyncSession, *, race_id: int | None, before: int | None, guild_id: int | None, limit: int
) -> AuditPage:
    """Entries newest first: of one race, or older than `before`; a server's settings only to that server."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if race_id is not None:
        query = query.where(AuditEntry.race_id == race_id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    here = guild_id if guild_id is not None else -1
    query = query.where(or_(AuditEntry.entity != "guild_settings", AuditEntry.guild_id == here))
    entries = list(await session.scalars(query))
    race_ids = {e.race_id for e in entries if e.race_id is not None}
    races = list(await session.scalars(select(Race).where(Race.id.in_(race_ids)))) if race_ids else []
    return AuditPage(entries, {r.id: r for r in races})


async def audit_entry(session: AsyncSession, entry_id: int) -> tuple[AuditEntry | None, Race | None]:
    """One entry, and the race it touched (if any)."""
    entry = await session.get(AuditEntry, entry_id)
    race = await session.get(Race, entry.race_id) if entry is not None and entry.race_id else None
    return entry, race

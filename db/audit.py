"""The audit trail: every write records who, when, from where, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


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

"""Calls through the desk: a call equal to the standing one is stored as a confirmation and announces nothing
(so pings nobody); undoing it announces nothing; a withdrawal is announced only when the outcome changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import Call, GuildSettings, OutboxMessage
from tests.support import World, desk_world, outbox_settled


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The sample race, results channels in both servers, a follower, and a ping role in the desk server."""
    async with desk_world(tmp_path) as started:
        role = started.standin.add_role(started.desk.id, name="election-news")
        async with make_sessionmaker(started.bot.engine).begin() as session:
            settings = await session.get(GuildSettings, started.desk.id)
            assert settings is not None
            settings.ping_role_id = role.id
        setattr(started, "ping_role", role.id)  # noqa: B010
        yield started


async def announced(world: World, audit_id: int) -> list[OutboxMessage]:
    """The announcements a write queued (results channels, followers), once the announcer is done."""
    sessions = make_sessionmaker(world.bot.engine)
    await outbox_settled(sessions)
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == audit_id)))


def undo_id(text: str) -> int:
    return int(text.split("undo ")[1].split("`")[0])


def pings(rows: list[OutboxMessage], role: int) -> bool:
    return any(f"<@&{role}>" in (row.payload.get("content") or "") for row in rows)


async def test_a_call_equal_to_the_standing_one_confirms_it_and_announces_nothing(world: World) -> None:
    async with make_sessionmaker(world.bot.engine)() as session:
        calls_before = len(list(await session.scalars(select(Call.id))))
    confirmed = await world.say("!call alabama general Tuberville source=AP", author=world.moderator)
    assert confirmed.ok is True and "The same call already stood; this one confirms it" in confirmed.text
    assert "nothing is announced" in confirmed.text and "Announcing" not in confirmed.text
    assert await announced(world, undo_id(confirmed.text)) == []
    async with make_sessionmaker(world.bot.engine)() as session:
        assert len(list(await session.scalars(select(Call.id)))) == calls_before + 1  # stored all the same

    undone = await world.say(f"!undo {undo_id(confirmed.text)}", author=world.moderator)
    assert undone.ok is True and "nothing is announced" in undone.text and "Announcing" not in undone.text
    recorded = int(undone.text.split("Recorded as #")[1].split(".")[0])
    assert await announced(world, recorded) == []
    async with make_sessionmaker(world.bot.engine)() as session:
        assert list(await session.scalars(select(OutboxMessage.id))) == []  # nothing went out, nothing pinged


async def test_a_withdrawal_is_announced_only_when_the_outcome_changed(world: World) -> None:
    role = getattr(world, "ping_role")  # noqa: B009
    close = await world.say("!call alabama general too close", author=world.moderator)
    assert close.ok is True and "replaces call #" in close.text
    rows = await announced(world, undo_id(close.text))
    assert len(rows) == 3 and pings(rows, role)  # two results channels and the follower; the ping role
    undone = await world.say(f"!undo {undo_id(close.text)}", author=world.moderator)
    assert undone.ok is True and "Announcing the correction" in undone.text  # Tuberville's call stands again
    uncalled = await world.say("!uncall alabama general", author=world.moderator)
    assert uncalled.ok is True
    rows = await announced(world, undo_id(uncalled.text))
    assert len(rows) == 3 and pings(rows, role)

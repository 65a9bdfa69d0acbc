"""What the desk's tests share: the actors, the sample race's ids, counting rows, a world with a desk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.audit import Actor
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import (
    AuditEntry,
    Call,
    Candidacy,
    Candidate,
    Contest,
    Endorsement,
    Follow,
    GuildSettings,
    OutboxMessage,
    Poll,
    Race,
    ResultSnapshot,
)
from tests.harness import World, running_bot

MODERATOR = Actor(id=111, name="moderator", guild_id=999)
OTHER_MODERATOR = Actor(id=222, name="other moderator", guild_id=999)
COUNTED = (
    AuditEntry,
    ResultSnapshot,
    Call,
    Poll,
    Endorsement,
    Race,
    Contest,
    Candidacy,
    Candidate,
    OutboxMessage,
    GuildSettings,
)


async def al2020(session: AsyncSession) -> Race:
    race = await session.scalar(select(Race).where(Race.state == "AL", Race.cycle == 2020))
    assert race is not None
    return race


async def contest_of(session: AsyncSession, race_id: int, stage: str) -> Contest:
    contest = await session.scalar(select(Contest).where(Contest.race_id == race_id, Contest.stage == stage))
    assert contest is not None
    return contest


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many rows each written table holds: a refused write must leave these unchanged."""
    async with sessions() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in COUNTED
        }


@contextlib.asynccontextmanager
async def desk_world(
    engine: AsyncEngine, *, results_channels: bool = True, followers: bool = True
) -> AsyncIterator[World]:
    """The bot over the sample race, the desk's moderator role set, and (by default) a results channel in
    both servers and the member following the 2020 Alabama race."""
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await load_sample(session)
    async with running_bot(engine) as world:
        results = {}
        async with sessions.begin() as session:
            session.add(GuildSettings(guild_id=world.desk.id, mod_role_id=world.desk_role.id))
            if results_channels:
                for guild in (world.desk, world.other):
                    channel = world.standin.add_channel(guild.id, name="results")
                    results[guild.id] = channel.id
                desk_settings = await session.get(GuildSettings, world.desk.id)
                assert desk_settings is not None
                desk_settings.results_channel_id = results[world.desk.id]
                session.add(
                    GuildSettings(guild_id=world.other.id, results_channel_id=results[world.other.id])
                )
            if followers:
                race = await al2020(session)
                session.add(Follow(user_id=world.member, race_id=race.id, guild_id=world.desk.id))
        world.names.update({cid: "results" for cid in results.values()})
        setattr(world, "results", results)  # noqa: B010  (World is a shared dataclass; tests add to it)
        yield world


def messages_in(world: World, channel_id: int) -> list[Any]:
    return [m for m in world.standin.messages if m.channel_id == channel_id and m.kind == "message"]


def dms_to(world: World, user_id: int) -> list[Any]:
    channel = world.standin.dm_channel_id(user_id)
    return messages_in(world, channel)


async def until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.02)


async def outbox_settled(sessions: async_sessionmaker[AsyncSession], timeout: float = 30.0) -> None:
    """Until no announcement is pending."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with sessions() as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        if not pending:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{pending} announcements still pending after {timeout}s")
        await asyncio.sleep(0.05)

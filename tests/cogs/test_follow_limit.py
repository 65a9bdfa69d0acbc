"""The follow limit holds when a member sends many `!follow` messages at once, on SQLite and PostgreSQL:
at most 25 follows are stored, and every follow refused gets a reply saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.bootstrap import load_sample
from db.follows import FOLLOW_LIMIT
from db.models import Follow, Race
from tests.support import messages_in, running_bot, store_on, until
from tests.support.world import settled

RACES = 45


async def many_races(session: AsyncSession) -> None:
    """The sample, and 45 Wyoming Senate races (2030 to 2074) to follow."""
    await load_sample(session)
    session.add_all(Race(cycle=2030 + k, state="WY", office="senate") for k in range(RACES))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_many_follows_at_once_stop_at_the_limit_and_each_refusal_is_answered(
    tmp_path: Path, database: str
) -> None:
    async with (
        store_on(database, tmp_path, "many-races", many_races) as engine,
        running_bot(engine) as world,
    ):
        for k in range(RACES):  # all sent before the bot has answered the first
            await world.standin.send_message(world.desk_channel, world.member, f"!follow wyoming {2030 + k}")
        replies = lambda: [m.text() for m in messages_in(world, world.desk_channel)]  # noqa: E731
        await until(lambda: len(replies()) >= RACES, 60, f"{RACES} replies")
        await settled(world.standin)
        async with world.bot.sessions() as session:
            stored = await session.scalar(select(func.count(Follow.id)).where(Follow.user_id == world.member))
        assert stored == FOLLOW_LIMIT
        said = replies()
        followed = [r for r in said if r.startswith("You now follow")]
        full = [r for r in said if "the most one member can" in r]
        assert len(said) == RACES, said
        assert len(followed) == FOLLOW_LIMIT and len(full) == RACES - FOLLOW_LIMIT, said
        assert not [r for r in said if "Something went wrong" in r]

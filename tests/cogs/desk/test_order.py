"""One race's counts in the order they were sent: messages sent back to back, however the bot happens to
handle them, end with the last one sent as the current count, the history in the order sent, and no
announcement reporting a fall the desk never sent. On SQLite and PostgreSQL, through the real bot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import ResultSnapshot
from db.reads.races import send_order
from tests.support import World, al2020, contest_of, desk_world, messages_in, outbox_settled, until
from tests.support.world import settled

COUNTS = 50
TUBERVILLE = 1_700_000
JONES = 900_000


def replies(world: World) -> list[str]:
    """What the bot said in the desk's channel (the stand-in records only what the bot posts)."""
    return [m.text() for m in messages_in(world, world.desk_channel)]


def tuberville(text: str) -> tuple[int, str | None]:
    """Tuberville's votes in a count update, and the change it reports ("+3", "−13"), if any."""
    match = re.search(r"Tommy Tuberville \(R\)\*\* ([\d,]+)(?: \(([+−][\d,]+)\))?", text)
    assert match, text
    return int(match[1].replace(",", "")), match[2]


async def send_back_to_back(world: World, texts: list[str]) -> list[int]:
    """Every message sent before the bot has handled the first; returns their ids, in the order sent."""
    before = len(replies(world))
    ids = [await world.standin.send_message(world.desk_channel, world.moderator, text) for text in texts]
    await until(lambda: len(replies(world)) - before >= len(texts), 60, f"{len(texts)} replies")
    await settled(world.standin)
    return ids


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_fifty_counts_sent_back_to_back_keep_the_order_sent(tmp_path: Path, database: str) -> None:
    async with desk_world(tmp_path, database=database) as world:
        announcer: Any = world.bot.get_cog("Announcer")
        announcer.pacer = type(announcer.pacer)(500)
        sessions = make_sessionmaker(world.bot.engine)
        texts = [
            f"!result alabama general Tuberville={TUBERVILLE + i:,} Jones={JONES + i} source=AP"
            for i in range(COUNTS)
        ]
        ids = await send_back_to_back(world, texts)
        stored = [r for r in replies(world) if r.startswith("Stored result #")]
        assert len(stored) == COUNTS, [r[:120] for r in replies(world) if not r.startswith("Stored")]

        async with sessions() as session:
            race = await al2020(session)
            general = await contest_of(session, race.id, "general")
            history = list(
                await session.scalars(
                    select(ResultSnapshot)
                    .where(ResultSnapshot.contest_id == general.id)
                    .order_by(*send_order())
                )
            )
        ours = [s for s in history if s.sent_id is not None]
        assert [s.sent_id for s in ours] == ids  # the history is in the order sent
        assert history[-1] is ours[-1]

        results = await world.text("!results alabama general")
        assert "1,700,049" in results, results
        card = await world.text("!results alabama general history")
        shown = [int(n.replace(",", "")) for n in re.findall(r"1,7\d\d,\d{3}", card)]
        assert shown == sorted(shown), card

        await outbox_settled(sessions)
        for channel in world.results.values():  # type: ignore[attr-defined]
            told = [tuberville(m.text()) for m in messages_in(world, channel) if "count update" in m.text()]
            assert told, "nothing was announced"
            assert told[-1][0] == TUBERVILLE + COUNTS - 1  # the last announced is the last sent
            votes = [v for v, _ in told]
            assert votes == sorted(votes) and len(set(votes)) == len(votes), votes
            assert not [change for _, change in told if change and change.startswith("−")], told


async def test_prefix_and_slash_counts_interleaved_keep_the_order_sent(tmp_path: Path) -> None:
    """A slash command's place is its interaction's id: counts sent alternately as messages and as slash
    commands end with the last one sent current."""
    async with desk_world(tmp_path, results_channels=False, followers=False) as world:
        standin = world.standin

        def answered() -> int:
            return len([m for m in standin.messages if m.channel_id == world.desk_channel])

        ids = []
        for i in range(20):
            details = f"alabama general Tuberville={TUBERVILLE + i} Jones={JONES + i}"
            if i % 2:
                ids.append(
                    await standin.send_message(world.desk_channel, world.moderator, f"!result {details}")
                )
            else:
                ids.append(
                    await standin.send_slash(
                        world.desk.id, world.desk_channel, world.moderator, "result", {"details": details}
                    )
                )
        await until(lambda: answered() >= 20, 60, "20 replies")
        await settled(standin)
        async with make_sessionmaker(world.bot.engine)() as session:
            race = await al2020(session)
            general = await contest_of(session, race.id, "general")
            history = list(
                await session.scalars(
                    select(ResultSnapshot.sent_id)
                    .where(ResultSnapshot.contest_id == general.id, ResultSnapshot.sent_id.is_not(None))
                    .order_by(*send_order())
                )
            )
        assert history == ids
        assert "1,700,019" in await world.text("!results alabama general")

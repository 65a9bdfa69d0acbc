"""Labels say what the data says: a count the desk posts without `final=`/`official=` reads "unofficial" in
the results reply, the race card, the announcement and the history; final and certified only when it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import OutboxMessage
from tests.support import World, desk_world, outbox_settled


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path) as started:
        yield started


def field(text: str, name: str) -> str:
    """A field's value in the driver's text of an embed ("Name: value")."""
    return next(line for line in text.splitlines() if line.startswith(f"{name}: ")).split(": ", 1)[1]


async def test_a_desk_count_without_final_reads_unofficial_everywhere(world: World) -> None:
    shipped = await world.say("!results alabama general", author=world.member)
    assert field(shipped.text, "Counted") == "100% of precincts · final, certified"  # the certified count

    posted = await world.say(
        "!result alabama general Tuberville=1,392,100 Jones=920,500 reporting=100%", author=world.moderator
    )
    assert posted.ok is True
    results = await world.say("!results alabama general", author=world.member)
    assert field(results.text, "Counted") == "100% of expected vote · unofficial"
    card = await world.say("!race alabama", author=world.member)
    assert "✅ Tuberville defeated Jones, 60.2%–39.8% (unofficial)" in card.text
    sessions = make_sessionmaker(world.bot.engine)
    await outbox_settled(sessions)
    async with sessions() as session:
        bodies = [row.payload for row in await session.scalars(select(OutboxMessage))]
    assert bodies and all(
        body["embeds"][0]["footer"]["text"].endswith(f"unofficial · result #{body_id(body)}")
        for body in bodies
    )
    history = await world.say("!results alabama general history", author=world.member)
    steps = [line for line in history.text.splitlines() if line.startswith("**")]
    assert steps[-1].endswith("· unofficial") and not steps[0].endswith("· unofficial")

    undone = await world.say(f"!undo {posted.text.split('!undo ')[1].split('`')[0]}", author=world.moderator)
    assert undone.ok is True
    again = await world.say("!results alabama general", author=world.member)
    assert (
        field(again.text, "Counted") == "100% of precincts · final, certified"
    )  # the stage is certified again

    final = await world.say(
        "!result alabama general Tuberville=1,392,100 Jones=920,500 reporting=100% final=yes",
        author=world.moderator,
    )
    assert final.ok is True
    results = await world.say("!results alabama general", author=world.member)
    assert field(results.text, "Counted") == "100% of expected vote · final, unofficial"


def body_id(body: dict[str, object]) -> str:
    footer = body["embeds"][0]["footer"]["text"]  # type: ignore[index]
    return str(footer).rsplit("#", 1)[1]

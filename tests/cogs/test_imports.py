"""`import` with an attached file: a dry run, then the moderator's button stores it; nobody else can."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.bootstrap import SAMPLE
from db.engine import make_sessionmaker
from db.models import Race
from render.imports import ONLY_THE_MODERATOR
from tests.support import World, desk_world
from tests.support.world import settled

CONFIRM, CANCEL = "racedesk:import:confirm", "racedesk:import:cancel"


def kansas_document() -> bytes:
    doc = json.loads(SAMPLE.read_text())
    doc["races"] = [doc["races"][0] | {"state": "KS", "cycle": 2018}]  # the 2017 special, moved to Kansas
    return json.dumps(doc).encode()


SAMPLE_RACES = 2


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path, results_channels=False, followers=False) as started:
        yield started


async def races(world: World) -> int:
    async with make_sessionmaker(world.bot.engine)() as session:
        return int(await session.scalar(select(func.count(Race.id))) or 0)


async def wait_for_edit(world: World, message_id: int | None) -> str:
    edit = await world.standin.wait_for_message(
        predicate=lambda m: m.kind in ("edit", "followup") and m.message_id == message_id, timeout=20
    )
    return edit.content or ""


async def test_a_dry_run_then_the_button_stores_it(world: World) -> None:
    exchange = await world.say("!import", author=world.moderator, files=[("kansas.json", kansas_document())])
    dry = exchange.messages[-1]
    assert "Dry run of **kansas.json**" in (dry.content or "") and "would add" in (dry.content or "")
    assert dry.button_ids() == [CONFIRM, CANCEL]
    assert await races(world) == SAMPLE_RACES  # the dry run wrote nothing

    world.standin.consume_all()
    await world.standin.click_button(dry, CONFIRM, world.member)  # not theirs to confirm
    refusal = await world.standin.wait_for_message(
        predicate=lambda m: m.kind == "interaction_response" and m.ephemeral, timeout=20
    )
    assert refusal.content == ONLY_THE_MODERATOR
    await settled(world.standin)  # the click has been handled to its end
    assert await races(world) == SAMPLE_RACES
    assert [m.kind for m in world.standin.messages if m.message_id == dry.message_id] == ["message"]

    await world.standin.click_button(dry, CONFIRM, world.moderator)
    assert (await wait_for_edit(world, dry.message_id)).startswith("Imported.")
    assert await races(world) == SAMPLE_RACES + 1
    assert "2018 Kansas U.S. Senate special" in await world.text("!race kansas")


async def test_cancel_writes_nothing(world: World) -> None:
    exchange = await world.say("!import", author=world.owner, files=[("kansas.json", kansas_document())])
    world.standin.consume_all()
    await world.standin.click_button(exchange.messages[-1], CANCEL, world.owner)
    assert "nothing was written" in await wait_for_edit(world, exchange.messages[-1].message_id)
    assert await races(world) == SAMPLE_RACES


async def test_members_and_other_servers_cannot_import(world: World) -> None:
    member = await world.say("!import", files=[("kansas.json", kansas_document())])
    admin = await world.say(
        "!import",
        author=world.other_admin,
        channel=world.other_channel,
        files=[("k.json", kansas_document())],
    )
    assert "Only desk moderators can change shared data" in member.text
    assert "this server is not a desk server" in admin.text
    assert await races(world) == SAMPLE_RACES


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ([], "Attach the data file to the message."),
        ([("notes.txt", b"hello, world\n")], "Nothing was written: notes.txt: not one of"),
    ],
)
async def test_wrong_input_gets_a_usage_reply(
    world: World, files: list[tuple[str, bytes]], says: str
) -> None:
    exchange = await world.say("!import", author=world.moderator, files=files)
    assert says in exchange.text
    assert "Example: `!import (with senate_polls.csv attached)`" in exchange.text
    assert await races(world) == SAMPLE_RACES

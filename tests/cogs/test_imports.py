"""`import` with an attached file: a dry run, then the moderator's button stores it; nobody else can."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import limits
from db.bootstrap import SAMPLE
from db.engine import make_sessionmaker
from db.models import Race
from render.imports import ONLY_THE_MODERATOR
from tests.data.hostile.corpus import CASES, make_large, path_of
from tests.support import World, desk_world, row_counts
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


# ---------------------------------------------------------------- hostile files and the click


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    make_large(folder)
    return folder


#: The findings' files, and a few more of the corpus: each ended in "Something went wrong".
HOSTILE = [
    "zip_bomb.zip",
    "lying_zip_bomb.zip",
    "latin1.csv",
    "not_a_zip.zip",
    "deep.json",
    "votes_1e30.csv",
    "sample_1e20.csv",
    "pct_nan.csv",
    "cycle_99999.csv",
    "share_minus_40.csv",
    "nul_in_name.csv",
    "json_nul_name.json",
    "traversal.zip",
    "empty.csv",
]


async def test_hostile_attachments_get_a_clear_reply_and_write_nothing(world: World, large: Path) -> None:
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)
    for name in HOSTILE:
        data = path_of(name, large).read_bytes()
        exchange = await world.say("!import", author=world.moderator, files=[(name, data)])
        text = exchange.text.replace("\\", "")  # as shown: markdown escaped
        assert "Something went wrong" not in text, (name, text)
        assert f"Nothing was written: {name}: " in text, (name, text)
        assert CASES[name].says in text, (name, text)
        assert "Example: `!import (with senate_polls.csv attached)`" in exchange.text
    assert await row_counts(sessions) == before


@pytest.mark.parametrize("filename", ["..", ".", "a\x00b.json", "..\\..\\boot.ini", "\n\t", "." * 300])
async def test_an_attachment_name_is_never_a_path(world: World, filename: str) -> None:
    """The name is shown (printable, clipped), never joined to a folder: the dry run works."""
    exchange = await world.say("!import", author=world.moderator, files=[(filename, kansas_document())])
    dry = exchange.messages[-1]
    assert "Something went wrong" not in exchange.text
    assert "Dry run of **" in (dry.content or "") and "would add" in (dry.content or ""), exchange.text
    assert await races(world) == SAMPLE_RACES


async def test_a_moderator_demoted_after_the_dry_run_cannot_confirm(world: World) -> None:
    exchange = await world.say("!import", author=world.moderator, files=[("kansas.json", kansas_document())])
    dry = exchange.messages[-1]
    assert dry.button_ids() == [CONFIRM, CANCEL]
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)

    world.standin.set_member_roles(world.desk.id, world.moderator, [])  # demoted
    world.standin.consume_all()
    await world.standin.click_button(dry, CONFIRM, world.moderator)
    refusal = await world.standin.wait_for_message(
        predicate=lambda m: "You can no longer import" in (m.content or ""), timeout=20
    )
    assert "Only desk moderators can change shared data" in (refusal.content or "")
    assert "Nothing was written" in (refusal.content or "")
    assert await row_counts(sessions) == before

    world.standin.set_member_roles(world.desk.id, world.moderator, [world.desk_role])  # and given it back
    await world.standin.click_button(dry, CONFIRM, world.moderator)
    assert (await wait_for_edit(world, dry.message_id)).startswith("Imported.")
    assert await races(world) == SAMPLE_RACES + 1


async def test_an_attachment_over_the_upload_limit_is_refused_unread(world: World) -> None:
    big = b"x" * (limits.MAX_UPLOAD_BYTES + 1)
    exchange = await world.say("!import", author=world.moderator, files=[("big.csv", big)])
    assert "That file is over 10 MB; the limit is 10 MB." in exchange.text
    assert await races(world) == SAMPLE_RACES


def fec_alabama() -> tuple[bytes, set[str]]:
    """The FEC file's Alabama lines, and the House districts its 2018 lines name (read here, independently)."""
    fec = Path(SAMPLE).parents[1] / "public" / "fec" / "cn.txt"
    lines = [line for line in fec.read_bytes().splitlines(keepends=True) if line.split(b"|")[4] == b"AL"]
    districts = {
        str(int(fields[6]))
        for fields in (line.decode("latin-1").split("|") for line in lines)
        if fields[3] == "2018" and fields[5] == "H" and 1 <= int(fields[6]) <= 7
    }
    return b"".join(lines), districts


async def test_the_desk_imports_the_fec_candidate_file(world: World) -> None:
    data, districts = fec_alabama()
    exchange = await world.say("!import", author=world.moderator, files=[("cn.txt", data)])
    dry = exchange.messages[-1]
    assert "Dry run of **cn.txt**" in (dry.content or "") and "would add" in (dry.content or "")
    world.standin.consume_all()
    await world.standin.click_button(dry, CONFIRM, world.moderator)
    assert (await wait_for_edit(world, dry.message_id)).startswith("Imported.")
    assert await races(world) == SAMPLE_RACES + len(districts)  # one race per House district of 2018
    assert "2018 Alabama U.S. House AL-02" in await world.text("!race al-2 2018")

"""`undo` refuses, with the reason and nothing changed, what would lose something written since (README, Audit
and undo): a race that now holds polls, a call a newer call replaced, a field edited again.

One bot for the module; each test writes to a race or a person no other test touches.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import (
    AuditEntry,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Endorsement,
    GuildSettings,
    Poll,
    Race,
    ResultSnapshot,
)
from tests.support import World, desk_world, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with desk_world(
        tmp_path_factory.mktemp("undo"), results_channels=False, followers=False
    ) as started:
        yield started


async def stored(world: World, text: str) -> int:
    """Post a desk write as the moderator; the audit id its reply offers to undo."""
    exchange = await world.say(text, author=world.moderator)
    assert exchange.ok is True, exchange.text
    found = re.search(r"undo #?(\d+)", exchange.text)
    assert found is not None, exchange.text
    return int(found.group(1))


async def refused_unchanged(world: World, audit_id: int, words: str) -> None:
    """`undo` is refused saying `words`, and the store is as it was."""
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)
    exchange = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert exchange.ok is False and words in exchange.text, exchange.text
    assert await row_counts(sessions) == before


async def test_a_race_that_now_holds_polls_is_not_removed(world: World) -> None:
    added = await stored(world, "!race-add wyoming senate 2026 general=2026-11-03")
    await stored(world, '!candidate-add wyoming 2026 general name="Wren Holloway" party=REP')
    await stored(world, '!candidate-add wyoming 2026 general name="Ada Vance" party=DEM')
    await stored(
        world, '!poll add wyoming 2026 pollster="Mesa Polling" dates="Oct 1-3, 2026" Holloway=52 Vance=40'
    )
    await refused_unchanged(world, added, "now holds polls")  # (and candidates)
    async with make_sessionmaker(world.bot.engine)() as session:
        assert await session.scalar(select(Race.id).where(Race.state == "WY", Race.cycle == 2026))


async def test_a_call_a_newer_call_replaced_is_not_undone(world: World) -> None:
    first = await stored(world, "!call alabama runoff Sessions source=AP")
    second = await stored(world, "!call alabama runoff Tuberville source=AP")
    await refused_unchanged(world, first, "newer call")
    # In order, newest first, both come off.
    assert (await world.say(f"!undo {second}", author=world.moderator)).ok is True
    assert (await world.say(f"!undo {first}", author=world.moderator)).ok is True


async def test_a_race_field_edited_again_is_not_put_back(world: World) -> None:
    first = await stored(world, '!race-edit alabama 2020 notes="First note"')
    await stored(world, '!race-edit alabama 2020 notes="Second note"')
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        notes = await session.scalar(select(Race.notes).where(Race.state == "AL", Race.cycle == 2020))
    assert notes == "Second note"


async def test_a_candidate_field_edited_again_is_not_put_back(world: World) -> None:
    first = await stored(world, '!candidate-edit alabama rep primary candidate=Byrne name="Brad Byrne"')
    await stored(world, '!candidate-edit alabama rep primary candidate="Brad Byrne" name="B. Byrne"')
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "B. Byrne"))


async def test_a_setting_changed_again_is_not_put_back(world: World) -> None:
    first_role = world.standin.add_role(world.desk.id, name="news")
    second_role = world.standin.add_role(world.desk.id, name="alerts")
    first = await stored(world, f"!config ping-role <@&{first_role.id}>")
    await stored(world, f"!config ping-role <@&{second_role.id}>")
    await refused_unchanged(world, first, "changed again")
    async with make_sessionmaker(world.bot.engine)() as session:
        settings = await session.get(GuildSettings, world.desk.id)
    assert settings is not None and settings.ping_role_id == second_role.id


# ------------------------------------------------------------------ and what it puts back


async def undone(world: World, audit_id: int) -> None:
    exchange = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert exchange.ok is True and f"Undid #{audit_id}" in exchange.text, exchange.text


async def race_state(world: World) -> tuple[str | None, dict[str, dt.date | None]]:
    async with make_sessionmaker(world.bot.engine)() as session:
        race = await session.scalar(select(Race).where(Race.state == "AL", Race.cycle == 2020))
        assert race is not None
        contests = await session.scalars(select(Contest).where(Contest.race_id == race.id))
        return race.notes, {f"{c.party} {c.stage}".strip(): c.date for c in contests}


async def test_undoing_a_race_edit_puts_back_its_notes_and_dates_and_drops_a_stage_it_added(
    world: World,
) -> None:
    notes, dates = await race_state(world)
    assert notes and dates["general"] == dt.date(2020, 11, 3) and "general runoff" not in dates
    edit = await stored(
        world, '!race-edit alabama 2020 notes="Edited" general=2020-11-10 general-runoff=2020-12-08'
    )
    assert await race_state(world) != (notes, dates)
    await undone(world, edit)
    assert await race_state(world) == (notes, dates)


async def test_a_stage_added_by_an_edit_that_now_has_candidates_stays(world: World) -> None:
    edit = await stored(world, "!race-edit alabama 2020 general-runoff=2020-12-15")
    await stored(world, '!candidate-add alabama general runoff name="Tommy Tuberville" party=REP')
    await refused_unchanged(world, edit, "now has candidates or results")


async def test_undoing_a_candidate_edit_puts_back_the_person_and_the_ballot(world: World) -> None:
    async def mooney() -> tuple[Any, ...]:
        async with make_sessionmaker(world.bot.engine)() as session:
            person = await session.scalar(select(Candidate).where(Candidate.name_key.like("%mooney%")))
            assert person is not None
            candidacy = await session.scalar(select(Candidacy).where(Candidacy.candidate_id == person.id))
            aliases = set(
                await session.scalars(
                    select(CandidateAlias.alias).where(CandidateAlias.candidate_id == person.id)
                )
            )
            assert candidacy is not None
            return person.name, person.party, candidacy.withdrawn, aliases

    before = await mooney()
    edit = await stored(
        world,
        '!candidate-edit alabama rep primary candidate=Mooney name="Arnold W. Mooney" party=LIB alias="A. Mooney" withdrawn=yes',
    )
    assert await mooney() != before
    await undone(world, edit)
    assert await mooney() == before


async def test_undoing_a_result_makes_the_previous_count_current_again(world: World) -> None:
    async def current() -> int | None:
        async with make_sessionmaker(world.bot.engine)() as session:
            return await session.scalar(
                select(ResultSnapshot.id)
                .join(Contest)
                .join(Race)
                .where(Race.cycle == 2020, Contest.stage == "general")
                .order_by(ResultSnapshot.id.desc())
            )

    before = await current()
    posted = await stored(world, "!result alabama general Tuberville=1392200 Jones=920600")
    assert await current() != before
    await undone(world, posted)
    assert await current() == before


async def test_undoing_a_setting_puts_the_one_before_back(world: World) -> None:
    first, second = (world.standin.add_channel(world.desk.id, name=n).id for n in ("news", "updates"))
    await stored(world, f"!config results-channel <#{first}>")
    change = await stored(world, f"!config results-channel <#{second}>")
    await undone(world, change)
    async with make_sessionmaker(world.bot.engine)() as session:
        settings = await session.get(GuildSettings, world.desk.id)
    assert settings is not None and settings.results_channel_id == first


async def undo_reply(world: World, write: str) -> str:
    audit_id = await stored(world, write)
    exchange = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert exchange.ok is True, exchange.text
    return exchange.text


async def test_each_undo_says_what_it_put_back(world: World) -> None:
    """The reply names what was undone; with the store checked after each."""
    sessions = make_sessionmaker(world.bot.engine)
    text = await undo_reply(world, "!call alabama runoff Sessions source=AP")
    assert "removed the winner call (#" in text and "of the Republican runoff" in text
    text = await undo_reply(world, "!uncall alabama runoff")
    assert "removed the withdrawal of the call (#" in text
    async with sessions() as session:
        runoff = await session.scalar(
            select(Contest).join(Race).where(Race.cycle == 2020, Contest.stage == "primary runoff")
        )
        assert runoff is not None and runoff.status == "called"
    text = await undo_reply(world, '!candidate-add alabama general name="Quinn Example" party=IND')
    assert "took Quinn Example off the ballot and removed the person" in text
    text = await undo_reply(world, '!candidate-add alabama general name="Jeff Sessions" party=REP')
    assert "took Jeff Sessions off the ballot" in text and "removed the person" not in text
    async with sessions() as session:
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "Quinn Example")) is None
        assert await session.scalar(select(Candidate.id).where(Candidate.name == "Jeff Sessions")) is not None
    text = await undo_reply(
        world, '!poll add alabama pollster="Undo Polling" dates="July 1-9, 2020" Tuberville=41 Jones=33'
    )
    assert "removed poll #" in text and "(Undo Polling)" in text
    text = await undo_reply(world, '!endorse alabama endorser="Undo Endorser" candidate=Tuberville')
    assert "removed endorsement #" in text and "(Undo Endorser)" in text
    async with sessions() as session:
        assert await session.scalar(select(Poll.id).where(Poll.pollster == "Undo Polling")) is None
        assert (
            await session.scalar(select(Endorsement.id).where(Endorsement.endorser == "Undo Endorser"))
            is None
        )
    channel = world.standin.add_channel(world.desk.id, name="elsewhere").id
    text = await undo_reply(world, f"!config results-channel <#{channel}>")
    assert "put the server's results channel back" in text
    text = await undo_reply(world, "!result alabama general Tuberville=1392300 Jones=920700")
    assert "removed result #" in text and "of the general" in text


async def test_an_undo_is_audited_with_what_it_undid_and_what_it_restored(world: World) -> None:
    edit = await stored(world, '!race-edit alabama 2020 notes="Audited note"')
    await undone(world, edit)
    async with make_sessionmaker(world.bot.engine)() as session:
        original = await session.get(AuditEntry, edit)
        assert original is not None and original.undone_by_id is not None
        entry = await session.get(AuditEntry, original.undone_by_id)
    assert entry is not None
    assert (entry.action, entry.entity, entry.entity_id, entry.race_id, entry.undoes_id) == (
        "undo",
        original.entity,
        original.entity_id,
        original.race_id,
        original.id,
    )
    assert entry.before == original.after and entry.actor_id == world.moderator
    assert entry.after is not None and entry.after["undid"] == "race.edit"
    assert entry.after["restored"] == original.before
    assert entry.after["description"].startswith("put 2020 Alabama U.S. Senate")
    shown = await world.say(f"!audit {entry.id}", author=world.moderator)
    assert shown.ok is True and "race.edit" in shown.text

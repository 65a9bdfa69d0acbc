"""The permission matrix: who may change shared data, times every write command, prefix and slash.

Allowed: the bot's owners anywhere; in a desk server its moderator role and Manage Server. Refused, with
the reason and nothing changed: a member, an admin (Manage Server) of a server that is not a desk, and the
owner of such a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import AuditEntry, Endorsement, GuildSettings, Poll
from tests.support import MANAGE_GUILD, World, desk_world, row_counts

# Each write, with a {n} that makes each allowed run a different, valid write.
WRITES = [
    "!result alabama general Tuberville={n}00 Jones={n}0",
    "!call alabama runoff {winner}",
    "!uncall alabama runoff",
    '!poll add alabama pollster="Pollster {n}" dates="July 1-{n}, 2020" Tuberville=4{n} Jones=3{n}',
    "!poll remove {poll}",
    '!endorse alabama endorser="Endorser {n}" candidate=Tuberville',
    "!endorsement remove {endorsement}",
    "!race-add wyoming senate {year} general={year}-11-03",
    '!race-edit alabama 2020 notes="Note {n}"',
    '!candidate-add alabama general name="{person}" party=IND',
    '!candidate-edit alabama candidate=Jones alias="Doug Jones {n}"',
    '!candidate-merge alabama from="{person}" into={target}',
    "!undo {audit}",
]
PEOPLE = [
    f"{first} {last}"
    for first in ("Ann", "Bea", "Cal", "Dee", "Eli", "Fay")
    for last in ("Quill", "Rook", "Stave", "Thorn", "Umber", "Vane")
]
REFUSED_WORDS = {
    "member": "Only desk moderators can change shared data",
    "other_admin": "this server is not a desk server",
    "other_owner": "this server is not a desk server",
}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path) as started:
        yield started


def other_server_owner(world: World) -> tuple[int, int]:
    """A server that is not a desk, owned by someone who is not a bot owner: (owner, channel)."""
    owner = world.standin.add_user("friends-owner")
    guild = world.standin.add_guild(name="Friends 2", owner_id=owner)
    channel = world.standin.add_channel(guild.id, name="general")
    return owner, channel.id


async def latest(world: World, model: type, column: str = "id") -> int:
    async with make_sessionmaker(world.bot.engine)() as session:
        return int(
            await session.scalar(select(getattr(model, column)).order_by(getattr(model, column).desc())) or 0
        )


async def undoable(world: World) -> int:
    async with make_sessionmaker(world.bot.engine)() as session:
        query = select(AuditEntry.id).where(AuditEntry.action != "undo", AuditEntry.undone_by_id.is_(None))
        return int(await session.scalar(query.order_by(AuditEntry.id.desc())) or 0)


async def fill(world: World, template: str, n: int) -> str:
    return template.format(
        n=n,
        year=1990 + n,
        person=PEOPLE[n],
        target="Byrne" if n % 2 else "Mooney",
        winner="Sessions" if n % 2 else "Tuberville",
        poll=await latest(world, Poll),
        endorsement=await latest(world, Endorsement),
        audit=await undoable(world),
    )


async def test_every_write_command_by_every_kind_of_person(world: World) -> None:
    sessions = make_sessionmaker(world.bot.engine)
    owner_of_other, their_channel = other_server_owner(world)
    refused_people = {
        "member": (world.member, world.desk_channel),
        "other_admin": (world.other_admin, world.other_channel),
        "other_owner": (owner_of_other, their_channel),
    }
    allowed_people = {
        "moderator": (world.moderator, world.desk_channel),
        "owner": (world.owner, world.desk_channel),
    }
    problems: list[str] = []
    n = 1
    for template in WRITES:
        # Refused first: each refusal says why and changes nothing.
        for who, (author, channel) in refused_people.items():
            before = await row_counts(sessions)
            exchange = await world.say(await fill(world, template, 9), author=author, channel=channel)
            if exchange.ok is not False or REFUSED_WORDS[who] not in exchange.text:
                problems.append(f"{who} {template!r}: {exchange.ok} {exchange.text[:120]!r}")
            if await row_counts(sessions) != before:
                problems.append(f"{who} {template!r} changed the store")
        for who, (author, channel) in allowed_people.items():
            n += 1
            text = await fill(world, template, n)
            if template.startswith("!candidate-merge"):  # a person to merge, put on a ballot by this actor
                await world.say(f'!candidate-add alabama general name="{PEOPLE[n]}" party=REP', author=author)
            exchange = await world.say(text, author=author, channel=channel)
            if exchange.ok is not True:
                problems.append(f"{who} {text!r}: {exchange.ok} {exchange.text[:200]!r}")
            if template.startswith("!uncall"):  # so the next actor's uncall has a call to withdraw
                await world.say(
                    f"!call alabama runoff {'Tuberville' if n % 2 else 'Sessions'}", author=author
                )
    assert not problems, "\n".join(problems)


async def test_manage_server_in_a_desk_server_may_write_without_the_role(world: World) -> None:
    admin_role = world.standin.add_role(world.desk.id, name="admins", permissions=MANAGE_GUILD)
    admin = world.standin.add_member(world.desk.id, "desk-admin", roles=[admin_role])
    exchange = await world.say(
        '!endorse alabama endorser="Kay Ivey" candidate=Tuberville kind=governor', author=admin
    )
    assert exchange.ok is True and "Stored endorsement" in exchange.text


async def test_the_moderator_role_counts_only_once_configured(world: World) -> None:
    async with make_sessionmaker(world.bot.engine).begin() as session:
        settings = await session.get(GuildSettings, world.desk.id)
        assert settings is not None
        settings.mod_role_id = None
    exchange = await world.say("!result alabama general Tuberville=1 Jones=2", author=world.moderator)
    assert exchange.ok is False and "Only desk moderators" in exchange.text


async def test_slash_writes_are_guarded_the_same_way(world: World) -> None:
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)
    refused = await world.driver.slash(
        world.other.id,
        world.other_channel,
        world.other_admin,
        "result",
        {"details": "alabama general Tuberville=5 Jones=3"},
    )
    assert refused.ok is False and "not a desk server" in refused.text
    refused = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.member,
        "poll add",
        {"details": 'alabama pollster=X dates="July 1-2" Tuberville=40 Jones=30'},
    )
    assert refused.ok is False and "Only desk moderators" in refused.text
    assert await row_counts(sessions) == before
    allowed = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.moderator,
        "result",
        {"details": "alabama general Tuberville=7 Jones=3"},
    )
    assert allowed.ok is True and "Stored result" in allowed.text
    assert allowed.messages[0].kind == "interaction_response"


async def test_in_dms_only_owners_write(world: World) -> None:
    refused = await world.driver.send(
        world.standin.dm_channel_id(world.moderator), world.moderator, "!uncall alabama general"
    )
    assert refused.ok is False and "works in a desk server" in refused.text
    allowed = await world.driver.send(
        world.standin.dm_channel_id(world.owner), world.owner, "!uncall alabama general"
    )
    assert allowed.ok is True and "Withdrew call" in allowed.text


async def test_server_settings_belong_to_that_servers_admins(world: World) -> None:
    other_results = world.standin.add_channel(world.other.id, name="news")
    refused = await world.say(
        f"!config results-channel <#{other_results.id}>", author=world.member, channel=world.other_channel
    )
    assert refused.ok is False and "Only this server's admins" in refused.text
    allowed = await world.say(
        f"!config results-channel <#{other_results.id}>",
        author=world.other_admin,
        channel=world.other_channel,
    )
    assert allowed.ok is True and "Announcements go to" in allowed.text
    # A desk moderator may set the desk's results channel, but not who moderates.
    desk_results = world.standin.add_channel(world.desk.id, name="desk-results")
    assert (
        await world.say(f"!config results-channel <#{desk_results.id}>", author=world.moderator)
    ).ok is True
    taken = await world.say(f"!config mod-role <@&{world.desk_role.id}>", author=world.moderator)
    assert taken.ok is False and "Only this server's admins" in taken.text
    # The bot's owners change shared data anywhere, but a server's settings stay with its admins.
    owner = await world.say("!config prefix ?", author=world.owner, channel=world.other_channel)
    assert owner.ok is False and "Only this server's admins" in owner.text

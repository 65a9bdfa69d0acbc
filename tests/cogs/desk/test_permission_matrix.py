"""The permission matrix (README, "Who may write shared data"): every desk write command, in prefix and slash
form, for every kind of person. Where the README allows it the store changed (an audit entry of that write, by
that person); where it refuses, the reply gives the reason and every table is as it was.

Shared data: the bot's owners anywhere (a server that is not a desk, a DM); in a desk server its moderators and
Manage Server. Refused: another server's owner and admin, a plain member, anyone else in a DM.
Server settings (`config`): that server's admins and owner; in a desk server its moderators too, except for
who moderates. The commands come from the desk's ACTIONS table, plus config, audit, undo and import.

One bot for the module; each case uses inputs no other case uses, and sets up what it needs as an owner.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from cogs.desk import ACTIONS
from cogs.support.checks import CONFIG_IN_DMS, DESK_IN_DMS, NOT_ADMIN, NOT_DESK, NOT_MODERATOR
from db.engine import make_sessionmaker
from db.models import AuditEntry, Endorsement, GuildSettings, Poll
from tests.support import MANAGE_GUILD, World, desk_world, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Actor:
    key: str
    user: int
    guild: int | None  # None: a DM
    channel: int


@dataclass
class Matrix:
    world: World
    actors: dict[str, Actor]
    counter: itertools.count[int]
    state: dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    async with desk_world(
        tmp_path_factory.mktemp("matrix"), results_channels=False, followers=False
    ) as world:
        s = world.standin
        admin_role = s.add_role(world.desk.id, name="desk-admins", permissions=MANAGE_GUILD)
        desk_admin = s.add_member(world.desk.id, "desk-admin", roles=[admin_role])
        their_owner = s.add_user("friends-owner")
        theirs = s.add_guild(name="Friends 2", owner_id=their_owner)
        their_channel = s.add_channel(theirs.id, name="general").id
        actors = [
            Actor("owner elsewhere", world.owner, world.other.id, world.other_channel),
            Actor("owner in a DM", world.owner, None, s.dm_channel_id(world.owner)),
            Actor("desk moderator", world.moderator, world.desk.id, world.desk_channel),
            Actor("desk Manage Server", desk_admin, world.desk.id, world.desk_channel),
            Actor("other server's owner", their_owner, theirs.id, their_channel),
            Actor("other server's admin", world.other_admin, world.other.id, world.other_channel),
            Actor("plain member", world.member, world.desk.id, world.desk_channel),
            Actor("moderator in a DM", world.moderator, None, s.dm_channel_id(world.moderator)),
        ]
        await world.bot.tree.sync()  # so slash options are typed (channels, roles) as Discord would
        yield Matrix(world, {a.key: a for a in actors}, itertools.count(1), {"runoff": "Tuberville"})


# Who may change shared data, and the refusal each other person gets.
SHARED = {
    "owner elsewhere": None,
    "owner in a DM": None,
    "desk moderator": None,
    "desk Manage Server": None,
    "other server's owner": NOT_DESK,
    "other server's admin": NOT_DESK,
    "plain member": NOT_MODERATOR,
    "moderator in a DM": DESK_IN_DMS,
}
# Who may change a server's setting (`roles`: who moderates, which stays with the admins).
SETTINGS = {
    "owner elsewhere": NOT_ADMIN,
    "owner in a DM": CONFIG_IN_DMS,
    "desk moderator": None,
    "desk Manage Server": None,
    "other server's owner": None,
    "other server's admin": None,
    "plain member": NOT_ADMIN,
    "moderator in a DM": CONFIG_IN_DMS,
}
ROLES = {**SETTINGS, "desk moderator": NOT_ADMIN}

FIRST = ["Ann", "Bea", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo", "Kit", "Lou", "Max", "Ned"]
LAST = ["Quill", "Rook", "Stave", "Thorn", "Umber", "Vane", "Wick", "Yarrow", "Zell", "Brine", "Croft"]
PEOPLE = [f"{first} {last}{end}" for end in ("", "ton", "ley", "wood") for last in LAST for first in FIRST]


async def latest_id(m: Matrix, model: Any) -> int:
    async with make_sessionmaker(m.world.bot.engine)() as session:
        return int(await session.scalar(select(func.max(model.id))) or 0)


async def as_owner(m: Matrix, text: str) -> None:
    exchange = await m.world.say(text, author=m.world.owner)
    assert exchange.ok is True, f"setting up {text!r}: {exchange.text}"


# Each case: (its parameters for this attempt) -> (prefix text, slash options); it may set up as an owner.
Case = Callable[[Matrix, Actor, int], Awaitable[str]]


async def result(m: Matrix, _a: Actor, n: int) -> str:
    return f"alabama general Tuberville={10_000 + n} Jones={5_000 + n}"


async def call(m: Matrix, _a: Actor, n: int) -> str:
    return "alabama runoff " + ("Sessions" if m.state["runoff"] == "Tuberville" else "Tuberville")


async def uncall(m: Matrix, _a: Actor, n: int) -> str:
    if m.state.get("general uncalled"):
        await as_owner(m, "!call alabama general Tuberville")
        m.state["general uncalled"] = False
    return "alabama general"


async def poll_add(m: Matrix, _a: Actor, n: int) -> str:
    return f'alabama pollster="Matrix Polling {n}" dates="July 1-9, 2020" Tuberville=41 Jones=33 n={400 + n}'


async def poll_remove(m: Matrix, _a: Actor, n: int) -> str:
    await as_owner(
        m, f'!poll add alabama pollster="Setup Polling {n}" dates="July 1-9, 2020" Tuberville=41 Jones=33'
    )
    return str(await latest_id(m, Poll))


async def endorse(m: Matrix, _a: Actor, n: int) -> str:
    return f'alabama endorser="Matrix Endorser {n}" candidate=Tuberville'


async def endorsement_remove(m: Matrix, _a: Actor, n: int) -> str:
    await as_owner(m, f'!endorse alabama endorser="Setup Endorser {n}" candidate=Jones')
    return str(await latest_id(m, Endorsement))


STATES = ["wyoming", "montana", "idaho", "utah", "nevada", "oregon", "maine", "vermont", "ohio", "iowa"]
STATES += ["kansas", "texas", "florida", "alaska"]


async def race_add(m: Matrix, _a: Actor, n: int) -> str:
    year = 1980 + 2 * (n % 25)
    return f"{STATES[n // 25]} governor {year} general={year}-11-03"


async def race_edit(m: Matrix, _a: Actor, n: int) -> str:
    return f'alabama 2020 notes="Matrix note {n}"'


async def candidate_add(m: Matrix, _a: Actor, n: int) -> str:
    return f'alabama general name="{PEOPLE[2 * n]}" party=IND'


async def candidate_edit(m: Matrix, _a: Actor, n: int) -> str:
    return f'alabama candidate=Jones alias="Doug Jones {n}"'


async def candidate_merge(m: Matrix, _a: Actor, n: int) -> str:
    """Two fresh records, on two stages' ballots (one person cannot be twice on one ballot)."""
    twin, kept = PEOPLE[2 * n], PEOPLE[2 * n + 1]
    await as_owner(m, f'!candidate-add alabama general name="{twin}" party=REP')
    await as_owner(m, f'!candidate-add alabama rep primary name="{kept}" party=REP')
    return f'alabama from="{twin}" into="{kept}"'


async def undo(m: Matrix, _a: Actor, n: int) -> str:
    await as_owner(m, f'!endorse alabama endorser="Undo Endorser {n}" candidate=Tuberville')
    return str(await latest_id(m, AuditEntry))


async def audit(m: Matrix, _a: Actor, n: int) -> str:
    return "alabama"


@dataclass(frozen=True)
class Command:
    name: str  # as typed after the prefix, and as the slash command's name
    make: Case
    action: str | None  # the audit entry an allowed run writes (None: it reads only)
    rules: dict[str, str | None]
    option: str = "details"  # the slash option the made text goes in
    slash_value: Callable[[str], Any] = str


def channel_option(m: Matrix, actor: Actor) -> int:
    guild = actor.guild or m.world.desk.id
    return m.world.standin.add_channel(guild, name="results").id


COMMANDS = [
    Command("result", result, "result.add", SHARED),
    Command("call", call, "call.add", SHARED),
    Command("uncall", uncall, "call.uncall", SHARED),
    Command("poll add", poll_add, "poll.add", SHARED),
    Command("poll remove", poll_remove, "poll.remove", SHARED, "poll_id", int),
    Command("endorse", endorse, "endorsement.add", SHARED),
    Command("endorsement remove", endorsement_remove, "endorsement.remove", SHARED, "endorsement_id", int),
    Command("race-add", race_add, "race.add", SHARED),
    Command("race-edit", race_edit, "race.edit", SHARED),
    Command("candidate-add", candidate_add, "candidate.add", SHARED),
    Command("candidate-edit", candidate_edit, "candidate.edit", SHARED),
    Command("candidate-merge", candidate_merge, "candidate.merge", SHARED),
    Command("undo", undo, "undo", SHARED, "entry"),
    Command("audit", audit, None, SHARED),
]


async def test_the_matrix_covers_every_desk_action() -> None:
    assert {c.name for c in COMMANDS} >= set(ACTIONS)


async def attempt(m: Matrix, actor: Actor, form: str, name: str, text: str, options: dict[str, Any]) -> Any:
    if form == "prefix":
        return await m.world.say(f"!{name} {text}".rstrip(), author=actor.user, channel=actor.channel)
    return await m.world.driver.slash(actor.guild, actor.channel, actor.user, name, options)


async def check(
    m: Matrix, actor: Actor, refusal: str | None, action: str | None, run: Callable[[], Awaitable[Any]]
) -> str | None:
    """Run one attempt; what is wrong with its outcome, if anything."""
    sessions = make_sessionmaker(m.world.bot.engine)
    before = await row_counts(sessions)
    last_before = await latest_id(m, AuditEntry)
    exchange = await run()
    after = await row_counts(sessions)
    if refusal is not None:
        if exchange.ok is not False or refusal not in exchange.text:
            return f"not refused with the reason: {exchange.ok} {exchange.text[:160]!r}"
        if after != before:
            return "refused, but the store changed"
        return None
    if exchange.ok is not True:
        return f"refused or failed: {exchange.ok} {exchange.text[:200]!r}"
    if action is None:
        return None if after == before else "a read changed the store"
    async with sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id > last_before).order_by(AuditEntry.id)
            )
        )
    if [(e.action, e.actor_id) for e in entries] != [(action, actor.user)]:
        return f"expected one {action} by the actor, found {[(e.action, e.actor_id) for e in entries]}"
    if after == before:
        return "allowed, but the store did not change"
    return None


@pytest.mark.parametrize("form", ["prefix", "slash"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
async def test_each_desk_command_by_each_kind_of_person(matrix: Matrix, command: Command, form: str) -> None:
    problems = []
    for key, refusal in command.rules.items():
        actor = matrix.actors[key]
        n = next(matrix.counter)
        text = await command.make(matrix, actor, n)
        options = {command.option: command.slash_value(text)}
        problem = await check(
            matrix,
            actor,
            refusal,
            command.action,
            lambda a=actor, t=text, o=options: attempt(matrix, a, form, command.name, t, o),  # type: ignore[misc]
        )
        if problem is None and refusal is None and command.name == "call":
            matrix.state["runoff"] = text.split()[-1]
        if problem is None and refusal is None and command.name == "uncall":
            matrix.state["general uncalled"] = True
        if problem:
            problems.append(f"{key}: {problem}")
    assert not problems, f"{form} {command.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("form", ["prefix", "slash"])
@pytest.mark.parametrize("setting", ["results-channel", "mod-role"])
async def test_each_server_setting_by_each_kind_of_person(matrix: Matrix, setting: str, form: str) -> None:
    world = matrix.world
    rules = ROLES if setting == "mod-role" else SETTINGS
    problems = []
    for key, refusal in rules.items():
        actor = matrix.actors[key]
        guild = actor.guild or world.desk.id
        if setting == "results-channel":
            target = world.standin.add_channel(guild, name="results").id
            text, options = f"<#{target}>", {"channel": target}
        else:
            target = world.standin.add_role(guild, name="moderators").id
            text, options = f"<@&{target}>", {"role": target}
        problem = await check(
            matrix,
            actor,
            refusal,
            "config.set",
            lambda a=actor, t=text, o=options: attempt(matrix, a, form, f"config {setting}", t, o),  # type: ignore[misc]
        )
        if problem:
            problems.append(f"{key}: {problem}")
        if setting == "mod-role" and refusal is None and actor.guild == world.desk.id:
            # The desk's moderators keep their role for the cases that follow.
            restored = await world.say(
                f"!config mod-role <@&{world.desk_role.id}>", author=matrix.actors["desk Manage Server"].user
            )
            assert restored.ok is True, restored.text
    assert not problems, f"{form} config {setting}:\n" + "\n".join(problems)


@pytest.mark.parametrize("form", ["prefix", "slash"])
async def test_import_by_each_kind_of_person(matrix: Matrix, form: str) -> None:
    """Allowed, the file is read (a dry run: the store is unchanged until Confirm); refused, it is not."""
    world = matrix.world
    problems = []
    for key, refusal in SHARED.items():
        actor = matrix.actors[key]
        sessions = make_sessionmaker(world.bot.engine)
        before = await row_counts(sessions)
        if form == "prefix":
            exchange = await world.say(
                "!import",
                author=actor.user,
                channel=actor.channel,
                files=[("notes.csv", b"hello,world\n1,2\n")],
            )
        else:  # no file: past the check, the reply asks for one
            exchange = await world.driver.slash(actor.guild, actor.channel, actor.user, "import", {})
        said = exchange.text
        if refusal is None and (refusal_words := [r for r in set(SHARED.values()) if r and r in said]):
            problems.append(f"{key}: refused {refusal_words}")
        elif refusal is None and not (
            "not one of fivethirtyeight-polls" in said or "Attach the data file" in said
        ):
            problems.append(f"{key}: the file was not read: {said[:160]!r}")
        elif refusal is not None and (exchange.ok is not False or refusal not in said):
            problems.append(f"{key}: not refused with the reason: {said[:160]!r}")
        if await row_counts(sessions) != before:
            problems.append(f"{key}: the store changed before any Confirm")
    assert not problems, f"{form} import:\n" + "\n".join(problems)


async def test_a_desk_server_with_no_settings_yet_has_no_moderators(matrix: Matrix) -> None:
    """Before any `config` in a desk server, only Manage Server (and owners) may write there."""
    world = matrix.world
    sessions = make_sessionmaker(world.bot.engine)
    async with sessions.begin() as session:
        kept = await session.get(GuildSettings, world.desk.id)
        assert kept is not None
        mod_role = kept.mod_role_id
        await session.delete(kept)
    try:
        before = await row_counts(sessions)
        for who in (world.member, world.moderator):
            refused = await world.say("!uncall alabama general", author=who)
            assert refused.ok is False and NOT_MODERATOR in refused.text, refused.text
        assert await row_counts(sessions) == before
    finally:
        async with sessions.begin() as session:
            session.add(GuildSettings(guild_id=world.desk.id, mod_role_id=mod_role))

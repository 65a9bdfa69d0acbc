"""The real RaceBot, in this process, against the loopback stand-in for Discord.

Cog tests talk to it as members do: a message goes in as MESSAGE_CREATE (or an
INTERACTION_CREATE for slash commands) and the test reads what the bot posted.
Every body the bot sends is checked against Discord's OpenAPI spec.
Worlds: `running_bot` (an empty store or the test's own), `member_world` (the member data),
`desk_world` (the sample race, a desk with a moderator role, results channels and a follower);
then waiting for what the bot posts, and checking that it fits Discord's limits and cannot ping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import EXTENSIONS, RaceBot
from cli import BotDriver, Exchange
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import Follow, GuildSettings, OutboxMessage
from loopback import Guild, Permission, Role, StandIn
from loopback.patching import point_discord_at
from loopback.process import start_bot_process, stop_bot_process
from settings import Settings
from tests.support.data import SPEC
from tests.support.stores import CheckedSessions, al2020, copied_store, member_engine, store_on

MANAGE_GUILD = 1 << 5


# ---------------------------------------------------------------- errors the bot logs or swallows


class ErrorWatch(logging.Handler):
    """Every ERROR (and worse) log record while an in-process bot runs, and every exception its tasks
    leave unretrieved or its runner ends with. A test that has any fails at teardown, unless it is
    marked `@pytest.mark.bot_errors("pattern", ...)`: then every record must match one of the patterns
    (re.search on the message and the exception), and each pattern must match a record."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.running = 0  # bots running in this process (nested worlds)
        self.in_test = False  # a test's check (tests/conftest.py) will look at the records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @contextlib.contextmanager
    def watching(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        root = logging.getLogger()
        if self.running == 0:
            root.addHandler(self)
        self.running += 1
        previous = loop.get_exception_handler()

        def unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            self.add("asyncio", str(context.get("message")), context.get("exception"))
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(unretrieved)
        try:
            yield
        finally:
            loop.set_exception_handler(previous)
            self.running -= 1
            if self.running == 0:
                root.removeHandler(self)

    def add(self, logger: str, message: str, error: object) -> None:
        """A record of what went wrong outside logging: an unretrieved task exception, the bot's task."""
        exc_info = (type(error), error, error.__traceback__) if isinstance(error, BaseException) else None
        self.records.append(logging.LogRecord(logger, logging.ERROR, __file__, 0, message, None, exc_info))

    def take(self) -> list[logging.LogRecord]:
        taken, self.records = self.records, []
        return taken


ERRORS = ErrorWatch()


def describe_record(record: logging.LogRecord) -> str:
    text = f"{record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text += f" [{type(error).__name__}: {error}]"
    return text


def unexpected_errors(records: list[logging.LogRecord], patterns: Sequence[str]) -> list[str]:
    """What is wrong with the records a test produced, given the patterns it expects (none: no record)."""
    problems = [
        f"the bot logged: {describe_record(r)}"
        for r in records
        if not any(re.search(p, describe_record(r)) for p in patterns)
    ]
    problems += [
        f"no ERROR record matched {p!r}"
        for p in patterns
        if not any(re.search(p, describe_record(r)) for r in records)
    ]
    return problems


def check_bot_errors(patterns: Sequence[str] = ()) -> None:
    """Fail with every unexpected ERROR record (or expected one missing) since the last check."""
    problems = unexpected_errors(ERRORS.take(), patterns)
    if problems:
        raise AssertionError("\n".join(problems))


# Tasks in which discord.py handles an event (a message, an interaction, a command's completion or error):
# while one runs, the bot may still post what the exchange caused.
EVENT_TASKS = ("discord.py: ", "CommandTree-invoker", "discord-ui-view-dispatch")


async def settled(standin: StandIn, quiet: float = 0.03, limit: float = 5.0) -> None:
    """Until the bot has handled every event it was sent and the stand-in has recorded nothing new for
    `quiet` seconds (at most `limit` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    me = asyncio.current_task()
    while loop.time() < deadline:
        busy = [
            task
            for task in asyncio.all_tasks()
            if task is not me and not task.done() and task.get_name().startswith(EVENT_TASKS)
        ]
        if busy:
            await asyncio.wait(busy, timeout=max(deadline - loop.time(), 0.001))
            continue
        count = len(standin.messages)
        await asyncio.sleep(quiet)
        if len(standin.messages) == count:
            return


class Driver(BotDriver):
    """The console's driver, ending an exchange when the bot has handled every event it caused (and the
    stand-in has recorded nothing new for a moment), not after a fixed quiet time."""

    async def _settle(self, quiet: float = 0.03, limit: float = 5.0) -> None:
        await settled(self.standin, quiet, limit)


@dataclass
class World:
    """A desk server and an ordinary server, each with a channel and people in several roles."""

    standin: StandIn
    bot: RaceBot
    driver: BotDriver
    desk: Guild
    desk_channel: int
    other: Guild
    other_channel: int
    member: int  # an ordinary member of both servers
    moderator: int  # holds the desk's moderator role
    desk_role: Role
    other_admin: int  # Manage Server in the non-desk server
    owner: int  # a bot owner (OWNER_IDS)
    names: dict[int, str] = field(default_factory=dict)

    async def say(
        self,
        text: str,
        author: int | None = None,
        channel: int | None = None,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> Exchange:
        """Post as `author` (default: the member) in `channel` (default: the desk server's channel)."""
        return await self.driver.send(
            channel or self.desk_channel, author or self.member, text, timeout=30, files=files
        )

    async def text(self, text: str, author: int | None = None, channel: int | None = None) -> str:
        return (await self.say(text, author, channel)).text


def build_world(standin: StandIn) -> dict[str, Any]:
    desk = standin.add_guild(name="Election Desk")
    desk_role = standin.add_role(desk.id, name="desk")
    other = standin.add_guild(name="Friends")
    people = {
        "member": standin.add_user("member"),
        "moderator": standin.add_user("moderator"),
        "other_admin": standin.add_user("other-admin"),
        "owner": standin.add_user("bot-owner"),
    }
    admin_role = standin.add_role(
        other.id, name="admins", permissions=MANAGE_GUILD | Permission.EVERYONE_DEFAULT
    )
    for guild in (desk, other):
        standin.add_member(guild.id, "member", people["member"])
        standin.add_member(guild.id, "owner", people["owner"])
    standin.add_member(desk.id, "moderator", people["moderator"], roles=[desk_role])
    standin.add_member(other.id, "other-admin", people["other_admin"], roles=[admin_role])
    return {
        "desk": desk,
        "desk_channel": standin.add_channel(desk.id, name="desk").id,
        "other": other,
        "other_channel": standin.add_channel(other.id, name="general").id,
        "desk_role": desk_role,
        **people,
    }


@contextlib.asynccontextmanager
async def running_bot(
    engine: AsyncEngine, settings: Settings | None = None, *, checked: bool = False
) -> AsyncIterator[World]:
    """Start the bot on `engine` (already migrated and filled as the test wants); `checked`: the store's
    integrity is checked after every write, and the world fails at its end if one left it broken."""
    async with StandIn(SPEC) as standin:
        world = build_world(standin)
        settings = replace(
            settings or Settings(load_default_data=False),
            owner_ids=frozenset({world["owner"]}),
            desk_guild_ids=frozenset({world["desk"].id}),
        )
        with (
            point_discord_at(standin.api_base, standin.gateway_url),
            ERRORS.watching(asyncio.get_running_loop()),
        ):
            sessions = CheckedSessions(engine) if checked else make_sessionmaker(engine)
            bot = RaceBot(settings, engine, sessions, extensions=EXTENSIONS)
            runner = asyncio.create_task(bot.start("loopback-token"))
            try:
                await standin.wait_until_ready(timeout=30)
                yield World(standin=standin, bot=bot, driver=Driver(standin, bot), **world)
            finally:
                await bot.close()
                try:
                    await asyncio.wait_for(runner, 10)
                except asyncio.CancelledError:
                    pass
                except Exception as error:  # the bot's own task ended with an exception: not swallowed
                    ERRORS.add(__name__, "the bot's task ended with an exception", error)
        assert standin.spec_errors == [], standin.spec_errors
        assert not isinstance(sessions, CheckedSessions) or not sessions.found, sessions.found
        if not ERRORS.in_test:  # a world shared by a module's tests ends after its last test's check
            check_bot_errors()


@contextlib.asynccontextmanager
async def member_world(tmp_path: Path, big: bool = True) -> AsyncIterator[World]:
    engine = member_engine(tmp_path, big)
    try:
        async with running_bot(engine) as world:
            yield world
    finally:
        await engine.dispose()


async def new_messages(
    world: World, before: int, done: Callable[[list[Any]], bool] | None = None, timeout: float = 30
) -> list[Any]:
    """What the bot recorded after index `before`, once `done` says it is complete (default: anything)."""

    def complete() -> bool:
        got = list(world.standin.messages[before:])
        return bool(got) and (done is None or done(got))

    await until(complete, timeout, "something new from the bot")
    await settled(world.standin)
    return list(world.standin.messages[before:])


def embed_chars(message: Any) -> int:
    """Characters Discord counts toward the 6,000 of a message's embeds."""
    total = 0
    for embed in message.embeds:
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += len((embed.get("footer") or {}).get("text") or "") + len(
            (embed.get("author") or {}).get("name") or ""
        )
        for f in embed.get("fields") or []:
            total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def assert_fits(message: Any) -> None:
    """Within every Discord limit a message has, and unable to ping."""
    assert len(message.content or "") <= 2000
    assert len(message.embeds) <= 10
    assert embed_chars(message) <= 6000
    for embed in message.embeds:
        assert len(embed.get("title") or "") <= 256
        assert len(embed.get("description") or "") <= 4096
        assert len(embed.get("fields") or []) <= 25
        for f in embed.get("fields") or []:
            assert len(f.get("name") or "") <= 256 and len(f.get("value") or "") <= 1024
        assert len((embed.get("footer") or {}).get("text") or "") <= 2048
    assert message.allowed_mentions in (None, {"parse": []})
    assert_inert(message)


def raw_strings(message: Any) -> str:
    """Every string the bot sent in a message (content and embeds), exactly as sent."""
    found: list[str] = [message.content or ""]

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.embeds)
    return "\n".join(found)


def assert_inert(message: Any) -> None:
    """No mass mention survives unescaped, whatever the data held (the reply could not ping even if one did)."""
    raw = raw_strings(message).replace("@\u200beveryone", "").replace("@\u200bhere", "")
    assert "@everyone" not in raw and "@here" not in raw


@contextlib.asynccontextmanager
async def desk_world(
    tmp_path: Path, *, results_channels: bool = True, followers: bool = True, database: str = "sqlite"
) -> AsyncIterator[World]:
    """The bot over the sample race (on SQLite a copy of a store that holds it; or on "postgresql"), the
    desk's moderator role set, and (by default) a results channel in both servers and the member following
    the 2020 Alabama race."""
    async with store_on(database, tmp_path, "sample", load_sample) as engine:
        sessions = make_sessionmaker(engine)
        async with running_bot(engine, checked=True) as world:
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


async def until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.02)


async def outbox_settled(sessions: async_sessionmaker[AsyncSession], timeout: float = 30.0) -> None:
    """Until no announcement is pending; then none holds a lease (a lease ends as its row stops waiting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with sessions() as session:
            counted = await session.execute(  # one statement: one snapshot
                select(
                    func.count().filter(OutboxMessage.status == "pending"),
                    func.count().filter(OutboxMessage.lease_until.is_not(None)),
                )
            )
            pending, leased = counted.one()
        if not pending:
            assert not leased, f"{leased} announcements done with still hold a lease"
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{pending} announcements still pending after {timeout}s")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- the real bot process


@dataclass
class BotProcess:
    """The real bot process (`python cli.py run`) on a copy of the sample store, in a server with a member."""

    standin: StandIn
    proc: asyncio.subprocess.Process
    channel_id: int
    member: int
    output: list[str] = field(default_factory=list)  # what it printed, once it has stopped
    env: dict[str, str] = field(default_factory=dict)  # what it was started with (DATABASE_URL, ...)


@contextlib.asynccontextmanager
async def sample_bot_process(tmp_path: Path, token: str) -> AsyncIterator[BotProcess]:
    """Start the bot process, wait until it is ready, and stop it (SIGINT, then harder) at the end."""
    engine = copied_store(tmp_path / "sample.db", "sample", load_sample)
    url = str(engine.url)
    await engine.dispose()
    async with StandIn(SPEC, token=token) as standin:
        guild = standin.add_guild(name="Members")
        channel = standin.add_channel(guild.id, name="general")
        member = standin.add_member(guild.id, "member")
        env = {"DISCORD_TOKEN": token, "DATABASE_URL": url, "RACEDESK_DEFAULT_DATA": "0", "LOG_LEVEL": "INFO"}
        running = BotProcess(standin, await start_bot_process(standin, env=env), channel.id, member, env=env)
        try:
            await standin.wait_until_ready(timeout=90)
            yield running
        finally:
            running.output.append(await stop_bot_process(running.proc))

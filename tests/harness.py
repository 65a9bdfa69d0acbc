"""The real RaceBot, in this process, against the loopback stand-in for Discord.

Cog tests talk to it as members do: a message goes in as MESSAGE_CREATE (or an
INTERACTION_CREATE for slash commands) and the test reads what the bot posted.
Every body the bot sends is checked against Discord's OpenAPI spec.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import EXTENSIONS, RaceBot
from cli import BotDriver, Exchange
from db.engine import make_sessionmaker
from loopback import Guild, Permission, Role, StandIn
from loopback.patching import point_discord_at
from settings import Settings

SPEC = Path(__file__).parent / "data" / "discord-openapi.json"
MANAGE_GUILD = 1 << 5


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
async def running_bot(engine: AsyncEngine, settings: Settings | None = None) -> AsyncIterator[World]:
    """Start the bot on `engine` (already migrated and filled as the test wants)."""
    async with StandIn(SPEC) as standin:
        world = build_world(standin)
        settings = replace(
            settings or Settings(load_default_data=False),
            owner_ids=frozenset({world["owner"]}),
            desk_guild_ids=frozenset({world["desk"].id}),
        )
        with point_discord_at(standin.api_base, standin.gateway_url):
            bot = RaceBot(settings, engine, make_sessionmaker(engine), extensions=EXTENSIONS)
            runner = asyncio.create_task(bot.start("loopback-token"))
            try:
                await standin.wait_until_ready(timeout=30)
                yield World(standin=standin, bot=bot, driver=BotDriver(standin, bot), **world)
            finally:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(runner, 10)
        assert standin.spec_errors == [], standin.spec_errors

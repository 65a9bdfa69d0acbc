"""StandIn: Discord's REST API and gateway on 127.0.0.1, for a real discord.py bot to talk to.

It keeps a small world (users, guilds, channels, roles, members), plays the people in it
(messages, DMs, slash commands, autocomplete, button clicks) and records what the bot does
(every HTTP request; every message, interaction response, followup and edit it posts).

This module has the class, its lifecycle, the world and what people do. The rest of it is
in mixins, all sharing ``state.StandInState``:

- ``rest_server``: body parsing, routing, auth, spec checks, injected failures, rate-limit headers
- ``rest_basics``: gateway URL, users, application, DMs, channels, reactions, guilds, members
- ``rest_messages``: channel messages; ``bot_messages``: how the bot's messages are built,
  recorded and echoed
- ``rest_commands``: application command registration
- ``interactions``: interactions people start; ``rest_interactions``: the bot's callbacks,
  followups and edits
- ``gateway_server``: the websocket, IDENTIFY, RESUME, member chunks (``gateway``: framing,
  compression, sessions)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web

from .gateway import Intents
from .gateway_server import GatewayServer
from .interactions import Interactions
from .models import Channel, Guild, Member, Permission, RecordedMessage, Role, User, iso_now, new_snowflake
from .rest_basics import RestBasics
from .rest_commands import RestCommands
from .rest_common import FailRule
from .rest_interactions import RestInteractions
from .rest_messages import RestMessages
from .rest_server import RestServer
from .spec import load_spec
from .state import StoredMessage

__all__ = ["FailRule", "StandIn"]

log = logging.getLogger("loopback")


class StandIn(
    RestServer, RestBasics, RestMessages, RestCommands, RestInteractions, Interactions, GatewayServer
):
    """A loopback Discord for one bot. Use as ``async with StandIn() as s: ...``.

    ``spec_path``: Discord's OpenAPI document; when given, every request's route and JSON body are
    checked against it (failures go to ``spec_errors``; a bad body is answered 400 like Discord
    would, an unknown route 404).

    Shards: a bot may IDENTIFY several sessions, each with ``shard`` [id, count]; each gets READY and
    GUILD_CREATE (and every later event) only for the guilds its shard holds, ``(guild_id >> 22) %
    count == id`` (DMs go to shard 0). ``shard_count`` is what GET /gateway/bot recommends.
    """

    def __init__(
        self,
        spec_path: str | Path | None = None,
        *,
        bot_name: str = "RaceDesk",
        bot_user_id: int | None = None,
        owner_id: int | None = None,
        owner_name: str = "owner",
        token: str | None = None,
        interaction_deadline: float | None = 3.0,
        echo_bot_messages: bool = True,
        compress: bool = True,
        host: str = "127.0.0.1",
        shard_count: int = 1,
    ) -> None:
        super().__init__(
            load_spec(spec_path) if spec_path is not None else None,
            host=host,
            token=token,
            interaction_deadline=interaction_deadline,
            echo_bot_messages=echo_bot_messages,
            compress=compress,
            shard_count=shard_count,
        )
        self.bot_user_id = bot_user_id or new_snowflake()
        self.users[self.bot_user_id] = User(self.bot_user_id, bot_name, bot=True)
        self.owner_id = owner_id or new_snowflake()
        if self.owner_id not in self.users:
            self.users[self.owner_id] = User(self.owner_id, owner_name)
        self._build_routes()

    def _build_routes(self) -> None:
        tables = (
            self._basic_routes(),
            self._message_routes(),
            self._command_routes(),
            self._interaction_routes(),
        )
        for table in tables:
            for method, pattern, handler, auth in table:
                self._routes.append((method, re.compile("^" + pattern + "$"), pattern, handler, auth))

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self._api)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._attachment_file)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        log.info("loopback Discord on %s (gateway %s)", self.api_base, self.gateway_url)

    async def close(self) -> None:
        """Close every websocket (1001 going away), then the site and the runner."""
        self._closing = True
        for session in self._sessions.values():
            session.ended = True
        if self._runner is not None:
            # Stop listening first: a bot that reconnects now gets "connection refused" (and backs
            # off) instead of a fresh websocket that shutdown would then wait for.
            for site in list(self._runner.sites):
                await site.stop()
        conns = list(self._connections)
        await asyncio.gather(*(c.close(WSCloseCode.GOING_AWAY) for c in conns), return_exceptions=True)
        if self._gateway_handlers:
            # Let the websocket handlers finish, or the runner's shutdown waits its full timeout.
            await asyncio.wait(list(self._gateway_handlers), timeout=2.0)
        for interaction in self._interactions.values():
            if interaction.autocomplete is not None and not interaction.autocomplete.done():
                interaction.autocomplete.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._ready.clear()

    # ------------------------------------------------------------------ the world

    def add_user(self, name: str, user_id: int | None = None, *, bot: bool = False) -> int:
        """A Discord user (not in any guild yet). Returns the user id."""
        uid = user_id or new_snowflake()
        if uid in self.users:
            self.users[uid].name = name
        else:
            self.users[uid] = User(uid, name, bot=bot)
        return uid

    def add_guild(
        self,
        name: str = "Test Server",
        guild_id: int | None = None,
        owner_id: int | None = None,
        *,
        everyone_permissions: int = Permission.EVERYONE_DEFAULT,
        bot_permissions: int = Permission.BOT_DEFAULT,
    ) -> Guild:
        """A guild with @everyone, the bot (with its managed role) and the owner as members.

        After the bot is connected this sends GUILD_CREATE (discord.py: on_guild_join)."""
        gid = guild_id or new_snowflake()
        owner = owner_id or self.owner_id
        if owner not in self.users:
            self.users[owner] = User(owner, "owner")
        guild = self._new_guild(gid, name, owner, everyone_permissions, bot_permissions)
        self.guilds[gid] = guild
        for session in self._sessions_for(gid):
            session.dispatch("GUILD_CREATE", self._guild_create(guild, session))
        return guild

    def _new_guild(
        self, gid: int, name: str, owner: int, everyone_permissions: int, bot_permissions: int
    ) -> Guild:
        guild = Guild(id=gid, name=name, owner_id=owner)
        guild.roles.append(Role(id=gid, guild_id=gid, name="@everyone", permissions=everyone_permissions))
        bot_role = Role(
            id=new_snowflake(),
            guild_id=gid,
            name=self.bot_user.name,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user_id,
        )
        guild.roles.append(bot_role)
        guild.members.append(Member(user_id=self.bot_user_id, guild_id=gid, roles=[bot_role.id]))
        if owner != self.bot_user_id:
            guild.members.append(Member(user_id=owner, guild_id=gid))
        return guild

    def add_channel(
        self,
        guild_id: int,
        name: str = "general",
        *,
        channel_id: int | None = None,
        type: int = 0,
        topic: str | None = None,
    ) -> Channel:
        """A guild channel (type 0 text by default; 4 category, 2 voice, 5 news, 15 forum)."""
        guild = self.guilds[guild_id]
        ch = Channel(
            id=channel_id or new_snowflake(),
            name=name,
            type=type,
            guild_id=guild_id,
            position=len(guild.channels),
            topic=topic,
        )
        guild.channels.append(ch)
        self.channels[ch.id] = ch
        self._emit("CHANNEL_CREATE", ch.to_json(), intent=Intents.GUILDS)
        return ch

    def add_role(
        self, guild_id: int, name: str, permissions: int = 0, *, role_id: int | None = None, color: int = 0
    ) -> Role:
        guild = self.guilds[guild_id]
        role = Role(
            id=role_id or new_snowflake(),
            guild_id=guild_id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            color=color,
            mentionable=True,
        )
        guild.roles.append(role)
        self._emit(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role.to_json()}, intent=Intents.GUILDS
        )
        return role

    def add_member(
        self,
        guild_id: int,
        name: str,
        user_id: int | None = None,
        roles: Sequence[Role | int] = (),
        *,
        nick: str | None = None,
    ) -> int:
        """Put a user (new, or known by user_id) in a guild with roles. Returns the user id.

        Their permissions come from @everyone and their roles. After the bot is connected this
        sends GUILD_MEMBER_ADD (to a bot with the members intent, as Discord does)."""
        guild = self.guilds[guild_id]
        uid = self.add_user(name, user_id)
        role_ids = [r.id if isinstance(r, Role) else int(r) for r in roles]
        if guild.has_member(uid):
            member = guild.member(uid)
            member.roles = role_ids
            member.nick = nick
            return uid
        member = Member(user_id=uid, guild_id=guild_id, roles=role_ids, nick=nick)
        guild.members.append(member)
        self._emit(
            "GUILD_MEMBER_ADD",
            {**member.to_json(self.users), "guild_id": str(guild_id)},
            intent=Intents.GUILD_MEMBERS,
        )
        return uid

    def set_member_roles(self, guild_id: int, user_id: int, roles: Sequence[Role | int]) -> None:
        """Change a member's roles (sends GUILD_MEMBER_UPDATE)."""
        member = self.guilds[guild_id].member(user_id)
        member.roles = [r.id if isinstance(r, Role) else int(r) for r in roles]
        self._emit_member_update(guild_id, member)

    def dm_closed(self, user_id: int, closed: bool = True) -> None:
        """The user blocks DMs: the bot's POSTs to their DM channel answer 403, code 50007."""
        if closed:
            self._dm_closed.add(user_id)
        else:
            self._dm_closed.discard(user_id)

    # ------------------------------------------------------------------ what people do

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        reply_to: int | None = None,
        embeds: list[dict[str, Any]] | None = None,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> int:
        """A user posts in a channel (guild or DM): MESSAGE_CREATE to the bot. Returns the message id.

        ``files``: (filename, bytes) attached to the message; the bot can download each from its url."""
        self._require_session()
        channel = self.channels[channel_id]
        if author_id not in self.users:
            raise KeyError(f"unknown user {author_id}")
        guild = self.guilds[channel.guild_id] if channel.guild_id is not None else None
        if guild is not None and not guild.has_member(author_id):
            raise KeyError(f"user {author_id} is not a member of guild {guild.id}")
        mid = new_snowflake()
        msg = self._user_message_json(mid, channel, guild, author_id, content, reply_to, embeds)
        stored: dict[str, bytes] = {}
        msg["attachments"] = [
            self._store_attachment(channel_id, {}, name, data, None, stored) for name, data in files
        ]
        self._store[mid] = StoredMessage(
            json=msg, channel_id=channel_id, guild_id=channel.guild_id, author_id=author_id
        )
        channel.last_message_id = mid
        self._emit(
            "MESSAGE_CREATE",
            self._gateway_message(self._store[mid]),
            intent=Intents.GUILD_MESSAGES if guild is not None else Intents.DIRECT_MESSAGES,
            message_from=author_id,
        )
        await self._flush()
        return mid

    def _user_message_json(
        self,
        mid: int,
        channel: Channel,
        guild: Guild | None,
        author_id: int,
        content: str,
        reply_to: int | None,
        embeds: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """A person's message as REST returns it (a reply, type 19, if ``reply_to`` is given)."""
        mentions, mention_roles, everyone = self._mentions(content, guild, None)
        msg: dict[str, Any] = {
            "id": str(mid),
            "type": 19 if reply_to else 0,
            "content": content,
            "channel_id": str(channel.id),
            "author": self.users[author_id].to_json(),
            "attachments": [],
            "embeds": embeds or [],
            "mentions": mentions,
            "mention_roles": mention_roles,
            "mention_everyone": everyone,
            "pinned": False,
            "tts": False,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
            "nonce": str(new_snowflake()),
        }
        if reply_to is not None:
            ref = self._store.get(reply_to)
            msg["message_reference"] = {"type": 0, "channel_id": str(channel.id), "message_id": str(reply_to)}
            if guild is not None:
                msg["message_reference"]["guild_id"] = str(guild.id)
            msg["referenced_message"] = copy.deepcopy(ref.json) if ref else None
        return msg

    async def send_dm(self, author_id: int, content: str) -> int:
        """A user DMs the bot: MESSAGE_CREATE in their DM channel (no guild_id). Returns the message id."""
        return await self.send_message(self.dm_channel_id(author_id), author_id, content)

    async def send_slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command_name: str,
        options: dict[str, Any] | None = None,
    ) -> int:
        """A user runs a slash command: INTERACTION_CREATE type 2. Returns the interaction id.

        ``command_name`` may name a subcommand: "race call". Option types come from what the bot
        registered; for a command it never synced they are guessed from the Python values (str 3,
        int 4, bool 5, float 10) and the command gets a stable id made from its name."""
        data = self._command_data(guild_id, command_name, options or {}, focused=None)
        return await self._interact(2, data, guild_id, channel_id, user_id, name=command_name)

    async def send_autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command_name: str,
        options: dict[str, Any],
        focused: str,
        timeout: float = 10,
    ) -> list[dict[str, Any]]:
        """A user types in option ``focused``: INTERACTION_CREATE type 4. Returns the bot's choices."""
        data = self._command_data(guild_id, command_name, options, focused=focused)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[dict[str, Any]]] = loop.create_future()
        iid = await self._interact(
            4, data, guild_id, channel_id, user_id, name=command_name, autocomplete=future
        )
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._interactions[iid].autocomplete = None

    async def click_button(self, message: RecordedMessage | int, custom_id: str, user_id: int) -> int:
        """A user clicks a button of a message the bot posted: INTERACTION_CREATE type 3.
        Returns the interaction id."""
        return await self._component(message, custom_id, user_id, values=None)

    async def select_menu(
        self, message: RecordedMessage | int, custom_id: str, values: Sequence[str], user_id: int
    ) -> int:
        """A user picks ``values`` in a select menu of a bot message: INTERACTION_CREATE type 3."""
        return await self._component(message, custom_id, user_id, values=list(values))

    async def submit_modal(
        self, guild_id: int | None, channel_id: int, user_id: int, custom_id: str, values: dict[str, str]
    ) -> int:
        """A user submits a modal: INTERACTION_CREATE type 5 with one text input per value."""
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._interact(5, data, guild_id, channel_id, user_id)

    # ------------------------------------------------------------------ what the bot did

    async def wait_for_message(
        self,
        channel_id: int | None = None,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout: float = 10,
    ) -> RecordedMessage:
        """The oldest recorded message not yet returned by this method that matches; waits for one.

        Each record is handed out once, so a reply that came before the call is not missed."""
        deadline = time.monotonic() + timeout
        while True:
            for index, rec in enumerate(self.messages):
                if index in self._consumed:
                    continue
                if channel_id is not None and rec.channel_id != channel_id:
                    continue
                if predicate is not None and not predicate(rec):
                    continue
                self._consumed.add(index)
                return rec
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no message from the bot within {timeout} s")
            self._new_message.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new_message.wait(), remaining)

    def consume_all(self) -> None:
        """Mark every message recorded so far as seen by wait_for_message."""
        self._consumed.update(range(len(self.messages)))

    def message_json(self, message_id: int) -> dict[str, Any]:
        """The current JSON of a message the stand-in knows (as GET would return it)."""
        return copy.deepcopy(self._store[message_id].json)

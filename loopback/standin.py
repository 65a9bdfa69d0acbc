"""StandIn: Discord's REST API and gateway on 127.0.0.1, for a real discord.py bot to talk to.

It keeps a small world (users, guilds, channels, roles, members), plays the people in it
(messages, DMs, slash commands, autocomplete, button clicks) and records what the bot does
(every HTTP request; every message, interaction response, followup and edit it posts).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import mimetypes
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .gateway import Connection, Intents, Op, Session
from .models import (
    Channel,
    Guild,
    Member,
    Permission,
    RecordedMessage,
    RecordedRequest,
    Role,
    User,
    iso_now,
    new_snowflake,
    stable_snowflake,
)
from .spec import SpecError, SpecIndex, load_spec

__all__ = ["FailRule", "StandIn"]

log = logging.getLogger("loopback")

API_VERSION = 10
HEARTBEAT_INTERVAL_MS = 41250
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
#: READY's application.flags for a small verified-intents bot (GATEWAY_GUILD_MEMBERS_LIMITED,
#: GATEWAY_MESSAGE_CONTENT_LIMITED).
APPLICATION_FLAGS = (1 << 15) | (1 << 19)

_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")


class _BadBody(Exception):
    pass


@dataclass
class FailRule:
    """An injected failure: the next ``times`` requests matching method and path answer ``status``."""

    method: str
    path_regex: re.Pattern[str]
    status: int
    times: int
    retry_after: float = 0.05
    code: int = 0
    message: str | None = None
    is_global: bool = False


@dataclass
class _Stored:
    """A message the stand-in knows: its JSON as REST returns it (no guild_id) and where it lives."""

    json: dict[str, Any]
    channel_id: int
    guild_id: int | None
    author_id: int
    files: dict[str, bytes] = field(default_factory=dict)  # attachment id -> bytes

    @property
    def ephemeral(self) -> bool:
        return bool(self.json.get("flags", 0) & EPHEMERAL)


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    created: float
    name: str | None = None
    component_message_id: int | None = None  # for component interactions
    response_type: int | None = None
    original_message_id: int | None = None
    followed_up: bool = False
    autocomplete: asyncio.Future[list[dict[str, Any]]] | None = None


@dataclass
class _Call:
    """What a route handler gets."""

    request: web.Request
    path: str
    body: Any
    files: list[tuple[int, str, bytes, str | None]]  # (index n of files[n], filename, data, content type)
    groups: tuple[str, ...]

    def flag(self, name: str) -> bool:
        return self.request.query.get(name, "").lower() in ("1", "true", "yes")


Handler = Callable[[_Call], Awaitable[web.StreamResponse]]


def _json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json_response(body, status)


def _no_content() -> web.Response:
    return web.Response(status=204)


class StandIn:
    """A loopback Discord for one bot. Use as ``async with StandIn() as s: ...``.

    ``spec_path``: Discord's OpenAPI document; when given, JSON bodies of message, interaction,
    webhook and command requests are checked against it (failures go to ``spec_errors`` and are
    answered 400 like Discord would).
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
    ) -> None:
        self.spec: SpecIndex | None = load_spec(spec_path) if spec_path is not None else None
        self.host = host
        self.port = 0
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.echo_bot_messages = echo_bot_messages
        self.compress = compress

        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.bot_user_id = bot_user_id or new_snowflake()
        self.users[self.bot_user_id] = User(self.bot_user_id, bot_name, bot=True)
        self.owner_id = owner_id or new_snowflake()
        if self.owner_id not in self.users:
            self.users[self.owner_id] = User(self.owner_id, owner_name)

        # What the bot did.
        self.messages: list[RecordedMessage] = []
        self.requests: list[RecordedRequest] = []
        self.spec_errors: list[SpecError] = []
        self.unknown_routes: list[RecordedRequest] = []
        self.callbacks: list[dict[str, Any]] = []  # every interaction callback body, in order
        self.presences: list[dict[str, Any]] = []
        self.identify_payload: dict[str, Any] | None = None  # the last IDENTIFY, token removed
        self.identify_count = 0
        self.resume_count = 0
        self.gateway_queries: list[dict[str, str]] = []  # query of each websocket, e.g. compress=zlib-stream

        self._store: dict[int, _Stored] = {}
        self._dm_by_user: dict[int, int] = {}
        self._dm_closed: set[int] = set()
        self._interactions: dict[int, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {None: {}}
        self._fail_rules: list[FailRule] = []
        self._consumed: set[int] = set()
        self._new_message = asyncio.Event()
        self._ready = asyncio.Event()
        self._sessions: dict[str, Session] = {}
        self._connections: set[Connection] = set()
        self._attachments: dict[int, tuple[str, bytes, str | None]] = {}

        self._runner: web.AppRunner | None = None
        self._closing = False
        self._gateway_handlers: set[asyncio.Task[Any]] = set()
        self._routes: list[tuple[str, re.Pattern[str], str, Handler, bool]] = []
        self._build_routes()

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

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.http_base}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def application_id(self) -> int:
        return self.bot_user_id

    @property
    def bot_user(self) -> User:
        return self.users[self.bot_user_id]

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
        self.guilds[gid] = guild
        for session in self._live_sessions():
            session.dispatch("GUILD_CREATE", self._guild_create(guild, session))
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

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel between the bot and a user (made on first use)."""
        cid = self._dm_by_user.get(user_id)
        if cid is None:
            if user_id not in self.users:
                raise KeyError(f"unknown user {user_id}")
            cid = new_snowflake()
            self.channels[cid] = Channel(id=cid, name="", type=1, recipient_id=user_id)
            self._dm_by_user[user_id] = cid
        return cid

    def dm_closed(self, user_id: int, closed: bool = True) -> None:
        """The user blocks DMs: the bot's POSTs to their DM channel answer 403, code 50007."""
        if closed:
            self._dm_closed.add(user_id)
        else:
            self._dm_closed.discard(user_id)

    def fail_next(
        self,
        method: str = "POST",
        path_regex: str = r"/channels/\d+/messages",
        status: int = 500,
        times: int = 1,
        retry_after: float = 0.05,
        *,
        code: int = 0,
        message: str | None = None,
        is_global: bool = False,
    ) -> FailRule:
        """The next ``times`` requests whose method matches and whose path (relative to the API base,
        e.g. /channels/1/messages) matches ``path_regex`` (re.search) answer ``status`` instead.

        429 comes with Discord's headers and body (retry_after, global) so discord.py waits and retries;
        500/502/504 are retried by discord.py after 1 s, 3 s, ..."""
        rule = FailRule(
            method=method.upper(),
            path_regex=re.compile(path_regex),
            status=status,
            times=times,
            retry_after=retry_after,
            code=code,
            message=message,
            is_global=is_global,
        )
        self._fail_rules.append(rule)
        return rule

    # ------------------------------------------------------------------ gateway state

    @property
    def connected(self) -> bool:
        return any(s.connection is not None and not s.connection.closed for s in self._live_sessions())

    @property
    def intents(self) -> int:
        """The intents of the current session (0 if none)."""
        live = self._live_sessions()
        return live[-1].intents if live else 0

    async def wait_until_ready(self, timeout: float = 20) -> None:
        """Until the bot has IDENTIFYed (or RESUMEd) and READY and every GUILD_CREATE were written.

        discord.py itself fires on_ready later: after its ``guild_ready_timeout`` (2 s unless set)
        without another GUILD_CREATE. Messages and interactions are handled before that."""
        await asyncio.wait_for(self._ready.wait(), timeout)
        await self._flush()

    async def force_reconnect(self, timeout: float = 10) -> None:
        """Send op 7 RECONNECT; the bot reconnects and RESUMEs. Returns once RESUMED was sent."""
        resumes = self.resume_count
        for session in self._live_sessions():
            if session.connection is not None:
                session.connection.send({"op": Op.RECONNECT, "d": None, "s": None, "t": None})
        deadline = time.monotonic() + timeout
        while self.resume_count == resumes:
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not RESUME")
            await asyncio.sleep(0.01)
        await self._flush()

    def _live_sessions(self) -> list[Session]:
        return [s for s in self._sessions.values() if not s.ended]

    def _require_session(self) -> None:
        if not self._live_sessions():
            raise RuntimeError("no bot is connected to the stand-in's gateway")

    def _emit(
        self,
        event: str,
        data: dict[str, Any],
        *,
        intent: int | None = None,
        message_from: int | None = None,
    ) -> None:
        """Dispatch an event to every session whose intents allow it.

        ``message_from``: the author of a message event; without the MESSAGE_CONTENT intent a
        guild message not from the bot and not mentioning it arrives with empty content."""
        for session in self._live_sessions():
            if intent is not None and not session.has(intent):
                continue
            payload = data
            if (
                message_from is not None
                and message_from != self.bot_user_id
                and data.get("guild_id") is not None
                and not session.has(Intents.MESSAGE_CONTENT)
                and not any(int(m["id"]) == self.bot_user_id for m in data.get("mentions", ()))
            ):
                payload = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
            session.dispatch(event, copy.deepcopy(payload))

    async def _flush(self) -> None:
        for session in self._live_sessions():
            if session.connection is not None:
                await session.connection.flush()

    # ------------------------------------------------------------------ what people do

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        reply_to: int | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> int:
        """A user posts in a channel (guild or DM): MESSAGE_CREATE to the bot. Returns the message id."""
        self._require_session()
        channel = self.channels[channel_id]
        if author_id not in self.users:
            raise KeyError(f"unknown user {author_id}")
        guild = self.guilds[channel.guild_id] if channel.guild_id is not None else None
        if guild is not None and not guild.has_member(author_id):
            raise KeyError(f"user {author_id} is not a member of guild {guild.id}")
        mid = new_snowflake()
        mentions, mention_roles, everyone = self._mentions(content, guild, None)
        msg: dict[str, Any] = {
            "id": str(mid),
            "type": 19 if reply_to else 0,
            "content": content,
            "channel_id": str(channel_id),
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
            msg["message_reference"] = {"type": 0, "channel_id": str(channel_id), "message_id": str(reply_to)}
            if guild is not None:
                msg["message_reference"]["guild_id"] = str(guild.id)
            msg["referenced_message"] = copy.deepcopy(ref.json) if ref else None
        self._store[mid] = _Stored(
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

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The application commands the bot registered, global (guild_id None) or for a guild."""
        return list(self._commands.get(guild_id, {}).values())

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_routes(self) -> None:
        S = r"(\d+)"
        T = r"([^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", f"/users/{S}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", f"/channels/{S}", self._get_channel, True),
            ("POST", f"/channels/{S}/typing", self._typing, True),
            ("GET", f"/channels/{S}/messages", self._list_messages, True),
            ("POST", f"/channels/{S}/messages", self._post_message, True),
            ("GET", f"/channels/{S}/messages/{S}", self._get_message, True),
            ("PATCH", f"/channels/{S}/messages/{S}", self._patch_message, True),
            ("DELETE", f"/channels/{S}/messages/{S}", self._delete_message, True),
            ("PUT", f"/channels/{S}/messages/{S}/reactions/{T}/@me", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions/{T}/@me", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions/{T}/{S}", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions", self._reaction, True),
            ("PUT", f"/channels/{S}/pins/{S}", self._reaction, True),
            ("PUT", f"/channels/{S}/messages/pins/{S}", self._reaction, True),
            ("GET", f"/guilds/{S}", self._get_guild, True),
            ("GET", f"/guilds/{S}/channels", self._get_guild_channels, True),
            ("GET", f"/guilds/{S}/roles", self._get_guild_roles, True),
            ("GET", f"/guilds/{S}/members", self._list_members, True),
            ("GET", f"/guilds/{S}/members/{S}", self._get_member, True),
            ("PUT", f"/guilds/{S}/members/{S}/roles/{S}", self._member_role, True),
            ("DELETE", f"/guilds/{S}/members/{S}/roles/{S}", self._member_role, True),
            ("GET", f"/applications/{S}/commands", self._list_commands, True),
            ("PUT", f"/applications/{S}/commands", self._put_commands, True),
            ("POST", f"/applications/{S}/commands", self._post_command, True),
            ("GET", f"/applications/{S}/commands/{S}", self._get_command, True),
            ("PATCH", f"/applications/{S}/commands/{S}", self._patch_command, True),
            ("DELETE", f"/applications/{S}/commands/{S}", self._delete_command, True),
            ("GET", f"/applications/{S}/guilds/{S}/commands", self._list_commands, True),
            ("PUT", f"/applications/{S}/guilds/{S}/commands", self._put_commands, True),
            ("POST", f"/applications/{S}/guilds/{S}/commands", self._post_command, True),
            ("GET", f"/applications/{S}/guilds/{S}/commands/{S}", self._get_command, True),
            ("PATCH", f"/applications/{S}/guilds/{S}/commands/{S}", self._patch_command, True),
            ("DELETE", f"/applications/{S}/guilds/{S}/commands/{S}", self._delete_command, True),
            ("POST", f"/interactions/{S}/{T}/callback", self._interaction_callback, False),
            ("POST", f"/webhooks/{S}/{T}", self._execute_webhook, False),
            ("GET", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
            ("PATCH", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
            ("DELETE", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
        ]
        for method, pattern, handler, auth in table:
            self._routes.append((method, re.compile("^" + pattern + "$"), pattern, handler, auth))

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[int, str, bytes, str | None]]]:
        files: list[tuple[int, str, bytes, str | None]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            body: Any = None
            reader = await request.multipart()
            while True:
                part: Any = await reader.next()
                if part is None:
                    break
                name = part.name or ""
                data = await part.read(decode=False)
                if name == "payload_json":
                    try:
                        body = json.loads(bytes(data).decode("utf-8"))
                    except ValueError as exc:
                        raise _BadBody(str(exc)) from None
                elif m := re.fullmatch(r"files\[(\d+)\]|file(\d*)", name):
                    index = int(m.group(1) or m.group(2) or len(files))
                    ct = part.headers.get("Content-Type")
                    files.append((index, part.filename or f"file{index}", bytes(data), ct))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        if ctype == "application/json":
            try:
                return json.loads(raw.decode("utf-8")), files
            except ValueError as exc:
                raise _BadBody(str(exc)) from None
        return raw.decode("utf-8", "replace"), files

    def _take_failure(self, method: str, path: str) -> FailRule | None:
        for rule in self._fail_rules:
            if rule.times > 0 and rule.method in (method, "*") and rule.path_regex.search(path):
                rule.times -= 1
                if rule.times == 0:
                    self._fail_rules.remove(rule)
                return rule
        return None

    def _failure(self, rule: FailRule, bucket: str) -> web.Response:
        if rule.status == 429:
            body = {
                "message": rule.message or "You are being rate limited.",
                "retry_after": rule.retry_after,
                "global": rule.is_global,
                "code": rule.code,
            }
            resp = _json_response(body, 429)
            reset_after = f"{rule.retry_after:.3f}"
            resp.headers.update(
                {
                    "Retry-After": str(max(1, int(rule.retry_after + 0.999))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
                    "X-RateLimit-Reset-After": reset_after,
                    "X-RateLimit-Bucket": bucket,
                    "X-RateLimit-Scope": "global" if rule.is_global else "user",
                }
            )
            if rule.is_global:
                resp.headers["X-RateLimit-Global"] = "true"
            return resp
        default = {
            400: "400: Bad Request",
            401: "401: Unauthorized",
            403: "Missing Permissions",
            404: "404: Not Found",
            500: "500: Internal Server Error",
            502: "502: Bad Gateway",
            503: "503: Service Unavailable",
            504: "504: Gateway Timeout",
        }.get(rule.status, f"{rule.status}: Error")
        code = rule.code or (50013 if rule.status == 403 else 0)
        return _error(rule.status, code, rule.message or default)

    @staticmethod
    def _bucket(method: str, template: str) -> str:
        return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:32]

    @staticmethod
    def _with_headers(resp: web.StreamResponse, bucket: str | None) -> web.StreamResponse:
        resp.headers["Via"] = "1.1 google"
        if bucket is not None and resp.status != 429:
            resp.headers.update(
                {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "4",
                    "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        return resp

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bot ") or not auth[4:].strip():
            return False
        return self.token is None or auth[4:] == self.token

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        try:
            body, files = await self._read_body(request)
        except _BadBody:
            self.requests.append(RecordedRequest(method, path, None))
            return self._with_headers(_error(400, 50109, "The request body contains invalid JSON."), None)
        self.requests.append(RecordedRequest(method, path, body))

        route = None
        for r_method, regex, template, handler, auth in self._routes:
            if r_method == method and (m := regex.match(path)):
                route = (template, handler, auth, m.groups())
                break
        bucket = self._bucket(method, route[0] if route else path)

        rule = self._take_failure(method, path)
        if rule is not None:
            return self._with_headers(self._failure(rule, bucket), bucket)
        if route is None:
            self.unknown_routes.append(RecordedRequest(method, path, body))
            log.warning("loopback: unknown route %s %s", method, path)
            return self._with_headers(_error(404, 0, "404: Not Found"), None)
        template, handler, auth, groups = route
        if auth and not self._authorized(request):
            return self._with_headers(_error(401, 0, "401: Unauthorized"), None)
        if self.spec is not None and isinstance(body, (dict, list)):
            problem = self.spec.check(method, path, body)
            if problem is not None:
                operation, violation = problem
                self.spec_errors.append(SpecError(method, path, violation.message, operation, body))
                log.warning("loopback: %s %s does not fit the spec: %s", method, path, violation.message)
                return self._with_headers(_error(400, 50035, "Invalid Form Body", violation.errors), bucket)
        try:
            resp = await handler(_Call(request, path, body, files, groups))
        except KeyError as exc:
            log.warning("loopback: %s %s refers to something unknown: %s", method, path, exc)
            resp = _error(404, 0, "404: Not Found")
        return self._with_headers(resp, bucket)

    async def _attachment_file(self, request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["attachment"])
        if aid not in self._attachments:
            return web.Response(status=404)
        _filename, data, ctype = self._attachments[aid]
        return web.Response(body=data, content_type=ctype or "application/octet-stream")

    # ------------------------------------------------------------------ REST: basics

    async def _get_gateway(self, call: _Call) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    def _me_json(self) -> dict[str, Any]:
        return {
            **self.bot_user.to_json(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "flags": 0,
            "email": None,
            "bio": "",
            "banner": None,
            "accent_color": None,
        }

    async def _get_me(self, call: _Call) -> web.Response:
        return _json_response(self._me_json())

    async def _get_user(self, call: _Call) -> web.Response:
        uid = int(call.groups[0])
        if uid not in self.users:
            return _error(404, 10013, "Unknown User")
        return _json_response(self.users[uid].to_json())

    async def _get_application(self, call: _Call) -> web.Response:
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.users[self.owner_id].to_json(),
                "team": None,
                "flags": APPLICATION_FLAGS,
                "bot": self.bot_user.to_json(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "integration_types_config": {"0": {}},
                "approximate_guild_count": len(self.guilds),
                "approximate_user_install_count": 0,
            }
        )

    async def _create_dm(self, call: _Call) -> web.Response:
        body = call.body if isinstance(call.body, dict) else {}
        try:
            uid = int(body.get("recipient_id", 0))
        except (TypeError, ValueError):
            uid = 0
        if uid not in self.users or uid == self.bot_user_id:
            return _error(400, 50033, "Invalid Recipient(s)")
        cid = self.dm_channel_id(uid)
        return _json_response(self.channels[cid].to_json(self.users))

    def _channel_or_404(self, cid: int) -> Channel | web.Response:
        ch = self.channels.get(cid)
        if ch is None:
            return _error(404, 10003, "Unknown Channel")
        return ch

    async def _get_channel(self, call: _Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        return _json_response(ch.to_json(self.users))

    async def _typing(self, call: _Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        return _no_content()

    async def _reaction(self, call: _Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        if int(call.groups[1]) not in self._store:
            return _error(404, 10008, "Unknown Message")
        return _no_content()

    async def _get_guild(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        data = guild.to_json()
        if call.flag("with_counts"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return _json_response(data)

    async def _get_guild_channels(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([c.to_json() for c in guild.channels])

    async def _get_guild_roles(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([r.to_json() for r in guild.roles])

    async def _list_members(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        limit = int(call.request.query.get("limit", "1"))
        after = int(call.request.query.get("after", "0"))
        members = sorted((m for m in guild.members if m.user_id > after), key=lambda m: m.user_id)[:limit]
        return _json_response([m.to_json(self.users) for m in members])

    async def _get_member(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        uid = int(call.groups[1])
        if not guild.has_member(uid):
            return _error(404, 10007, "Unknown Member")
        return _json_response(guild.member(uid).to_json(self.users))

    async def _member_role(self, call: _Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        uid, rid = int(call.groups[1]), int(call.groups[2])
        if not guild.has_member(uid):
            return _error(404, 10007, "Unknown Member")
        if not any(r.id == rid for r in guild.roles):
            return _error(404, 10011, "Unknown Role")
        if not guild.permissions_of(self.bot_user_id) & Permission.MANAGE_ROLES:
            return _error(403, 50013, "Missing Permissions")
        member = guild.member(uid)
        if call.request.method == "PUT" and rid not in member.roles:
            member.roles.append(rid)
        elif call.request.method == "DELETE" and rid in member.roles:
            member.roles.remove(rid)
        self._emit_member_update(guild.id, member)
        return _no_content()

    def _emit_member_update(self, guild_id: int, member: Member) -> None:
        self._emit(
            "GUILD_MEMBER_UPDATE",
            {**member.to_json(self.users), "guild_id": str(guild_id)},
            intent=Intents.GUILD_MEMBERS,
        )

    # ------------------------------------------------------------------ REST: messages

    def _mentions(
        self, content: str, guild: Guild | None, allowed: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """mentions, mention_roles and mention_everyone of a message, as Discord fills them in.

        ``allowed`` is allowed_mentions (None: everything in the content pings)."""
        parse: Sequence[str] = (
            ("users", "roles", "everyone") if allowed is None else (allowed.get("parse") or ())
        )
        allowed_users = {int(u) for u in (allowed or {}).get("users") or ()}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or ()}
        users: list[dict[str, Any]] = []
        seen: set[int] = set()
        for m in _MENTION_USER.finditer(content or ""):
            uid = int(m.group(1))
            if uid in seen or uid not in self.users:
                continue
            if "users" not in parse and uid not in allowed_users:
                continue
            seen.add(uid)
            user = self.users[uid].to_json()
            if guild is not None and guild.has_member(uid):
                user["member"] = guild.member(uid).to_json(with_user=False)
            users.append(user)
        roles: list[str] = []
        if guild is not None:
            known = {r.id for r in guild.roles}
            for m in _MENTION_ROLE.finditer(content or ""):
                rid = int(m.group(1))
                if rid in known and ("roles" in parse or rid in allowed_roles) and str(rid) not in roles:
                    roles.append(str(rid))
        everyone = "everyone" in parse and ("@everyone" in (content or "") or "@here" in (content or ""))
        return users, roles, everyone

    def _attachments_json(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[tuple[int, str, bytes, str | None]],
        stored: dict[str, bytes],
    ) -> list[dict[str, Any]]:
        by_index = {index: (name, data, ct) for index, name, data, ct in files}
        out: list[dict[str, Any]] = []
        listed = body.get("attachments")
        entries: list[dict[str, Any]] = (
            [a for a in listed if isinstance(a, dict)]
            if isinstance(listed, list)
            else [{"id": index} for index in by_index]
        )
        for entry in entries:
            try:
                index = int(entry.get("id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if index not in by_index:
                continue
            name, data, ct = by_index[index]
            name = entry.get("filename") or name
            aid = new_snowflake()
            ctype = ct if ct and ct != "application/octet-stream" else mimetypes.guess_type(name)[0]
            url = f"{self.http_base}/attachments/{channel_id}/{aid}/{name}"
            item: dict[str, Any] = {
                "id": str(aid),
                "filename": name,
                "size": len(data),
                "url": url,
                "proxy_url": url,
                "content_type": ctype or "application/octet-stream",
            }
            if entry.get("description"):
                item["description"] = entry["description"]
            if entry.get("duration_secs") is not None:
                item["duration_secs"] = entry["duration_secs"]
            out.append(item)
            self._attachments[aid] = (name, data, ctype)
            stored[str(aid)] = data
        return out

    @staticmethod
    def _components_json(components: Any) -> list[Any]:
        counter = 0

        def walk(items: Any) -> list[Any]:
            nonlocal counter
            out = []
            for item in items or ():
                if not isinstance(item, dict):
                    continue
                item = dict(item)
                counter += 1
                item.setdefault("id", counter)
                if isinstance(item.get("components"), list):
                    item["components"] = walk(item["components"])
                if isinstance(item.get("accessory"), dict):
                    item["accessory"] = walk([item["accessory"]])[0]
                out.append(item)
            return out

        return walk(components)

    @staticmethod
    def _embeds_json(embeds: Any) -> list[dict[str, Any]]:
        out = []
        for e in embeds or ():
            if isinstance(e, dict):
                e = {"type": "rich", **e}
                e.setdefault("content_scan_version", 0)
                out.append(e)
        return out

    def _gateway_message(self, stored: _Stored) -> dict[str, Any]:
        """A stored message as MESSAGE_CREATE/UPDATE carries it: with guild_id and the author's member."""
        data = dict(stored.json)
        if stored.guild_id is not None:
            data["guild_id"] = str(stored.guild_id)
            guild = self.guilds.get(stored.guild_id)
            if guild is not None and guild.has_member(stored.author_id):
                data["member"] = guild.member(stored.author_id).to_json(with_user=False)
        return data

    def _new_bot_message(
        self,
        channel: Channel,
        body: dict[str, Any],
        files: list[tuple[int, str, bytes, str | None]],
        *,
        message_type: int = 0,
        extra_flags: int = 0,
        interaction: _Interaction | None = None,
        message_id: int | None = None,
    ) -> _Stored:
        mid = message_id or new_snowflake()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        content = body.get("content")
        content = "" if content is None else str(content)
        allowed = body.get("allowed_mentions")
        mentions, mention_roles, everyone = self._mentions(
            content, guild, allowed if isinstance(allowed, dict) else None
        )
        flags = int(body.get("flags") or 0)
        stored_files: dict[str, bytes] = {}
        msg: dict[str, Any] = {
            "id": str(mid),
            "type": message_type,
            "content": content,
            "channel_id": str(channel.id),
            "author": self.bot_user.to_json(),
            "attachments": self._attachments_json(channel.id, body, files, stored_files),
            "embeds": self._embeds_json(body.get("embeds")),
            "mentions": mentions,
            "mention_roles": mention_roles,
            "mention_everyone": everyone,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": flags | extra_flags,
            "components": self._components_json(body.get("components")),
        }
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        ref = body.get("message_reference")
        if isinstance(ref, dict) and ref.get("message_id") is not None:
            ref_id = int(ref["message_id"])
            target = self._store.get(ref_id)
            msg["type"] = 19
            msg["message_reference"] = {
                "type": int(ref.get("type") or 0),
                "message_id": str(ref_id),
                "channel_id": str(ref.get("channel_id") or channel.id),
            }
            if guild is not None:
                msg["message_reference"]["guild_id"] = str(guild.id)
            msg["referenced_message"] = copy.deepcopy(target.json) if target else None
            if target is not None and target.author_id != self.bot_user_id:
                replied = True if not isinstance(allowed, dict) else bool(allowed.get("replied_user", False))
                if replied and not any(int(u["id"]) == target.author_id for u in mentions):
                    mentions.append(self.users[target.author_id].to_json())
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            user = self.users[interaction.user_id].to_json()
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": self._owners(interaction.guild_id, interaction.user_id),
            }
            if interaction.name:
                msg["interaction_metadata"]["name"] = interaction.name
                msg["interaction"] = {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": interaction.name,
                    "user": user,
                }
            if interaction.component_message_id is not None:
                msg["interaction_metadata"]["interacted_message_id"] = str(interaction.component_message_id)
        stored = _Stored(
            json=msg,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=self.bot_user_id,
            files=stored_files,
        )
        self._store[mid] = stored
        if not stored.ephemeral:
            channel.last_message_id = mid
        return stored

    def _record(
        self,
        kind: str,
        stored: _Stored,
        body: dict[str, Any],
        files: list[tuple[int, str, bytes, str | None]],
        *,
        interaction: _Interaction | None = None,
        response_type: int | None = None,
        raw: Any = None,
    ) -> RecordedMessage:
        msg = stored.json
        # An edit (or an interaction's update of its message) records the message as it now is.
        is_edit = kind == "edit" or response_type == 7
        ref = msg.get("message_reference") if not is_edit else None
        rec = RecordedMessage(
            kind=kind,
            channel_id=stored.channel_id,
            guild_id=stored.guild_id,
            content=msg.get("content") if (is_edit or body.get("content") is not None) else None,
            embeds=copy.deepcopy(msg.get("embeds") or []),
            components=copy.deepcopy(msg.get("components") or []),
            attachments=[(name, data) for _, name, data, _ in sorted(files, key=lambda f: f[0])],
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(msg.get("flags") or 0),
            message_id=int(msg["id"]),
            raw=body if raw is None else raw,
            interaction_id=interaction.id if interaction else None,
            response_type=response_type,
            reply_to=int(ref["message_id"]) if ref else None,
        )
        self.messages.append(rec)
        self._new_message.set()
        return rec

    def _echo(self, event: str, stored: _Stored) -> None:
        if not self.echo_bot_messages or stored.ephemeral:
            return
        intent = Intents.GUILD_MESSAGES if stored.guild_id is not None else Intents.DIRECT_MESSAGES
        self._emit(event, self._gateway_message(stored), intent=intent, message_from=self.bot_user_id)

    def _can_post(self, channel: Channel) -> web.Response | None:
        if channel.is_dm:
            if channel.recipient_id in self._dm_closed:
                return _error(403, 50007, "Cannot send messages to this user")
            return None
        guild = self.guilds.get(channel.guild_id or 0)
        if guild is None:
            return _error(404, 10003, "Unknown Channel")
        perms = guild.permissions_of(self.bot_user_id)
        needed = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES
        if perms & needed != needed:
            return _error(403, 50013, "Missing Permissions")
        return None

    @staticmethod
    def _empty(body: dict[str, Any], files: list[Any]) -> bool:
        return not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
            or files
        )

    def _bad_reference(self, body: dict[str, Any]) -> web.Response | None:
        ref = body.get("message_reference")
        if not isinstance(ref, dict) or ref.get("message_id") is None:
            return None
        try:
            known = int(ref["message_id"]) in self._store
        except (TypeError, ValueError):
            known = False
        if known or ref.get("fail_if_not_exists") is False:
            return None
        errors = {
            "message_reference": {
                "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
            }
        }
        return _error(400, 50035, "Invalid Form Body", errors)

    async def _post_message(self, call: _Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        body = call.body if isinstance(call.body, dict) else {}
        refused = self._can_post(ch) or self._bad_reference(body)
        if refused is not None:
            return refused
        if self._empty(body, call.files):
            return _error(400, 50006, "Cannot send an empty message")
        stored = self._new_bot_message(ch, body, call.files)
        self._record("message", stored, body, call.files)
        self._echo("MESSAGE_CREATE", stored)
        return _json_response(stored.json)

    async def _list_messages(self, call: _Call) -> web.Response:
        cid = int(call.groups[0])
        ch = self._channel_or_404(cid)
        if isinstance(ch, web.Response):
            return ch
        q = call.request.query
        limit = min(int(q.get("limit", "50")), 100)
        msgs = [s for mid, s in self._store.items() if s.channel_id == cid and not s.ephemeral]
        if "before" in q:
            msgs = [s for s in msgs if int(s.json["id"]) < int(q["before"])]
        if "after" in q:
            msgs = [s for s in msgs if int(s.json["id"]) > int(q["after"])]
        msgs.sort(key=lambda s: int(s.json["id"]), reverse=True)
        return _json_response([s.json for s in msgs[:limit]])

    def _message_or_404(self, cid: int, mid: int) -> _Stored | web.Response:
        if cid not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        stored = self._store.get(mid)
        if stored is None or stored.channel_id != cid:
            return _error(404, 10008, "Unknown Message")
        return stored

    async def _get_message(self, call: _Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        return _json_response(stored.json)

    def _apply_edit(
        self, stored: _Stored, body: dict[str, Any], files: list[tuple[int, str, bytes, str | None]]
    ) -> None:
        msg = stored.json
        guild = self.guilds.get(stored.guild_id) if stored.guild_id is not None else None
        if "content" in body:
            msg["content"] = "" if body["content"] is None else str(body["content"])
            allowed = body.get("allowed_mentions")
            mentions, roles, everyone = self._mentions(
                msg["content"], guild, allowed if isinstance(allowed, dict) else None
            )
            msg.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in body:
            msg["embeds"] = self._embeds_json(body["embeds"])
        if "components" in body:
            msg["components"] = self._components_json(body["components"])
        if "flags" in body and body["flags"] is not None:
            keep = msg.get("flags", 0) & ~SUPPRESS_EMBEDS
            msg["flags"] = keep | (int(body["flags"]) & SUPPRESS_EMBEDS) | (int(body["flags"]) & (1 << 15))
        if "attachments" in body or files:
            listed = body.get("attachments")
            keep_ids = (
                {str(a.get("id")) for a in listed if isinstance(a, dict)}
                if isinstance(listed, list)
                else None
            )
            kept = [a for a in msg.get("attachments", []) if keep_ids is None or a["id"] in keep_ids]
            new = self._attachments_json(stored.channel_id, body, files, stored.files) if files else []
            msg["attachments"] = kept + new
        msg["flags"] = msg.get("flags", 0) & ~LOADING
        msg["edited_timestamp"] = iso_now()

    async def _patch_message(self, call: _Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        if stored.author_id != self.bot_user_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body = call.body if isinstance(call.body, dict) else {}
        self._apply_edit(stored, body, call.files)
        self._record("edit", stored, body, call.files)
        self._echo("MESSAGE_UPDATE", stored)
        return _json_response(stored.json)

    def _delete(self, stored: _Stored) -> None:
        mid = int(stored.json["id"])
        self._store.pop(mid, None)
        if not stored.ephemeral:
            data: dict[str, Any] = {"id": str(mid), "channel_id": str(stored.channel_id)}
            if stored.guild_id is not None:
                data["guild_id"] = str(stored.guild_id)
            intent = Intents.GUILD_MESSAGES if stored.guild_id is not None else Intents.DIRECT_MESSAGES
            self._emit("MESSAGE_DELETE", data, intent=intent)

    async def _delete_message(self, call: _Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        if stored.author_id != self.bot_user_id and stored.guild_id is not None:
            guild = self.guilds[stored.guild_id]
            if not guild.permissions_of(self.bot_user_id) & Permission.MANAGE_MESSAGES:
                return _error(403, 50013, "Missing Permissions")
        elif stored.author_id != self.bot_user_id:
            return _error(403, 50003, "Cannot execute action on a DM channel")
        self._delete(stored)
        return _no_content()

    # ------------------------------------------------------------------ REST: application commands

    def _command_scope(self, call: _Call) -> tuple[int, int | None] | web.Response:
        app = int(call.groups[0])
        if app != self.application_id:
            return _error(403, 50001, "Missing Access")
        guild_id = int(call.groups[1]) if "/guilds/" in call.path else None
        if guild_id is not None and guild_id not in self.guilds:
            return _error(403, 50001, "Missing Access")
        return app, guild_id

    def _command_json(self, guild_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        ctype = int(body.get("type") or 1)
        name = str(body.get("name", ""))
        cid = stable_snowflake("command", guild_id or 0, ctype, name)
        perms = body.get("default_member_permissions")
        data: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(self.application_id),
            "version": str(new_snowflake()),
            "type": ctype,
            "name": name,
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": None if perms is None else str(perms),
            "dm_permission": body.get("dm_permission", True),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if body.get("options"):
            data["options"] = copy.deepcopy(body["options"])
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data

    async def _list_commands(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        return _json_response(self.commands(scope[1]))

    async def _put_commands(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        guild_id = scope[1]
        body = call.body if isinstance(call.body, list) else []
        table: dict[tuple[int, str], dict[str, Any]] = {}
        for item in body:
            if isinstance(item, dict):
                cmd = self._command_json(guild_id, item)
                table[(cmd["type"], cmd["name"])] = cmd
        self._commands[guild_id] = table
        return _json_response(list(table.values()))

    async def _post_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        guild_id = scope[1]
        body = call.body if isinstance(call.body, dict) else {}
        cmd = self._command_json(guild_id, body)
        table = self._commands.setdefault(guild_id, {})
        existed = (cmd["type"], cmd["name"]) in table
        table[(cmd["type"], cmd["name"])] = cmd
        return _json_response(cmd, 200 if existed else 201)

    def _find_command(self, guild_id: int | None, cid: int) -> dict[str, Any] | None:
        for cmd in self._commands.get(guild_id, {}).values():
            if int(cmd["id"]) == cid:
                return cmd
        return None

    async def _get_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        cmd = self._find_command(scope[1], int(call.groups[-1]))
        if cmd is None:
            return _error(404, 10063, "Unknown application command")
        return _json_response(cmd)

    async def _patch_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        guild_id = scope[1]
        cmd = self._find_command(guild_id, int(call.groups[-1]))
        if cmd is None:
            return _error(404, 10063, "Unknown application command")
        body = call.body if isinstance(call.body, dict) else {}
        table = self._commands[guild_id]
        table.pop((cmd["type"], cmd["name"]), None)
        merged = self._command_json(guild_id, {**cmd, **body})
        table[(merged["type"], merged["name"])] = merged
        return _json_response(merged)

    async def _delete_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        cmd = self._find_command(scope[1], int(call.groups[-1]))
        if cmd is None:
            return _error(404, 10063, "Unknown application command")
        self._commands[scope[1]].pop((cmd["type"], cmd["name"]), None)
        return _no_content()

    # ------------------------------------------------------------------ interactions

    def _owners(self, guild_id: int | None, user_id: int) -> dict[str, str]:
        return {"0": str(guild_id)} if guild_id is not None else {"0": "0", "1": str(user_id)}

    def _lookup_command(self, guild_id: int | None, name: str) -> tuple[dict[str, Any] | None, bool]:
        """The registered command (type 1) for a name, and whether it is a guild command."""
        if guild_id is not None:
            for cmd in self._commands.get(guild_id, {}).values():
                if cmd["type"] == 1 and cmd["name"] == name:
                    return cmd, True
        for cmd in self._commands.get(None, {}).values():
            if cmd["type"] == 1 and cmd["name"] == name:
                return cmd, False
        return None, False

    def _option_value(
        self,
        guild_id: int | None,
        otype: int,
        value: Any,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        """The option's wire value; fills ``resolved`` for users, channels, roles, mentionables."""
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if isinstance(value, (Channel, Role)):
            value = value.id
        if otype in (6, 9) and int(value) in self.users:
            uid = int(value)
            resolved.setdefault("users", {})[str(uid)] = self.users[uid].to_json()
            if guild is not None and guild.has_member(uid):
                member = guild.member(uid).to_json(with_user=False)
                member["permissions"] = str(guild.permissions_of(uid))
                resolved.setdefault("members", {})[str(uid)] = member
            return str(uid)
        if otype in (8, 9) and guild is not None:
            role = guild.role(int(value))
            resolved.setdefault("roles", {})[str(role.id)] = role.to_json()
            return str(role.id)
        if otype == 7:
            ch = self.channels[int(value)]
            data = ch.to_json(self.users)
            data["permissions"] = str(guild.permissions_of(self.bot_user_id) if guild else Permission.ALL)
            resolved.setdefault("channels", {})[str(ch.id)] = data
            return str(ch.id)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        return value if otype != 3 else str(value)

    @staticmethod
    def _guess_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, Channel):
            return 7
        if isinstance(value, Role):
            return 8
        return 3

    def _command_data(
        self, guild_id: int | None, command_name: str, options: dict[str, Any], *, focused: str | None
    ) -> dict[str, Any]:
        parts = command_name.split()
        top = parts[0]
        cmd, is_guild = self._lookup_command(guild_id, top)
        if cmd is None:
            # Never synced: discord.py's CommandTree finds the command by name (and guild_id, falling
            # back to global commands), so a guild-scoped stable id works for both kinds.
            cid = stable_snowflake("command", 0, 1, top)
            is_guild = guild_id is not None
            defs: list[dict[str, Any]] = []
        else:
            cid = int(cmd["id"])
            defs = cmd.get("options") or []
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        for name, value in options.items():
            d = next((o for o in defs if o.get("name") == name), None)
            otype = int(d["type"]) if d else self._guess_type(value)
            opt: dict[str, Any]
            if name == focused:
                opt = {"name": name, "type": otype, "value": str(value), "focused": True}
            else:
                opt = {
                    "name": name,
                    "type": otype,
                    "value": self._option_value(guild_id, otype, value, resolved),
                }
            leaf.append(opt)
        # Wrap in subcommand (type 1) and subcommand group (type 2) options.
        chain: list[tuple[str, int]] = []
        level = defs
        for sub in parts[1:]:
            d = next((o for o in level if o.get("name") == sub), None)
            if d is not None:
                chain.append((sub, int(d["type"])))
                level = d.get("options") or []
            else:
                chain.append((sub, 1))
        if len(chain) == 2 and cmd is None:
            chain[0] = (chain[0][0], 2)
        # Options of the subcommand now have their definitions in `level`: redo types for them.
        if chain and level:
            for opt in leaf:
                d = next((o for o in level if o.get("name") == opt["name"]), None)
                if d is not None and opt["type"] != int(d["type"]):
                    opt["type"] = int(d["type"])
                    if not opt.get("focused"):
                        opt["value"] = self._option_value(
                            guild_id, opt["type"], options[opt["name"]], resolved
                        )
        wrapped: list[dict[str, Any]] = leaf
        for sub, stype in reversed(chain):
            wrapped = [{"name": sub, "type": stype, "options": wrapped}]
        data: dict[str, Any] = {"id": str(cid), "name": top, "type": 1}
        if wrapped:
            data["options"] = wrapped
        if resolved:
            data["resolved"] = resolved
        if is_guild and guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data

    async def _component(
        self, message: RecordedMessage | int, custom_id: str, user_id: int, values: list[str] | None
    ) -> int:
        mid = message.message_id if isinstance(message, RecordedMessage) else int(message)
        if mid is None or mid not in self._store:
            raise KeyError(f"unknown message {mid}")
        stored = self._store[mid]
        component = self._find_component(stored.json.get("components") or [], custom_id)
        if component is None:
            raise KeyError(f"message {mid} has no component {custom_id!r}")
        ctype = int(component.get("type", 2))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype != 2:
            data["values"] = [str(v) for v in values or []]
            # User, role, mentionable and channel selects carry the picked things in "resolved";
            # a string select (3) has none (discord.py reads the values only when it is absent).
            option_type = {5: 6, 6: 8, 7: 9, 8: 7}.get(ctype)
            if option_type is not None:
                resolved: dict[str, dict[str, Any]] = {}
                for v in values or []:
                    self._option_value(stored.guild_id, option_type, v, resolved)
                data["resolved"] = resolved
        if "id" in component:
            data["id"] = component["id"]
        return await self._interact(
            3, data, stored.guild_id, stored.channel_id, user_id, component_message=stored
        )

    @staticmethod
    def _find_component(items: list[Any], custom_id: str) -> dict[str, Any] | None:
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("custom_id") == custom_id and item.get("type") != 1:
                return item
            for key in ("components",):
                found = StandIn._find_component(item.get(key) or [], custom_id)
                if found is not None:
                    return found
            if isinstance(item.get("accessory"), dict):
                found = StandIn._find_component([item["accessory"]], custom_id)
                if found is not None:
                    return found
        return None

    async def _interact(
        self,
        itype: int,
        data: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        *,
        name: str | None = None,
        component_message: _Stored | None = None,
        autocomplete: asyncio.Future[list[dict[str, Any]]] | None = None,
    ) -> int:
        self._require_session()
        channel = self.channels[channel_id]
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}")
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if guild_id is not None and guild is None:
            raise KeyError(f"unknown guild {guild_id}")
        iid = new_snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        interaction = _Interaction(
            id=iid,
            token=token,
            type=itype,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            created=time.monotonic(),
            name=name.split()[0] if name else None,
            component_message_id=int(component_message.json["id"]) if component_message else None,
            autocomplete=autocomplete,
        )
        if component_message is not None:
            interaction.original_message_id = interaction.component_message_id
        self._interactions[iid] = interaction
        self._by_token[token] = interaction

        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": self._owners(guild_id, user_id),
            "channel_id": str(channel_id),
        }
        if guild is not None:
            if not guild.has_member(user_id):
                raise KeyError(f"user {user_id} is not a member of guild {guild.id}")
            perms = guild.permissions_of(user_id)
            member = guild.member(user_id).to_json(self.users)
            member["permissions"] = str(perms)
            chan = channel.to_json(self.users)
            chan["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                channel=chan,
                app_permissions=str(guild.permissions_of(self.bot_user_id)),
                context=0,
            )
        else:
            chan = channel.to_json(self.users)
            payload.update(
                user=self.users[user_id].to_json(),
                channel=chan,
                app_permissions=str(Permission.EVERYONE_DEFAULT),
                context=1,
            )
        if component_message is not None:
            msg = copy.deepcopy(component_message.json)
            if component_message.guild_id is not None:
                msg["guild_id"] = str(component_message.guild_id)
            payload["message"] = msg
        self._emit("INTERACTION_CREATE", payload)
        await self._flush()
        return iid

    def _interaction_or_404(self, iid: int, token: str) -> _Interaction | web.Response:
        interaction = self._interactions.get(iid)
        if interaction is None or interaction.token != token:
            return _error(404, 10062, "Unknown interaction")
        return interaction

    async def _interaction_callback(self, call: _Call) -> web.Response:
        found = self._interaction_or_404(int(call.groups[0]), call.groups[1])
        if isinstance(found, web.Response):
            return found
        interaction = found
        body = call.body if isinstance(call.body, dict) else {}
        ctype = int(body.get("type") or 0)
        if interaction.response_type is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if (
            self.interaction_deadline is not None
            and time.monotonic() - interaction.created > self.interaction_deadline
        ):
            # Discord forgets an interaction not answered within 3 seconds.
            return _error(404, 10062, "Unknown interaction")
        allowed = {1: (), 2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}.get(
            interaction.type, ()
        )
        if ctype not in allowed:
            return _error(400, 40043, f"Interaction callback type {ctype} is not valid for this interaction")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        self.callbacks.append(body)
        channel = self.channels[interaction.channel_id]
        message: _Stored | None = None
        resource: dict[str, Any] | None = None

        if ctype in (4, 5):
            if ctype == 4 and self._empty(data, call.files):
                return _error(400, 50006, "Cannot send an empty message")
            mtype = 20 if interaction.type in (2, 4) else 0
            extra = LOADING if ctype == 5 else 0
            message = self._new_bot_message(
                channel,
                data if ctype == 4 else {"flags": int(data.get("flags") or 0) & EPHEMERAL},
                call.files if ctype == 4 else [],
                message_type=mtype,
                extra_flags=extra,
                interaction=interaction,
            )
            interaction.original_message_id = int(message.json["id"])
            self._record(
                "interaction_response",
                message,
                data,
                call.files,
                interaction=interaction,
                response_type=ctype,
                raw=body,
            )
            self._echo("MESSAGE_CREATE", message)
        elif ctype == 7:
            target = self._store.get(interaction.component_message_id or 0)
            if target is None:
                return _error(404, 10008, "Unknown Message")
            self._apply_edit(target, data, call.files)
            message = target
            self._record(
                "interaction_response",
                target,
                data,
                call.files,
                interaction=interaction,
                response_type=7,
                raw=body,
            )
            self._echo("MESSAGE_UPDATE", target)
        elif ctype == 8:
            choices = data.get("choices") or []
            if interaction.autocomplete is not None and not interaction.autocomplete.done():
                interaction.autocomplete.set_result(list(choices))
        interaction.response_type = ctype

        if not call.flag("with_response"):
            return _no_content()
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if message is not None:
            info.update(
                response_message_id=message.json["id"],
                response_message_loading=ctype == 5,
                response_message_ephemeral=message.ephemeral,
            )
        if ctype in (4, 5, 7) and message is not None:
            resource = {"type": ctype, "message": message.json}
        elif ctype == 9:
            resource = {"type": 9}
        out: dict[str, Any] = {"interaction": info}
        if resource is not None:
            out["resource"] = resource
        return _json_response(out)

    def _webhook_interaction(self, call: _Call) -> _Interaction | web.Response:
        if int(call.groups[0]) != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        interaction = self._by_token.get(call.groups[1])
        if interaction is None or interaction.response_type is None:
            # An interaction must be acknowledged before its webhook exists.
            return _error(404, 10015, "Unknown Webhook")
        return interaction

    async def _execute_webhook(self, call: _Call) -> web.Response:
        found = self._webhook_interaction(call)
        if isinstance(found, web.Response):
            return found
        interaction = found
        body = call.body if isinstance(call.body, dict) else {}
        if self._empty(body, call.files):
            return _error(400, 50006, "Cannot send an empty message")
        channel = self.channels[interaction.channel_id]
        original = self._store.get(interaction.original_message_id or 0)
        if (
            interaction.response_type == 5
            and not interaction.followed_up
            and original is not None
            and original.json.get("flags", 0) & LOADING
        ):
            # The first followup after a deferred ("thinking") response fills in that message.
            flags = original.json.get("flags", 0) & EPHEMERAL
            stored = self._new_bot_message(
                channel,
                {**body, "flags": (int(body.get("flags") or 0) & ~EPHEMERAL) | flags},
                call.files,
                message_type=int(original.json.get("type", 20)),
                interaction=interaction,
                message_id=int(original.json["id"]),
            )
            event = "MESSAGE_UPDATE"
        else:
            stored = self._new_bot_message(channel, body, call.files, interaction=interaction)
            event = "MESSAGE_CREATE"
        interaction.followed_up = True
        self._record("followup", stored, body, call.files, interaction=interaction)
        self._echo(event, stored)
        if call.flag("wait"):
            return _json_response(stored.json)
        return _no_content()

    async def _webhook_message(self, call: _Call) -> web.Response:
        found = self._webhook_interaction(call)
        if isinstance(found, web.Response):
            return found
        interaction = found
        which = call.groups[2]
        if which == "@original":
            mid = interaction.original_message_id
        else:
            try:
                mid = int(which)
            except ValueError:
                mid = None
        stored = self._store.get(mid or 0)
        if stored is None or stored.channel_id != interaction.channel_id:
            return _error(404, 10008, "Unknown Message")
        method = call.request.method
        if method == "GET":
            return _json_response(stored.json)
        if method == "DELETE":
            self._delete(stored)
            return _no_content()
        body = call.body if isinstance(call.body, dict) else {}
        self._apply_edit(stored, body, call.files)
        self._record("edit", stored, body, call.files, interaction=interaction)
        self._echo("MESSAGE_UPDATE", stored)
        return _json_response(stored.json)

    # ------------------------------------------------------------------ gateway

    def _guild_create(self, guild: Guild, session: Session) -> dict[str, Any]:
        data = guild.to_gateway_json(self.users)
        if not session.has(Intents.GUILD_PRESENCES):
            # Without presences Discord sends only the bot's own member (and people in voice);
            # a bot with the members intent asks for the rest (op 8).
            data["members"] = [guild.member(self.bot_user_id).to_json(self.users)]
        return data

    def _ready_payload(self, session: Session) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": API_VERSION,
            "user": self._me_json(),
            "user_settings": {},
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self.guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
            "_trace": ['["loopback-gateway",{"micros":0}]'],
        }
        if session.shard is not None:
            data["shard"] = session.shard
        return data

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        self.gateway_queries.append(dict(q))
        encoding = q.get("encoding", "json")
        compress = q.get("compress") if self.compress else None
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0, compress=False, autoping=True)
        await ws.prepare(request)
        if self._closing:
            await ws.close(code=WSCloseCode.GOING_AWAY)
            return ws
        conn = Connection(ws, compress, encoding)
        self._connections.add(conn)
        handler = asyncio.current_task()
        if handler is not None:
            self._gateway_handlers.add(handler)
        try:
            if encoding != "json":
                await ws.close(code=4002, message=b"Only encoding=json is supported by the stand-in")
                return ws
            if q.get("v", str(API_VERSION)) not in ("9", "10"):
                await ws.close(code=4012, message=b"Invalid API version")
                return ws
            conn.send(
                {"op": Op.HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None}
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    raw = msg.data
                elif msg.type == WSMsgType.BINARY:
                    raw = msg.data.decode("utf-8", "replace")
                else:
                    break
                try:
                    payload = json.loads(raw)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    await conn.close(4002, b"Error while decoding payload.")
                    break
                if not await self._on_gateway(conn, op, payload.get("d")):
                    break
        finally:
            if handler is not None:
                self._gateway_handlers.discard(handler)
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
            if not self.connected:
                self._ready.clear()
            await conn.close(WSCloseCode.GOING_AWAY)
        return ws

    async def _on_gateway(self, conn: Connection, op: int, d: Any) -> bool:
        """Handle one payload from the bot. False: the connection was closed."""
        if op == Op.HEARTBEAT:
            conn.send({"op": Op.HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            return True
        if op == Op.IDENTIFY:
            if conn.session is not None:
                await conn.close(4005, b"Already authenticated.")
                return False
            if (
                not isinstance(d, dict)
                or not d.get("token")
                or (self.token is not None and d["token"] != self.token)
            ):
                await conn.close(4004, b"Authentication failed.")
                return False
            # A new IDENTIFY replaces sessions that have no connection any more.
            for sid, old in list(self._sessions.items()):
                if old.connection is None or old.connection.closed:
                    old.ended = True
                    del self._sessions[sid]
            session = Session(
                intents=int(d.get("intents") or 0), identify={k: v for k, v in d.items() if k != "token"}
            )
            session.shard = d.get("shard")
            session.connection = conn
            conn.session = session
            self._sessions[session.session_id] = session
            self.identify_payload = session.identify
            self.identify_count += 1
            session.dispatch("READY", self._ready_payload(session))
            for guild in self.guilds.values():
                session.dispatch("GUILD_CREATE", self._guild_create(guild, session))
            await conn.flush()
            self._ready.set()
            return True
        if op == Op.RESUME:
            d = d if isinstance(d, dict) else {}
            resumed = self._sessions.get(str(d.get("session_id")))
            if resumed is None or resumed.ended or (self.token is not None and d.get("token") != self.token):
                conn.send({"op": Op.INVALID_SESSION, "d": False, "s": None, "t": None})
                return True
            previous = resumed.connection
            if previous is not None and previous is not conn and not previous.closed:
                await previous.close(4000)
            resumed.connection = conn
            conn.session = resumed
            for payload in resumed.replay_after(int(d.get("seq") or 0)):
                conn.send(payload)
            resumed.dispatch("RESUMED", {"_trace": ['["loopback-gateway",{"micros":0}]']})
            self.resume_count += 1
            await conn.flush()
            self._ready.set()
            return True
        if conn.session is None:
            await conn.close(4003, b"Not authenticated.")
            return False
        if op == Op.PRESENCE_UPDATE:
            self.presences.append(d)
            return True
        if op == Op.REQUEST_GUILD_MEMBERS:
            self._members_chunk(conn.session, d if isinstance(d, dict) else {})
            return True
        if op == Op.VOICE_STATE_UPDATE:
            return True
        await conn.close(4001, b"Unknown opcode.")
        return False

    def _members_chunk(self, session: Session, d: dict[str, Any]) -> None:
        guild = self.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members)
        not_found: list[str] = []
        if d.get("user_ids"):
            wanted = [int(u) for u in (d["user_ids"] if isinstance(d["user_ids"], list) else [d["user_ids"]])]
            have = {m.user_id for m in members}
            not_found = [str(u) for u in wanted if u not in have]
            members = [m for m in members if m.user_id in wanted]
        elif d.get("query"):
            prefix = str(d["query"]).lower()
            members = [m for m in members if self.users[m.user_id].name.lower().startswith(prefix)]
        limit = int(d.get("limit") or 0)
        if limit:
            members = members[:limit]
        data: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_json(self.users) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if not_found:
            data["not_found"] = not_found
        if d.get("nonce"):
            data["nonce"] = d["nonce"]
        if d.get("presences"):
            data["presences"] = []
        session.dispatch("GUILD_MEMBERS_CHUNK", data)

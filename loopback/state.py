"""What every part of the stand-in shares: its settings, the world, the records of what the bot
did, the gateway sessions, and the few helpers they all use.

StandIn is put together from mixins (the REST server, the REST handlers, interactions, the
gateway server); each is a StandInState, so all of them see the same state.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .gateway import Connection, Intents, Session
from .models import Channel, Guild, RecordedMessage, RecordedRequest, User, new_snowflake
from .rest_common import AcceptHook, FailRule, Route, error_response
from .spec import SpecError, SpecIndex

__all__ = [
    "API_VERSION",
    "APPLICATION_FLAGS",
    "EPHEMERAL",
    "LOADING",
    "NONCE_WINDOW",
    "SUPPRESS_EMBEDS",
    "InteractionState",
    "StandInState",
    "StoredMessage",
    "integration_owners",
]

API_VERSION = 10
#: How long Discord remembers a message's nonce for ``enforce_nonce`` ("the past few minutes").
NONCE_WINDOW = 300.0
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
#: READY's application.flags for a small verified-intents bot (GATEWAY_GUILD_MEMBERS_LIMITED,
#: GATEWAY_MESSAGE_CONTENT_LIMITED).
APPLICATION_FLAGS = (1 << 15) | (1 << 19)


@dataclass
class StoredMessage:
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
class InteractionState:
    """An interaction a person started, and how far the bot has answered it."""

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


def integration_owners(guild_id: int | None, user_id: int) -> dict[str, str]:
    """authorizing_integration_owners: the guild (guild install) or the user (user install)."""
    return {"0": str(guild_id)} if guild_id is not None else {"0": "0", "1": str(user_id)}


class StandInState:
    """The state behind StandIn. ``bot_user_id`` and ``owner_id`` are set by StandIn.__init__."""

    bot_user_id: int
    owner_id: int

    def __init__(
        self,
        spec: SpecIndex | None,
        *,
        host: str,
        token: str | None,
        interaction_deadline: float | None,
        echo_bot_messages: bool,
        compress: bool,
        shard_count: int = 1,
    ) -> None:
        self.spec = spec
        self.shard_count = shard_count  # what GET /gateway/bot recommends
        self.host = host
        self.port = 0
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.echo_bot_messages = echo_bot_messages
        self.compress = compress

        # The world.
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self._store: dict[int, StoredMessage] = {}
        self._dm_by_user: dict[int, int] = {}
        self._dm_closed: set[int] = set()
        self._attachments: dict[int, tuple[str, bytes, str | None]] = {}
        self._interactions: dict[int, InteractionState] = {}
        self._by_token: dict[str, InteractionState] = {}
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {None: {}}
        # (channel, nonce) -> (message id, when): what enforce_nonce compares against.
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self.nonce_window = NONCE_WINDOW

        self._init_records()
        self._init_server()

    def _init_records(self) -> None:
        """What the bot did."""
        self.messages: list[RecordedMessage] = []
        self.requests: list[RecordedRequest] = []
        self.spec_errors: list[SpecError] = []
        self.unknown_routes: list[RecordedRequest] = []
        # POSTs with enforce_nonce answered with the earlier message: (channel, nonce, message id).
        self.nonce_repeats: list[tuple[int, str, int]] = []
        self.callbacks: list[dict[str, Any]] = []  # every interaction callback body, in order
        self.presences: list[dict[str, Any]] = []
        self.identify_payload: dict[str, Any] | None = None  # the last IDENTIFY, token removed
        self.identify_count = 0
        self.resume_count = 0
        self.gateway_queries: list[dict[str, str]] = []  # query of each websocket, e.g. compress=zlib-stream
        self._consumed: set[int] = set()  # indexes into messages that wait_for_message handed out
        self._new_message = asyncio.Event()

    def _init_server(self) -> None:
        """The HTTP server, the gateway's sessions and connections, injected failures."""
        self._fail_rules: list[FailRule] = []
        self._accept_hooks: list[AcceptHook] = []
        self._ready = asyncio.Event()
        self._sessions: dict[str, Session] = {}
        self._connections: set[Connection] = set()
        self.gateway_close_codes: list[
            int | None
        ] = []  # how each websocket ended (1006: the connection dropped)
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._gateway_handlers: set[asyncio.Task[Any]] = set()
        self._routes: list[Route] = []

    # ------------------------------------------------------------------ addresses and the bot

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

    def _me_json(self) -> dict[str, Any]:
        """The bot's user as /users/@me and READY give it."""
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

    # ------------------------------------------------------------------ channels

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

    def _channel_or_404(self, cid: int) -> Channel | web.Response:
        ch = self.channels.get(cid)
        if ch is None:
            return error_response(404, 10003, "Unknown Channel")
        return ch

    # ------------------------------------------------------------------ sending events

    def _live_sessions(self) -> list[Session]:
        return [s for s in self._sessions.values() if not s.ended]

    def _sessions_for(self, guild_id: int | None) -> list[Session]:
        """The live sessions that get a guild's events (DMs: shard 0's), by Discord's sharding formula."""
        return [s for s in self._live_sessions() if s.holds(guild_id)]

    @property
    def live_shards(self) -> set[tuple[int, int]]:
        """The shards ([id, count], from IDENTIFY) of the live sessions that have a connection."""
        return {
            (s.shard[0], s.shard[1])
            for s in self._live_sessions()
            if s.shard is not None and s.connection is not None and not s.connection.closed
        }

    def delivered_to(self, event: str, object_id: int) -> list[tuple[str, list[int] | None]]:
        """The sessions (session id, shard) that were sent `event` about the object `object_id` (a message's
        or an interaction's id), oldest session first."""
        return [
            (s.session_id, s.shard)
            for s in self._sessions.values()
            if any(p["t"] == event and str(p["d"].get("id")) == str(object_id) for p in s.sent)
        ]

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
        guild message not from the bot and not mentioning it arrives with empty content.
        A guild's event goes only to the session of the shard that holds the guild (data's guild_id), a DM's
        to shard 0, as Discord does."""
        guild_id = data.get("guild_id")
        for session in self._sessions_for(int(guild_id) if guild_id is not None else None):
            if intent is not None and not session.has(intent):
                continue
            payload = data
            if message_from is not None and self._content_hidden(session, data, message_from):
                payload = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
            session.dispatch(event, copy.deepcopy(payload))

    def _content_hidden(self, session: Session, message: dict[str, Any], author_id: int) -> bool:
        """Whether a session without MESSAGE_CONTENT gets this guild message emptied."""
        return (
            author_id != self.bot_user_id
            and message.get("guild_id") is not None
            and not session.has(Intents.MESSAGE_CONTENT)
            and not any(int(m["id"]) == self.bot_user_id for m in message.get("mentions", ()))
        )

    async def _flush(self) -> None:
        for session in self._live_sessions():
            if session.connection is not None:
                await session.connection.flush()

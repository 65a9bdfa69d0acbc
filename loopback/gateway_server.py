"""The gateway's server side: the /gateway websocket, HELLO and heartbeat ACKs, IDENTIFY (READY
and a GUILD_CREATE per guild), RESUME (missed events replayed), member chunks, op 7 RECONNECT.
Framing, compression and sessions are in gateway.py."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from .gateway import Connection, Intents, Op, Session
from .models import Guild, Member
from .state import API_VERSION, APPLICATION_FLAGS, StandInState

__all__ = ["GatewayServer"]

HEARTBEAT_INTERVAL_MS = 41250
_TRACE = ['["loopback-gateway",{"micros":0}]']


def _valid_shard(shard: Any) -> bool:
    """IDENTIFY's shard: [shard_id, shard_count], 0 <= shard_id < shard_count."""
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
        and 0 <= shard[0] < shard[1]
    )


class GatewayServer(StandInState):
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

    async def wait_for_shards(self, shards: set[tuple[int, int]], timeout: float = 20) -> None:
        """Until a session for each of ``shards`` ((id, count)) has IDENTIFYed and is connected, and all
        they were sent (READY, their GUILD_CREATEs) was written."""
        deadline = time.monotonic() + timeout
        while not shards <= self.live_shards:
            if time.monotonic() > deadline:
                raise TimeoutError(f"shards {sorted(shards - self.live_shards)} did not connect")
            await asyncio.sleep(0.01)
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

    # ------------------------------------------------------------------ payloads

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
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self.guilds if session.holds(gid)],
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
            "_trace": list(_TRACE),
        }
        if session.shard is not None:
            data["shard"] = session.shard
        return data

    # ------------------------------------------------------------------ the websocket

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
            if not await self._refused_query(ws, encoding, q.get("v", str(API_VERSION))):
                conn.send(
                    {"op": Op.HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None}
                )
                await self._serve(conn)
        finally:
            await self._forget(conn, handler)
        return ws

    @staticmethod
    async def _refused_query(ws: web.WebSocketResponse, encoding: str, version: str) -> bool:
        """Close the websocket (and return True) for an encoding or API version not served."""
        if encoding != "json":
            await ws.close(code=4002, message=b"Only encoding=json is supported by the stand-in")
            return True
        if version not in ("9", "10"):
            await ws.close(code=4012, message=b"Invalid API version")
            return True
        return False

    async def _serve(self, conn: Connection) -> None:
        """Handle the bot's payloads until it closes the websocket or breaks the protocol."""
        async for msg in conn.ws:
            raw = self._frame_text(msg)
            if raw is None:
                break
            try:
                payload = json.loads(raw)
                op = payload["op"]
            except (ValueError, KeyError, TypeError):
                await conn.close(4002, b"Error while decoding payload.")
                break
            if not await self._on_gateway(conn, op, payload.get("d")):
                break

    @staticmethod
    def _frame_text(msg: WSMessage) -> str | None:
        if msg.type == WSMsgType.TEXT:
            return str(msg.data)
        if msg.type == WSMsgType.BINARY:
            return bytes(msg.data).decode("utf-8", "replace")
        return None

    async def _forget(self, conn: Connection, handler: asyncio.Task[Any] | None) -> None:
        """After a websocket ends: its session keeps only what RESUME needs."""
        if handler is not None:
            self._gateway_handlers.discard(handler)
        self._connections.discard(conn)
        self.gateway_close_codes.append(conn.ws.close_code)
        session = conn.session
        if session is not None and session.connection is conn:
            session.connection = None
        if not self.connected:
            self._ready.clear()
        await conn.close(WSCloseCode.GOING_AWAY)

    # ------------------------------------------------------------------ what the bot sends

    async def _on_gateway(self, conn: Connection, op: int, d: Any) -> bool:
        """Handle one payload from the bot. False: the connection was closed."""
        if op == Op.HEARTBEAT:
            conn.send({"op": Op.HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            return True
        if op == Op.IDENTIFY:
            return await self._identify(conn, d)
        if op == Op.RESUME:
            return await self._resume(conn, d if isinstance(d, dict) else {})
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

    async def _identify(self, conn: Connection, d: Any) -> bool:
        """A new session: READY, then GUILD_CREATE for every guild."""
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
        shard = d.get("shard")
        if shard is not None and not _valid_shard(shard):
            await conn.close(4010, b"Invalid shard.")
            return False
        # A new IDENTIFY replaces the same shard's sessions that have no connection any more.
        for sid, old in list(self._sessions.items()):
            if old.shard == shard and (old.connection is None or old.connection.closed):
                old.ended = True
                del self._sessions[sid]
        session = Session(
            intents=int(d.get("intents") or 0), identify={k: v for k, v in d.items() if k != "token"}
        )
        session.shard = list(shard) if shard is not None else None
        session.connection = conn
        conn.session = session
        self._sessions[session.session_id] = session
        self.identify_payload = session.identify
        self.identify_count += 1
        session.dispatch("READY", self._ready_payload(session))
        for guild in self.guilds.values():
            if session.holds(guild.id):
                session.dispatch("GUILD_CREATE", self._guild_create(guild, session))
        await conn.flush()
        self._ready.set()
        return True

    async def _resume(self, conn: Connection, d: dict[str, Any]) -> bool:
        """Take over a session: replay what the bot missed since ``seq``, then RESUMED."""
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
        resumed.dispatch("RESUMED", {"_trace": list(_TRACE)})
        self.resume_count += 1
        await conn.flush()
        self._ready.set()
        return True

    def _members_chunk(self, session: Session, d: dict[str, Any]) -> None:
        """Answer op 8 REQUEST_GUILD_MEMBERS with one GUILD_MEMBERS_CHUNK."""
        guild = self.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return
        members, not_found = self._requested_members(guild, d)
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

    def _requested_members(self, guild: Guild, d: dict[str, Any]) -> tuple[list[Member], list[str]]:
        """The members op 8 asks for (by user_ids or a name prefix, up to limit), and the ids not found."""
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
        return members, not_found

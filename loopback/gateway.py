"""The gateway side: one websocket connection (framing, compression, an ordered writer) and
one session (sequence numbers, the events sent, what IDENTIFY asked for)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

from .models import new_snowflake

__all__ = ["Connection", "Intents", "Op", "Session", "guild_id_on_shard", "make_compressor"]

log = logging.getLogger("loopback.gateway")


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Intents:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    GUILD_PRESENCES = 1 << 8


class _Compressor:
    def compress(self, data: bytes) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


class _ZlibStream(_Compressor):
    """zlib-stream: one deflate stream for the whole connection, each message ending in a sync flush
    (discord.py waits for the 00 00 ff ff suffix)."""

    def __init__(self) -> None:
        self._c = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)


def make_compressor(kind: str | None) -> _Compressor | None:
    """A compressor for the ``compress`` query value, or None to send plain text frames.

    discord.py treats a text frame as uncompressed JSON whatever it asked for, so plain text is
    always a safe answer: it is the answer to zstd-stream, which discord.py asks for only where a
    zstd library is installed (racedesk installs none)."""
    if kind == "zlib-stream":
        return _ZlibStream()
    return None


def guild_id_on_shard(shard_id: int, shard_count: int) -> int:
    """A new snowflake that Discord's formula, (guild_id >> 22) % shard_count, puts on `shard_id`: a guild id
    for a test that wants a server on a given shard."""
    gid = new_snowflake()
    while (gid >> 22) % shard_count != shard_id:
        gid += 1 << 22
    return gid


@dataclass
class Session:
    """A gateway session: what survives a reconnect, so the bot can RESUME."""

    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    seq: int = 0
    intents: int = 0
    identify: dict[str, Any] = field(default_factory=dict)
    shard: list[int] | None = None
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    connection: Connection | None = None
    ended: bool = False

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def holds(self, guild_id: int | None) -> bool:
        """Whether this session gets the guild's events: Discord's formula (guild_id >> 22) % shard_count
        == shard_id; DMs (None) go to shard 0; a session without a shard gets everything."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % shard_count == shard_id

    def dispatch(self, event: str, data: Any) -> None:
        """Number the event, keep it for RESUME, and hand it to the connection (if any)."""
        if self.ended:
            return
        self.seq += 1
        payload = {"op": Op.DISPATCH, "t": event, "s": self.seq, "d": data}
        self.sent.append(payload)
        if self.connection is not None and not self.connection.closed:
            self.connection.send(payload)

    def replay_after(self, seq: int) -> list[dict[str, Any]]:
        return [p for p in self.sent if p["s"] > seq]


class Connection:
    """One websocket. Everything it sends goes through one queue and one writer task, so frames
    keep their order (and the compression stream stays in step)."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None, encoding: str) -> None:
        self.ws = ws
        self.compress_kind = compress
        self.encoding = encoding
        self.compressor = make_compressor(compress)
        self.session: Session | None = None
        self.frames_sent = 0
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="loopback-gateway-writer")

    @property
    def closed(self) -> bool:
        return self.ws.closed

    def send(self, payload: dict[str, Any]) -> None:
        self._queue.put_nowait(payload)

    async def flush(self) -> None:
        """Wait until everything queued so far has been written to the socket."""
        if not self._writer.done():
            await self._queue.join()

    async def _write_loop(self) -> None:
        try:
            while True:
                payload = await self._queue.get()
                try:
                    if payload is None:
                        return
                    if self.ws.closed:
                        continue
                    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
                    if self.compressor is not None:
                        await self.ws.send_bytes(self.compressor.compress(raw.encode("utf-8")))
                    else:
                        await self.ws.send_str(raw)
                    self.frames_sent += 1
                except (ConnectionError, RuntimeError) as exc:
                    log.debug("gateway write failed: %s", exc)
                finally:
                    self._queue.task_done()
        finally:
            # Anything left would never be written: let flush() waiters go.
            while not self._queue.empty():
                self._queue.get_nowait()
                self._queue.task_done()

    async def close(self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b"") -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._writer), timeout=2.0)
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code, message=message), timeout=3.0)
        if not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

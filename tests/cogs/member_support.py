"""What the member commands' cog tests share: a bot over the sample and synthetic races, and waiting for
what the bot posts after a button click (which is not a command, so the driver does not wait for it)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine, make_sessionmaker, upgrade
from tests.harness import World, running_bot
from tests.member_data import load_member_data

_templates: dict[bool, Path] = {}


def _build_template(big: bool) -> Path:
    """A migrated SQLite store holding the member data, built once per test process and copied per test
    (loading the 500-poll race takes seconds; copying the file takes milliseconds)."""
    if big not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="racedesk-member-data-"))
        path = folder / f"store-{'big' if big else 'small'}.db"

        async def build() -> None:
            engine = make_engine(f"sqlite+aiosqlite:///{path}")
            await upgrade(engine)
            async with make_sessionmaker(engine).begin() as session:
                await load_member_data(session, big=big)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            await engine.dispose()

        # Its own thread and event loop, so it can run inside a test's loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, build()).result()
        _templates[big] = path
    return _templates[big]


def member_engine(tmp_path: Path, big: bool = True) -> AsyncEngine:
    """A fresh SQLite store with the member data (a copy of the template), for one test."""
    target = tmp_path / "member.db"
    shutil.copyfile(_build_template(big), target)
    return make_engine(f"sqlite+aiosqlite:///{target}")


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
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        got = list(world.standin.messages[before:])
        if got and (done is None or done(got)):
            await asyncio.sleep(0.1)
            return list(world.standin.messages[before:])
        await asyncio.sleep(0.02)
    raise TimeoutError(f"nothing new from the bot within {timeout} s")


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

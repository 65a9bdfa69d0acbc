"""Settings from the environment (and an optional .env file); never a module of secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///racedesk.db"


class SettingsError(ValueError):
    """A setting has a value racedesk cannot use."""


def _ids(raw: str, name: str) -> frozenset[int]:
    parts = [p for p in raw.replace(",", " ").split() if p]
    try:
        return frozenset(int(p) for p in parts)
    except ValueError:
        raise SettingsError(
            f"{name} must be Discord ids separated by commas, e.g. 123456789012345678"
        ) from None


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)  # never printed
    database_url: str = DEFAULT_DATABASE_URL
    prefix: str = "!"
    owner_ids: frozenset[int] = frozenset()
    desk_guild_ids: frozenset[int] = frozenset()
    log_level: str = "INFO"
    load_default_data: bool = True
    feed_hosts: frozenset[str] = frozenset()  # hosts results feeds may come from; empty: no feeds
    shard_count: int | None = None  # SHARD_COUNT: the bot's shards in all (None: one unsharded connection)
    shard_ids: tuple[int, ...] | None = None  # SHARD_IDS: the shards this process runs (None: all of them)
    outbox_keep_days: int = (
        30  # OUTBOX_KEEP_DAYS: announcements done with are kept this long after their write
    )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        values = dict(_read_dotenv(dotenv)) if dotenv else {}
        values.update(os.environ if env is None else env)
        prefix = values.get("COMMAND_PREFIX", "!").strip() or "!"
        if len(prefix) > 8:
            raise SettingsError("COMMAND_PREFIX must be at most 8 characters, e.g. !")
        return cls(
            token=values.get("DISCORD_TOKEN", "").strip() or None,
            database_url=values.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            prefix=prefix,
            owner_ids=_ids(values.get("OWNER_IDS", ""), "OWNER_IDS"),
            desk_guild_ids=_ids(values.get("DESK_GUILD_IDS", ""), "DESK_GUILD_IDS"),
            log_level=values.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
            load_default_data=values.get("RACEDESK_DEFAULT_DATA", "1").strip() not in ("0", "false", "no"),
            feed_hosts=_hosts(values.get("FEED_HOSTS", "")),
            **_shards(values.get("SHARD_COUNT", ""), values.get("SHARD_IDS", "")),
            outbox_keep_days=_keep_days(values.get("OUTBOX_KEEP_DAYS", "")),
        )


MAX_SHARDS = 100_000  # far past any bot (Discord: at most 2,500 servers a shard)
SHARD_EXAMPLE = "e.g. SHARD_COUNT=4 with SHARD_IDS=0-1 in one process and SHARD_IDS=2,3 in the other"


def _shards(count_text: str, ids_text: str) -> dict[str, Any]:
    """SHARD_COUNT (a whole number of shards, 1 or more) and SHARD_IDS (`0-3`, `4,5`, `0-1,6`: each below
    SHARD_COUNT); SHARD_IDS alone is refused, SHARD_COUNT alone runs every shard in this process."""
    count_text, ids_text = count_text.strip(), ids_text.strip()
    if not count_text:
        if ids_text:
            raise SettingsError(f"SHARD_IDS needs SHARD_COUNT, the bot's shards in all; {SHARD_EXAMPLE}")
        return {}
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SHARDS:
        raise SettingsError(
            f"SHARD_COUNT must be a whole number of shards, 1 to {MAX_SHARDS}, not `{count_text}`; {SHARD_EXAMPLE}"
        )
    count = int(count_text)
    if not ids_text:
        return {"shard_count": count}
    ids: set[int] = set()
    for part in ids_text.replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise SettingsError(f"SHARD_IDS lists shard numbers and ranges, not `{part}`; {SHARD_EXAMPLE}")
        low, high = int(first), int(last) if dash else int(first)
        if low > high:
            raise SettingsError(f"SHARD_IDS range `{part}` runs backwards, e.g. {high}-{low}")
        if high >= count:
            raise SettingsError(
                f"SHARD_IDS `{part}` is not below SHARD_COUNT={count} (shards are numbered 0 to {count - 1}); "
                f"{SHARD_EXAMPLE}"
            )
        ids.update(range(low, high + 1))
    return {"shard_count": count, "shard_ids": tuple(sorted(ids))}


MAX_KEEP_DAYS = 3_650


def _keep_days(raw: str) -> int:
    text = raw.strip()
    if not text:
        return Settings.outbox_keep_days
    if not text.isdigit() or not 1 <= int(text) <= MAX_KEEP_DAYS:
        raise SettingsError(f"OUTBOX_KEEP_DAYS must be a whole number of days, 1 to {MAX_KEEP_DAYS}, e.g. 30")
    return int(text)


def _hosts(raw: str) -> frozenset[str]:
    hosts = [p.strip().lower() for p in raw.replace(",", " ").split() if p.strip()]
    for host in hosts:
        if "/" in host:
            raise SettingsError(
                f"FEED_HOSTS lists host names, not URLs: `{host}`; e.g. results.enr.clarityelections.com"
            )
    return frozenset(h.strip("[]") for h in hosts)


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}

"""Settings from the environment (and an optional .env file); never a module of secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
        )


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

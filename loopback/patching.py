"""Point discord.py at a stand-in: the two class attributes it builds its addresses from."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

import discord.gateway
import discord.http
import yarl

__all__ = ["ENV_API", "ENV_GATEWAY", "point_discord_at", "point_discord_from_env"]

ENV_API = "RACEDESK_DISCORD_API"
ENV_GATEWAY = "RACEDESK_DISCORD_GATEWAY"


def _apply(api_base: str, gateway_url: str) -> tuple[str, yarl.URL]:
    old = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = api_base.rstrip("/")
    # DEFAULT_GATEWAY must stay a yarl.URL: discord.py calls .with_query() on it.
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return old


@contextlib.contextmanager
def point_discord_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """Within the block, discord.py's REST calls go to ``api_base`` and its gateway to ``gateway_url``."""
    old_base, old_gateway = _apply(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def point_discord_from_env(env: Mapping[str, str] | None = None) -> bool:
    """If RACEDESK_DISCORD_API and RACEDESK_DISCORD_GATEWAY are set, point discord.py there for
    the rest of the process. Returns whether it did."""
    env = os.environ if env is None else env
    api, gateway = env.get(ENV_API, "").strip(), env.get(ENV_GATEWAY, "").strip()
    if not api or not gateway:
        return False
    _apply(api, gateway)
    return True

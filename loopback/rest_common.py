"""What every part of the stand-in's REST API uses: the call a route handler gets, the route
table's shape, Discord-shaped JSON and error replies, and injected failures."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = [
    "SEGMENT",
    "SNOWFLAKE",
    "AcceptHook",
    "BadBody",
    "Call",
    "FailRule",
    "Handler",
    "Route",
    "RouteSpec",
    "Upload",
    "error_response",
    "json_response",
    "no_content",
]

#: Route pattern groups: a snowflake, and any one path segment (a token, an emoji, "@original").
SNOWFLAKE = r"(\d+)"
SEGMENT = r"([^/]+)"

#: A file the bot uploaded: (index n of files[n], filename, data, content type).
Upload = tuple[int, str, bytes, str | None]


class BadBody(Exception):
    """A request body that does not parse as JSON."""


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
class AcceptHook:
    """Run ``hook`` after the next ``times`` accepted (2xx) requests matching method and path have done
    their work, before the answer goes back: e.g. to stop the bot in that window."""

    method: str
    path_regex: re.Pattern[str]
    hook: Callable[[], Awaitable[None] | None]
    times: int
    fired: int = 0


@dataclass
class Call:
    """What a route handler gets."""

    request: web.Request
    path: str
    body: Any
    files: list[Upload]
    groups: tuple[str, ...]

    def flag(self, name: str) -> bool:
        return self.request.query.get(name, "").lower() in ("1", "true", "yes")


Handler = Callable[[Call], Awaitable[web.StreamResponse]]
#: A route as a handler mixin lists it: method, path pattern (relative to the API base), handler,
#: and whether it needs the bot's Authorization header.
RouteSpec = tuple[str, str, Handler, bool]
#: A route ready to match: method, compiled pattern, the pattern (the rate-limit bucket), handler, auth.
Route = tuple[str, re.Pattern[str], str, Handler, bool]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )


def error_response(
    status: int, code: int, message: str, errors: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status)


def no_content() -> web.Response:
    return web.Response(status=204)

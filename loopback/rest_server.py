"""The REST server's plumbing: reading bodies, matching routes, checking the token and the
OpenAPI spec, injected failures and Discord's rate-limit headers, and attachment downloads."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .models import RecordedRequest
from .rest_common import (
    AcceptHook,
    BadBody,
    Call,
    FailRule,
    Handler,
    Upload,
    error_response,
    json_response,
)
from .spec import UNKNOWN_ROUTE, SpecError
from .state import StandInState

__all__ = ["RestServer"]

log = logging.getLogger("loopback")

_DEFAULT_ERROR_MESSAGES = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "Missing Permissions",
    404: "404: Not Found",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}


class RestServer(StandInState):
    """Answers /api/v{n}/... with the handler of the first route that matches (see ``_routes``)."""

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

    def after_accepting(
        self,
        method: str,
        path_regex: str,
        hook: Callable[[], Awaitable[None] | None],
        times: int = 1,
    ) -> AcceptHook:
        """The next ``times`` requests matching method and path (re.search) that Discord accepts (2xx)
        run ``hook`` (sync or async) once their work is done (a message stored, say) and before the
        answer goes back: the window in which the bot has been heard but does not know it yet."""
        rule = AcceptHook(method.upper(), re.compile(path_regex), hook, times)
        self._accept_hooks.append(rule)
        return rule

    async def _run_accept_hook(self, method: str, path: str) -> None:
        for rule in self._accept_hooks:
            if rule.times > 0 and rule.method in (method, "*") and rule.path_regex.search(path):
                rule.times -= 1
                rule.fired += 1
                if rule.times == 0:
                    self._accept_hooks.remove(rule)
                outcome = rule.hook()
                if inspect.isawaitable(outcome):
                    await outcome
                return

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        try:
            body, files = await self._read_body(request)
        except BadBody as problem:
            self.requests.append(RecordedRequest(method, path, None))
            self.spec_errors.append(SpecError(method, path, f"the body is not JSON: {problem}", "", None))
            return self._with_headers(
                error_response(400, 50109, "The request body contains invalid JSON."), None
            )
        self.requests.append(RecordedRequest(method, path, body))

        route = self._match_route(method, path)
        if route is None:
            # Discord's API has no such route (or the stand-in does not know it): a 404 and a spec error.
            self.unknown_routes.append(RecordedRequest(method, path, body))
            self._spec_refusal(method, path, body, route_known=False)
            log.warning("loopback: unknown route %s %s", method, path)
            return self._with_headers(error_response(404, 0, "404: Not Found"), None)
        template, handler, auth, groups = route
        bucket = self._bucket(method, template)
        if auth and not self._authorized(request):
            return self._with_headers(error_response(401, 0, "401: Unauthorized"), None)
        # Checked before any injected failure: a request Discord would refuse is refused, whatever else
        # the test arranged.
        refused = self._spec_refusal(method, path, body)
        if refused is not None:
            return self._with_headers(refused, bucket)
        rule = self._take_failure(method, path)
        if rule is not None:
            return self._with_headers(self._failure(rule, bucket), bucket)
        try:
            resp = await handler(Call(request, path, body, files, groups))
        except KeyError as exc:
            log.warning("loopback: %s %s refers to something unknown: %s", method, path, exc)
            resp = error_response(404, 0, "404: Not Found")
        if 200 <= resp.status < 300:
            await self._run_accept_hook(method, path)
        return self._with_headers(resp, bucket)

    def _match_route(self, method: str, path: str) -> tuple[str, Handler, bool, tuple[str, ...]] | None:
        """(pattern, handler, needs auth, groups) of the first route that matches."""
        for r_method, regex, template, handler, auth in self._routes:
            if r_method == method and (m := regex.match(path)):
                return template, handler, auth, m.groups()
        return None

    def _spec_refusal(
        self, method: str, path: str, body: Any, *, route_known: bool = True
    ) -> web.Response | None:
        """Every request against the OpenAPI spec: a route Discord's API does not have, or a JSON body
        that does not fit, is recorded in spec_errors; a bad body is answered 400 50035, as Discord does.
        ``route_known``: False when the stand-in has no handler for it (a spec error even if the spec
        knows the route, since the stand-in cannot answer it like Discord)."""
        if self.spec is None:
            if not route_known:
                self.spec_errors.append(SpecError(method, path, "no such route", UNKNOWN_ROUTE, body))
            return None
        problem = self.spec.check(method, path, body)
        if problem is None:
            if not route_known:
                message = f"{method} {path}: the stand-in has no handler for this route"
                self.spec_errors.append(SpecError(method, path, message, UNKNOWN_ROUTE, body))
            return None
        operation, violation = problem
        self.spec_errors.append(SpecError(method, path, violation.message, operation, body))
        log.warning("loopback: %s %s does not fit the spec: %s", method, path, violation.message)
        if operation == UNKNOWN_ROUTE:
            return error_response(404, 0, "404: Not Found")
        return error_response(400, 50035, "Invalid Form Body", violation.errors)

    # ------------------------------------------------------------------ bodies

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Upload]]:
        if not request.can_read_body:
            return None, []
        if request.content_type == "multipart/form-data":
            return await self._read_multipart(request)
        raw = await request.read()
        if not raw:
            return None, []
        if request.content_type == "application/json":
            return self._parse_json(raw), []
        return raw.decode("utf-8", "replace"), []

    async def _read_multipart(self, request: web.Request) -> tuple[Any, list[Upload]]:
        """payload_json and files[n] (or file, fileN) parts, as discord.py sends uploads."""
        body: Any = None
        files: list[Upload] = []
        reader = await request.multipart()
        while True:
            part: Any = await reader.next()
            if part is None:
                break
            name = part.name or ""
            data = await part.read(decode=False)
            if name == "payload_json":
                body = self._parse_json(bytes(data))
            elif m := re.fullmatch(r"files\[(\d+)\]|file(\d*)", name):
                index = int(m.group(1) or m.group(2) or len(files))
                ct = part.headers.get("Content-Type")
                files.append((index, part.filename or f"file{index}", bytes(data), ct))
        return body, files

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise BadBody(str(exc)) from None

    # ------------------------------------------------------------------ failures and headers

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
            return self._rate_limited(rule, bucket)
        default = _DEFAULT_ERROR_MESSAGES.get(rule.status, f"{rule.status}: Error")
        code = rule.code or (50013 if rule.status == 403 else 0)
        return error_response(rule.status, code, rule.message or default)

    @staticmethod
    def _rate_limited(rule: FailRule, bucket: str) -> web.Response:
        """429 with the body and headers discord.py reads to wait and retry."""
        body = {
            "message": rule.message or "You are being rate limited.",
            "retry_after": rule.retry_after,
            "global": rule.is_global,
            "code": rule.code,
        }
        resp = json_response(body, 429)
        resp.headers.update(
            {
                "Retry-After": str(max(1, int(rule.retry_after + 0.999))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": "global" if rule.is_global else "user",
            }
        )
        if rule.is_global:
            resp.headers["X-RateLimit-Global"] = "true"
        return resp

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

    # ------------------------------------------------------------------ attachments

    async def _attachment_file(self, request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["attachment"])
        if aid not in self._attachments:
            return web.Response(status=404)
        _filename, data, ctype = self._attachments[aid]
        return web.Response(body=data, content_type=ctype or "application/octet-stream")

"""REST: application commands, global and per guild: bulk overwrite (what discord.py's
tree.sync does), create, list, get, edit, delete."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .models import new_snowflake, stable_snowflake
from .rest_common import SNOWFLAKE, Call, RouteSpec, error_response, json_response, no_content
from .state import StandInState

__all__ = ["RestCommands"]


class RestCommands(StandInState):
    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The application commands the bot registered, global (guild_id None) or for a guild."""
        return list(self._commands.get(guild_id, {}).values())

    def _command_routes(self) -> list[RouteSpec]:
        S = SNOWFLAKE
        return [
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
        ]

    def _command_scope(self, call: Call) -> tuple[int, int | None] | web.Response:
        """(application id, guild id or None for global commands), or 403 for someone else's."""
        app = int(call.groups[0])
        if app != self.application_id:
            return error_response(403, 50001, "Missing Access")
        guild_id = int(call.groups[1]) if "/guilds/" in call.path else None
        if guild_id is not None and guild_id not in self.guilds:
            return error_response(403, 50001, "Missing Access")
        return app, guild_id

    def _command_json(self, guild_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        """A registered command as Discord returns it; its id is stable across syncs."""
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

    def _find_command(self, guild_id: int | None, cid: int) -> dict[str, Any] | None:
        for cmd in self._commands.get(guild_id, {}).values():
            if int(cmd["id"]) == cid:
                return cmd
        return None

    async def _list_commands(self, call: Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        return json_response(self.commands(scope[1]))

    async def _put_commands(self, call: Call) -> web.Response:
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
        return json_response(list(table.values()))

    async def _post_command(self, call: Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        guild_id = scope[1]
        body = call.body if isinstance(call.body, dict) else {}
        cmd = self._command_json(guild_id, body)
        table = self._commands.setdefault(guild_id, {})
        existed = (cmd["type"], cmd["name"]) in table
        table[(cmd["type"], cmd["name"])] = cmd
        return json_response(cmd, 200 if existed else 201)

    async def _get_command(self, call: Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        cmd = self._find_command(scope[1], int(call.groups[-1]))
        if cmd is None:
            return error_response(404, 10063, "Unknown application command")
        return json_response(cmd)

    async def _patch_command(self, call: Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        guild_id = scope[1]
        cmd = self._find_command(guild_id, int(call.groups[-1]))
        if cmd is None:
            return error_response(404, 10063, "Unknown application command")
        body = call.body if isinstance(call.body, dict) else {}
        table = self._commands[guild_id]
        table.pop((cmd["type"], cmd["name"]), None)
        merged = self._command_json(guild_id, {**cmd, **body})
        table[(merged["type"], merged["name"])] = merged
        return json_response(merged)

    async def _delete_command(self, call: Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        cmd = self._find_command(scope[1], int(call.groups[-1]))
        if cmd is None:
            return error_response(404, 10063, "Unknown application command")
        self._commands[scope[1]].pop((cmd["type"], cmd["name"]), None)
        return no_content()

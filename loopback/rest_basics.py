"""REST: the gateway URL, users, the application, DMs, channels, typing, reactions and pins,
guilds, members and their roles."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .gateway import Intents
from .models import Member, Permission
from .rest_common import SEGMENT, SNOWFLAKE, Call, RouteSpec, error_response, json_response, no_content
from .state import APPLICATION_FLAGS, StandInState

__all__ = ["RestBasics"]


class RestBasics(StandInState):
    def _basic_routes(self) -> list[RouteSpec]:
        S, T = SNOWFLAKE, SEGMENT
        return [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", f"/users/{S}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", f"/channels/{S}", self._get_channel, True),
            ("POST", f"/channels/{S}/typing", self._typing, True),
            ("PUT", f"/channels/{S}/messages/{S}/reactions/{T}/@me", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions/{T}/@me", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions/{T}/{S}", self._reaction, True),
            ("DELETE", f"/channels/{S}/messages/{S}/reactions", self._reaction, True),
            ("PUT", f"/channels/{S}/pins/{S}", self._reaction, True),
            ("PUT", f"/channels/{S}/messages/pins/{S}", self._reaction, True),
            ("GET", f"/guilds/{S}", self._get_guild, True),
            ("GET", f"/guilds/{S}/channels", self._get_guild_channels, True),
            ("GET", f"/guilds/{S}/roles", self._get_guild_roles, True),
            ("GET", f"/guilds/{S}/members", self._list_members, True),
            ("GET", f"/guilds/{S}/members/{S}", self._get_member, True),
            ("PUT", f"/guilds/{S}/members/{S}/roles/{S}", self._member_role, True),
            ("DELETE", f"/guilds/{S}/members/{S}/roles/{S}", self._member_role, True),
        ]

    # ------------------------------------------------------------------ gateway, users, application

    async def _get_gateway(self, call: Call) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: Call) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, call: Call) -> web.Response:
        return json_response(self._me_json())

    async def _get_user(self, call: Call) -> web.Response:
        uid = int(call.groups[0])
        if uid not in self.users:
            return error_response(404, 10013, "Unknown User")
        return json_response(self.users[uid].to_json())

    async def _get_application(self, call: Call) -> web.Response:
        return json_response(self._application_json())

    def _application_json(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.users[self.owner_id].to_json(),
            "team": None,
            "flags": APPLICATION_FLAGS,
            "bot": self.bot_user.to_json(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
        }

    # ------------------------------------------------------------------ DMs and channels

    async def _create_dm(self, call: Call) -> web.Response:
        body = call.body if isinstance(call.body, dict) else {}
        try:
            uid = int(body.get("recipient_id", 0))
        except (TypeError, ValueError):
            uid = 0
        if uid not in self.users or uid == self.bot_user_id:
            return error_response(400, 50033, "Invalid Recipient(s)")
        cid = self.dm_channel_id(uid)
        return json_response(self.channels[cid].to_json(self.users))

    async def _get_channel(self, call: Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        return json_response(ch.to_json(self.users))

    async def _typing(self, call: Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        return no_content()

    async def _reaction(self, call: Call) -> web.Response:
        """Reactions and pins: accepted (for a known message) and otherwise ignored."""
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        if int(call.groups[1]) not in self._store:
            return error_response(404, 10008, "Unknown Message")
        return no_content()

    # ------------------------------------------------------------------ guilds and members

    async def _get_guild(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        data = guild.to_json()
        if call.flag("with_counts"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def _get_guild_channels(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        return json_response([c.to_json() for c in guild.channels])

    async def _get_guild_roles(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        return json_response([r.to_json() for r in guild.roles])

    async def _list_members(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        limit = int(call.request.query.get("limit", "1"))
        after = int(call.request.query.get("after", "0"))
        members = sorted((m for m in guild.members if m.user_id > after), key=lambda m: m.user_id)[:limit]
        return json_response([m.to_json(self.users) for m in members])

    async def _get_member(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        uid = int(call.groups[1])
        if not guild.has_member(uid):
            return error_response(404, 10007, "Unknown Member")
        return json_response(guild.member(uid).to_json(self.users))

    async def _member_role(self, call: Call) -> web.Response:
        guild = self.guilds.get(int(call.groups[0]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        uid, rid = int(call.groups[1]), int(call.groups[2])
        if not guild.has_member(uid):
            return error_response(404, 10007, "Unknown Member")
        if not any(r.id == rid for r in guild.roles):
            return error_response(404, 10011, "Unknown Role")
        if not guild.permissions_of(self.bot_user_id) & Permission.MANAGE_ROLES:
            return error_response(403, 50013, "Missing Permissions")
        member = guild.member(uid)
        if call.request.method == "PUT" and rid not in member.roles:
            member.roles.append(rid)
        elif call.request.method == "DELETE" and rid in member.roles:
            member.roles.remove(rid)
        self._emit_member_update(guild.id, member)
        return no_content()

    def _emit_member_update(self, guild_id: int, member: Member) -> None:
        self._emit(
            "GUILD_MEMBER_UPDATE",
            {**member.to_json(self.users), "guild_id": str(guild_id)},
            intent=Intents.GUILD_MEMBERS,
        )

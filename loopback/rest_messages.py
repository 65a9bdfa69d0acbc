"""REST: channel messages: post (with Discord's permission, DM and reply checks), list, get,
edit, delete."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .bot_messages import BotMessages
from .models import Channel, Permission
from .rest_common import SNOWFLAKE, Call, RouteSpec, error_response, json_response, no_content
from .state import StoredMessage

__all__ = ["RestMessages"]


class RestMessages(BotMessages):
    def _message_routes(self) -> list[RouteSpec]:
        S = SNOWFLAKE
        return [
            ("GET", f"/channels/{S}/messages", self._list_messages, True),
            ("POST", f"/channels/{S}/messages", self._post_message, True),
            ("GET", f"/channels/{S}/messages/{S}", self._get_message, True),
            ("PATCH", f"/channels/{S}/messages/{S}", self._patch_message, True),
            ("DELETE", f"/channels/{S}/messages/{S}", self._delete_message, True),
        ]

    async def _post_message(self, call: Call) -> web.Response:
        ch = self._channel_or_404(int(call.groups[0]))
        if isinstance(ch, web.Response):
            return ch
        body = call.body if isinstance(call.body, dict) else {}
        refused = self._can_post(ch) or self._bad_reference(body)
        if refused is not None:
            return refused
        earlier = self._same_nonce(ch, body)
        if earlier is not None:
            return json_response(earlier.json)
        if self._empty(body, call.files):
            return error_response(400, 50006, "Cannot send an empty message")
        stored = self._new_bot_message(ch, body, call.files)
        if body.get("nonce") is not None:
            self._nonces[(ch.id, str(body["nonce"]))] = (int(stored.json["id"]), time.monotonic())
        self._record("message", stored, body, call.files)
        self._echo("MESSAGE_CREATE", stored)
        return json_response(stored.json)

    def _same_nonce(self, channel: Channel, body: dict[str, Any]) -> StoredMessage | None:
        """With enforce_nonce, the bot's message with the same nonce in this channel within the window,
        which Discord returns instead of posting again."""
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        seen = self._nonces.get((channel.id, str(nonce)))
        if seen is None or time.monotonic() - seen[1] > self.nonce_window:
            return None
        earlier = self._store.get(seen[0])
        if earlier is None:
            return None
        self.nonce_repeats.append((channel.id, str(nonce), seen[0]))
        return earlier

    def _can_post(self, channel: Channel) -> web.Response | None:
        """403 for a closed DM or without View Channel and Send Messages; None if the bot may post."""
        if channel.is_dm:
            if channel.recipient_id in self._dm_closed:
                return error_response(403, 50007, "Cannot send messages to this user")
            return None
        guild = self.guilds.get(channel.guild_id or 0)
        if guild is None:
            return error_response(404, 10003, "Unknown Channel")
        perms = guild.permissions_of(self.bot_user_id)
        needed = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES
        if perms & needed != needed:
            return error_response(403, 50013, "Missing Permissions")
        return None

    def _bad_reference(self, body: dict[str, Any]) -> web.Response | None:
        """400 for a reply to an unknown message (unless fail_if_not_exists is false)."""
        ref = body.get("message_reference")
        if not isinstance(ref, dict) or ref.get("message_id") is None:
            return None
        try:
            known = int(ref["message_id"]) in self._store
        except (TypeError, ValueError):
            known = False
        if known or ref.get("fail_if_not_exists") is False:
            return None
        errors = {
            "message_reference": {
                "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
            }
        }
        return error_response(400, 50035, "Invalid Form Body", errors)

    async def _list_messages(self, call: Call) -> web.Response:
        cid = int(call.groups[0])
        ch = self._channel_or_404(cid)
        if isinstance(ch, web.Response):
            return ch
        q = call.request.query
        limit = min(int(q.get("limit", "50")), 100)
        msgs = [s for s in self._store.values() if s.channel_id == cid and not s.ephemeral]
        if "before" in q:
            msgs = [s for s in msgs if int(s.json["id"]) < int(q["before"])]
        if "after" in q:
            msgs = [s for s in msgs if int(s.json["id"]) > int(q["after"])]
        msgs.sort(key=lambda s: int(s.json["id"]), reverse=True)
        return json_response([s.json for s in msgs[:limit]])

    def _message_or_404(self, cid: int, mid: int) -> StoredMessage | web.Response:
        if cid not in self.channels:
            return error_response(404, 10003, "Unknown Channel")
        stored = self._store.get(mid)
        if stored is None or stored.channel_id != cid:
            return error_response(404, 10008, "Unknown Message")
        return stored

    async def _get_message(self, call: Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        return json_response(stored.json)

    async def _patch_message(self, call: Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        if stored.author_id != self.bot_user_id:
            return error_response(403, 50005, "Cannot edit a message authored by another user")
        body = call.body if isinstance(call.body, dict) else {}
        self._apply_edit(stored, body, call.files)
        self._record("edit", stored, body, call.files)
        self._echo("MESSAGE_UPDATE", stored)
        return json_response(stored.json)

    async def _delete_message(self, call: Call) -> web.Response:
        stored = self._message_or_404(int(call.groups[0]), int(call.groups[1]))
        if isinstance(stored, web.Response):
            return stored
        if stored.author_id != self.bot_user_id and stored.guild_id is not None:
            guild = self.guilds[stored.guild_id]
            if not guild.permissions_of(self.bot_user_id) & Permission.MANAGE_MESSAGES:
                return error_response(403, 50013, "Missing Permissions")
        elif stored.author_id != self.bot_user_id:
            return error_response(403, 50003, "Cannot execute action on a DM channel")
        self._delete(stored)
        return no_content()

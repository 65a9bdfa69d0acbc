"""The bot's messages, whichever way it sends them (channel POSTs, interaction responses,
followups): their JSON as Discord fills it in (mentions, attachments, components, embeds,
replies, interaction metadata), edits and deletes, the record in ``messages``, and the
MESSAGE_CREATE / UPDATE / DELETE echoed back to the bot."""

from __future__ import annotations

import copy
import mimetypes
import re
from collections.abc import Sequence
from typing import Any

from .gateway import Intents
from .models import Channel, Guild, RecordedMessage, iso_now, new_snowflake
from .rest_common import Upload
from .state import LOADING, SUPPRESS_EMBEDS, InteractionState, StandInState, StoredMessage, integration_owners

__all__ = ["BotMessages"]

_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")


class BotMessages(StandInState):
    # ------------------------------------------------------------------ new messages

    def _new_bot_message(
        self,
        channel: Channel,
        body: dict[str, Any],
        files: list[Upload],
        *,
        message_type: int = 0,
        extra_flags: int = 0,
        interaction: InteractionState | None = None,
        message_id: int | None = None,
    ) -> StoredMessage:
        """Store a message the bot sends (``body`` as it sent it) and return it."""
        mid = message_id or new_snowflake()
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        stored_files: dict[str, bytes] = {}
        msg = self._bot_message_json(
            mid, channel, guild, body, files, stored_files, message_type, extra_flags
        )
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        ref = body.get("message_reference")
        if isinstance(ref, dict) and ref.get("message_id") is not None:
            self._add_reply(msg, ref, channel, guild, self._allowed_mentions(body))
        if interaction is not None:
            msg.update(self._interaction_fields(interaction))
        stored = StoredMessage(
            json=msg,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=self.bot_user_id,
            files=stored_files,
        )
        self._store[mid] = stored
        if not stored.ephemeral:
            channel.last_message_id = mid
        return stored

    def _bot_message_json(
        self,
        mid: int,
        channel: Channel,
        guild: Guild | None,
        body: dict[str, Any],
        files: list[Upload],
        stored_files: dict[str, bytes],
        message_type: int,
        extra_flags: int,
    ) -> dict[str, Any]:
        content = body.get("content")
        content = "" if content is None else str(content)
        mentions, mention_roles, everyone = self._mentions(content, guild, self._allowed_mentions(body))
        flags = int(body.get("flags") or 0)
        return {
            "id": str(mid),
            "type": message_type,
            "content": content,
            "channel_id": str(channel.id),
            "author": self.bot_user.to_json(),
            "attachments": self._attachments_json(channel.id, body, files, stored_files),
            "embeds": self._embeds_json(body.get("embeds")),
            "mentions": mentions,
            "mention_roles": mention_roles,
            "mention_everyone": everyone,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": flags | extra_flags,
            "components": self._components_json(body.get("components")),
        }

    @staticmethod
    def _allowed_mentions(body: dict[str, Any]) -> dict[str, Any] | None:
        allowed = body.get("allowed_mentions")
        return allowed if isinstance(allowed, dict) else None

    def _add_reply(
        self,
        msg: dict[str, Any],
        ref: dict[str, Any],
        channel: Channel,
        guild: Guild | None,
        allowed: dict[str, Any] | None,
    ) -> None:
        """Make ``msg`` a reply (type 19); it pings the author unless allowed_mentions.replied_user says no."""
        ref_id = int(ref["message_id"])
        target = self._store.get(ref_id)
        msg["type"] = 19
        msg["message_reference"] = {
            "type": int(ref.get("type") or 0),
            "message_id": str(ref_id),
            "channel_id": str(ref.get("channel_id") or channel.id),
        }
        if guild is not None:
            msg["message_reference"]["guild_id"] = str(guild.id)
        msg["referenced_message"] = copy.deepcopy(target.json) if target else None
        if target is not None and target.author_id != self.bot_user_id:
            replied = True if allowed is None else bool(allowed.get("replied_user", False))
            mentions = msg["mentions"]
            if replied and not any(int(u["id"]) == target.author_id for u in mentions):
                mentions.append(self.users[target.author_id].to_json())

    def _interaction_fields(self, interaction: InteractionState) -> dict[str, Any]:
        """webhook_id, application_id, interaction_metadata (and the older interaction) of a response."""
        user = self.users[interaction.user_id].to_json()
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": integration_owners(interaction.guild_id, interaction.user_id),
        }
        fields: dict[str, Any] = {
            "webhook_id": str(self.application_id),
            "application_id": str(self.application_id),
            "interaction_metadata": metadata,
        }
        if interaction.name:
            metadata["name"] = interaction.name
            fields["interaction"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": interaction.name,
                "user": user,
            }
        if interaction.component_message_id is not None:
            metadata["interacted_message_id"] = str(interaction.component_message_id)
        return fields

    # ------------------------------------------------------------------ parts of a message

    def _mentions(
        self, content: str, guild: Guild | None, allowed: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """mentions, mention_roles and mention_everyone of a message, as Discord fills them in.

        ``allowed`` is allowed_mentions (None: everything in the content pings)."""
        parse: Sequence[str] = (
            ("users", "roles", "everyone") if allowed is None else (allowed.get("parse") or ())
        )
        allowed_users = {int(u) for u in (allowed or {}).get("users") or ()}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or ()}
        users = self._mentioned_users(content, guild, "users" in parse, allowed_users)
        roles = self._mentioned_roles(content, guild, "roles" in parse, allowed_roles)
        everyone = "everyone" in parse and ("@everyone" in (content or "") or "@here" in (content or ""))
        return users, roles, everyone

    def _mentioned_users(
        self, content: str, guild: Guild | None, parse_users: bool, allowed_users: set[int]
    ) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        seen: set[int] = set()
        for m in _MENTION_USER.finditer(content or ""):
            uid = int(m.group(1))
            if uid in seen or uid not in self.users:
                continue
            if not parse_users and uid not in allowed_users:
                continue
            seen.add(uid)
            user = self.users[uid].to_json()
            if guild is not None and guild.has_member(uid):
                user["member"] = guild.member(uid).to_json(with_user=False)
            users.append(user)
        return users

    @staticmethod
    def _mentioned_roles(
        content: str, guild: Guild | None, parse_roles: bool, allowed_roles: set[int]
    ) -> list[str]:
        roles: list[str] = []
        if guild is not None:
            known = {r.id for r in guild.roles}
            for m in _MENTION_ROLE.finditer(content or ""):
                rid = int(m.group(1))
                if rid in known and (parse_roles or rid in allowed_roles) and str(rid) not in roles:
                    roles.append(str(rid))
        return roles

    def _attachments_json(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[Upload],
        stored: dict[str, bytes],
    ) -> list[dict[str, Any]]:
        """The attachments of the uploaded files (in the order body["attachments"] lists them,
        if it does); their bytes go to ``stored`` and to the stand-in's download URLs."""
        by_index = {index: (name, data, ct) for index, name, data, ct in files}
        listed = body.get("attachments")
        entries: list[dict[str, Any]] = (
            [a for a in listed if isinstance(a, dict)]
            if isinstance(listed, list)
            else [{"id": index} for index in by_index]
        )
        out: list[dict[str, Any]] = []
        for entry in entries:
            try:
                index = int(entry.get("id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if index in by_index:
                out.append(self._store_attachment(channel_id, entry, *by_index[index], stored))
        return out

    def _store_attachment(
        self,
        channel_id: int,
        entry: dict[str, Any],
        name: str,
        data: bytes,
        ct: str | None,
        stored: dict[str, bytes],
    ) -> dict[str, Any]:
        name = entry.get("filename") or name
        aid = new_snowflake()
        ctype = ct if ct and ct != "application/octet-stream" else mimetypes.guess_type(name)[0]
        url = f"{self.http_base}/attachments/{channel_id}/{aid}/{name}"
        item: dict[str, Any] = {
            "id": str(aid),
            "filename": name,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": ctype or "application/octet-stream",
        }
        if entry.get("description"):
            item["description"] = entry["description"]
        if entry.get("duration_secs") is not None:
            item["duration_secs"] = entry["duration_secs"]
        self._attachments[aid] = (name, data, ctype)
        stored[str(aid)] = data
        return item

    @staticmethod
    def _components_json(components: Any) -> list[Any]:
        """The components as Discord returns them: every one numbered (``id``) in document order."""
        counter = 0

        def walk(items: Any) -> list[Any]:
            nonlocal counter
            out = []
            for item in items or ():
                if not isinstance(item, dict):
                    continue
                item = dict(item)
                counter += 1
                item.setdefault("id", counter)
                if isinstance(item.get("components"), list):
                    item["components"] = walk(item["components"])
                if isinstance(item.get("accessory"), dict):
                    item["accessory"] = walk([item["accessory"]])[0]
                out.append(item)
            return out

        return walk(components)

    @staticmethod
    def _embeds_json(embeds: Any) -> list[dict[str, Any]]:
        out = []
        for e in embeds or ():
            if isinstance(e, dict):
                e = {"type": "rich", **e}
                e.setdefault("content_scan_version", 0)
                out.append(e)
        return out

    @staticmethod
    def _empty(body: dict[str, Any], files: list[Any]) -> bool:
        return not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
            or files
        )

    # ------------------------------------------------------------------ edits and deletes

    def _apply_edit(self, stored: StoredMessage, body: dict[str, Any], files: list[Upload]) -> None:
        msg = stored.json
        guild = self.guilds.get(stored.guild_id) if stored.guild_id is not None else None
        if "content" in body:
            msg["content"] = "" if body["content"] is None else str(body["content"])
            mentions, roles, everyone = self._mentions(msg["content"], guild, self._allowed_mentions(body))
            msg.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in body:
            msg["embeds"] = self._embeds_json(body["embeds"])
        if "components" in body:
            msg["components"] = self._components_json(body["components"])
        if "flags" in body and body["flags"] is not None:
            keep = msg.get("flags", 0) & ~SUPPRESS_EMBEDS
            msg["flags"] = keep | (int(body["flags"]) & SUPPRESS_EMBEDS) | (int(body["flags"]) & (1 << 15))
        if "attachments" in body or files:
            msg["attachments"] = self._edited_attachments(stored, body, files)
        msg["flags"] = msg.get("flags", 0) & ~LOADING
        msg["edited_timestamp"] = iso_now()

    def _edited_attachments(
        self, stored: StoredMessage, body: dict[str, Any], files: list[Upload]
    ) -> list[dict[str, Any]]:
        """The attachments body["attachments"] keeps (all, if it lists none), then the new uploads."""
        listed = body.get("attachments")
        keep_ids = (
            {str(a.get("id")) for a in listed if isinstance(a, dict)} if isinstance(listed, list) else None
        )
        kept = [a for a in stored.json.get("attachments", []) if keep_ids is None or a["id"] in keep_ids]
        new = self._attachments_json(stored.channel_id, body, files, stored.files) if files else []
        return kept + new

    def _delete(self, stored: StoredMessage) -> None:
        mid = int(stored.json["id"])
        self._store.pop(mid, None)
        if not stored.ephemeral:
            data: dict[str, Any] = {"id": str(mid), "channel_id": str(stored.channel_id)}
            if stored.guild_id is not None:
                data["guild_id"] = str(stored.guild_id)
            intent = Intents.GUILD_MESSAGES if stored.guild_id is not None else Intents.DIRECT_MESSAGES
            self._emit("MESSAGE_DELETE", data, intent=intent)

    # ------------------------------------------------------------------ records and echoes

    def _record(
        self,
        kind: str,
        stored: StoredMessage,
        body: dict[str, Any],
        files: list[Upload],
        *,
        interaction: InteractionState | None = None,
        response_type: int | None = None,
        raw: Any = None,
    ) -> RecordedMessage:
        msg = stored.json
        # An edit (or an interaction's update of its message) records the message as it now is.
        is_edit = kind == "edit" or response_type == 7
        ref = msg.get("message_reference") if not is_edit else None
        rec = RecordedMessage(
            kind=kind,
            channel_id=stored.channel_id,
            guild_id=stored.guild_id,
            content=msg.get("content") if (is_edit or body.get("content") is not None) else None,
            embeds=copy.deepcopy(msg.get("embeds") or []),
            components=copy.deepcopy(msg.get("components") or []),
            attachments=[(name, data) for _, name, data, _ in sorted(files, key=lambda f: f[0])],
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(msg.get("flags") or 0),
            message_id=int(msg["id"]),
            raw=body if raw is None else raw,
            interaction_id=interaction.id if interaction else None,
            response_type=response_type,
            reply_to=int(ref["message_id"]) if ref else None,
        )
        self.messages.append(rec)
        self._new_message.set()
        return rec

    def _gateway_message(self, stored: StoredMessage) -> dict[str, Any]:
        """A stored message as MESSAGE_CREATE/UPDATE carries it: with guild_id and the author's member."""
        data = dict(stored.json)
        if stored.guild_id is not None:
            data["guild_id"] = str(stored.guild_id)
            guild = self.guilds.get(stored.guild_id)
            if guild is not None and guild.has_member(stored.author_id):
                data["member"] = guild.member(stored.author_id).to_json(with_user=False)
        return data

    def _echo(self, event: str, stored: StoredMessage) -> None:
        if not self.echo_bot_messages or stored.ephemeral:
            return
        intent = Intents.GUILD_MESSAGES if stored.guild_id is not None else Intents.DIRECT_MESSAGES
        self._emit(event, self._gateway_message(stored), intent=intent, message_from=self.bot_user_id)

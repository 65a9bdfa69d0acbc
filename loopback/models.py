"""The stand-in's world (users, guilds, channels, roles, members) and Discord-shaped JSON for it."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "DISCORD_EPOCH_MS",
    "Channel",
    "Guild",
    "Member",
    "Permission",
    "RecordedMessage",
    "RecordedRequest",
    "Role",
    "User",
    "iso_now",
    "new_snowflake",
    "stable_snowflake",
]

DISCORD_EPOCH_MS = 1420070400000

_counter = itertools.count()
_snowflake_lock = threading.Lock()
_last_ms = 0


def new_snowflake() -> int:
    """A fresh snowflake with the current time in it, unique within the process."""
    global _last_ms
    with _snowflake_lock:
        ms = max(int(time.time() * 1000), _last_ms)
        _last_ms = ms
        inc = next(_counter) & 0xFFF
        if inc == 0xFFF:
            _last_ms += 1
    return ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (1 << 12) | inc


def stable_snowflake(*parts: object) -> int:
    """A snowflake that is always the same for the same parts (e.g. a command's name)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    low = int.from_bytes(digest[:4], "big") & ((1 << 22) - 1)
    # A fixed moment (2024-01-01) keeps the id in a realistic range.
    return ((1704067200000 - DISCORD_EPOCH_MS) << 22) | low


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def iso_from_snowflake(snowflake: int) -> str:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="microseconds")


class Permission:
    """Permission bits (Discord's documentation, "Permissions")."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    ALL = (1 << 51) - 1

    #: What a new server gives @everyone (close to Discord's default).
    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MENTION_EVERYONE
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
    )
    #: What the bot's own (managed) role gets when it joins: a typical invite.
    BOT_DEFAULT = EVERYONE_DEFAULT | MANAGE_MESSAGES | MANAGE_ROLES


@dataclass
class User:
    id: int
    name: str
    bot: bool = False
    global_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    managed: bool = False
    mentionable: bool = False
    hoist: bool = False
    bot_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Channel:
    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    recipient_id: int | None = None  # DM channels
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    def to_json(self, users: dict[int, User] | None = None) -> dict[str, Any]:
        if self.is_dm:
            recipients = []
            if users is not None and self.recipient_id in users:
                recipients = [users[self.recipient_id].to_json()]
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": recipients,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.type in (0, 5):
            data.update(
                topic=self.topic,
                nsfw=False,
                rate_limit_per_user=0,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
            )
        return data


@dataclass
class Member:
    user_id: int
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def to_json(self, users: dict[int, User] | None = None, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if with_user and users is not None:
            data["user"] = users[self.user_id].to_json()
        return data


@dataclass
class Guild:
    """A server: its channels, roles (roles[0] is @everyone, with the guild's id) and members."""

    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def everyone(self) -> Role:
        return self.roles[0]

    def channel(self, key: int | str) -> Channel:
        """A channel by id or name."""
        for ch in self.channels:
            if key in (ch.id, ch.name):
                return ch
        raise KeyError(key)

    def role(self, key: int | str) -> Role:
        """A role by id or name."""
        for role in self.roles:
            if key in (role.id, role.name):
                return role
        raise KeyError(key)

    def member(self, user_id: int) -> Member:
        for m in self.members:
            if m.user_id == user_id:
                return m
        raise KeyError(user_id)

    def has_member(self, user_id: int) -> bool:
        return any(m.user_id == user_id for m in self.members)

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions of a member: @everyone plus their roles; the owner and admins get all."""
        if user_id == self.owner_id:
            return Permission.ALL
        perms = self.everyone.permissions
        try:
            member = self.member(user_id)
        except KeyError:
            return perms
        by_id = {r.id: r for r in self.roles}
        for rid in member.roles:
            if rid in by_id:
                perms |= by_id[rid].permissions
        if perms & Permission.ADMINISTRATOR:
            return Permission.ALL
        return perms

    def to_json(self) -> dict[str, Any]:
        """The guild object of GET /guilds/{id} (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }

    def to_gateway_json(self, users: dict[int, User]) -> dict[str, Any]:
        """The GUILD_CREATE payload: the guild with channels, members and the rest."""
        data = self.to_json()
        data.update(
            joined_at=self.joined_at,
            large=False,
            unavailable=False,
            lazy=True,
            member_count=len(self.members),
            voice_states=[],
            members=[m.to_json(users) for m in self.members],
            channels=[ch.to_json() for ch in self.channels],
            threads=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
            activity_instances=[],
            application_command_counts={},
            version=int(time.time() * 1000),
        )
        return data


class RecordedRequest(NamedTuple):
    """One HTTP request the bot made. ``path`` is relative to the API base, e.g. /channels/1/messages."""

    method: str
    path: str
    body: Any


@dataclass
class RecordedMessage:
    """Something the bot posted: a message, an interaction response, a followup, or an edit of one."""

    kind: str  # "message" | "interaction_response" | "followup" | "edit"
    channel_id: int | None
    guild_id: int | None
    content: str | None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[Any] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    message_id: int | None = None
    raw: Any = None
    interaction_id: int | None = None
    response_type: int | None = None  # the interaction callback type, for kind="interaction_response"
    reply_to: int | None = None  # message_reference.message_id, if the bot replied

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    def text(self) -> str:
        """Content and embeds as plain text: the content, then per embed (after a blank line) its
        author, title, description, "name: value" per field (a multi-line value indented under
        "name:") and the footer, each on its own line. Attachments and components are left out."""
        lines: list[str] = []
        if self.content:
            lines.append(self.content)
        for embed in self.embeds:
            if lines:
                lines.append("")
            author = (embed.get("author") or {}).get("name")
            if author:
                lines.append(author)
            if embed.get("title"):
                lines.append(str(embed["title"]))
            if embed.get("description"):
                lines.append(str(embed["description"]))
            for f in embed.get("fields") or ():
                # A zero-width space alone is how embeds leave a field's name blank; inside a
                # name it is an escape (of "@everyone") that must stay as sent.
                name = str(f.get("name") or "").strip()
                if not name.replace("\u200b", ""):
                    name = ""
                value = str(f.get("value") or "").strip()
                if "\n" in value and name:
                    lines.append(f"{name}:")
                    lines.extend("  " + v for v in value.splitlines())
                else:
                    lines.append(f"{name}: {value}" if name else value)
            footer = (embed.get("footer") or {}).get("text")
            if footer:
                lines.append(str(footer))
        return "\n".join(lines)

    def button_ids(self) -> list[str]:
        """custom_id of every button and select menu in the components, in order."""
        return [item["custom_id"] for item in self.interactive_components()]

    def button_labels(self) -> list[str]:
        return [str(item.get("label") or "") for item in self.interactive_components()]

    def button_id(self, label: str) -> str:
        """custom_id of the button whose label holds `label` ("Next" finds "Next ▶")."""
        return str(self.button(label)["custom_id"])

    def button_disabled(self, label: str) -> bool:
        return bool(self.button(label).get("disabled"))

    def button(self, label: str) -> dict[str, Any]:
        """The first button whose label holds `label`."""
        for item in self.interactive_components():
            if label in str(item.get("label") or ""):
                return item
        raise KeyError(f"no button labelled {label!r} in {self.button_ids()}")

    def interactive_components(self) -> list[dict[str, Any]]:
        """Every button and select menu with a custom_id, at any depth, in order."""
        out: list[dict[str, Any]] = []

        def walk(items: Any) -> None:
            for item in items or ():
                if not isinstance(item, dict):
                    continue
                if item.get("custom_id") and item.get("type") in (2, 3, 5, 6, 7, 8):
                    out.append(item)
                walk(item.get("components"))
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return out

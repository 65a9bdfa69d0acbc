"""Interactions people start: slash commands and autocomplete (options typed and resolved the
way Discord does it, from what the bot registered), button clicks and select menus on the bot's
messages, modal submits. Each becomes an INTERACTION_CREATE; the bot answers through
rest_interactions."""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from typing import Any

from .models import Channel, Guild, Permission, RecordedMessage, Role, new_snowflake, stable_snowflake
from .state import InteractionState, StandInState, StoredMessage, integration_owners

__all__ = ["Interactions"]

#: The option type that carries the picks of each auto-populated select menu (user 5, role 6,
#: mentionable 7, channel 8) in "resolved".
_SELECT_OPTION_TYPE = {5: 6, 6: 8, 7: 9, 8: 7}


def _definition(defs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The option (or subcommand) definition called ``name``."""
    return next((o for o in defs if o.get("name") == name), None)


class Interactions(StandInState):
    # ------------------------------------------------------------------ INTERACTION_CREATE

    async def _interact(
        self,
        itype: int,
        data: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        *,
        name: str | None = None,
        component_message: StoredMessage | None = None,
        autocomplete: asyncio.Future[list[dict[str, Any]]] | None = None,
    ) -> int:
        """Open an interaction and send INTERACTION_CREATE. Returns the interaction id."""
        self._require_session()
        channel = self.channels[channel_id]
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}")
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if guild_id is not None and guild is None:
            raise KeyError(f"unknown guild {guild_id}")
        interaction = self._open_interaction(
            itype, guild_id, channel_id, user_id, name, component_message, autocomplete
        )
        payload = self._interaction_payload(interaction, data)
        if guild is not None:
            payload.update(self._guild_context(guild, channel, user_id))
        else:
            payload.update(self._dm_context(channel, user_id))
        if component_message is not None:
            msg = copy.deepcopy(component_message.json)
            if component_message.guild_id is not None:
                msg["guild_id"] = str(component_message.guild_id)
            payload["message"] = msg
        self._emit("INTERACTION_CREATE", payload)
        await self._flush()
        return interaction.id

    def _open_interaction(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str | None,
        component_message: StoredMessage | None,
        autocomplete: asyncio.Future[list[dict[str, Any]]] | None,
    ) -> InteractionState:
        """A new interaction with its token, known by id and by token from now on."""
        interaction = InteractionState(
            id=new_snowflake(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=itype,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            created=time.monotonic(),
            name=name.split()[0] if name else None,
            component_message_id=int(component_message.json["id"]) if component_message else None,
            autocomplete=autocomplete,
        )
        if component_message is not None:
            interaction.original_message_id = interaction.component_message_id
        self._interactions[interaction.id] = interaction
        self._by_token[interaction.token] = interaction
        return interaction

    def _interaction_payload(self, interaction: InteractionState, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": data,
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": integration_owners(interaction.guild_id, interaction.user_id),
            "channel_id": str(interaction.channel_id),
        }

    def _guild_context(self, guild: Guild, channel: Channel, user_id: int) -> dict[str, Any]:
        """The guild, member (with permissions) and channel fields of a guild interaction."""
        if not guild.has_member(user_id):
            raise KeyError(f"user {user_id} is not a member of guild {guild.id}")
        perms = guild.permissions_of(user_id)
        member = guild.member(user_id).to_json(self.users)
        member["permissions"] = str(perms)
        chan = channel.to_json(self.users)
        chan["permissions"] = str(perms)
        return {
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "member": member,
            "channel": chan,
            "app_permissions": str(guild.permissions_of(self.bot_user_id)),
            "context": 0,
        }

    def _dm_context(self, channel: Channel, user_id: int) -> dict[str, Any]:
        """The user and channel fields of an interaction in a DM."""
        return {
            "user": self.users[user_id].to_json(),
            "channel": channel.to_json(self.users),
            "app_permissions": str(Permission.EVERYONE_DEFAULT),
            "context": 1,
        }

    # ------------------------------------------------------------------ components

    async def _component(
        self, message: RecordedMessage | int, custom_id: str, user_id: int, values: list[str] | None
    ) -> int:
        """A click on (or picks in) the component ``custom_id`` of a bot message."""
        mid = message.message_id if isinstance(message, RecordedMessage) else int(message)
        if mid is None or mid not in self._store:
            raise KeyError(f"unknown message {mid}")
        stored = self._store[mid]
        component = self._find_component(stored.json.get("components") or [], custom_id)
        if component is None:
            raise KeyError(f"message {mid} has no component {custom_id!r}")
        data = self._component_data(stored, component, custom_id, values)
        return await self._interact(
            3, data, stored.guild_id, stored.channel_id, user_id, component_message=stored
        )

    def _component_data(
        self, stored: StoredMessage, component: dict[str, Any], custom_id: str, values: list[str] | None
    ) -> dict[str, Any]:
        ctype = int(component.get("type", 2))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype != 2:
            data["values"] = [str(v) for v in values or []]
            # User, role, mentionable and channel selects carry the picked things in "resolved";
            # a string select (3) has none (discord.py reads the values only when it is absent).
            option_type = _SELECT_OPTION_TYPE.get(ctype)
            if option_type is not None:
                resolved: dict[str, dict[str, Any]] = {}
                for v in values or []:
                    self._option_value(stored.guild_id, option_type, v, resolved)
                data["resolved"] = resolved
        if "id" in component:
            data["id"] = component["id"]
        return data

    @staticmethod
    def _find_component(items: list[Any], custom_id: str) -> dict[str, Any] | None:
        """The component (not an action row) with ``custom_id``, at any depth (rows, sections)."""
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("custom_id") == custom_id and item.get("type") != 1:
                return item
            found = Interactions._find_component(item.get("components") or [], custom_id)
            if found is not None:
                return found
            if isinstance(item.get("accessory"), dict):
                found = Interactions._find_component([item["accessory"]], custom_id)
                if found is not None:
                    return found
        return None

    # ------------------------------------------------------------------ slash command data

    def _command_data(
        self, guild_id: int | None, command_name: str, options: dict[str, Any], *, focused: str | None
    ) -> dict[str, Any]:
        """The ``data`` of a slash command (or autocomplete) interaction for "name [group] [sub]"."""
        parts = command_name.split()
        top = parts[0]
        cmd, is_guild = self._lookup_command(guild_id, top)
        if cmd is None:
            # Never synced: discord.py's CommandTree finds the command by name (and guild_id, falling
            # back to global commands), so a guild-scoped stable id works for both kinds.
            cid = stable_snowflake("command", 0, 1, top)
            is_guild = guild_id is not None
            defs: list[dict[str, Any]] = []
        else:
            cid = int(cmd["id"])
            defs = cmd.get("options") or []
        resolved: dict[str, dict[str, Any]] = {}
        leaf = [
            self._option(guild_id, defs, name, value, focused, resolved) for name, value in options.items()
        ]
        chain, level = self._subcommand_chain(parts[1:], defs, synced=cmd is not None)
        if chain and level:
            # Options of the subcommand have their definitions in `level`: redo types for them.
            self._retype_options(guild_id, leaf, level, options, resolved)
        wrapped = leaf
        for sub, stype in reversed(chain):
            wrapped = [{"name": sub, "type": stype, "options": wrapped}]
        data: dict[str, Any] = {"id": str(cid), "name": top, "type": 1}
        if wrapped:
            data["options"] = wrapped
        if resolved:
            data["resolved"] = resolved
        if is_guild and guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data

    def _lookup_command(self, guild_id: int | None, name: str) -> tuple[dict[str, Any] | None, bool]:
        """The registered command (type 1) for a name, and whether it is a guild command."""
        if guild_id is not None:
            for cmd in self._commands.get(guild_id, {}).values():
                if cmd["type"] == 1 and cmd["name"] == name:
                    return cmd, True
        for cmd in self._commands.get(None, {}).values():
            if cmd["type"] == 1 and cmd["name"] == name:
                return cmd, False
        return None, False

    def _option(
        self,
        guild_id: int | None,
        defs: list[dict[str, Any]],
        name: str,
        value: Any,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        """One option as the interaction carries it; typed by its definition, else by its value."""
        d = _definition(defs, name)
        otype = int(d["type"]) if d else self._guess_type(value)
        if name == focused:
            return {"name": name, "type": otype, "value": str(value), "focused": True}
        return {"name": name, "type": otype, "value": self._option_value(guild_id, otype, value, resolved)}

    @staticmethod
    def _subcommand_chain(
        subs: list[str], defs: list[dict[str, Any]], *, synced: bool
    ) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        """(name, type) of each subcommand group (2) and subcommand (1) named, and the option
        definitions of the last one."""
        chain: list[tuple[str, int]] = []
        level = defs
        for sub in subs:
            d = _definition(level, sub)
            if d is not None:
                chain.append((sub, int(d["type"])))
                level = d.get("options") or []
            else:
                chain.append((sub, 1))
        if len(chain) == 2 and not synced:
            chain[0] = (chain[0][0], 2)
        return chain, level

    def _retype_options(
        self,
        guild_id: int | None,
        leaf: list[dict[str, Any]],
        level: list[dict[str, Any]],
        options: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
    ) -> None:
        for opt in leaf:
            d = _definition(level, opt["name"])
            if d is not None and opt["type"] != int(d["type"]):
                opt["type"] = int(d["type"])
                if not opt.get("focused"):
                    opt["value"] = self._option_value(guild_id, opt["type"], options[opt["name"]], resolved)

    @staticmethod
    def _guess_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, Channel):
            return 7
        if isinstance(value, Role):
            return 8
        return 3

    # ------------------------------------------------------------------ option values

    def _option_value(
        self,
        guild_id: int | None,
        otype: int,
        value: Any,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        """The option's wire value; fills ``resolved`` for users, channels, roles, mentionables."""
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if isinstance(value, (Channel, Role)):
            value = value.id
        if otype in (6, 9) and int(value) in self.users:
            return self._resolve_user(guild, int(value), resolved)
        if otype in (8, 9) and guild is not None:
            return self._resolve_role(guild, int(value), resolved)
        if otype == 7:
            return self._resolve_channel(guild, int(value), resolved)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        return value if otype != 3 else str(value)

    def _resolve_user(self, guild: Guild | None, uid: int, resolved: dict[str, dict[str, Any]]) -> str:
        resolved.setdefault("users", {})[str(uid)] = self.users[uid].to_json()
        if guild is not None and guild.has_member(uid):
            member = guild.member(uid).to_json(with_user=False)
            member["permissions"] = str(guild.permissions_of(uid))
            resolved.setdefault("members", {})[str(uid)] = member
        return str(uid)

    @staticmethod
    def _resolve_role(guild: Guild, rid: int, resolved: dict[str, dict[str, Any]]) -> str:
        role = guild.role(rid)
        resolved.setdefault("roles", {})[str(role.id)] = role.to_json()
        return str(role.id)

    def _resolve_channel(self, guild: Guild | None, cid: int, resolved: dict[str, dict[str, Any]]) -> str:
        ch = self.channels[cid]
        data = ch.to_json(self.users)
        data["permissions"] = str(guild.permissions_of(self.bot_user_id) if guild else Permission.ALL)
        resolved.setdefault("channels", {})[str(ch.id)] = data
        return str(ch.id)

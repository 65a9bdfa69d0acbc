"""REST: the bot's answers to interactions: the callback (message, deferred "thinking",
update of the clicked message, autocomplete choices, modal), then followups and edits of the
original response through the interaction's webhook. Discord's rules included: 3 s to answer,
one callback per interaction, no webhook before the callback."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .bot_messages import BotMessages
from .models import Channel
from .rest_common import (
    SEGMENT,
    SNOWFLAKE,
    Call,
    RouteSpec,
    Upload,
    error_response,
    json_response,
    no_content,
)
from .state import EPHEMERAL, LOADING, InteractionState, StoredMessage

__all__ = ["RestInteractions"]

#: The callback types each interaction type accepts: PING 1; APPLICATION_COMMAND 2 and
#: MESSAGE_COMPONENT 3 (message 4, deferred 5, deferred update 6, update 7, modal 9);
#: AUTOCOMPLETE 4 (choices 8); MODAL_SUBMIT 5.
_ALLOWED_CALLBACKS = {1: (), 2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}


class RestInteractions(BotMessages):
    def _interaction_routes(self) -> list[RouteSpec]:
        S, T = SNOWFLAKE, SEGMENT
        return [
            ("POST", f"/interactions/{S}/{T}/callback", self._interaction_callback, False),
            ("POST", f"/webhooks/{S}/{T}", self._execute_webhook, False),
            ("GET", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
            ("PATCH", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
            ("DELETE", f"/webhooks/{S}/{T}/messages/{T}", self._webhook_message, False),
        ]

    # ------------------------------------------------------------------ the callback

    async def _interaction_callback(self, call: Call) -> web.Response:
        found = self._interaction_or_404(int(call.groups[0]), call.groups[1])
        if isinstance(found, web.Response):
            return found
        interaction = found
        body = call.body if isinstance(call.body, dict) else {}
        ctype = int(body.get("type") or 0)
        refused = self._refuse_callback(interaction, ctype)
        if refused is not None:
            return refused
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        self.callbacks.append(body)
        channel = self.channels[interaction.channel_id]
        message: StoredMessage | web.Response | None = None
        if ctype in (4, 5):
            message = self._respond_with_message(interaction, channel, ctype, body, data, call.files)
        elif ctype == 7:
            message = self._update_component_message(interaction, body, data, call.files)
        elif ctype == 8:
            self._answer_autocomplete(interaction, data)
        if isinstance(message, web.Response):
            return message
        interaction.response_type = ctype
        if not call.flag("with_response"):
            return no_content()
        return json_response(self._callback_result(interaction, ctype, message))

    def _interaction_or_404(self, iid: int, token: str) -> InteractionState | web.Response:
        interaction = self._interactions.get(iid)
        if interaction is None or interaction.token != token:
            return error_response(404, 10062, "Unknown interaction")
        return interaction

    def _refuse_callback(self, interaction: InteractionState, ctype: int) -> web.Response | None:
        """Discord's refusals: a second callback, one after the deadline, a type that does not fit."""
        if interaction.response_type is not None:
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        if (
            self.interaction_deadline is not None
            and time.monotonic() - interaction.created > self.interaction_deadline
        ):
            # Discord forgets an interaction not answered within 3 seconds.
            return error_response(404, 10062, "Unknown interaction")
        if ctype not in _ALLOWED_CALLBACKS.get(interaction.type, ()):
            return error_response(
                400, 40043, f"Interaction callback type {ctype} is not valid for this interaction"
            )
        return None

    def _respond_with_message(
        self,
        interaction: InteractionState,
        channel: Channel,
        ctype: int,
        body: dict[str, Any],
        data: dict[str, Any],
        files: list[Upload],
    ) -> StoredMessage | web.Response:
        """4: a message; 5: a deferred ("thinking") one, flagged loading until the first followup."""
        if ctype == 4 and self._empty(data, files):
            return error_response(400, 50006, "Cannot send an empty message")
        message = self._new_bot_message(
            channel,
            data if ctype == 4 else {"flags": int(data.get("flags") or 0) & EPHEMERAL},
            files if ctype == 4 else [],
            message_type=20 if interaction.type in (2, 4) else 0,
            extra_flags=LOADING if ctype == 5 else 0,
            interaction=interaction,
        )
        interaction.original_message_id = int(message.json["id"])
        self._record(
            "interaction_response",
            message,
            data,
            files,
            interaction=interaction,
            response_type=ctype,
            raw=body,
        )
        self._echo("MESSAGE_CREATE", message)
        return message

    def _update_component_message(
        self, interaction: InteractionState, body: dict[str, Any], data: dict[str, Any], files: list[Upload]
    ) -> StoredMessage | web.Response:
        """7: edit the message whose component was used."""
        target = self._store.get(interaction.component_message_id or 0)
        if target is None:
            return error_response(404, 10008, "Unknown Message")
        self._apply_edit(target, data, files)
        self._record(
            "interaction_response",
            target,
            data,
            files,
            interaction=interaction,
            response_type=7,
            raw=body,
        )
        self._echo("MESSAGE_UPDATE", target)
        return target

    @staticmethod
    def _answer_autocomplete(interaction: InteractionState, data: dict[str, Any]) -> None:
        """8: hand the choices to the send_autocomplete that is waiting for them."""
        choices = data.get("choices") or []
        if interaction.autocomplete is not None and not interaction.autocomplete.done():
            interaction.autocomplete.set_result(list(choices))

    @staticmethod
    def _callback_result(
        interaction: InteractionState, ctype: int, message: StoredMessage | None
    ) -> dict[str, Any]:
        """The body of a callback made ``?with_response=true``."""
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if message is not None:
            info.update(
                response_message_id=message.json["id"],
                response_message_loading=ctype == 5,
                response_message_ephemeral=message.ephemeral,
            )
        resource: dict[str, Any] | None = None
        if ctype in (4, 5, 7) and message is not None:
            resource = {"type": ctype, "message": message.json}
        elif ctype == 9:
            resource = {"type": 9}
        out: dict[str, Any] = {"interaction": info}
        if resource is not None:
            out["resource"] = resource
        return out

    # ------------------------------------------------------------------ the interaction webhook

    def _webhook_interaction(self, call: Call) -> InteractionState | web.Response:
        if int(call.groups[0]) != self.application_id:
            return error_response(404, 10015, "Unknown Webhook")
        interaction = self._by_token.get(call.groups[1])
        if interaction is None or interaction.response_type is None:
            # An interaction must be acknowledged before its webhook exists.
            return error_response(404, 10015, "Unknown Webhook")
        return interaction

    async def _execute_webhook(self, call: Call) -> web.Response:
        """A followup; the first one after a deferred response fills in that message instead."""
        found = self._webhook_interaction(call)
        if isinstance(found, web.Response):
            return found
        interaction = found
        body = call.body if isinstance(call.body, dict) else {}
        if self._empty(body, call.files):
            return error_response(400, 50006, "Cannot send an empty message")
        channel = self.channels[interaction.channel_id]
        original = self._store.get(interaction.original_message_id or 0)
        if self._fills_deferred(interaction, original):
            assert original is not None
            stored = self._fill_deferred(channel, original, body, call.files, interaction)
            event = "MESSAGE_UPDATE"
        else:
            stored = self._new_bot_message(channel, body, call.files, interaction=interaction)
            event = "MESSAGE_CREATE"
        interaction.followed_up = True
        self._record("followup", stored, body, call.files, interaction=interaction)
        self._echo(event, stored)
        if call.flag("wait"):
            return json_response(stored.json)
        return no_content()

    @staticmethod
    def _fills_deferred(interaction: InteractionState, original: StoredMessage | None) -> bool:
        return (
            interaction.response_type == 5
            and not interaction.followed_up
            and original is not None
            and bool(original.json.get("flags", 0) & LOADING)
        )

    def _fill_deferred(
        self,
        channel: Channel,
        original: StoredMessage,
        body: dict[str, Any],
        files: list[Upload],
        interaction: InteractionState,
    ) -> StoredMessage:
        """The deferred message (same id, same ephemerality) with the followup's content."""
        flags = original.json.get("flags", 0) & EPHEMERAL
        return self._new_bot_message(
            channel,
            {**body, "flags": (int(body.get("flags") or 0) & ~EPHEMERAL) | flags},
            files,
            message_type=int(original.json.get("type", 20)),
            interaction=interaction,
            message_id=int(original.json["id"]),
        )

    async def _webhook_message(self, call: Call) -> web.Response:
        """GET, PATCH or DELETE the original response (@original) or a followup."""
        found = self._webhook_interaction(call)
        if isinstance(found, web.Response):
            return found
        interaction = found
        stored = self._store.get(self._webhook_message_id(interaction, call.groups[2]) or 0)
        if stored is None or stored.channel_id != interaction.channel_id:
            return error_response(404, 10008, "Unknown Message")
        method = call.request.method
        if method == "GET":
            return json_response(stored.json)
        if method == "DELETE":
            self._delete(stored)
            return no_content()
        body = call.body if isinstance(call.body, dict) else {}
        self._apply_edit(stored, body, call.files)
        self._record("edit", stored, body, call.files, interaction=interaction)
        self._echo("MESSAGE_UPDATE", stored)
        return json_response(stored.json)

    @staticmethod
    def _webhook_message_id(interaction: InteractionState, which: str) -> int | None:
        if which == "@original":
            return interaction.original_message_id
        try:
            return int(which)
        except ValueError:
            return None

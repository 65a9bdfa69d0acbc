"""The OpenAPI checks on their own: what Discord refuses, what it takes, and what they cost."""

from __future__ import annotations

from pathlib import Path

from loopback import StandIn
from loopback.models import RecordedMessage
from loopback.spec import UNKNOWN_ROUTE, load_spec


def test_loaded_once_per_process(spec_path: Path) -> None:
    assert load_spec(spec_path) is load_spec(str(spec_path))


def test_what_discord_refuses(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    post = "/channels/123/messages"
    refused = {
        "title over 256": {"embeds": [{"title": "x" * 257}]},
        "content over 2000": {"content": "x" * 2001},
        "26 fields": {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        "field value over 1024": {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
        "11 embeds": {"embeds": [{"title": "t"}] * 11},
        "embeds over 6000 in all": {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        "bad allowed_mentions": {"content": "hi", "allowed_mentions": {"parse": ["nobody"]}},
        "unknown component type": {"components": [{"type": 99}]},
        "button style 9": {
            "components": [{"type": 1, "components": [{"type": 2, "style": 9, "custom_id": "c"}]}]
        },
        "button label over 80": {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "label": "l" * 81, "custom_id": "c"}]}
            ]
        },
    }
    for why, body in refused.items():
        assert spec.check("POST", post, body) is not None, why
    op, problem = spec.check("POST", post, refused["title over 256"]) or ("", None)
    assert op == "create_message" and problem is not None
    assert problem.errors == {
        "embeds": {
            "0": {
                "title": {
                    "_errors": [
                        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}
                    ]
                }
            }
        }
    }
    callback = "/interactions/1/token/callback"
    assert spec.check("POST", callback, {"type": 4, "data": {"content": "x" * 2001}}) is not None
    assert spec.check("POST", callback, {"type": 8, "data": {"choices": [{"name": "a", "value": "a"}] * 26}})
    assert spec.check("POST", callback, {"type": 44}) is not None
    assert (
        spec.check("POST", callback, {"type": 9, "data": {"title": "no custom_id or components"}}) is not None
    )
    button = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Call", "custom_id": "call"}]}
    assert (
        spec.check("POST", callback, {"type": 7, "data": {"content": "ok", "components": [button]}}) is None
    )


def test_what_discord_takes(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    fine = {
        "content": "x" * 2000,
        "embeds": [
            {"title": "t" * 256, "type": "rich", "fields": [{"name": "n", "value": "v", "inline": True}]}
        ],
        # discord.py sends ids as integers; Discord takes them.
        "allowed_mentions": {"parse": ["users"], "users": [123456789012345678], "replied_user": False},
        "message_reference": {"message_id": 123456789012345678, "fail_if_not_exists": False},
        "tts": False,
    }
    assert spec.check("POST", "/channels/1/messages", fine) is None
    command = {"name": "race", "description": "a race", "type": 1, "default_member_permissions": "8"}
    assert spec.check("PUT", "/applications/1/commands", [command]) is None
    assert spec.check("PATCH", "/webhooks/1/tok/messages/@original", {"content": "edited"}) is None
    # A route without a body: nothing to say about it.
    assert spec.check("GET", "/users/@me", None) is None


def test_every_operation_is_checked_and_unknown_routes_are_wrong(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    # Every operation in Discord's document is known, not a chosen few.
    doc_operations = {
        op["operationId"]
        for item in spec.doc["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {op.operation_id for op in spec.operations} == doc_operations
    assert len(doc_operations) > 200
    # Bodies of operations beyond messages and interactions are checked too.
    op, problem = spec.check("PATCH", "/channels/1", {"name": 5}) or ("", None)
    assert op == "update_channel" and problem is not None and "name" in problem.message
    assert spec.check("PATCH", "/guilds/1/members/@me", {"nick": "n" * 33}) is not None
    assert spec.check("PATCH", "/channels/1", {"name": "results"}) is None
    # A route Discord does not have is wrong, whatever the body.
    for method, path in (("GET", "/no/such/thing"), ("DELETE", "/users/@me"), ("POST", "/channels/1")):
        op, problem = spec.check(method, path, None) or ("", None)
        assert op == UNKNOWN_ROUTE and problem is not None and "no such route" in problem.message


def test_every_route_the_standin_serves_is_one_of_discords(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    standin = StandIn(spec_path)  # not started: only its route table is read
    missing = []
    for method, _regex, template, _handler, _auth in standin._routes:
        path = template.replace(r"(\d+)", "123").replace(r"([^/]+)", "tok")
        if spec.match(method, path) is None:
            missing.append((method, template))
    assert missing == []


def test_a_validator_is_built_once_per_operation_and_kept(spec_path: Path) -> None:
    # What a check costs is the validator's construction; it is built once per operation (no timing is
    # asserted: the machine is shared).
    spec = load_spec(spec_path)
    body = {"content": "Alabama", "allowed_mentions": {"parse": []}}
    assert spec.check("POST", "/channels/1/messages", body) is None
    op = spec.match("POST", "/channels/1/messages")
    assert op is not None and op.schema_pointer is not None
    kept = spec._validator(op.schema_pointer)
    for _ in range(3):
        assert spec.check("POST", "/channels/2/messages", body) is None
    assert spec._validator(op.schema_pointer) is kept
    spec.warm()
    with_bodies = {o.schema_pointer for o in spec.operations if o.schema_pointer is not None}
    assert set(spec._validators) == with_bodies


def test_text_reads_well() -> None:
    rec = RecordedMessage(
        kind="message",
        channel_id=1,
        guild_id=2,
        content="Here it is:",
        embeds=[
            {
                "author": {"name": "racedesk"},
                "title": "Alabama",
                "description": "Senate",
                "fields": [{"name": "Leader", "value": "Smith"}, {"name": "Polls", "value": "A 48%\nB 44%"}],
                "footer": {"text": "updated 5 min ago"},
            }
        ],
        attachments=[("chart.png", b"12345")],
    )
    assert rec.text() == (
        "Here it is:\n\nracedesk\nAlabama\nSenate\nLeader: Smith\nPolls:\n  A 48%\n  B 44%\nupdated 5 min ago"
    )

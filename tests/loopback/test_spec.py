"""The OpenAPI checks on their own: what Discord refuses, what it takes, and what they cost."""

from __future__ import annotations

import time
from pathlib import Path

from loopback.models import RecordedMessage
from loopback.spec import load_spec


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
    # Not a checked operation: nothing to say.
    assert spec.check("GET", "/users/@me", None) is None


def test_a_check_takes_well_under_a_few_ms(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    spec.warm()
    body = {
        "content": "Alabama",
        "embeds": [
            {
                "title": "2020 Alabama U.S. Senate",
                "description": "d" * 500,
                "fields": [{"name": f"f{i}", "value": "v" * 100, "inline": True} for i in range(10)],
                "footer": {"text": "racedesk"},
            }
        ],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "Call", "custom_id": "c"}]}
        ],
        "allowed_mentions": {"parse": []},
    }
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        assert spec.check("POST", "/channels/1/messages", body) is None
        assert spec.check("POST", "/interactions/1/t/callback", {"type": 4, "data": body}) is None
    per_check = (time.perf_counter() - start) / (2 * runs)
    assert per_check < 0.003, f"{per_check * 1000:.2f} ms per check"


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

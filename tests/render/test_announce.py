"""The correction announced when an announced write is undone: what was withdrawn, how the stage stands
now, who may be pinged, and the note to followers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.models import AuditEntry, CallKind, Contest, Race
from db.reads.races import ContestView
from db.writes.undo import UndoOutcome
from render import limits
from render.announce import undo_correction, withdrawn_call_text

ALABAMA = Race(id=1, cycle=2020, state="AL", office="senate", seat="Class II", special=False)
GENERAL = Contest(id=3, race_id=1, stage="general", party="", date=dt.date(2020, 11, 3))
NOW = ContestView(contest=GENERAL, standings=[], snapshot=None, call=None, total_votes=None)


def undone(correction: str, after: dict[str, Any] | None = None, **details: Any) -> UndoOutcome:
    original = AuditEntry(id=57, action="x", entity="x", entity_id=9, after=after or {})
    return UndoOutcome(
        original=original,
        audit=AuditEntry(id=60, action="undo", entity="x"),
        description="",
        race=ALABAMA,
        contest=GENERAL,
        correction=correction,
        details=details,
    )


def embed_of(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["embeds"]) == 1
    embed: dict[str, Any] = body["embeds"][0]
    assert len(embed["title"]) <= limits.TITLE and len(embed["description"]) <= limits.DESCRIPTION
    return embed


def test_a_withdrawn_count() -> None:
    outcome = undone("result", removed={"taken_at": "2020-11-03T22:00:00+00:00"})
    body, ping = undo_correction(outcome, NOW, "!")
    embed = embed_of(body)
    assert embed["title"] == "↩️ Correction: 2020 Alabama U.S. Senate (Class II) · General"
    first, now = embed["description"].split("\n", 1)
    assert first == "The count update of <t:1604440800:f> (result #9) was withdrawn."
    assert now.startswith("Now: ")
    assert (
        body["dm_content"]
        == "You follow 2020 Alabama U.S. Senate (Class II). To stop: `!unfollow alabama 2020`"
    )
    assert ping is False


def test_a_withdrawn_call_pings_and_names_who_was_called() -> None:
    body, ping = undo_correction(undone("call", {"kind": "winner", "names": ["Tommy *T*"]}), None, "?")
    assert embed_of(body)["description"] == "The call of **Tommy \\*T\\*** as the winner was withdrawn."
    assert ping is True
    assert (
        withdrawn_call_text(CallKind.RUNOFF, ["A", "B"])
        == "The call sending **A** and **B** to a runoff was withdrawn."
    )
    assert withdrawn_call_text(CallKind.TOO_CLOSE, []) == "The too-close call was withdrawn."


def test_a_withdrawn_uncall_pings() -> None:
    body, ping = undo_correction(undone("uncall"), None, "!")
    assert embed_of(body)["description"] == (
        "The withdrawal of the earlier call was itself withdrawn: that call stands again."
    )
    assert ping is True


def test_a_withdrawn_poll_does_not_show_the_count() -> None:
    body, ping = undo_correction(undone("poll", pollster="Auburn_U", end_date="2020-10-01"), NOW, "!")
    assert embed_of(body)["description"] == "The poll by Auburn\\_U (ended Oct 1, 2020) was withdrawn."
    assert ping is False

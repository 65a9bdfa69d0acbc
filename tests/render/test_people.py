"""The endorsements reply when nobody endorsed."""

from __future__ import annotations

from render.people import no_endorsements_text


def test_no_endorsements() -> None:
    assert no_endorsements_text("Doug _Jones_") == "No endorsements recorded for Doug \\_Jones\\_."

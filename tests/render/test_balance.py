"""The balance reply when there is no data on a chamber."""

from __future__ import annotations

from render.balance import no_balance_text


def test_no_data() -> None:
    assert no_balance_text("the House") == (
        "racedesk has no data on the House yet: no races and no seats-not-up figures."
    )

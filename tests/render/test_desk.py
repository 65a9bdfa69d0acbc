"""The last line of a desk write's reply: who hears about it."""

from __future__ import annotations

from db.outbox import Correction, Enqueued
from render.desk import told


def test_nothing_announced_says_nothing() -> None:
    assert told(None, None) is None


def test_an_update_says_where_it_goes() -> None:
    assert told(Enqueued(channels=2, dms=1), None) == "Announcing in 2 channels and to 1 follower by DM."
    assert told(Enqueued(), None) == (
        "No server has a results channel and nobody follows this race, so nothing is announced."
    )


def test_a_correction_speaks_only_if_it_did_something() -> None:
    assert told(None, Correction(queued=Enqueued(), withdrawn=0)) is None
    assert told(None, Correction(queued=Enqueued(channels=1), withdrawn=2)) == (
        "Withdrew 2 announcements not yet delivered. Announcing the correction in 1 channel."
    )

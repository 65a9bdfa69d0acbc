"""The balance reply when there is no data on a chamber."""

from __future__ import annotations

from db.balance import Balance, Seat, SeatState
from db.models import Office
from db.reads.rows import RaceRow
from render.balance import balance_embed, no_balance_text


def test_no_data() -> None:
    assert no_balance_text("the House") == (
        "racedesk has no data on the House yet: no races and no seats-not-up figures."
    )


def test_a_cycle_with_nothing_decided_and_no_seats_not_up_says_so_plainly() -> None:
    """A future cycle: one race up, no count, no figures for the seats not up."""
    race = RaceRow(1, 2026, "AK", Office.SENATE, "3", False, None, None, None, None, None)
    up = Seat(race, SeatState.UNDECIDED, None, None, None, None, None)
    balance = Balance(Office.SENATE, 2026, 100, {}, [], [up], None)
    description = balance_embed(balance, "!").description
    assert description is not None
    assert description.startswith("**No seat decided yet**, and no figures for the seats not up.")
    assert "seats decided or not up" not in description


def test_with_every_seat_up_and_nothing_decided_no_seats_not_up_are_spoken_of() -> None:
    """The House: all 435 seats up every cycle."""
    seats = [
        Seat(RaceRow(i, 2026, "CA", Office.HOUSE, str(i), False, None, None, None, None, None), SeatState.UNDECIDED,
             None, None, None, None, None)
        for i in range(1, 3)
    ]  # fmt: skip
    balance = Balance(Office.HOUSE, 2026, 435, {}, [], seats, None, missing=433)
    description = balance_embed(balance, "!").description
    assert description is not None and description.startswith("**No seat decided yet.**\n")

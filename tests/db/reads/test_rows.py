"""db/reads/rows.py: the plain rows pickle as their class and fields, and read back equal."""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass

import pytest

from db.reads.polls import ListedPoll, ListedQuestion, PollStage
from db.reads.rows import (
    CallRow,
    CandidacyRow,
    ContestRow,
    EndorsementRow,
    Person,
    RaceRow,
    SnapshotRow,
    pickled_by_fields,
)

PERSON = Person(7, "Pat Example", "pat example", "LIB", "AL", None)
RACE = RaceRow(3, 2020, "AL", "senate", "2", False, "DEM", 7, None, "test", PERSON)
WHEN = dt.datetime(2020, 11, 3, 20, tzinfo=dt.UTC)
ROWS = [
    PERSON,
    RACE,
    ContestRow(5, 3, "general", "", dt.date(2020, 11, 3), WHEN, "scheduled", None),
    CandidacyRow(9, 5, 7, "LIB", False, False, "won", 12, PERSON),
    SnapshotRow(11, 5, WHEN, 99.5, "precincts", 10, 11, True, False, "AP"),
    CallRow(13, 5, "winner", [9], "AP", None, WHEN),
    EndorsementRow(15, 3, 7, "Test Paper", "newspaper", "endorse", None, None, None, None, PERSON, RACE),
    PollStage(5, "general", ""),
    ListedQuestion(5, False, 600, "lv", ()),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: type(row).__name__)
def test_a_row_reads_back_equal_through_its_constructor(row: object) -> None:
    assert type(row).__reduce__(row) == (type(row), tuple(getattr(row, n) for n in row.__slots__))  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)) == row


def test_every_slotted_row_is_pickled_by_its_fields() -> None:
    for cls in {type(row) for row in ROWS} | {ListedPoll}:
        assert "__reduce__" in vars(cls), cls


def test_a_row_of_one_field_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Lone:
        only: int

    with pytest.raises(TypeError, match="one name"):
        pickled_by_fields(Lone)

"""Plain rows for the members' reads, and what a renderer may read of them.

The race card, `results`, `candidate`, the balance of power and the presidency read a handful of
prebuilt Core statements and build these slotted objects: building ORM objects (identity map,
instrumentation, relationship loads) cost far more than the database work. The Protocols name the
attributes the renderers and the views read, so an ORM row (the desk's writes) and a plain one both fit.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """A frozen, slotted dataclass pickled as its class and its fields' values, read back through its
    constructor. The shelf (db/shelf.py) reads these back for every answer, and the dataclass's own way, which
    asks `fields()` of each object, made a quarter of the time of a person's card."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if len(names) < 2:
        raise TypeError(f"{cls.__name__}: attrgetter of one name gives a value, not a tuple")
    values = operator.attrgetter(*names)

    def __reduce__(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


# ---------------------------------------------------------------- what may be read


class RaceLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def cycle(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def office(self) -> str: ...
    @property
    def seat(self) -> str: ...
    @property
    def special(self) -> bool: ...


class CandidateLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def name_key(self) -> str: ...
    @property
    def party(self) -> str | None: ...


class CandidacyLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def candidate_id(self) -> int: ...
    @property
    def party(self) -> str | None: ...
    @property
    def incumbent(self) -> bool: ...
    @property
    def withdrawn(self) -> bool: ...
    @property
    def outcome(self) -> str: ...
    @property
    def votes(self) -> int | None: ...
    @property
    def candidate(self) -> CandidateLike: ...


class ContestLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def race_id(self) -> int: ...
    @property
    def stage(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def poll_close(self) -> dt.datetime | None: ...
    @property
    def status(self) -> str: ...
    @property
    def source(self) -> str | None: ...


class SnapshotLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def taken_at(self) -> dt.datetime: ...
    @property
    def reporting_pct(self) -> float | None: ...
    @property
    def reporting_basis(self) -> str | None: ...
    @property
    def precincts_reporting(self) -> int | None: ...
    @property
    def precincts_total(self) -> int | None: ...
    @property
    def unofficial(self) -> bool: ...
    @property
    def final(self) -> bool: ...
    @property
    def source(self) -> str | None: ...


class CallLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def candidacy_ids(self) -> list[Any]: ...
    @property
    def source(self) -> str | None: ...
    @property
    def called_at(self) -> dt.datetime: ...


# ---------------------------------------------------------------- the plain rows


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Person:
    """A candidate as the members' reads show one (`db.models.Candidate`'s columns they read)."""

    id: int
    name: str
    name_key: str
    party: str | None
    state: str | None
    office_held: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RaceRow:
    """A race (`db.models.Race`) with its incumbent."""

    id: int
    cycle: int
    state: str
    office: str
    seat: str
    special: bool
    incumbent_party: str | None
    incumbent_id: int | None
    notes: str | None
    source: str | None
    incumbent: Person | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ContestRow:
    id: int
    race_id: int
    stage: str
    party: str
    date: dt.date | None
    poll_close: dt.datetime | None
    status: str
    source: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CandidacyRow:
    id: int
    contest_id: int
    candidate_id: int
    party: str | None
    incumbent: bool
    withdrawn: bool
    outcome: str
    votes: int | None
    candidate: Person


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A count's heading (`db.models.ResultSnapshot` without its counts)."""

    id: int
    contest_id: int
    taken_at: dt.datetime
    reporting_pct: float | None
    reporting_basis: str | None
    precincts_reporting: int | None
    precincts_total: int | None
    unofficial: bool
    final: bool
    source: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CallRow:
    id: int
    contest_id: int
    kind: str
    candidacy_ids: list[Any]
    source: str | None
    called_by: int | None
    called_at: dt.datetime


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class EndorsementRow:
    id: int
    race_id: int | None
    candidate_id: int
    endorser: str
    endorser_kind: str
    stance: str
    date: dt.date | None
    quote: str | None
    source: str | None
    url: str | None
    candidate: Person
    race: RaceRow | None

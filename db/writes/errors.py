"""Errors a write raises before it changes anything: the message says exactly what is wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


class WriteError(ValueError):
    """Wrong input or a refused change. Nothing was written; the message is meant for the person."""


class NotFound(WriteError):
    """The thing named does not exist (a poll id, a candidate in a contest, an audit entry)."""


class MergedAway(WriteError):
    """The person named is a record merged into another; `person_id` and `into_id` say who into whom."""

    def __init__(self, message: str, person_id: int, into_id: int) -> None:
        super().__init__(message)
        self.person_id = person_id
        self.into_id = into_id


class Ambiguous(WriteError):
    """A name fits several things; `choices` lists them so the person can say which."""

    def __init__(self, message: str, choices: Sequence[str]) -> None:
        super().__init__(message)
        self.choices = list(choices)


class Duplicate(WriteError):
    """The same thing is already stored (a repeated result snapshot, poll or endorsement)."""

    def __init__(self, message: str, existing_id: int, at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.existing_id = existing_id
        self.at = at

"""Checks every write makes before it reaches the database, the same on SQLite and PostgreSQL: lengths and
control characters.

SQLite ignores VARCHAR lengths where PostgreSQL refuses them; checking here gives
one clear error on both, naming the field, instead of a driver error on one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session


class TooLong(ValueError):
    """A text value is longer than its column allows."""

    def __init__(self, entity: str, field: str, limit: int, value: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{entity} {field} is longer than {limit} characters: '{shown}'")
        self.entity, self.field, self.limit = entity, field, limit


def check_lengths(obj: Any) -> None:
    """Every text a row holds fits its column and holds no control character (db/limits.py), whichever
    write stored it: what the store accepts, its export loads back."""
    from db import limits  # here, not at import: db.limits reaches db.writes, which reaches the engine

    mapper = inspect(obj).mapper
    for column in mapper.columns:
        if not isinstance(column.type, String):
            continue
        value = getattr(obj, mapper.get_property_by_column(column).key, None)
        if not isinstance(value, str):
            continue
        if column.type.length and len(value) > column.type.length:
            raise TooLong(mapper.class_.__name__.lower(), column.key, column.type.length, value)
        limits.text(value, f"{mapper.class_.__name__.lower()} {column.key}")


@event.listens_for(Session, "before_flush")
def _check_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        check_lengths(obj)

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
    write stored it: what the store accepts, its export loads back. (db.limits is imported in the
    checks, not at import: it reaches db.writes, which reaches the engine.)"""
    mapper = inspect(obj).mapper
    for column in mapper.columns:
        if isinstance(column.type, String):
            _check_text(mapper, column, getattr(obj, mapper.get_property_by_column(column).key, None))


def check_row(model: type[Any], values: dict[str, Any]) -> None:
    """The same checks for a row inserted without an object (a bulk INSERT's parameters, by attribute)."""
    mapper, texts = _TEXTS.get(model) or _texts(model)
    for key, column in texts:
        value = values.get(key)
        if isinstance(value, str):
            _check_text(mapper, column, value)


_TEXTS: dict[type[Any], tuple[Any, list[tuple[str, Any]]]] = {}


def _texts(model: type[Any]) -> tuple[Any, list[tuple[str, Any]]]:
    """A model's mapper and its text columns, by attribute name (worked out once per model)."""
    mapper = inspect(model)
    columns = [c for c in mapper.columns if isinstance(c.type, String)]
    _TEXTS[model] = mapper, [(mapper.get_property_by_column(c).key, c) for c in columns]
    return _TEXTS[model]


def _check_text(mapper: Any, column: Any, value: Any) -> None:
    from db import limits

    if not isinstance(value, str):
        return
    if column.type.length and len(value) > column.type.length:
        raise TooLong(mapper.class_.__name__.lower(), column.key, column.type.length, value)
    if limits.has_control(value):  # only then is the error's label worth making
        limits.text(value, f"{mapper.class_.__name__.lower()} {column.key}")


@event.listens_for(Session, "before_flush")
def _check_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        check_lengths(obj)

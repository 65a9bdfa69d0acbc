"""Inserting many rows at once, without an ORM object per row.

`session.execute(insert(Model), rows)` goes through the ORM's bulk layer, which handles each row's
parameters in Python before the driver sees them; an import's hundred thousand rows spend most of
their time there. These send the table's INSERT on the session's connection (the same transaction),
one executemany for all rows. Rows are keyed by attribute names, which are the column names in
db/models.py; columns a row leaves out take their defaults, as in any Core INSERT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_rows(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `model`'s table: one executemany (the caller checked them, `check_row`)."""
    if rows:
        connection = await session.connection()
        await connection.execute(insert(model.__table__), rows)


async def insert_returning_ids(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert `rows` and return their new ids in the rows' order (PostgreSQL sends them in batches
    with RETURNING; SQLite, which cannot order them, one row at a time: give it ids instead)."""
    if not rows:
        return []
    connection = await session.connection()
    table = model.__table__
    result = await connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


class Staged:
    """A new row kept as its column values until it is inserted with its table's others (`insert_staged`).

    Reads and writes its columns like the model's object would (an unset column reads None), without
    the ORM's per-object cost; `values` is the row that is inserted."""

    __slots__ = ("model", "values")

    def __init__(self, model: type[Any], **values: Any) -> None:
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "values", values)

    def __getattr__(self, name: str) -> Any:
        return self.values.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.values[name] = value


async def insert_staged(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert rows in their order, one executemany per run of rows with the same columns (an executemany
    needs every row to name the same columns; a column a row leaves out takes its default)."""
    start = 0
    while start < len(rows):
        keys = rows[start].keys()
        end = start + 1
        while end < len(rows) and rows[end].keys() == keys:
            end += 1
        await insert_rows(session, model, rows[start:end])
        start = end


async def update_rows(session: AsyncSession, model: type[Any], changes: dict[int, dict[str, Any]]) -> None:
    """Set each row's changed columns (`changes`: id -> column -> value), one executemany per set of columns."""
    table = model.__table__
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes.items():
        columns = tuple(sorted(values))
        by_columns.setdefault(columns, []).append(
            {"row_id": row_id, **{f"new_{c}": values[c] for c in columns}}
        )
    if not by_columns:
        return
    connection = await session.connection()
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"new_{c}") for c in columns})
        )
        await connection.execute(statement, rows)

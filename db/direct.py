"""Reads straight on the driver: a prebuilt Core statement, compiled once per dialect, run on the database
driver's own connection (sqlite3 or asyncpg).

SQLAlchemy's execution of a statement (its compiled cache, an execution context, the result objects; on
PostgreSQL the greenlet bridge too) costs 0.1-0.2 ms, more than the database takes for the hot reads'
indexed statements, and an uncached race card runs four of them. A statement marked with `prebuilt()` is
compiled once for each dialect and then run by the driver itself: its rows are named tuples of the same
values as SQLAlchemy's rows (each column's result processor applied, e.g. SQLite's text dates read as
dates), by position or by name. Everything else a read asks (ORM statements, ones built per call) goes
to an ordinary session on the same connection, opened only when one is needed.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Enum, Float, func, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

S = TypeVar("S", bound=ClauseElement)
Runner = Callable[[str, Sequence[Any]], Any]  # the driver's run of (sql, arguments): rows, or awaitable rows

# id(statement) -> (statement, {dialect key: Prepared}); the statement is kept so its id is never reused.
_PREBUILT: dict[int, tuple[ClauseElement, dict[tuple[str, str, str], Prepared]]] = {}


def prebuilt(statement: S) -> S:
    """Mark a Core statement built once (at import, or once per shape) to run straight on the driver.

    Only for statements of Table columns (not ORM entities) whose rows the readers take by position or
    by column name, never as ORM objects."""
    _PREBUILT.setdefault(id(statement), (statement, {}))
    return statement


def forget(statement: ClauseElement) -> None:
    """Drop a statement's mark (a cache of built statements that is emptied drops its marks too)."""
    entry = _PREBUILT.get(id(statement))
    if entry is not None and entry[0] is statement:
        del _PREBUILT[id(statement)]


class Together:
    """Prebuilt statements a read asks at once, with one set of parameters (`execute_together`).

    On PostgreSQL they go as one statement, each one's rows an array of records (asyncpg reads a record's
    fields with the same codecs as columns), so a race card costs one round trip rather than four. A
    subquery's row order is kept in its array (a scan of an ordered subquery is not reordered). Their CTEs
    need names of their own. Only columns of the server's built-in types: asyncpg can read a field of a
    type the server defines (a native enum) inside a record only once that connection has met it as a
    column, so such a statement is refused here."""

    __slots__ = ("combined", "statements")

    def __init__(self, *statements: ClauseElement) -> None:
        self.statements = tuple(prebuilt(s) for s in statements)
        arrays = []
        for i, statement in enumerate(self.statements):
            for column in cast(Any, statement).selected_columns:
                if isinstance(column.type, Enum) and column.type.native_enum:
                    raise TypeError(f"{column.name}: a native enum cannot be read inside a record")
            rows = cast(Any, statement).subquery(f"together_{i}")
            whole_row: Any = literal_column(rows.name)
            arrays.append(func.array(select(whole_row).select_from(rows).scalar_subquery()))
        self.combined = prebuilt(select(*arrays))


async def execute_together(session: Any, together: Together, params: Mapping[str, Any]) -> list[Any]:
    """Each statement's result, asked in one round trip where the session can (see Together)."""
    run = getattr(session, "execute_together", None)
    if run is not None:
        return cast(list[Any], await run(together, params))
    return [await session.execute(statement, params) for statement in together.statements]


def prepared_for(statement: Any, dialect: Dialect) -> Prepared | None:
    """The statement compiled for this dialect, if it is marked `prebuilt`; None for anything else."""
    entry = _PREBUILT.get(id(statement))
    if entry is None or entry[0] is not statement:
        return None
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    compiled = entry[1].get(key)
    if compiled is None:
        compiled = entry[1][key] = Prepared(statement, dialect)
    return compiled


class Prepared:
    """One statement compiled for one dialect: its SQL, how its arguments are ordered and converted, and
    how its rows are read."""

    __slots__ = ("binders", "compiled", "expands", "readers", "row")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and compiled.positional, "a positional paramstyle"
        self.compiled = compiled
        self.expands = bool(compiled.literal_execute_params or compiled.post_compile_params)
        self.binders = cast(dict[str, Callable[[Any], Any]], dict(compiled._bind_processors))
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [c.keyname for c in columns], rename=True)  # type: ignore[misc]
        readers = [(i, _reader(c.type, dialect)) for i, c in enumerate(columns)]
        self.readers = [(i, reader) for i, reader in readers if reader is not None]

    def arguments(self, params: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        """The SQL to send and its positional arguments, as SQLAlchemy would send them."""
        if self.expands:
            state = self.compiled.construct_expanded_state(params)
            binders = {**self.binders, **cast(dict[str, Callable[[Any], Any]], state.processors)}
            sql, names, values = state.statement, state.positiontup or (), state.parameters
        else:
            values = self.compiled.construct_params(params)
            binders, sql, names = self.binders, self.compiled.string, self.compiled.positiontup or ()
        return sql, [binders[n](values[n]) if n in binders else values[n] for n in names]

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        """The driver's rows as named tuples, each column read as SQLAlchemy reads it."""
        make = self.row._make
        if not self.readers:
            return [make(r) for r in raw]
        found = []
        for r in raw:
            values = list(r)
            for i, reader in self.readers:
                values[i] = reader(values[i])
            found.append(make(values))
        return found


def _reader(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy reads a column of this type from this driver (None: as the driver gives it)."""
    try:
        return cast(Callable[[Any], Any] | None, kind._cached_result_processor(dialect, None))
    except TypeError:
        # asyncpg's numbers are read by the column's type code (from the cursor, which asyncpg's rows do
        # not carry): a Float column is double precision, any other Numeric numeric.
        code = FLOAT8_OID if isinstance(kind, Float) else NUMERIC_OID
        return cast(Callable[[Any], Any] | None, kind._cached_result_processor(dialect, code))


FLOAT8_OID, NUMERIC_OID = 701, 1700


class DirectResult:
    """The part of SQLAlchemy's Result the readers use, over rows already fetched."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise ValueError("more than one row")
        return self.first()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> DirectResult:
        return DirectResult([r[0] for r in self._rows])


class DirectSession:
    """What a read function needs of an AsyncSession: `prebuilt` statements run on the driver (`run`);
    anything else on a session over the same connection (`fallback`, opened at its first use)."""

    def __init__(self, dialect: Dialect, run: Runner, fallback: Callable[[], Any]) -> None:
        self.dialect = dialect
        self._run = run
        self._open_fallback = fallback
        self._fallback: Any = None

    @property
    def session(self) -> Any:
        if self._fallback is None:
            self._fallback = self._open_fallback()
        return self._fallback

    async def _direct(self, prepared: Prepared, params: Mapping[str, Any] | None) -> DirectResult:
        raw = self._run(*prepared.arguments(params))
        if isinstance(raw, Awaitable):
            raw = await raw
        return DirectResult(prepared.rows(raw))

    def _prepared(self, statement: Any, kw: Mapping[str, Any]) -> Prepared | None:
        """The statement to run on the driver, or None (unmarked, or with options only a session takes)."""
        return None if kw else prepared_for(statement, self.dialect)

    async def execute(self, statement: Any, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        prepared = self._prepared(statement, kw)
        if prepared is None:
            return await self.session.execute(statement, params, **kw)
        return await self._direct(prepared, params)

    async def scalar(self, statement: Any, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        prepared = self._prepared(statement, kw)
        if prepared is None:
            return await self.session.scalar(statement, params, **kw)
        return (await self._direct(prepared, params)).scalar()

    async def scalars(self, statement: Any, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        prepared = self._prepared(statement, kw)
        if prepared is None:
            return await self.session.scalars(statement, params, **kw)
        return (await self._direct(prepared, params)).scalars()

    async def execute_together(self, together: Together, params: Mapping[str, Any]) -> list[Any]:
        if self.dialect.name != "postgresql":  # in-process databases gain nothing from one statement
            return [await self.execute(statement, params) for statement in together.statements]
        combined = prepared_for(together.combined, self.dialect)
        arrays = (await self._direct(cast(Prepared, combined), params)).first()
        return [
            DirectResult(cast(Prepared, prepared_for(statement, self.dialect)).rows(rows))
            for statement, rows in zip(together.statements, arrays, strict=True)
        ]

    async def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        return await self.session.get(entity, ident, **kwargs)

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.get_bind(*args, **kwargs)

    @property
    def no_autoflush(self) -> Any:
        return self.session.no_autoflush

    def opened_session(self) -> Any:
        """The fallback session if one was opened (the caller closes it), else None."""
        return self._fallback


def sqlite_runner(connection: Any) -> Runner:
    """Runs SQL on a sqlite3 connection and returns its rows at once."""

    def run(sql: str, arguments: Sequence[Any]) -> list[Any]:
        return cast(list[Any], connection.execute(sql, arguments).fetchall())

    return run


def asyncpg_runner(connection: Any) -> Runner:
    """Runs SQL on an asyncpg connection (its own prepared-statement cache makes a repeat one round trip)."""

    def run(sql: str, arguments: Sequence[Any]) -> Awaitable[list[Any]]:
        return cast(Awaitable[list[Any]], connection.fetch(sql, *arguments))

    return run

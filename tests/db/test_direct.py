"""Reads straight on the driver (db/direct.py, used by db/syncread.py and db/pgread.py): the same rows as
SQLAlchemy's, the hot reads' statements never through SQLAlchemy's execution (a dropped PostgreSQL
connection: tests/db/test_pgread.py)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import pytest
from sqlalchemy import Column, Enum, Integer, MetaData, Table, bindparam, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import direct
from db.balance import CHAMBER, OFFICE_CYCLES
from db.direct import DirectSession, Prepared, Together, execute_together, prebuilt, prepared_for
from db.models import Race
from db.reads.people import PERSON_CARD
from db.reads.polls import PollFilter, listing_params
from db.reads.races import CARD, RACE_VIEWS
from db.reads.tables import RACES
from db.store import Store


@pytest.fixture
async def store(sample_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Store]:
    opened = Store(sample_sessions)
    yield opened
    await opened.close()


async def member_reads(store: Store) -> None:
    """What members ask, uncached: races by place, by name and a miss, a card, results, polls, a person."""
    store.cache.clear()
    found = await store.find_races("alabama 2020")
    assert found.chosen is not None
    await store.find_races("tuberville")
    assert not (await store.find_races("gerogia 1911")).races
    await store.race_card(found.chosen.id)
    await store.race_results(found.chosen.id)
    await store.poll_page(found.chosen.id, PollFilter(), 1)
    people = await store.find_people("tuberville")
    assert people.chosen is not None
    await store.person_card(people.chosen.id)


def kinds(rows: list[Any]) -> list[tuple[type, ...]]:
    return [tuple(type(value) for value in row) for row in rows]


async def test_every_statement_run_on_the_driver_gives_sqlalchemys_rows(
    store: Store, sample_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[Prepared, Mapping[str, Any] | None, list[Any]]] = []
    run_direct = DirectSession._direct

    async def recorded(self: DirectSession, prepared: Prepared, params: Any) -> Any:
        result = await run_direct(self, prepared, params)
        ran.append((prepared, params, result.all()))
        return result

    monkeypatch.setattr(DirectSession, "_direct", recorded)
    await member_reads(store)
    statements = {id(prepared.compiled.statement) for prepared, _, _ in ran}
    assert len(statements) >= 10  # the lookup's, the card's, the results', the polls' and a person's
    assert any(prepared.expands for prepared, _, _ in ran)  # IN lists too
    async with sample_sessions() as session:
        for prepared, params, rows in ran:
            expected = (await session.execute(prepared.compiled.statement, params)).all()
            assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
            assert kinds(rows) == kinds(expected)  # dates read as dates, numbers as numbers
            assert all(r._fields == e._fields for r, e in zip(rows, expected, strict=True))


async def test_the_hot_reads_run_no_statement_through_sqlalchemy(
    store: Store, sample_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await member_reads(store)  # connections opened, statements compiled
    engine = sample_sessions.kw["bind"]
    reader_engine = getattr(store.reader, "engine", engine)
    through: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through.append(statement)

    engines = {id(e.sync_engine if hasattr(e, "sync_engine") else e): e for e in (engine, reader_engine)}
    targets = [e.sync_engine if hasattr(e, "sync_engine") else e for e in engines.values()]
    for target in targets:
        event.listen(target, "before_cursor_execute", note)
    try:
        store.cache.clear()
        found = await store.find_races("alabama 2020")
        assert found.chosen is not None
        card = await store.race_card(found.chosen.id)
        await store.race_results(found.chosen.id)
        await store.poll_page(found.chosen.id, PollFilter(), 1)
    finally:
        for target in targets:
            event.remove(target, "before_cursor_execute", note)
    assert card is not None and card.race.id == found.chosen.id
    assert through == []


async def asked_together(store: Store) -> list[tuple[Together, dict[str, Any]]]:
    """Each `Together` of the member reads, with parameters that, between them, give every one of its
    statements rows (Jones was the incumbent, Tuberville has endorsements)."""
    race = (await store.find_races("alabama 2020")).chosen
    bare = (await store.find_races("alabama 2017")).chosen  # no polls, no endorsements: NULLs joined
    people = [(await store.find_people(name)).chosen for name in ("doug jones", "tuberville")]
    assert race is not None and bare is not None and None not in people
    card = {**listing_params(race.id, PollFilter(), page=1, size=1), "limit": 5}
    bare_card = {**listing_params(bare.id, PollFilter(), page=1, size=1), "limit": 5}
    return [
        (CARD, card),
        (CARD, bare_card),
        (RACE_VIEWS, {"race_id": race.id}),
        *[(PERSON_CARD, {"person_id": cast(Any, person).id, "limit": 5}) for person in people],
        (CHAMBER, {"office": "senate", "cycle": 2020}),
        (OFFICE_CYCLES, {"office": "senate"}),
    ]


async def ask(session: AsyncSession, *, together: Together, params: dict[str, Any]) -> list[Any]:
    return await execute_together(session, together, params)


async def test_statements_asked_together_give_each_ones_own_rows(
    store: Store, sample_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Statements asked at once (one statement of arrays of records on PostgreSQL) give each statement's
    rows as SQLAlchemy gives them alone: values, their types, field names and order."""
    compared: dict[int, int] = {}  # id(statement) -> rows compared
    asked = await asked_together(store)
    for together, params in asked:
        results = await store._read(functools.partial(ask, together=together, params=params))
        async with sample_sessions() as session:
            for statement, result in zip(together.statements, results, strict=True):
                rows = result.all()
                expected = (await session.execute(statement, params)).all()
                assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
                assert kinds(rows) == kinds(expected)
                assert all(r._fields == e._fields for r, e in zip(rows, expected, strict=True))
                compared[id(statement)] = compared.get(id(statement), 0) + len(rows)
    # Every statement had rows to compare (stages, counts, polls, endorsements, a person's races), and
    # some several, so their order is compared too.
    assert len(compared) == len({id(s) for together, _ in asked for s in together.statements}) == 15
    assert all(compared.values()), compared
    assert max(compared.values()) > 1


def test_a_native_enum_column_is_refused_where_statements_go_together() -> None:
    """asyncpg reads a server-defined type inside a record only on a connection that met it as a column."""
    kinds = Table("kinds", MetaData(), Column("id", Integer), Column("kind", Enum("a", "b", name="kind")))
    with pytest.raises(TypeError, match="native enum"):
        Together(select(kinds.c.id, kinds.c.kind))
    Together(select(kinds.c.id))  # other columns go


@pytest.mark.parametrize("read", ["race_card", "race_results"])
async def test_a_race_card_or_count_on_postgresql_is_one_statement(
    store: Store,
    sample_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    read: str,
) -> None:
    found = await store.find_races("alabama 2020")
    assert found.chosen is not None
    ran: list[Prepared] = []
    run_direct = DirectSession._direct

    async def counted(self: DirectSession, prepared: Prepared, params: Any) -> Any:
        ran.append(prepared)
        return await run_direct(self, prepared, params)

    monkeypatch.setattr(DirectSession, "_direct", counted)
    answer = await getattr(store, read)(found.chosen.id)
    assert (
        answer is not None
        and answer.race.id == found.chosen.id
        and getattr(answer, "contests" if read == "race_card" else "views")
    )
    on_postgresql = sample_sessions.kw["bind"].dialect.name == "postgresql"
    asked = CARD if read == "race_card" else RACE_VIEWS
    assert len(ran) == (1 if on_postgresql else len(asked.statements))


async def test_a_statement_not_marked_runs_through_sqlalchemy_on_the_same_connection(
    store: Store,
) -> None:
    async def both(session: AsyncSession) -> tuple[Any, Any]:
        orm = await session.scalar(select(Race).where(Race.state == "AL").limit(1))
        core = await session.execute(MARKED, {"state": "AL"})
        return orm, core.all()

    orm, rows = await store._read(both)
    assert isinstance(orm, Race) and orm.state == "AL"
    assert rows and all(row.state == "AL" for row in rows)


MARKED = prebuilt(select(RACES.c.id, RACES.c.state).where(RACES.c.state == bindparam("state")).limit(5))


def test_a_statement_built_from_a_marked_one_is_not_taken_for_it(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    dialect = sample_sessions.kw["bind"].dialect
    narrowed = MARKED.where(RACES.c.cycle == 2020)
    assert prepared_for(MARKED, dialect) is not None
    assert prepared_for(narrowed, dialect) is None
    direct.forget(MARKED)
    try:
        assert prepared_for(MARKED, dialect) is None
    finally:
        prebuilt(MARKED)

"""Race lookup from what people type: a table of spellings, misses and choices."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import lookup
from db.engine import make_sessionmaker
from db.lookup import exact_hints, find_races, parse_query
from db.models import Candidacy, Candidate, Contest, Office, Race
from tests.support import pat_example_among_namesakes

pytestmark = pytest.mark.usefixtures("lookup_statements_afresh")


AL_2020 = (2020, "AL", False)
AL_2017 = (2017, "AL", True)


@pytest.mark.parametrize(
    ("typed", "state", "office", "district", "cycle", "special"),
    [
        ("alabama", "AL", None, None, None, None),
        ("AL", "AL", None, None, None, None),
        ("Ala.", "AL", None, None, None, None),
        ("bama", "AL", None, None, None, None),
        ("Alabama senate 2020", "AL", "senate", None, 2020, None),
        ("AL-02", "AL", "house", "2", None, None),
        ("alabama al-02", "AL", "house", "2", None, None),  # the state, then its district's code
        ("al 2", "AL", "house", "2", None, None),
        ("al02", "AL", "house", "2", None, None),
        ("alabama 2", "AL", "house", "2", None, None),
        ("alabama's 2nd", "AL", "house", "2", None, None),
        ("alabama\u2019s 2nd 2022", "AL", "house", "2", 2022, None),
        ("al 2nd district", "AL", "house", "2", None, None),
        ("al district 2", "AL", "house", "2", None, None),
        ("AL 2 2020", "AL", "house", "2", 2020, None),
        ("wy-al", "WY", "house", "AL", None, None),
        ("wyoming at-large", "WY", "house", "AL", None, None),
        ("wy at large 2018", "WY", "house", "AL", 2018, None),
        ("kansas 3rd", "KS", "house", "3", None, None),
        ("potus 2020", None, "president", None, 2020, None),
        ("pres", None, "president", None, None, None),
        ("gov georgia", "GA", "governor", None, None, None),
        ("house", None, "house", None, None, None),
        ("georgia special", "GA", None, None, None, True),
        ("'20 bama", "AL", None, None, 2020, None),
        ("bama '20", "AL", None, None, 2020, None),  # a short year is not a district
        ("new york governor", "NY", "governor", None, None, None),
        ("N.C.", "NC", None, None, None, None),
        ("north carolina 2020", "NC", None, None, 2020, None),
        ("IN", "IN", None, None, None, None),
        ("West Virginia", "WV", None, None, None, None),
    ],
)
def test_parse_query_reads_states_offices_years(typed, state, office, district, cycle, special) -> None:  # type: ignore[no-untyped-def]
    query = parse_query(typed)
    assert (query.state, query.office, query.district, query.cycle, query.special) == (
        state,
        office,
        district,
        cycle,
        special,
    )
    assert query.name_words == []


def test_everyday_words_are_not_postal_codes() -> None:
    query = parse_query("who is in the lead")
    assert query.state is None
    assert "lead" in query.name_words


def key(race: Race) -> tuple[int, str, bool]:
    return (race.cycle, race.state, race.special)


@pytest.mark.asyncio(loop_scope="module")  # they only read: one store for the module
@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("alabama", AL_2020),
        ("AL", AL_2020),
        ("Ala.", AL_2020),
        ("bama", AL_2020),
        ("alabma", AL_2020),  # typo
        ("Alabama senate 2020", AL_2020),
        ("alabama 2017", AL_2017),
        ("alabama special", AL_2017),
        ("alabama 2018", AL_2017),  # the Dec 2017 special belongs to the 2018 cycle's seat
        ("tuberville", AL_2020),
        ("TUBERVILLE", AL_2020),
        ("tubervile", AL_2020),  # typo in a name
        ("sessions 2020", AL_2020),
        ("roy moore", AL_2020),  # newest race he ran in
        ("jones 2017", AL_2017),
    ],
)
async def test_find_races_picks_the_race_meant(
    shared_sample: async_sessionmaker[AsyncSession], typed: str, chosen: tuple[int, str, bool]
) -> None:
    async with shared_sample() as session:
        matches = await find_races(session, typed)
    assert matches.chosen is not None, matches
    assert key(matches.chosen) == chosen


@pytest.mark.asyncio(loop_scope="module")  # they only read: one store for the module
@pytest.mark.parametrize(
    "typed", ["atlantis", "", "   ", "alabama 1990", "texas", "zzzz senate", "xx", "99", "xx-99", "zz 99"]
)
async def test_find_races_misses_cleanly(shared_sample: async_sessionmaker[AsyncSession], typed: str) -> None:
    async with shared_sample() as session:
        matches = await find_races(session, typed)
    assert matches.chosen is None and matches.races == []


@pytest.mark.asyncio(loop_scope="module")
async def test_a_word_too_short_for_a_name_beside_a_place_or_year_is_passed_over(
    shared_sample: async_sessionmaker[AsyncSession],
) -> None:
    async with shared_sample() as session:
        for typed in ("alabama in 2020", "in alabama 2020 jo"):
            matches = await find_races(session, typed)
            assert matches.chosen is not None and key(matches.chosen) == AL_2020, typed


@pytest.mark.asyncio(loop_scope="module")  # they only read: one store for the module
async def test_a_miss_suggests_the_nearest_states(shared_sample: async_sessionmaker[AsyncSession]) -> None:
    async with shared_sample() as session:
        wrong_year = await find_races(session, "alabama 1990")
        near = await find_races(session, "alabxmx senate")  # too far off to be taken for Alabama
        far = await find_races(session, "atlantis")
    assert [key(r) for r in wrong_year.suggestions] == [AL_2020, AL_2017]
    assert [key(r) for r in near.suggestions] == [AL_2020, AL_2017]
    assert far.suggestions == []  # nothing close: the reply gives an example instead


async def test_two_seats_up_in_one_state_and_year_give_a_choice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        session.add_all(
            [
                Race(cycle=2020, state="GA", office="senate", seat="Class II"),
                Race(cycle=2020, state="GA", office="senate", seat="Class III", special=True),
            ]
        )
    async with sessions() as session:
        both = await find_races(session, "gerogia")
        special = await find_races(session, "georgia special")
    assert both.chosen is None and len(both.races) == 2
    assert special.chosen is not None and special.chosen.special


async def test_lookup_never_loads_every_race(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        session.add_all(
            Race(cycle=cycle, state="AL", office="house", seat=str(district))
            for cycle in range(1976, 2024, 2)
            for district in range(1, 40)
        )
    async with sessions() as session:
        matches = await find_races(session, "alabama", limit=10)
        loaded = [obj for obj in session.identity_map.values() if isinstance(obj, Race)]
    assert len(matches.races) == 10
    assert len(loaded) <= 11


@pytest.mark.parametrize(
    ("typed", "special", "seat"),
    [
        ("georgia 2020 regular", False, None),
        ("georgia 2020 special", True, None),
        ("georgia 2020 class 2", None, "Class II"),
        ("ga 2020 class ii", None, "Class II"),
        ("georgia class iii", None, "Class III"),
        ("mississippi 2018 class 1", None, "Class I"),
    ],
)
def test_regular_and_the_seat_class_are_words_of_a_query(typed: str, special: bool | None, seat: str) -> None:
    query = parse_query(typed)
    assert (query.special, query.seat, query.name_words) == (special, seat, [])


async def test_every_race_in_the_shipped_store_is_reached_by_the_words_the_bot_suggests(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        races = list(await session.scalars(select(Race).order_by(Race.id)))
        hints = await exact_hints(session, races)
        missed = {}
        for race in races:
            found = await find_races(session, hints[race.id])
            if found.chosen is None or found.chosen.id != race.id:
                missed[hints[race.id]] = [r.id for r in found.races]
    assert len(races) > 60 and missed == {}


async def test_a_regular_seat_beside_a_special_is_listed_with_words_that_reach_it(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        listed = await find_races(session, "georgia 2020")
        # the pick rule keeps the Senate's two races of 2020 (the state's president race needs its office)
        assert listed.chosen is None and len(listed.races) == 2
        words = sorted(listed.hint(r) for r in listed.races)
        assert words == ["georgia 2020 regular", "georgia 2020 special"]
        for typed, special in (("georgia 2020 regular", False), ("ga 2020 class ii", False)):
            chosen = (await find_races(session, typed)).chosen
            assert chosen is not None and (chosen.state, chosen.cycle, chosen.special) == (
                "GA",
                2020,
                special,
            )


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("pennsylvania", (2024, "PA", "senate", "Class I", False)),  # the newest race (polled), the Senate's
        ("pennsylvania 2022", (2022, "PA", "senate", "Class III", False)),
        ("georgia", (2024, "GA", "president", "", False)),  # the newest cycle had no Senate race in Georgia
        ("alabama", (2024, "AL", "president", "", False)),
        ("alabama 2020", (2020, "AL", "senate", "Class II", False)),  # the Senate before the president
        ("georgia 2022", (2022, "GA", "senate", "Class III", False)),
        ("georgia 2022 runoff", (2022, "GA", "senate", "Class III", False)),
        ("alabama 2018", (2017, "AL", "senate", "Class II", True)),  # the Senate before the House
        ("al house district 2 2018", (2018, "AL", "house", "2", False)),
        ("al-02", (2022, "AL", "house", "2", False)),  # the district's newest race
        ("al-02 2020", (2020, "AL", "house", "2", False)),
        ("alabama's 2nd 2018", (2018, "AL", "house", "2", False)),
        ("wyoming at-large 2020", (2020, "WY", "house", "AL", False)),
        ("ilhan omar", (2022, "MN", "house", "5", False)),
    ],
)
async def test_the_pick_rule_on_the_shipped_store(
    default_store: async_sessionmaker[AsyncSession], typed: str, chosen: tuple[int, str, str, str, bool]
) -> None:
    async with default_store() as session:
        matches = await find_races(session, typed)
    race = matches.chosen
    assert race is not None, (typed, [(r.cycle, r.state, r.office, r.seat) for r in matches.races])
    assert (race.cycle, race.state, race.office, race.seat, race.special) == chosen


async def test_an_office_said_lists_that_offices_races_with_their_own_words(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        listed = await find_races(session, "alabama house 2022")
        assert listed.chosen is None and [r.seat for r in listed.races] == [str(n) for n in range(1, 8)]
        assert [listed.hint(r) for r in listed.races] == [f"AL-{n} 2022" for n in range(1, 8)]


async def test_a_query_of_places_and_years_is_one_statement(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The races and the words that reach each exactly come in one statement: a state, a district, a year,
    an office, a seat class, `special`; a miss adds one for the suggestions."""
    async with sessions.begin() as session:
        session.add_all(
            [
                Race(cycle=2020, state="GA", office="senate", seat="Class II"),
                Race(cycle=2020, state="GA", office="senate", seat="Class III", special=True),
                Race(cycle=2020, state="GA", office="house", seat="7"),
                Race(cycle=2022, state="GA", office="governor"),
            ]
        )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        for typed, chosen in (
            ("georgia", (2022, "governor", "")),
            ("ga-07 2020", (2020, "house", "7")),
            ("georgia 2020 special", (2020, "senate", "Class III")),
            ("ga senate class 2", (2020, "senate", "Class II")),
            ("georgia governor 2022", (2022, "governor", "")),
        ):
            statements.clear()
            async with sessions() as session:
                matches = await find_races(session, typed)
            assert matches.chosen is not None, typed
            assert (matches.chosen.cycle, matches.chosen.office, matches.chosen.seat) == chosen
            assert len(statements) == 1, (typed, statements)
        statements.clear()
        async with sessions() as session:
            missed = await find_races(session, "georgia 1990")
        assert [r.cycle for r in missed.suggestions] == [2022, 2020, 2020]
        assert missed.hint(missed.suggestions[1]) == "georgia 2020 regular"
        assert len(statements) == 2
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_a_race_found_is_the_race_a_query_of_the_orm_loads(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The lookup builds its races from plain rows: each is what `session.get` gives once the session is
    closed, every column the same, detached, with the same identity, nothing to flush, relationships not
    loaded."""
    async with sessions.begin() as session:
        person = Candidate(name="Jane Roe", name_key="jane roe", party="DEM", state="GA")
        session.add(person)
        await session.flush()
        session.add(
            Race(
                cycle=2020,
                state="GA",
                office="senate",
                seat="Class II",
                incumbent_party="REP",
                incumbent_id=person.id,
                notes="a note",
                source="a source",
            )
        )
    async with sessions() as session:
        found = (await find_races(session, "georgia 2020")).chosen
    assert found is not None
    async with sessions() as session:
        loaded = await session.get(Race, found.id)
    assert loaded is not None
    columns = [prop.key for prop in inspect(Race).column_attrs]
    assert {key: getattr(found, key) for key in columns} == {key: getattr(loaded, key) for key in columns}
    state = inspect(found)
    assert state.detached and state.identity_key == inspect(loaded).identity_key
    assert not state.modified and state.unloaded == inspect(loaded).unloaded
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = found.contests
    async with sessions.begin() as session:  # the desk's session reads the race afresh by its id
        again = await session.get(Race, found.id)
        assert again is not None and again is not found and again.notes == "a note"


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("texas", "ix_races_state_cycle"),  # newest first without sorting every race of the state
        ("texas 2016", "ix_races_state_cycle"),
        ("tx 7", "ix_races_state_office_seat"),  # a district's races, not every House race of the state
    ],
)
async def test_the_lookup_reads_a_states_or_a_districts_races_through_an_index(
    sqlite_engine: AsyncEngine, typed: str, index: str
) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    async with sessions.begin() as session:
        session.add_all(
            Race(cycle=cycle, state="TX", office="house", seat=str(district))
            for cycle in range(2000, 2024, 2)
            for district in range(1, 12)
        )
    ran: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        ran.append((statement, parameters))

    event.listen(sqlite_engine.sync_engine, "before_cursor_execute", keep)
    try:
        async with sessions() as session:
            assert (await find_races(session, typed)).races
    finally:
        event.remove(sqlite_engine.sync_engine, "before_cursor_execute", keep)
    ((statement, parameters),) = ran
    async with sqlite_engine.connect() as conn:
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [str(row[-1]) for row in plan]
    assert any(f"SEARCH races USING INDEX {index} " in step for step in steps), steps


async def test_were_an_office_ranked_above_the_senate_a_senate_races_words_would_name_its_office(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pick rule ranks the Senate first today; the words of a Senate race name its office wherever an
    office ranked above it has a race in the state that cycle (or a special of it the year before): not one
    of another state (Nevada), not a regular race the year before (Alabama)."""
    order = (Office.PRESIDENT, Office.SENATE, Office.GOVERNOR, Office.HOUSE)
    monkeypatch.setattr(lookup, "OFFICE_ORDER", order)
    monkeypatch.setattr(lookup, "OFFICE_RANK", {office: rank for rank, office in enumerate(order)})
    async with sessions.begin() as session:
        session.add_all(
            [
                Race(cycle=2016, state="PA", office="president"),
                Race(cycle=2016, state="PA", office="senate", seat="Class III"),
                Race(cycle=2015, state="OH", office="president", special=True),
                Race(cycle=2016, state="OH", office="senate", seat="Class III"),
                Race(cycle=2018, state="OH", office="senate", seat="Class I"),
                Race(cycle=2016, state="NV", office="senate", seat="Class III"),
                Race(cycle=2016, state="AL", office="president"),
                Race(cycle=2017, state="AL", office="senate", seat="Class II", special=True),
            ]
        )
    async with sessions() as session:
        races = list(await session.scalars(select(Race).order_by(Race.id)))
        hints = await exact_hints(session, races)
        assert [hints[r.id] for r in races] == [
            "pennsylvania president 2016",
            "pennsylvania senate 2016",
            "ohio president 2015 special",
            "ohio senate 2016",
            "ohio 2018",
            "nevada 2016",
            "alabama president 2016",
            "alabama 2017 special",
        ]
        for race in races:
            found = await find_races(session, hints[race.id])
            assert found.chosen is not None and found.chosen.id == race.id, hints[race.id]
            assert found.hint(race) == hints[race.id]
        chosen = (await find_races(session, "pennsylvania 2016")).chosen  # the president's, ranked first
        assert chosen is not None and chosen.id == races[0].id


async def test_a_common_first_name_does_not_hide_the_race_of_the_person_the_surname_names(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """More people named Pat than one word finds: `pat example` still finds the race Pat Example runs in."""
    async with sample_sessions.begin() as session:
        example = await pat_example_among_namesakes(session, lookup.PEOPLE_OF_ONE_WORD + 10)
        general = await session.scalar(
            select(Contest.id).join(Race).where(Race.cycle == 2020, Contest.stage == "general")
        )
        session.add(Candidacy(contest_id=general, candidate_id=example.id, party="LIB"))
    async with sample_sessions() as session:
        found = await find_races(session, "pat example")
    assert found.chosen is not None and found.chosen.cycle == 2020

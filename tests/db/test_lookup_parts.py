"""The lookup's parts one by one, each with the edges its table of queries (test_lookup.py) does not reach:
the table of state names, typo tolerance for states and names, the suggestions' nearest states, the
presidency's words, the race count, the words as typed (capitals, a short year's apostrophe), districts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import us
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.lookup import (
    STATE_NAMES,
    STATEMENTS,
    RaceMatches,
    _candidate_ids,
    _party_words_as_names,
    _state_table,
    asks_for_presidency,
    exact_hints,
    find_races,
    fuzzy_state,
    nearest_states,
    parse_query,
    race_count,
    state_name,
    typo_candidate_ids,
)
from db.models import Candidate, NameToken, Race
from db.names import name_tokens


@pytest.fixture(autouse=True)
def _prebuilt_anew() -> Iterator[None]:
    """The lookup's statements are built once per process: each test here builds its own (as in
    test_lookup.py), so that what builds them is under test, and none outlives a changed pick rule."""
    STATEMENTS.clear()
    yield
    STATEMENTS.clear()


def test_the_state_table_holds_every_name_ap_abbreviation_and_nickname() -> None:
    table = _state_table()
    assert table == STATE_NAMES
    # Written out here, not derived from the same code: a name, an AP abbreviation with and without its
    # space, a territory, DC, the nicknames.
    assert table["alabama"] == "AL" and table["west virginia"] == "WV" and table["guam"] == "GU"
    assert table["ala"] == "AL" and table["calif"] == "CA" and table["wva"] == "WV"
    assert table["n c"] == "NC" and table["nc"] == "NC" and table["n h"] == "NH" and table["nh"] == "NH"
    assert table["puerto rico"] == "PR" and table["district of columbia"] == "DC"
    assert table["bama"] == "AL" and table["united states"] == "US" and table["sconnie"] == "WI"
    # Every place of `us`, by its name and by its AP abbreviation, and nothing maps to nothing.
    for state in [*us.states.STATES, us.states.DC, *us.states.TERRITORIES]:
        assert table[state.name.lower()] == state.abbr
    assert all(isinstance(code, str) and len(code) == 2 for code in table.values())
    assert "n c" in table and "nc" in table  # "N.C." and "NC" both
    assert not any("XX" in name or name != name.strip() for name in table)


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("iowa", "IA"),  # four letters: long enough
        ("alabma", "AL"),
        ("ohi", None),  # three letters: too short to take for a typo (86 to "ohio")
        ("iowx", None),  # one letter of four off: 75, under the cutoff
        ("zzzzzz", None),
    ],
)
def test_a_state_is_read_through_a_typo_only_in_words_of_four_letters_or_more(
    word: str, state: str | None
) -> None:
    assert fuzzy_state(word) == state


def test_the_nearest_states_are_the_closest_names_over_the_cutoff() -> None:
    assert nearest_states("virgin island", ["VA", "VI", "RI", "WV", "AL"]) == ["VI", "VA", "RI"]
    assert nearest_states("virgin island", ["VA", "VI", "RI", "WV"], limit=1) == ["VI"]
    assert nearest_states("iowxyz", ["IA"]) == ["IA"]  # exactly 60, the cutoff, counts
    assert nearest_states("iowxyzq", ["IA"]) == []  # under it
    assert nearest_states("new", ["NY", "NJ", "NM", "NH"]) == []  # a word of a name is not the name
    assert nearest_states("xx", ["XX", "AL"]) == ["XX"]  # a code the table does not know stands for itself


@pytest.mark.parametrize(
    ("typed", "asked"),
    [
        ("president 2020", "2020"),
        ("potus", ""),  # the newest
        ("us president 2016", "2016"),
        ("president alabama", None),  # a state's race for president
        ("district 2 president", None),
        ("president trump", None),  # a name
        ("president special", None),
        ("president regular", None),
        ("president class 2", None),
        ("president primary", None),
        ("senate 2020", None),
    ],
)
def test_the_presidency_is_asked_by_its_office_words_alone(typed: str, asked: str | None) -> None:
    assert asks_for_presidency(typed) == asked


async def test_the_race_count_counts_the_races(store: async_sessionmaker[AsyncSession]) -> None:
    async with store() as session:
        assert await race_count(session) == 0
    async with store.begin() as session:
        session.add_all(Race(cycle=2020, state=state, office="senate") for state in ("AL", "GA", "TX"))
    async with store() as session:
        assert await race_count(session) == 3


async def _named(sessions: async_sessionmaker[AsyncSession], names: list[str]) -> dict[str, int]:
    """People by their full names, each word of a name a token, as the importers store them."""
    async with sessions.begin() as session:
        people = {name: Candidate(name=name, name_key=name.lower()) for name in names}
        session.add_all(people.values())
        await session.flush()
        session.add_all(
            NameToken(token=token, candidate_id=person.id)
            for name, person in people.items()
            for token in name_tokens(name)
        )
        return {name: person.id for name, person in people.items()}


async def _people(sessions: async_sessionmaker[AsyncSession], surnames: list[str]) -> dict[str, int]:
    """People named Pat and each surname, by surname."""
    ids = await _named(sessions, [f"Pat {surname.title()}" for surname in surnames])
    return {surname: ids[f"Pat {surname.title()}"] for surname in surnames}


async def test_a_misspelt_name_is_compared_with_names_of_its_first_letter(
    store: async_sessionmaker[AsyncSession],
) -> None:
    # "tubervilel" against each: tuberville 90, uberville 84, suberville 80, tuberviaae 80, tube 57 (but 90
    # with the partial scorer fuzz.WRatio): the ones that start with another letter are not compared.
    ids = await _people(store, ["tuberville", "uberville", "suberville", "tuberviaae", "tube"])
    async with store() as session:
        found = await typo_candidate_ids(session, "tubervilel")
    assert found == {ids["tuberville"], ids["tuberviaae"]}  # 80, the cutoff, counts


async def test_a_misspelt_name_takes_the_five_closest_spellings(
    store: async_sessionmaker[AsyncSession],
) -> None:
    # "smithe": smithes, smithey, smither, smithen 92, smith 91, smithers 86: the five closest.
    ids = await _people(store, ["smithes", "smithey", "smither", "smithen", "smith", "smithers"])
    async with store() as session:
        found = await typo_candidate_ids(session, "smithe")
    assert found == {ids[name] for name in ("smithes", "smithey", "smither", "smithen", "smith")}


async def test_the_people_a_name_names_hold_every_word_as_a_prefix_or_a_close_typo(
    store: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _named(store, ["Roy Moore", "Roy Cooper", "Mike Moore", "Tommy Tuberville", "Jo Mooresville"])
    async with store() as session:

        async def people(*words: str) -> set[int] | None:
            return await _candidate_ids(session, list(words))

        assert await people("moore") == {ids["Roy Moore"], ids["Mike Moore"], ids["Jo Mooresville"]}
        assert await people("roy", "moore") == {ids["Roy Moore"]}  # every word
        assert await people("tuber") == {ids["Tommy Tuberville"]}  # a prefix, and nothing after it
        assert await people("tubervile") == {ids["Tommy Tuberville"]}  # no prefix matches: a close typo
        assert await people("roy", "zzzzzz") == set()  # a word nobody's name holds
        assert await people("zzzzzz", "roy") == set()
        assert await people("al", "jo") is None  # words under three letters are initials, not names
        assert await people("roy", "jo") == {ids["Roy Moore"], ids["Roy Cooper"]}
        assert await people() is None


@pytest.mark.parametrize(
    ("typed", "name_words", "stage", "party"),
    [
        ("mark green", ["mark", "green"], None, None),  # a person is named Green: the name
        ("green primary mark", ["mark", "green"], "primary", None),
        ("dem primary green", ["green"], "primary", "DEM"),
        ("libertarian", [], "primary", "LIB"),  # nobody is named Libertarian: the party
    ],
)
async def test_a_party_word_that_is_someones_name_is_read_as_the_name(
    store: async_sessionmaker[AsyncSession],
    typed: str,
    name_words: list[str],
    stage: str | None,
    party: str | None,
) -> None:
    await _named(store, ["Mark Green"])
    query = parse_query(typed)
    async with store() as session:
        await _party_words_as_names(session, query)
    assert (sorted(query.name_words), query.stage, query.party) == (sorted(name_words), stage, party)
    assert "green" not in query.said


async def test_after_a_miss_the_states_named_like_the_words_offer_their_newest_races(
    store: async_sessionmaker[AsyncSession],
) -> None:
    """ "nort carolina": North Carolina 96, South Carolina 82, North Dakota 64 (over the cutoff, 60), not
    Alabama. Their newest races, newest first; of one cycle, the shorter district number first, whatever
    the state (a query names no state here), three at most."""
    async with store.begin() as session:
        session.add_all(
            [
                Race(cycle=2020, state="NC", office="house", seat="10"),
                Race(cycle=2020, state="NC", office="house", seat="11"),
                Race(cycle=2020, state="SC", office="house", seat="2"),
                Race(cycle=2020, state="SC", office="house", seat="3"),
                Race(cycle=2018, state="ND", office="house", seat="AL"),
                Race(cycle=2016, state="NC", office="house", seat="3"),
                Race(cycle=2022, state="AL", office="house", seat="1"),
            ]
        )
    async with store() as session:
        missed = await find_races(session, "nort carolina")
    assert missed.races == [] and missed.chosen is None
    assert [missed.hint(r) for r in missed.suggestions] == ["SC-2 2020", "SC-3 2020", "NC-10 2020"]
    async with store() as session:
        fewer = await find_races(
            session, "nort dakota"
        )  # North Dakota 96, South Dakota 78, North Carolina 64
    assert [fewer.hint(r) for r in fewer.suggestions] == ["NC-10 2020", "NC-11 2020", "ND-AL 2018"]


def test_a_race_without_its_exact_words_found_is_offered_with_its_plain_words() -> None:
    race = Race(id=7, cycle=2020, state="GA", office="senate", seat="Class II", special=False)
    matches = RaceMatches(parse_query("georgia"), [race], race)
    assert matches.hint(race) == "georgia 2020"
    assert RaceMatches(parse_query("georgia"), [race], race, hints={7: "georgia 2020 regular"}).hint(
        race
    ) == ("georgia 2020 regular")


def test_a_state_is_named_in_full_and_an_unknown_code_stands_for_itself() -> None:
    assert (
        state_name("AL") == "Alabama"
        and state_name("US") == "United States"
        and state_name("PR") == ("Puerto Rico")
    )
    assert state_name("XX") == "XX"


@pytest.mark.parametrize(
    ("typed", "state", "seat", "cycle", "name_words"),
    [
        ("georgia class 2 2020", "GA", "Class II", 2020, []),  # the word after the class is read too
        ("georgia class", "GA", None, None, []),  # "class" last: a filler word
        ("georgia class 4", "GA", None, None, ["4"]),  # no fourth class
    ],
)
def test_a_seat_class_is_two_words(
    typed: str, state: str, seat: str | None, cycle: int | None, name_words: list[str]
) -> None:
    query = parse_query(typed)
    assert (query.state, query.seat, query.cycle, query.name_words) == (state, seat, cycle, name_words)


@pytest.mark.parametrize("typed", ["alabama cd 2", "alabama cd-2", "alabama district 2", "al cd 02"])
def test_cd_and_district_say_a_house_district(typed: str) -> None:
    query = parse_query(typed)
    assert (query.state, query.office, query.district, query.name_words) == ("AL", "house", "2", [])


@pytest.mark.parametrize(
    ("typed", "said", "stage", "party", "cycle"),
    [
        (
            "louisiana jungle primary",
            ["jungle", "primary"],
            "jungle primary",
            None,
            None,
        ),  # the last two words
        ("louisiana top two 2020", ["top", "two"], "jungle primary", None, 2020),  # and the word after
        ("alabama dem primary runoff", ["dem", "primary", "runoff"], "primary runoff", "DEM", None),
        ("alabama primary 2020", ["primary"], "primary", None, 2020),  # a stage word, and the word after
        ("georgia 2020 general run-off", ["general", "run", "off"], "general runoff", None, 2020),
    ],
)
def test_a_stage_of_two_words_is_read_with_the_words_around_it(
    typed: str, said: list[str], stage: str, party: str | None, cycle: int | None
) -> None:
    query = parse_query(typed)
    assert (query.said, query.stage, query.party, query.cycle, query.name_words) == (
        said,
        stage,
        party,
        cycle,
        [],
    )


async def test_a_regular_seat_says_regular_only_beside_a_special_of_its_state_office_and_year(
    store: async_sessionmaker[AsyncSession],
) -> None:
    async with store.begin() as session:
        session.add_all(
            [
                Race(cycle=2020, state="GA", office="senate", seat="Class II"),
                Race(
                    cycle=2020, state="AL", office="senate", seat="Class III", special=True
                ),  # another state
                Race(cycle=2020, state="GA", office="governor", special=True),  # another office
                Race(cycle=2018, state="GA", office="senate", seat="Class III", special=True),  # another year
                Race(cycle=2022, state="MS", office="senate", seat="Class I"),
                Race(cycle=2022, state="MS", office="senate", seat="Class II", special=True),  # its twin
            ]
        )
    async with store() as session:
        races = list(await session.scalars(select(Race).order_by(Race.id)))
        hints = await exact_hints(session, races)
    assert [hints[r.id] for r in races] == [
        "georgia 2020",
        "alabama 2020 special",
        "georgia governor 2020 special",
        "georgia 2018 special",
        "mississippi 2022 regular",
        "mississippi 2022 special",
    ]


@pytest.mark.parametrize(
    ("typed", "state", "office", "cycle", "name_words"),
    [
        ("OH senate 2020", "OH", "senate", 2020, []),  # a postal code that is a word, in capitals
        ("IN 2020", "IN", None, 2020, []),
        ("OR governor", "OR", "governor", None, []),
        ("oh senate", None, "senate", None, ["oh"]),  # in small letters, the word
        ("in alabama 2020", "AL", None, 2020, ["in"]),
    ],
)
def test_a_postal_code_that_is_an_everyday_word_counts_in_capitals(
    typed: str, state: str | None, office: str | None, cycle: int | None, name_words: list[str]
) -> None:
    query = parse_query(typed)
    assert (query.state, query.office, query.cycle, query.name_words) == (state, office, cycle, name_words)


@pytest.mark.parametrize("typed", ["bama \u201920", "\u201920 bama", "bama '20"])
def test_a_short_year_is_read_with_either_apostrophe_and_is_no_district(typed: str) -> None:
    query = parse_query(typed)  # phones type \u2019 for '
    assert (query.state, query.cycle, query.office, query.district, query.name_words) == (
        "AL",
        2020,
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("typed", "state", "district", "cycle"),
    [
        ("wyoming district at-large", "WY", "AL", None),
        ("wy cd at large 2020", "WY", "AL", 2020),
        ("alabama 1", "AL", "1", None),  # districts count from one
        ("alabama 1st", "AL", "1", None),
        ("alabama 0", "AL", None, None),  # no district 0
        ("AL-02 AL-03", "AL", "2", None),  # the first district said; the second is left as words
    ],
)
def test_the_district_said(typed: str, state: str, district: str | None, cycle: int | None) -> None:
    query = parse_query(typed)
    assert (query.state, query.district, query.cycle) == (state, district, cycle)
    assert query.office == ("house" if district else None)

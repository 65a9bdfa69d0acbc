"""The lookup's parts one by one, each with the edges its table of queries (test_lookup.py) does not reach:
the table of state names, typo tolerance for states and names, the suggestions' nearest states, the
presidency's words, the race count; and the answers the full mutation run of db/lookup.py found untested
(docs/testing.md): queries of an office, a year or a seat alone, the order of a list, the choice, the
national race, incumbents, the Dec-2017 special beside many races, names that look like states."""

from __future__ import annotations

import pytest
import us
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.lookup import (
    STATE_NAMES,
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

pytestmark = pytest.mark.usefixtures("lookup_statements_afresh")


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
        ("alabama al-03 2020", "AL", "3", 2020),  # a district code of the state already named
        ("alabama 2 al-03", "AL", "2", None),  # a second district is left as words
        ("georgia al-02", "GA", None, None),  # another state's district is left as words
        ("wyoming wy-al", "WY", "AL", None),
        ("alabama al2", "AL", "2", None),
        ("alabama al-00", "AL", None, None),  # no district 0
        ("nebraska neal", "NE", None, None),  # a name spelt like NE-AL is a name
        ("delaware deal 2022", "DE", None, 2022),
    ],
)
def test_the_district_said(typed: str, state: str, district: str | None, cycle: int | None) -> None:
    query = parse_query(typed)
    assert (query.state, query.district, query.cycle) == (state, district, cycle)
    assert query.office == ("house" if district else None)


@pytest.mark.parametrize(
    ("typed", "state", "special", "cycle", "name_words"),
    [
        ("georgia special 2020", "GA", True, 2020, []),  # the word after `special` is read too
        ("georgia regular 2020", "GA", False, 2020, []),
        ("las vegas", None, None, None, ["las", "vegas"]),  # "la" + s: no possessive without a district
        ("ross 2", None, None, None, ["ross", "2"]),  # a word ending in s before a number is no state
        ("alabama ... 2020", "AL", None, 2020, []),  # punctuation alone is no word
        ("- senate 2020 --- alabama", "AL", None, 2020, []),
    ],
)
def test_the_words_around_a_keyword_or_a_possessive(
    typed: str, state: str | None, special: bool | None, cycle: int | None, name_words: list[str]
) -> None:
    query = parse_query(typed)
    assert (query.state, query.special, query.cycle, query.name_words) == (state, special, cycle, name_words)


async def _add(sessions: async_sessionmaker[AsyncSession], table: str) -> None:
    """Races written one a line: `2020 GA senate Class III special`, `2022 GA governor`, `2020 GA house 7`."""
    races = []
    for line in table.strip().splitlines():
        words = line.split()
        special = words[-1] == "special"
        cycle, state, office, *seat = words[:-1] if special else words
        races.append(Race(cycle=int(cycle), state=state, office=office, seat=" ".join(seat), special=special))
    async with sessions.begin() as session:
        session.add_all(races)


async def _held(sessions: async_sessionmaker[AsyncSession], held: dict[str, Race]) -> None:
    """Races and the people who hold them (by name; "" for the one race no one here holds)."""
    ids = await _named(sessions, [name for name in held if name])
    async with sessions.begin() as session:
        for name, race in held.items():
            race.incumbent_id = ids.get(name)
            session.add(race)


async def _found(
    sessions: async_sessionmaker[AsyncSession], typed: str
) -> tuple[list[tuple[int, str, str, str]], tuple[int, str, str, str] | None]:
    """The races a query lists, as (cycle, state, office, seat), and the one it chose."""
    async with sessions() as session:
        matches = await find_races(session, typed)

    def row(race: Race) -> tuple[int, str, str, str]:
        return (race.cycle, race.state, race.office, race.seat)

    return [row(r) for r in matches.races], (row(matches.chosen) if matches.chosen else None)


async def test_an_office_a_year_a_seat_class_or_special_alone_lists_those_races_of_every_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A query of no state lists the races of every state that fit (none chosen where they are several):
    newest first, the Senate first, a regular seat before a special, then by state."""
    await _add(
        sessions,
        """
        2018 TX senate Class I
        2020 GA house 7
        2020 GA senate Class III special
        2020 AL senate Class II
        2020 US president
        """,
    )
    al, ga_special = (2020, "AL", "senate", "Class II"), (2020, "GA", "senate", "Class III")
    assert await _found(sessions, "senate") == ([al, ga_special, (2018, "TX", "senate", "Class I")], None)
    assert await _found(sessions, "2020") == (
        [al, ga_special, (2020, "US", "president", ""), (2020, "GA", "house", "7")],
        None,
    )
    assert await _found(sessions, "special") == ([ga_special], ga_special)
    assert await _found(sessions, "class 2") == ([al], al)


async def test_races_of_one_cycle_and_office_are_listed_by_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Added in another order, and with seats whose order is not the states' (Class II before III)."""
    await _add(
        sessions,
        """
        2020 TX senate Class II
        2020 GA senate Class II
        2020 AL senate Class III
        """,
    )
    for typed in ("senate", "senate 2020"):
        races, _ = await _found(sessions, typed)
        assert [state for _, state, _, _ in races] == ["AL", "GA", "TX"], typed


async def test_a_states_races_of_one_office_or_seat_class_are_all_listed_and_the_newest_chosen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An office or a seat class said: every race of it, not only the newest cycle's; the newest chosen
    when it is the only one of its cycle (the Senate's seats are one office; House districts are not)."""
    await _add(
        sessions,
        """
        2022 GA senate Class III
        2020 GA senate Class II
        2020 GA senate Class III special
        2014 GA senate Class II
        2022 GA governor
        2022 AL house 1
        2020 AL house 2
        """,
    )
    ga_2022, ga_2020 = (2022, "GA", "senate", "Class III"), (2020, "GA", "senate", "Class II")
    ga_2014 = (2014, "GA", "senate", "Class II")
    assert await _found(sessions, "georgia senate") == (
        [ga_2022, ga_2020, (2020, "GA", "senate", "Class III"), ga_2014],
        ga_2022,
    )
    assert await _found(sessions, "georgia class 2") == ([ga_2020, ga_2014], ga_2020)
    # two districts are two races to choose from, whatever their cycles
    assert await _found(sessions, "alabama house") == (
        [(2022, "AL", "house", "1"), (2020, "AL", "house", "2")],
        None,
    )


async def test_the_presidency_alone_is_the_national_race_and_another_office_alone_is_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    national = (2020, "US", "president", "")
    await _add(
        sessions,
        """
        2020 US president
        2020 GA president
        2020 AL president
        2020 AL senate Class II
        """,
    )
    assert await _found(sessions, "president 2020") == ([national], national)
    assert await _found(sessions, "potus") == ([national], national)
    assert await _found(sessions, "georgia president") == (
        [(2020, "GA", "president", "")],
        (2020, "GA", "president", ""),
    )
    assert await _found(sessions, "senate 2020") == (
        [(2020, "AL", "senate", "Class II")],
        (2020, "AL", "senate", "Class II"),
    )


async def test_a_name_finds_the_races_its_person_holds_even_a_name_like_a_party_or_a_misspelt_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The seat someone holds is found by their name without a candidacy in it (the race's incumbent).
    "green" is a party word, "georgi" 92 to "georgia" (a state's typo from 82): someone has each name, so
    each is the name. "gerogia perdue": no name holds "gerogia", so it is Georgia, and Perdue's race of
    Georgia is the one."""
    await _held(
        sessions,
        {
            "Doug Jones": Race(cycle=2020, state="AL", office="senate", seat="Class II"),
            "Mark Green": Race(cycle=2022, state="TN", office="house", seat="7"),
            "Ann Georgi": Race(cycle=2020, state="TX", office="senate", seat="Class II"),
            "David Perdue": Race(cycle=2020, state="GA", office="senate", seat="Class II"),
            "": Race(cycle=2022, state="GA", office="senate", seat="Class III"),
        },
    )
    al, tn = (2020, "AL", "senate", "Class II"), (2022, "TN", "house", "7")
    tx, ga_2020, ga_2022 = (
        (2020, "TX", "senate", "Class II"),
        (2020, "GA", "senate", "Class II"),
        (2022, "GA", "senate", "Class III"),
    )
    assert await _found(sessions, "doug jones") == ([al], al)
    assert await _found(sessions, "mark green") == ([tn], tn)
    assert await _found(sessions, "georgi") == ([tx], tx)
    assert await _found(sessions, "gerogia perdue") == ([ga_2020], ga_2020)
    assert await _found(sessions, "gerogia") == ([ga_2022], ga_2022)


async def test_a_year_asked_finds_the_senate_special_of_the_year_before_among_more_races_than_a_list_holds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Alabama's Dec 2017 special is its Senate race of 2018; with a governor and twelve House races that
    year too (more than the ten a list holds), the Senate's still comes first and is chosen."""
    house = "".join(f"2018 AL house {n}\n" for n in range(1, 13))
    await _add(sessions, f"2017 AL senate Class II special\n2018 AL governor\n{house}")
    chosen = (2017, "AL", "senate", "Class II")
    assert await _found(sessions, "alabama 2018") == ([chosen], chosen)


async def test_after_a_miss_only_the_three_nearest_states_offer_their_races(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """ "carolinas" (no one's name): North and South Carolina 70, California 63, Arizona 62 (over the
    cutoff, 60, but fourth): Arizona's race is not offered, newest though it is."""
    await _add(
        sessions,
        """
        2020 NC senate Class II
        2018 SC governor
        2016 CA senate Class III
        2022 AZ senate Class III
        """,
    )
    async with sessions() as session:
        missed = await find_races(session, "the carolinas")
    assert missed.races == [] and missed.chosen is None
    assert [missed.hint(r) for r in missed.suggestions] == [
        "north carolina 2020",
        "south carolina governor 2018",
        "california 2016",
    ]

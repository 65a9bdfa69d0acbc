"""One vocabulary: each word means the same thing to the race lookup, the members' commands and the desk."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cogs.desk import _parsing as desk_parsing
from cogs.desk._parsing import contest_key, race_and_stage
from cogs.support.parsing import split_poll_query, split_results_query
from db.lookup import find_races, parse_query
from db.models import Candidacy, Candidate, Contest, NameToken, Race, Stage
from db.names import name_key, name_tokens
from db.vocabulary import (
    ANY_RUNOFF,
    COUNT_KIND_NAME,
    contest_name,
    party_code,
    party_named,
    population_of,
    preferred_stage,
    stage_of,
    stages_meant,
)
from db.writes.common import StageRef

# word -> (a sentence that uses it, the race it names, the stage and the party it means)
MEANINGS: dict[str, tuple[str, str, str, str | None]] = {
    "runoff": ("alabama runoff", "alabama", ANY_RUNOFF, None),
    "rep": ("alabama rep primary", "alabama", Stage.PRIMARY, "REP"),
    "lib": ("alabama lib primary", "alabama", Stage.PRIMARY, "LIB"),
    "green": ("alabama green primary", "alabama", Stage.PRIMARY, "GRN"),
    "dfl": ("minnesota dfl primary", "minnesota", Stage.PRIMARY, "DEM"),
}


STATES = {"AL": "alabama", "MN": "minnesota"}


def lookup_meaning(sentence: str) -> tuple[str, str | None, str | None]:
    query = parse_query(sentence)
    assert query.name_words == [], query  # every word was understood
    return STATES.get(query.state or "", "?"), query.stage, query.party


def members_meaning(sentence: str) -> tuple[str, str | None, str | None]:
    query = split_results_query(sentence)
    assert query.stages == stages_meant(query.stage)
    return query.race_text, query.stage, query.party


def desk_meaning(sentence: str) -> tuple[str, str | None, str | None]:
    found = race_and_stage(sentence.split())
    assert found.rest == []
    return found.race, found.stage.stage, found.stage.party


@pytest.mark.parametrize("word", list(MEANINGS))
@pytest.mark.parametrize(
    "parser", [lookup_meaning, members_meaning, desk_meaning], ids=["lookup", "members", "desk"]
)
def test_a_word_means_the_same_to_every_parser(word: str, parser: object) -> None:
    sentence, race, stage, party = MEANINGS[word]
    assert callable(parser)
    assert parser(sentence) == (race, stage, party)


@pytest.mark.parametrize("word", list(MEANINGS))
async def test_the_lookup_finds_the_race_past_the_words(
    sample_sessions: async_sessionmaker[AsyncSession], word: str
) -> None:
    sentence = MEANINGS[word][0].replace("minnesota", "alabama")
    async with sample_sessions() as session:
        matches = await find_races(session, sentence)
    assert matches.chosen is not None and (matches.chosen.state, matches.chosen.cycle) == ("AL", 2020)


async def test_a_party_word_that_is_a_name_is_the_name(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        race = Race(cycle=2018, state="TN", office="house", seat="7")
        person = Candidate(name="Mark Green", name_key=name_key("Mark Green"))
        session.add_all([race, person])
        await session.flush()
        contest = Contest(race_id=race.id, stage=Stage.GENERAL)
        session.add(contest)
        await session.flush()
        session.add(Candidacy(contest_id=contest.id, candidate_id=person.id, party="REP"))
        session.add_all(NameToken(token=t, candidate_id=person.id) for t in name_tokens(person.name))
    async with sessions() as session:
        matches = await find_races(session, "mark green")
    assert matches.chosen is not None and matches.chosen.state == "TN"
    assert matches.query.party is None and "green" in matches.query.name_words


@pytest.mark.parametrize(
    ("words", "stage", "party"),
    [
        ("runoff", ANY_RUNOFF, None),
        ("run-off", ANY_RUNOFF, None),
        ("gop runoff", Stage.PRIMARY_RUNOFF, "REP"),
        ("primary runoff", Stage.PRIMARY_RUNOFF, None),
        ("general runoff", Stage.GENERAL_RUNOFF, None),
        ("jungle", Stage.JUNGLE_PRIMARY, None),
        ("jungle primary", Stage.JUNGLE_PRIMARY, None),
        ("top two", Stage.JUNGLE_PRIMARY, None),
        ("run off", ANY_RUNOFF, None),
        ("rep", Stage.PRIMARY, "REP"),
        ("general", Stage.GENERAL, None),
        ("", None, None),
    ],
)
def test_stage_words_together(words: str, stage: str | None, party: str | None) -> None:
    assert stage_of(words.split()) == (stage, party)


def test_runoff_is_the_primary_runoff_when_a_race_has_both() -> None:
    both = [Stage.PRIMARY, Stage.PRIMARY_RUNOFF, Stage.GENERAL, Stage.GENERAL_RUNOFF]
    assert preferred_stage(stages_meant(ANY_RUNOFF), both) == Stage.PRIMARY_RUNOFF
    assert preferred_stage(stages_meant(ANY_RUNOFF), [Stage.GENERAL, Stage.GENERAL_RUNOFF]) == (
        Stage.GENERAL_RUNOFF
    )
    assert preferred_stage(stages_meant(ANY_RUNOFF), [Stage.GENERAL]) is None


def test_desk_contest_keys_and_party_codes_use_the_same_words() -> None:
    assert contest_key("dfl-primary") == (Stage.PRIMARY, "DEM")
    assert contest_key("green-runoff") == (Stage.PRIMARY_RUNOFF, "GRN")
    assert contest_key("runoff") == (Stage.PRIMARY_RUNOFF, "")  # a new contest: the primary runoff
    assert [party_code(p) for p in ("R", "gop", "DFL", "lib", "Green", "I", "CON", "wf")] == [
        "REP",
        "REP",
        "DEM",
        "LIB",
        "GRN",
        "IND",
        "CON",
        "WF",
    ]


def test_populations_for_members_and_desk() -> None:
    assert [population_of(w) for w in ("lv", "likely voters", "RV", "all adults", "a", "v")] == [
        "lv",
        "lv",
        "rv",
        "a",
        "a",
        "v",
    ]
    assert split_poll_query("alabama registered voters").population == "rv"
    assert split_poll_query("alabama a").race_text == "alabama a"  # one letter only as the desk's pop=a


def test_labels() -> None:
    assert contest_name(Stage.PRIMARY_RUNOFF, "REP") == "Republican runoff"
    assert contest_name(Stage.GENERAL_RUNOFF, None) == "general runoff"
    assert StageRef(ANY_RUNOFF).describe() == "runoff"
    assert StageRef(Stage.PRIMARY, "GRN").describe() == "Green primary"


@pytest.mark.parametrize(
    ("in_file", "code"),
    [
        ("DEMOCRATIC-FARMER-LABOR", "DEM"),  # what "dfl" means to a person
        ("DEMOCRATIC-NONPARTISAN LEAGUE", "DEM"),
        ("Libertarian", "LIB"),
        ("GREEN", "GRN"),
        ("MOUNTAIN", "GRN"),
        ("WORKING FAMILIES", "WF"),
        ("Mickey Mouse", None),
    ],
)
def test_a_results_file_s_party_name_reads_as_the_same_code(in_file: str, code: str | None) -> None:
    assert party_named(in_file) == code


def test_a_party_means_the_same_typed_or_in_a_file() -> None:
    assert party_code("dfl") == party_named("DEMOCRATIC-FARMER-LABOR") == "DEM"
    assert party_code("green") == party_named("GREEN") == "GRN"


@pytest.mark.parametrize(
    ("word", "kind"), [("writein", "writein"), ("write-ins", "writein"), ("undervotes", "under")]
)
def test_the_desk_reads_count_kinds_from_the_vocabulary(word: str, kind: str) -> None:
    draft = desk_parsing.parse_result(f"alabama general Tuberville=5 {word}=3", "!result alabama")
    assert isinstance(draft, desk_parsing.Draft)
    assert draft.make(Race(id=1, cycle=2020, state="AL", office="senate", seat="Class II")).other == {kind: 3}
    assert COUNT_KIND_NAME[kind] in ("write-ins", "undervotes")

"""Whatever a moderator types, the desk's parsers answer with a usage reply (`UsageError`) or an input: never
another exception (README: wrong input gets a short, clear reply and writes nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import us
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cogs.desk import _parsing as p
from cogs.support import dates
from cogs.support.errors import UsageError
from db.models import Race

EX = "!example"
PARSERS: list[Callable[[str | None, str], Any]] = [
    p.parse_result,
    p.parse_call,
    p.parse_uncall,
    p.parse_poll,
    p.parse_endorse,
    p.parse_race_add,
    p.parse_race_edit,
    p.parse_candidate_add,
    p.parse_candidate_edit,
    p.parse_candidate_merge,
]
# Pieces of what moderators type, so that drawn text reaches past the first check.
PIECES = [
    "alabama", "al", "2020", "'20", "general", "rep", "dem", "primary", "runoff", "jungle", "special", "too",
    "close", "senate", "governor", "house", "2", "Tuberville", "Jones", "Doug Jones", "hypothetical",
    "incumbent", "pollster", "dates", "n", "pop", "lv", "rv", "sponsor", "url", "source", "reporting",
    "precincts", "writein", "final", "official", "endorser", "candidate", "stance", "kind", "date", "quote",
    "notes", "seat", "name", "party", "alias", "withdrawn", "from", "into", "general-runoff", "rep-primary",
    "dem-runoff", "July", "Jul.", "June 28", "2-9", "7/14/20", "2020-07-14", "9999", "0", "-5", "1,392,100",
    "43.9", "100%", "101", "1e400", "nan", "inf", "yes", "no", "#12", "https://example.org", "1850/1980",
    "=", "==", '"', "“", "”", "'", ",", "-", "–", "/", " ", "\u200b", "@everyone", "\n", "\t",
]  # fmt: skip
typed = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=14).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=14).map(" ".join),
    st.lists(
        st.tuples(st.sampled_from(PIECES), st.sampled_from(PIECES) | st.text(max_size=8)), max_size=6
    ).map(lambda pairs: "alabama " + " ".join(f'{k}="{v}"' for k, v in pairs)),
)
years = st.integers(min_value=1, max_value=9999)


def only_usage_errors(run: Callable[[], Any]) -> None:
    try:
        run()
    except UsageError as error:
        assert error.problem.strip(), "a usage reply says what is wrong"


@pytest.mark.parametrize("parse", PARSERS, ids=lambda f: f.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=typed, cycle=years)
@example(text='alabama pollster=X dates="July 2-9" Tuberville=1e400 Jones=2', cycle=2020)
@example(text='alabama dates="December 31, 9999 - January 2"', cycle=9999)
def test_the_desk_parsers_raise_only_usage_errors(
    parse: Callable[[str | None, str], Any], text: str, cycle: int
) -> None:
    def run() -> None:
        draft = parse(text, EX)
        if isinstance(draft, p.Draft):  # the rest runs once the race (and so its cycle year) is known
            draft.make(Race(id=7, cycle=cycle))

    only_usage_errors(run)


@settings(max_examples=300, deadline=None)
@given(text=typed, year=years)
@example(text="December 31 - January 1", year=9999)
@example(text="July 40", year=1)
def test_the_date_readers_raise_only_usage_errors(text: str, year: int) -> None:
    only_usage_errors(lambda: dates.date(text, year, EX))
    only_usage_errors(lambda: dates.date_range(text, year, EX))
    only_usage_errors(lambda: dates.parse_when(text, dt.date(2020, 7, 14), year))


STATES = [state.name.lower() for state in us.states.STATES] + [state.abbr for state in us.states.STATES]
SURNAMES = ["Tuberville", "Jones", "Ossoff", "Perdue", "Maloney", "Moore", '"Van Hollen"', "O'Rourke", "Cruz"]
race_words = st.tuples(
    st.sampled_from(STATES),
    st.sampled_from(["", "2", "12", "at-large"]),
    st.sampled_from(["", "2018", "2020", "'20"]),
    st.sampled_from(["", "special", "senate", "house", "governor"]),
).map(lambda parts: " ".join(part for part in parts if part))
YEARS = range(1970, 2100)  # a count that reads as a year is the race's year (`doug jones 2017`): not drawn
bare_counts = st.lists(
    st.tuples(
        st.sampled_from(SURNAMES), st.integers(min_value=0, max_value=10**7).filter(lambda n: n not in YEARS)
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(race=race_words, counts=bare_counts, commas=st.booleans())
def test_names_and_numbers_after_the_race_never_take_its_words(
    race: str, counts: list[tuple[str, int]], commas: bool
) -> None:
    """`<race> Tuberville 44 Jones 36`: a state, district, year or office word stays the race's."""
    typed = " ".join(f"{name} {votes:,}" if commas else f"{name} {votes}" for name, votes in counts)
    form = p.parse_result(f"{race} {typed}", EX)
    assert form.race == race
    assert form.make(Race(id=7, cycle=2020)).counts == [(name.strip('"'), votes) for name, votes in counts]

"""The presidency read, on SQLite and PostgreSQL, over the shipped president file: every figure against the files."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import load_document
from db.importers import parse
from db.lookup import find_races
from db.reads.president import presidency, president_cycles
from tests.support import PRESIDENT
from tests.support.electoral import (
    cast,
    district_rows,
    file_states,
    pledged,
    popular_total,
    popular_vote,
    readme_totals,
)

Sessions = async_sessionmaker[AsyncSession]
pytestmark = pytest.mark.asyncio(loop_scope="module")
NAMES = {
    "DEM": {2016: "CLINTON, HILLARY", 2020: "BIDEN, JOSEPH R. JR"},
    "REP": {2016: "TRUMP, DONALD J.", 2020: "TRUMP, DONALD J."},
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def store(shared_sample: Sessions) -> Sessions:
    """The sample and MEDSL's 2016 and 2020 president results, one store for the module's reads."""
    async with shared_sample.begin() as session:
        await load_document(session, parse(PRESIDENT, "medsl-president").document, SYSTEM)
    return shared_sample


@pytest.mark.parametrize("year", [2016, 2020])
async def test_electoral_votes_won_and_cast_equal_the_sums_from_the_files(store: Sessions, year: int) -> None:
    async with store() as session:
        found = await presidency(session, year)
    assert found is not None and found.missing == [] and found.unassigned == 0
    won = {n.party: n.won for n in found.nominees if n.won}
    assert won == dict(pledged(year))
    assert {n.party: n.cast for n in found.nominees if n.won} == dict(cast(year))
    assert sum(won.values()) == found.total == 538 and found.to_win == 270
    # The files agree with the README's own figures (pledged, and in 2016 cast).
    stated = readme_totals()[year]
    by_name = {"Trump": "REP", "Clinton": "DEM", "Biden": "DEM"}
    assert {by_name[k]: v for k, v in stated.items() if not k.startswith("cast")} == won
    if year == 2016:
        assert (cast(year)["REP"], cast(year)["DEM"]) == (stated["cast Trump"], stated["cast Clinton"])
        assert sum(found.cast_others.values()) == sum(won.values()) - sum(cast(year).values())
    winner = found.winner
    assert winner is not None and winner.party == max(won, key=lambda p: won[p])


@pytest.mark.parametrize("year", [2016, 2020])
async def test_maine_and_nebraska_split_by_district(store: Sessions, year: int) -> None:
    async with store() as session:
        found = await presidency(session, year)
    assert found is not None
    split = {v.race.state: v for v in found.split_states}
    assert sorted(split) == ["ME", "NE"]
    for state, vote in split.items():
        districts = district_rows(year, state)
        statewide = file_states(year)[state]
        winner = statewide.party_of[statewide.ranked[0][0]]
        assert vote.districts == districts
        expected = {winner: 2}
        for party in districts.values():
            expected[party] = expected.get(party, 0) + 1
        assert vote.won == expected and sum(vote.won.values()) == vote.electors


@pytest.mark.parametrize("year", [2016, 2020])
async def test_the_popular_vote_and_each_state_s_margin_equal_the_file(store: Sessions, year: int) -> None:
    async with store() as session:
        found = await presidency(session, year)
    assert found is not None
    assert found.popular_total == popular_total(year)
    for nominee in found.nominees[:2]:
        assert nominee.popular == popular_vote(year, NAMES[nominee.party][year])
    states = file_states(year)
    for vote in found.states:
        ranked = states[vote.race.state].ranked
        assert vote.margin_votes == ranked[0][1] - ranked[1][1]
    margins = [v.margin for v in found.states]
    assert None not in margins and margins == sorted(margins)  # closest first


async def test_cycles_and_a_year_without_an_election(store: Sessions) -> None:
    async with store() as session:
        assert await president_cycles(session) == [2020, 2016]
        assert await presidency(session, 2019) is None


@pytest.mark.parametrize(
    ("typed", "state", "cycle"),
    [
        ("pennsylvania president 2020", "PA", 2020),
        ("pa pres 2016", "PA", 2016),
        ("maine potus 2020", "ME", 2020),
        ("alabama president 2020", "AL", 2020),
    ],
)
async def test_a_state_s_president_race_is_reached_by_its_words(
    store: Sessions, typed: str, state: str, cycle: int
) -> None:
    async with store() as session:
        chosen = (await find_races(session, typed)).chosen
    assert chosen is not None and (chosen.office, chosen.state, chosen.cycle) == ("president", state, cycle)


async def test_a_state_without_an_office_word_is_still_its_senate_race(store: Sessions) -> None:
    async with store() as session:
        chosen = (await find_races(session, "alabama")).chosen
    assert chosen is not None and (chosen.office, chosen.cycle) == ("senate", 2020)

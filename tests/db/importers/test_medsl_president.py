"""MEDSL's president file and 538's president polls, parsed; every figure checked against the files."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from db.importers import ParseError, detect_format, parse
from db.importers.medsl_president import ballot_name
from tests.support import MEDSL, PRESIDENT, PRESIDENT_POLLS
from tests.support.electoral import file_states


@pytest.fixture(scope="module")
def document() -> dict:  # type: ignore[type-arg]
    return parse(PRESIDENT, "medsl-president").document


def counts_of(document: dict, cycle: int, state: str) -> tuple[dict[str, int], dict[str, int]]:  # type: ignore[type-arg]
    race = next(r for r in document["races"] if (r["cycle"], r["state"]) == (cycle, state))
    assert (race["office"], race["seat"], race["special"]) == ("president", "", False)
    (contest,) = race["contests"]
    assert contest["stage"] == "general" and contest["date"] == f"{cycle}-11-0{3 if cycle == 2020 else 8}"
    (result,) = contest["results"]
    return result["counts"], result["other"]


def test_the_file_is_told_apart_from_the_senate_file() -> None:
    assert detect_format(PRESIDENT) == "medsl-president"
    assert detect_format(MEDSL) == "medsl"


def test_one_race_per_state_and_year_and_every_vote_where_the_file_puts_it(document: dict) -> None:  # type: ignore[type-arg]
    names = {c["key"]: c["name"] for c in document["candidates"]}
    with open(PRESIDENT, encoding="latin-1", newline="") as handle:
        none_of_these: Counter[tuple[int, str]] = Counter()
        for row in csv.DictReader(handle):
            if row["candidate"] == "NONE OF THE ABOVE":
                none_of_these[(int(row["year"]), row["state_po"])] += int(row["candidatevotes"])
    assert list(none_of_these) == [(2016, "NV")]
    assert parse(PRESIDENT, "medsl-president").notes == [
        f"2016 NV: {none_of_these[(2016, 'NV')]:,} votes for 'NONE OF THE ABOVE' left out (no count kind for them)"
    ]
    for year in (2016, 2020):
        states = file_states(year)
        assert {r["state"] for r in document["races"] if r["cycle"] == year} == set(states)
        for state, found in states.items():
            counts, other = counts_of(document, year, state)
            # Each state's votes: every named candidate's rows summed; all rows add up to totalvotes
            # (less Nevada's 2016 "None of these candidates", left out with a note).
            assert sorted(counts.values(), reverse=True) == sorted(found.by_name.values(), reverse=True)
            assert sum(counts.values()) + sum(other.values()) + none_of_these[(year, state)] == found.total
            winner = max(counts, key=lambda k: counts[k])
            assert names[winner] == ballot_name(found.ranked[0][0])


def test_a_fusion_candidate_and_dc_s_write_in_flagged_rows_count_for_the_candidate(document: dict) -> None:  # type: ignore[type-arg]
    with open(PRESIDENT, encoding="latin-1", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [
        r for r in rows if (r["year"], r["state_po"], r["candidate"]) == ("2016", "NY", "CLINTON, HILLARY")
    ]
    assert len(lines) == 3  # Democratic, Working Families, Women's Equality
    counts, _ = counts_of(document, 2016, "NY")
    assert counts["medsl:US:hillary-clinton"] == sum(int(r["candidatevotes"]) for r in lines)
    dc = [
        r for r in rows if (r["year"], r["state_po"], r["candidate"]) == ("2020", "DC", "BIDEN, JOSEPH R. JR")
    ]
    assert [r["writein"] for r in dc] == ["TRUE"]
    counts, _ = counts_of(document, 2020, "DC")
    assert counts["medsl:US:joseph-r-biden"] == int(dc[0]["candidatevotes"])


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("BIDEN, JOSEPH R. JR", "Joseph R. Biden Jr."),
        ("TRUMP, DONALD J.", "Donald J. Trump"),
        ("CLINTON, HILLARY", "Hillary Clinton"),
        ("MARK CHARLES", "Mark Charles"),
        ('DE LA FUENTE, ROQUE ""ROCKY""', 'Roque "Rocky" De La Fuente'),
    ],
)
def test_names_are_shown_first_name_first(raw: str, shown: str) -> None:
    assert ballot_name(raw) == shown


def test_a_file_without_a_needed_column_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "year,state_po,office,candidate,party_detailed,writein,totalvotes\n2020,AL,US PRESIDENT,X,,FALSE,1\n"
    )
    with pytest.raises(ParseError) as raised:
        parse(path, "medsl-president")
    assert str(raised.value) == "line 1: not a MEDSL president results file: no column candidatevotes"


def test_president_polls_attach_to_the_state_and_national_races() -> None:
    parsed = parse(PRESIDENT_POLLS, "fivethirtyeight-polls", cycles=[2020])
    with open(PRESIDENT_POLLS, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_state: Counter[str] = Counter()
    for _, state in {(r["poll_id"], r["state"]) for r in rows}:
        by_state[state] += 1
    # A statewide race per state (national polls: state "US"); 538's polls of Maine's and Nebraska's
    # district electors go to the district's own race (seat "CD-n"), none is lost.
    races = {(r["state"], r["seat"]): r for r in parsed.document["races"]}
    assert all(r["office"] == "president" for r in races.values())
    assert len(races[("US", "")]["polls"]) == by_state[""]
    assert len(races[("PA", "")]["polls"]) == by_state["Pennsylvania"]
    districts = sorted(s for s in by_state if " CD-" in s)
    assert districts == ["Maine CD-1", "Maine CD-2", "Nebraska CD-1", "Nebraska CD-2"]
    for district in districts:
        name, number = district.split(" CD-")
        code = "ME" if name == "Maine" else "NE"
        assert len(races[(code, f"CD-{number}")]["polls"]) == by_state[district]
    assert sum(len(r["polls"]) for r in races.values()) == len({(r["poll_id"], r["state"]) for r in rows})

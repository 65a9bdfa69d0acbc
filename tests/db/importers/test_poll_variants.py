"""Every layout of FiveThirtyEight's poll files, every office: figures checked against the files themselves."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from db.districts import house_districts
from db.importers import detect_format, parse
from db.importers.common import ParseError, general_election_day, state_code
from db.importers.default import PUBLIC
from tests.support import HISTORICAL_AL, POLLS

GOVERNORS = PUBLIC / "governor_polls.csv"
HOUSE = PUBLIC / "house_polls.csv"
SENATE_2024 = PUBLIC / "fivethirtyeight-2024" / "senate_polls.csv"
HOUSE_2024 = PUBLIC / "fivethirtyeight-2024" / "house_district_polls.csv"
PRESIDENT_2024 = PUBLIC / "fivethirtyeight-2024" / "president_polls.csv"
EVERY_FILE = (POLLS, HISTORICAL_AL, GOVERNORS, HOUSE, SENATE_2024, HOUSE_2024, PRESIDENT_2024)
OFFICE = {
    "U.S. Senate": "senate",
    "U.S. House": "house",
    "Governor": "governor",
    "U.S. President": "president",
}


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def answers_by_question(doc: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        q["key"]: {a["choice"]: a["pct"] for a in q["answers"]}
        for race in doc["races"]
        for poll in race.get("polls", [])
        for q in poll["questions"]
    }


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_variant_imports_every_question_as_the_file_gives_it(path: Path) -> None:
    assert detect_format(path) == "fivethirtyeight-polls"
    parsed = parse(path, "fivethirtyeight-polls")
    rows = rows_of(path)
    assert parsed.rows == len(rows) and not parsed.skipped
    # Every question with every answer, its share as the file gives it (the file read here by name).
    expected: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        expected[f"538q:{row['question_id']}"][row["answer"]] = float(row["pct"])
    assert answers_by_question(parsed.document) == expected
    # One race per office the file covers, named by the file's office_type.
    offices = {OFFICE[row["office_type"]] for row in rows}
    assert {race["office"] for race in parsed.document["races"]} == offices
    assert all("FiveThirtyEight" in race["source"] for race in parsed.document["races"])


def test_house_polls_are_the_districts_races() -> None:
    parsed = parse(HOUSE, "fivethirtyeight-polls")
    races = {(r["cycle"], r["state"], r["seat"], r["special"]) for r in parsed.document["races"]}
    expected = set()
    for row in rows_of(HOUSE):
        cycle, state = int(row["cycle"]), state_code(row["state"])
        assert state is not None
        day = dt.datetime.strptime(row["election_date"], "%m/%d/%y").date() if row["election_date"] else None
        held_apart = day is not None and day != general_election_day(cycle)
        special = cycle % 2 == 1 or (row["stage"] == "general" and held_apart)
        seat = "AL" if house_districts(state, cycle) == 1 else str(int(row["seat_number"]))
        expected.add((cycle, state, seat, special))
    assert races == expected
    assert (2018, "MT", "AL", False) in races  # 538's "District 1" of a state with one district
    assert (2018, "PA", "18", True) in races  # the March 13, 2018 special


def test_president_polls_national_and_by_district() -> None:
    parsed = parse(PRESIDENT_2024, "fivethirtyeight-polls")
    races = {(r["state"], r["seat"]) for r in parsed.document["races"]}
    rows = rows_of(PRESIDENT_2024)
    assert ("US", "") in races  # the national polls (no state)
    national = {row["poll_id"] for row in rows if not row["state"]}
    us = next(r for r in parsed.document["races"] if r["state"] == "US")
    assert {p["key"].removeprefix("538:").split("/")[0] for p in us["polls"]} == national
    assert all(p["key"].split("#")[0].endswith("/president") for p in us["polls"])
    for row in rows:
        if " CD-" in row["state"]:
            name, district = row["state"].split(" CD-")
            assert (state_code(name), f"CD-{district}") in races


def test_the_2024_senate_polls_and_their_election_day() -> None:
    parsed = parse(SENATE_2024, "fivethirtyeight-polls")
    rows = rows_of(SENATE_2024)
    pa = [r for r in rows if r["state"] == "Pennsylvania"]
    race = next(r for r in parsed.document["races"] if (r["cycle"], r["state"]) == (2024, "PA"))
    assert (race["office"], race["seat"], race["special"]) == ("senate", "Class I", False)
    assert {p["key"] for p in race["polls"]} == {f"538:{r['poll_id']}" for r in pa}
    dates = {v for k, v in parsed.contest_dates.items() if k[:3] == (2024, "PA", "senate")}
    assert dates == {dt.datetime.strptime(r["election_date"], "%m/%d/%y").date().isoformat() for r in pa}


def test_a_poll_of_two_offices_is_kept_in_each() -> None:
    senate, governors = rows_of(POLLS), rows_of(GOVERNORS)
    both = {r["poll_id"] for r in senate} & {r["poll_id"] for r in governors}
    assert both  # 538 often asked about a state's Senate and governor races in one poll
    keys = {
        office: {p["key"] for r in parse(path, "fivethirtyeight-polls").document["races"] for p in r["polls"]}
        for office, path in (("senate", POLLS), ("governor", GOVERNORS))
    }
    assert not keys["senate"] & keys["governor"]
    assert {k.removeprefix("538:").split("/")[0].split("#")[0] for k in keys["governor"]} >= both


def test_governor_runoffs_of_odd_years(tmp_path: Path) -> None:
    parsed = parse(GOVERNORS, "fivethirtyeight-polls")
    louisiana = next(
        r
        for r in parsed.document["races"]
        if (r["cycle"], r["state"], r["office"]) == (2019, "LA", "governor")
    )
    stages = {q["stage"] for p in louisiana["polls"] for q in p["questions"]}
    # 538's "runoff" of Nov 16, 2019 follows Louisiana's Oct 12 ballot of every party: the general's runoff.
    assert stages == {"general runoff"}


def test_the_newer_layout_by_name_unknown_columns_ignored(tmp_path: Path) -> None:
    """The later layout's columns: url_* for url, a hypothetical column, ranked-choice rounds, grades."""
    rows = rows_of(SENATE_2024)
    header = [c for c in rows[0] if c != "url"] + [
        "url_article",
        "url_topline",
        "numeric_grade",
        "pollscore",
        "hypothetical",
        "endorsed_candidate_id",
        "endorsed_candidate_name",
        "endorsed_candidate_party",
    ]
    marked = rows[0]["question_id"]
    newer = []
    for row in rows:
        newer.append(
            {
                **row,
                "url_article": row["url"],
                "url_topline": "https://example.invalid/topline",
                "numeric_grade": "2.1",
                "pollscore": "-0.3",
                "hypothetical": "true" if row["question_id"] == marked else "false",
                "endorsed_candidate_name": "Somebody Else",
            }
        )
    # A ranked-choice question's second round repeats its candidates: left out.
    later = [
        {**row, "ranked_choice_round": "2", "pct": "99"} for row in newer if row["question_id"] == marked
    ]
    first = [{**row, "ranked_choice_round": "1"} if row["question_id"] == marked else row for row in newer]
    path = write(tmp_path / "senate_polls_newer.csv", header, first + later)
    assert detect_format(path) == "fivethirtyeight-polls"
    parsed = parse(path, "fivethirtyeight-polls")
    plain = parse(SENATE_2024, "fivethirtyeight-polls")
    assert answers_by_question(parsed.document) == answers_by_question(plain.document)
    assert any("ranked-choice" in note for note in parsed.notes)
    polls = {p["key"]: p for r in parsed.document["races"] for p in r["polls"]}
    assert all(p["url"] == next(r["url"] for r in rows if f"538:{r['poll_id']}" == key) or not p["url"]
               for key, p in polls.items())  # fmt: skip
    questions = {q["key"]: q for p in polls.values() for q in p["questions"]}
    assert questions[f"538q:{marked}"]["hypothetical"] is True  # as the file says
    assert all(q["hypothetical"] is False for key, q in questions.items() if key != f"538q:{marked}")


@pytest.mark.parametrize("column", ["pct", "question_id", "candidate_name", "office_type"])
def test_a_file_without_a_needed_column_fails_naming_it(tmp_path: Path, column: str) -> None:
    rows = rows_of(SENATE_2024)[:20]
    path = write(tmp_path / "no-column.csv", [c for c in rows[0] if c != column], rows)
    with pytest.raises(ParseError) as failed:
        parse(path, "fivethirtyeight-polls")
    message = str(failed.value)
    assert "\n" not in message and f"no column {column}" in message and message.startswith("line 1")


def test_the_historical_layout_reads_party_from_its_own_column() -> None:
    parsed = parse(HISTORICAL_AL, "fivethirtyeight-polls")
    parties = {row["candidate_name"]: row["party"] for row in rows_of(HISTORICAL_AL)}
    people = {c["name"]: c["party"] for c in parsed.document["candidates"]}
    assert people == {name: ("GRN" if party == "GRE" else party) for name, party in parties.items()}

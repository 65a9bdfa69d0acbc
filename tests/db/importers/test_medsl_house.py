"""MEDSL's House file and the Senate file extended with 2022, parsed alone (no database): every figure checked
against sums made here from the shipped files."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from db.importers import detect_format, parse
from db.importers.common import ParseError
from tests.support import MEDSL, MEDSL_2022, MEDSL_HOUSE


def house_rows(year: str, state: str, district: str) -> list[dict[str, str]]:
    with open(MEDSL_HOUSE, encoding="utf-8", newline="") as handle:
        return [
            r
            for r in csv.DictReader(handle)
            if (r["year"], r["state_po"], r["district"]) == (year, state, district)
        ]


def names_of(doc: dict[str, Any]) -> dict[str, str]:
    return {c["key"]: c["name"] for c in doc["candidates"]}


def house_race(doc: dict[str, Any], cycle: int, state: str, seat: str) -> dict[str, Any]:
    found = [
        r
        for r in doc["races"]
        if (r["office"], r["cycle"], r["state"], r["seat"]) == ("house", cycle, state, seat)
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def house() -> dict[str, Any]:
    return parse(MEDSL_HOUSE, "medsl").document


def test_the_house_file_is_read_by_its_column_names(house: dict[str, Any]) -> None:
    assert detect_format(MEDSL_HOUSE) == "medsl"
    with open(MEDSL_HOUSE, encoding="utf-8", newline="") as handle:
        districts = {(r["year"], r["state_po"], r["district"]) for r in csv.DictReader(handle)}
    assert len(house["races"]) == len(districts)
    assert {r["office"] for r in house["races"]} == {"house"}
    # at-large seats ("000") are "AL"; numbered ones lose their zeros
    assert {r["seat"] for r in house["races"] if r["state"] == "WY"} == {"AL"}
    assert {r["seat"] for r in house["races"] if r["state"] == "AL" and r["cycle"] == 2022} == {
        str(n) for n in range(1, 8)
    }


def test_a_fusion_candidate_is_one_candidacy_with_the_sum_of_the_lines(house: dict[str, Any]) -> None:
    rows = house_rows("2022", "NY", "003")
    lines: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if row["fusion_ticket"] == "TRUE" and row["party"]:
            lines[row["candidate"]][row["party"]] = int(row["candidatevotes"])
    assert len(lines) == 2 and all(len(by_line) == 2 for by_line in lines.values())
    race = house_race(house, 2022, "NY", "3")
    names = names_of(house)
    counted = {names[e["candidate"]].upper(): e for e in race["contests"][0]["candidates"]}
    for name, by_line in lines.items():
        entry = counted[name.replace(".", "")]
        assert entry["votes"] == sum(by_line.values())
        assert entry["party"] in ("DEM", "REP")  # the major party's line
        for votes in by_line.values():
            assert f"{votes:,}" in race["notes"]  # the lines stay visible


def test_state_affiliates_count_as_the_national_party(house: dict[str, Any]) -> None:
    rows = house_rows("2018", "MN", "005")
    omar = next(r for r in rows if r["candidate"] == "ILHAN OMAR")
    assert omar["party"] == "DEMOCRATIC-FARMER-LABOR"
    race = house_race(house, 2018, "MN", "5")
    names = names_of(house)
    entry = next(e for e in race["contests"][0]["candidates"] if names[e["candidate"]] == "Ilhan Omar")
    assert (entry["party"], entry["votes"], entry["outcome"]) == ("DEM", int(omar["candidatevotes"]), "won")


def test_an_uncertified_result_has_no_winner_and_says_why(house: dict[str, Any]) -> None:
    race = house_race(house, 2018, "NC", "9")
    contest = race["contests"][0]
    assert "Never certified" in race["notes"] and "call" not in contest
    assert {e["outcome"] for e in contest["candidates"]} == {"pending"}
    assert contest["status"] == "called" and contest["results"][0]["unofficial"] is True
    assert sorted(e["votes"] for e in contest["candidates"]) == sorted(
        int(r["candidatevotes"]) for r in house_rows("2018", "NC", "009")
    )


def test_an_unopposed_candidate_wins_with_no_votes_counted(house: dict[str, Any]) -> None:
    rows = house_rows("2022", "FL", "005")
    assert len(rows) == 1 and rows[0]["candidatevotes"] == rows[0]["totalvotes"] == "1"
    race = house_race(house, 2022, "FL", "5")
    (entry,) = race["contests"][0]["candidates"]
    assert (entry["votes"], entry["outcome"]) == (0, "won") and "Unopposed" in race["notes"]
    minus_one = house_race(house, 2020, "FL", "25")  # the file's -1 of -1
    assert minus_one["contests"][0]["candidates"][0]["votes"] == 0


def test_utf8_names_in_the_latin1_read_come_out_whole(house: dict[str, Any]) -> None:
    spellings = {s for c in house["candidates"] for s in [c["name"], *c["aliases"]]}
    assert "RAÚL M GRIJALVA" in spellings and "RAÃ\x9aL M GRIJALVA" not in spellings


def test_a_party_line_without_a_name_counts_for_its_candidate(house: dict[str, Any]) -> None:
    rows = house_rows("2022", "CT", "005")
    votes = {r["candidate"]: int(r["candidatevotes"]) for r in rows}
    race = house_race(house, 2022, "CT", "5")
    names = names_of(house)
    counted = {names[e["candidate"]]: e["votes"] for e in race["contests"][0]["candidates"]}
    assert counted == {
        "Jahana Hayes": votes["JAHANA HAYES"] + votes["WORKING FAMILIES"],
        "George Logan": votes["GEORGE LOGAN"] + votes["INDEPENDENT"],
    }


def test_a_results_file_without_a_party_column_fails_naming_it(tmp_path: Path) -> None:
    with open(MEDSL_HOUSE, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [c for c in reader.fieldnames or [] if c != "party"]
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(next(reader))
    path = tmp_path / "no-party.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    with pytest.raises(ParseError) as failed:
        parse(path, "medsl")
    assert str(failed.value).endswith("no column party_detailed or party")


def test_the_2022_senate_file_keeps_2018_and_2020_as_the_older_file_had_them() -> None:
    older = parse(MEDSL, "medsl", years=[2018, 2020]).document
    newer = parse(MEDSL_2022, "medsl", years=[2018, 2020]).document
    assert newer["races"] == older["races"] and newer["candidates"] == older["candidates"]


def test_georgias_2022_runoff_is_told_from_the_general_by_the_totals_the_rows_carry() -> None:
    with open(MEDSL_2022, encoding="latin-1", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if (r["year"], r["state_po"]) == ("2022", "GA")]
    by_total: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_total[row["totalvotes"]][row["candidate"]] = int(row["candidatevotes"])
    # each group of rows adds up to the total it carries; the run-off is the one between two candidates
    assert all(sum(group.values()) == int(total) for total, group in by_total.items())
    runoff = next(group for group in by_total.values() if len(group) == 2)
    general = next(group for group in by_total.values() if len(group) > 2)
    doc = parse(MEDSL_2022, "medsl", years=[2022]).document
    (race,) = [r for r in doc["races"] if r["state"] == "GA"]
    names = {key: name.upper() for key, name in names_of(doc).items()}
    stages = {
        c["stage"]: {names[e["candidate"]]: e["votes"] for e in c["candidates"]} for c in race["contests"]
    }
    assert stages == {"general": general, "general runoff": runoff}
    dates = {c["stage"]: c["date"] for c in race["contests"]}
    assert dates == {"general": "2022-11-08", "general runoff": "2022-12-06"}
    assert race["source"].startswith("U.S. Senate 2022")

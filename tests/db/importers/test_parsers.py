"""The parsers alone (no database): figures checked against independent sums of the files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import xlrd

from db.bootstrap import SAMPLE
from db.importers import FORMATS, UnknownFormat, detect_format, parse
from db.importers.al_sos import totals_document
from db.importers.common import (
    STATE_CLASSES,
    ParseError,
    general_election_day,
    regular_class,
    senate_seat,
)
from db.importers.openelections import election_from_name
from tests.support import HISTORICAL_AL, MEDSL, POLLS, PRIMARY_TOTALS, PRIMARY_ZIP, SPECIAL_2017, csv_sum


def race_of(doc: dict[str, Any], cycle: int, state: str, special: bool = False) -> dict[str, Any]:
    found = [r for r in doc["races"] if (r["cycle"], r["state"], r["special"]) == (cycle, state, special)]
    assert len(found) == 1, found
    return found[0]


def contest_of(race: dict[str, Any], stage: str, party: str = "") -> dict[str, Any]:
    found = [c for c in race["contests"] if (c["stage"], c.get("party") or "") == (stage, party)]
    assert len(found) == 1, [c["stage"] for c in race["contests"]]
    return found[0]


def by_name(doc: dict[str, Any], contest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = {c["key"]: c["name"] for c in doc["candidates"]}
    return {names[entry["candidate"]]: entry for entry in contest["candidates"]}


# --- detecting formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (POLLS, "fivethirtyeight-polls"),
        (HISTORICAL_AL, "fivethirtyeight-polls"),
        (MEDSL, "medsl"),
        (SPECIAL_2017, "openelections"),
        (PRIMARY_ZIP, "al-sos-primary"),
        (SAMPLE, "racedesk"),
    ],
)
def test_detect_format_reads_the_header_not_the_name(path: Path, fmt: str, tmp_path: Path) -> None:
    assert detect_format(path) == fmt
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == fmt
    assert fmt in FORMATS


def test_detect_format_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UnknownFormat):
        detect_format(other)
    json_file = tmp_path / "other.json"
    json_file.write_text('{"format": "something/2"}')
    with pytest.raises(UnknownFormat):
        detect_format(json_file)


# --- the calendar -------------------------------------------------------------------------------


def test_state_classes_agree_with_medsl_regular_elections() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    with open(MEDSL, encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["special"] == "FALSE" and int(row["year"]) % 2 == 0:
                seen[row["state_po"]].add(regular_class(int(row["year"])) or "")
    assert {state: set(classes) for state, classes in STATE_CLASSES.items()} == seen


def test_seats_of_the_specials_the_brief_names() -> None:
    assert senate_seat(2017, "AL", True) == "Class II"
    assert senate_seat(2018, "MN", True) == senate_seat(2018, "MS", True) == "Class II"
    assert senate_seat(2020, "AZ", True) == senate_seat(2020, "GA", True) == "Class III"
    assert senate_seat(2018, "TX", False) == "Class I"
    assert senate_seat(2020, "AL", False) == "Class II"
    assert general_election_day(2020).isoformat() == "2020-11-03"
    assert general_election_day(2018).isoformat() == "2018-11-06"


# --- MEDSL --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def medsl() -> Any:
    return parse(MEDSL, "medsl", years=[2018, 2020])


def test_medsl_alabama_2020_general_matches_the_file(medsl: Any) -> None:
    doc = medsl.document
    race = race_of(doc, 2020, "AL")
    assert (race["seat"], race["office"]) == ("Class II", "senate")
    general = contest_of(race, "general")
    assert general["date"] == "2020-11-03"
    people = by_name(doc, general)
    al = {"year": "2020", "state_po": "AL", "writein": "FALSE"}
    tuberville = csv_sum(MEDSL, {**al, "candidate": "TOMMY TUBERVILLE"}, "candidatevotes", encoding="latin-1")
    jones = csv_sum(MEDSL, {**al, "candidate": "DOUG JONES"}, "candidatevotes", encoding="latin-1")
    assert (tuberville, jones) == (1_392_076, 920_478)
    assert people["Tommy Tuberville"]["votes"] == tuberville
    assert people["Doug Jones"]["votes"] == jones
    assert people["Tommy Tuberville"]["outcome"] == "won" and people["Doug Jones"]["outcome"] == "lost"
    assert people["Doug Jones"]["party"] == "DEM"
    result = general["results"][0]
    assert result["other"] == {"writein": 3_891}
    assert result["unofficial"] is False and general["status"] == "certified"
    assert general["call"]["kind"] == "winner" and general["call"]["source"] == "MEDSL"
    totals = csv_sum(MEDSL, {"year": "2020", "state_po": "AL"}, "candidatevotes", encoding="latin-1")
    assert sum(result["counts"].values()) + sum(result["other"].values()) == totals == 2_316_445


def test_medsl_georgia_2020_runoffs_belong_to_the_2020_races(medsl: Any) -> None:
    doc = medsl.document
    regular, special = race_of(doc, 2020, "GA"), race_of(doc, 2020, "GA", special=True)
    assert (regular["seat"], special["seat"]) == ("Class II", "Class III")
    assert not any(r["cycle"] == 2021 for r in doc["races"])
    for race, winner, loser in (
        (regular, "Jon Ossoff", "David A. Perdue"),
        (special, "Raphael Warnock", "Kelly Loeffler"),
    ):
        general, runoff = contest_of(race, "general"), contest_of(race, "general runoff")
        assert runoff["date"] == "2021-01-05"
        assert general["call"]["kind"] == "runoff"
        first_round = by_name(doc, general)
        assert first_round[winner]["outcome"] == first_round[loser]["outcome"] == "advanced"
        assert {e["outcome"] for n, e in first_round.items() if n not in (winner, loser)} <= {"lost"}
        second = by_name(doc, runoff)
        assert (second[winner]["outcome"], second[loser]["outcome"]) == ("won", "lost")
        assert runoff["results"][0]["unofficial"] is True and runoff["status"] == "called"
        special_flag = "TRUE" if race is special else "FALSE"
        for name in (winner, loser):
            expected = csv_sum(
                MEDSL,
                {"year": "2021", "state_po": "GA", "special": special_flag, "candidate": name.upper()},
                "candidatevotes",
                encoding="latin-1",
            )
            assert second[name]["votes"] == expected > 2_000_000
    assert len(contest_of(special, "general")["candidates"]) == 20


def test_medsl_maine_2020_keeps_blank_votes_and_write_ins_apart(medsl: Any) -> None:
    doc = medsl.document
    general = contest_of(race_of(doc, 2020, "ME"), "general")
    people = by_name(doc, general)
    assert people["Susan Margaret Collins"]["votes"] == 417_645
    assert people["Sara I. Gideon"]["votes"] == 347_223
    assert people["Susan Margaret Collins"]["outcome"] == "won"
    assert general["results"][0]["other"] == {"under": 9_122, "writein": 228}
    assert sum(e["votes"] for e in general["candidates"]) + 9_122 + 228 == 828_305


def test_medsl_years_option_and_corrections(medsl: Any) -> None:
    assert {r["cycle"] for r in medsl.document["races"]} == {2018, 2020}
    everything = parse(MEDSL, "medsl")
    assert min(r["cycle"] for r in everything.document["races"]) == 1976
    assert len(everything.document["races"]) > len(medsl.document["races"])
    # MEDSL files the Nov 27, 2018 Mississippi run-off as the special's general.
    ms = race_of(medsl.document, 2018, "MS", special=True)
    assert [c["stage"] for c in ms["contests"]] == ["general runoff"]
    assert any("MS special" in note for note in medsl.notes)
    assert any("NONE OF THESE CANDIDATES" in note for note in medsl.notes)


def test_medsl_fusion_lines_are_one_candidacy(medsl: Any) -> None:
    general = contest_of(race_of(medsl.document, 2018, "NY"), "general")
    gillibrand = by_name(medsl.document, general)["Kirsten E. Gillibrand"]
    assert gillibrand["party"] == "DEM"
    assert gillibrand["votes"] == 3_755_489 + 160_128 + 99_325 + 41_989


# --- OpenElections ------------------------------------------------------------------------------


def test_openelections_2017_special_matches_the_precinct_sums() -> None:
    parsed = parse(SPECIAL_2017)
    race = race_of(parsed.document, 2017, "AL", special=True)
    assert race["seat"] == "Class II"
    general = contest_of(race, "general")
    assert general["date"] == "2017-12-12"
    office = {"office": "UNITED STATES SENATOR"}
    jones = csv_sum(SPECIAL_2017, {**office, "candidate": "Doug Jones"}, "votes")
    moore = csv_sum(SPECIAL_2017, {**office, "candidate": "Roy S. Moore"}, "votes")
    writein = csv_sum(SPECIAL_2017, {**office, "candidate": "Write-In"}, "votes")
    under = csv_sum(SPECIAL_2017, {**office, "candidate": "Under Votes"}, "votes")
    over = csv_sum(SPECIAL_2017, {**office, "candidate": "Over Votes"}, "votes")
    assert (jones, moore, writein) == (673_352, 650_940, 21_464)
    people = by_name(parsed.document, general)
    assert people["Doug Jones"]["votes"] == jones and people["Doug Jones"]["outcome"] == "won"
    assert people["Roy S. Moore"]["votes"] == moore and people["Roy S. Moore"]["outcome"] == "lost"
    assert general["results"][0]["other"] == {"over": over, "under": under, "writein": writein}
    assert set(people) == {"Doug Jones", "Roy S. Moore"}


def test_openelections_file_names() -> None:
    special = election_from_name("20171212__al__special__general__precinct.csv")
    assert (special.cycle, special.state, special.stage, special.special, special.level) == (
        2017,
        "AL",
        "general",
        True,
        "precinct",
    )
    runoff = election_from_name("20210105__ga__general__runoff__precinct.csv")
    assert (runoff.cycle, runoff.stage) == (2020, "general runoff")
    primary = election_from_name("20200714__al__primary__runoff__county.csv")
    assert (primary.stage, primary.level) == ("primary runoff", "county")
    with pytest.raises(ParseError):
        election_from_name("results.csv")


def test_openelections_reads_only_senate_offices(tmp_path: Path) -> None:
    path = tmp_path / "20201103__xx__general__county.csv"
    path.write_text(
        "county,precinct,office,district,party,candidate,votes\n"
        "A,,US Senate,,DEM,Ann Example,10\n"
        "A,,United States Senator,,REP,Bob Example,7\n"
        "A,,State Senate,3,REP,Carl Example,99\n"
        "A,,U.S. House,1,REP,Dan Example,99\n"
        "B,,U.S. Senate,,DEM,Ann Example,5\n"
        "B,,U.S. Senate,,,Write-ins,2\n"
    )
    path = path.rename(tmp_path / "20201103__al__general__county.csv")
    parsed = parse(path, "openelections")
    general = contest_of(race_of(parsed.document, 2020, "AL"), "general")
    assert {n: e["votes"] for n, e in by_name(parsed.document, general).items()} == {
        "Ann Example": 15,
        "Bob Example": 7,
    }
    assert general["results"][0]["other"] == {"writein": 2}


# --- the Alabama Secretary of State's primary sheets ---------------------------------------------

FACTS_PRIMARY = {
    "Tommy Tuberville": 239_604,
    "Jeff Sessions": 227_082,
    "Bradley Byrne": 178_626,
    "Roy Moore": 51_382,
    "Ruth Page Nelson": 7_200,
    "Arnold Mooney": 7_140,
    "Stanley Adair": 6_608,
}


def test_al_primary_sums_the_67_county_workbooks() -> None:
    independent: Counter[str] = Counter()
    with zipfile.ZipFile(PRIMARY_ZIP) as archive:
        members = [m for m in archive.namelist() if m.endswith(".xls")]
        for member in members:
            sheet = xlrd.open_workbook(file_contents=archive.read(member)).sheet_by_name("Precinct Results")
            for index in range(1, sheet.nrows):
                row = sheet.row_values(index)
                if row[0].strip() == "UNITED STATES SENATOR" and row[1].strip() == "REP":
                    independent[row[2].strip()] += int(sum(v for v in row[3:] if isinstance(v, float)))
    assert len(members) == 67
    parsed = parse(PRIMARY_ZIP)
    race = race_of(parsed.document, 2020, "AL")
    primary = contest_of(race, "primary", "REP")
    assert primary["date"] == "2020-03-03"
    people = {n: e["votes"] for n, e in by_name(parsed.document, primary).items()}
    assert people == {n: v for n, v in independent.items() if "Votes" not in n} == FACTS_PRIMARY
    assert primary["results"][0]["other"] == {
        "over": independent["Over Votes"],
        "under": independent["Under Votes"],
    }
    outcomes = {n: e["outcome"] for n, e in by_name(parsed.document, primary).items()}
    assert outcomes["Tommy Tuberville"] == outcomes["Jeff Sessions"] == "advanced"
    assert outcomes["Bradley Byrne"] == "lost"
    assert primary["call"]["kind"] == "runoff"


def test_the_shipped_primary_totals_are_the_zips_sums() -> None:
    shipped = json.loads(PRIMARY_TOTALS.read_text(encoding="utf-8"))
    assert shipped == totals_document(PRIMARY_ZIP)
    assert shipped["source"].endswith(
        f"sha256 {hashlib.sha256(PRIMARY_ZIP.read_bytes()).hexdigest()}; made by python -m db.importers.al_totals"
    )
    from_totals, from_zip = parse(PRIMARY_TOTALS, "al-sos-primary"), parse(PRIMARY_ZIP)
    assert from_totals.format == from_zip.format == "al-sos-primary"
    assert from_totals.document["races"] == from_zip.document["races"]
    assert detect_format(PRIMARY_TOTALS) == "racedesk"  # what it is; the default build names the format


# --- FiveThirtyEight ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def polls() -> Any:
    return parse(POLLS, "fivethirtyeight-polls")


def test_538_alabama_2020_polls_and_questions(polls: Any) -> None:
    with open(POLLS, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["state"] == "Alabama" and r["cycle"] == "2020"]
    race = race_of(polls.document, 2020, "AL")
    assert (race["seat"], race["special"]) == ("Class II", False)
    assert len(race["polls"]) == len({r["poll_id"] for r in rows}) == 18
    assert sum(len(p["questions"]) for p in race["polls"]) == len({r["question_id"] for r in rows}) == 27
    aum = next(p for p in race["polls"] if p["key"] == "538:67048")
    assert (aum["pollster"], aum["start"], aum["end"], aum["n"], aum["population"]) == (
        "Auburn University at Montgomery",
        "2020-07-02",
        "2020-07-09",
        558,
        "rv",
    )
    questions = {q["key"]: q for q in aum["questions"]}
    assert questions["538q:125275"]["hypothetical"] is True  # Sessions vs Jones
    assert questions["538q:125276"]["hypothetical"] is False  # Tuberville vs Jones
    assert {a["choice"]: a["pct"] for a in questions["538q:125276"]["answers"]} == {
        "Tuberville": 43.9,
        "Jones": 35.5,
    }


def test_538_stages_and_races(polls: Any) -> None:
    doc = polls.document
    ga_special = race_of(doc, 2020, "GA", special=True)
    assert ga_special["seat"] == "Class III"
    stages = Counter(q["stage"] for p in ga_special["polls"] for q in p["questions"])
    assert set(stages) == {"general", "general runoff"}  # 538's Nov 3 "jungle primary" is the general
    ga_regular = race_of(doc, 2020, "GA")
    assert {q["stage"] for p in ga_regular["polls"] for q in p["questions"]} == {"general", "general runoff"}
    assert {r["cycle"] for r in doc["races"]} == {2018, 2020, 2022}
    assert not any(r["cycle"] == 2021 for r in doc["races"])
    mn = [r for r in doc["races"] if (r["cycle"], r["state"]) == (2018, "MN")]
    assert {(r["seat"], r["special"]) for r in mn} == {("Class I", False), ("Class II", True)}
    # a poll asking about both Georgia races is one poll per race, with keys of their own
    keys = [p["key"] for r in doc["races"] for p in r["polls"]]
    assert len(keys) == len(set(keys))
    assert {"538:73993#GA-II", "538:73993#GA-III"} <= set(keys)
    parties = {c["party"] for c in doc["candidates"]}
    assert "GRN" in parties and "GRE" not in parties


def test_538_cycles_option(polls: Any) -> None:
    only = parse(POLLS, "fivethirtyeight-polls", cycles=[2018, 2020])
    assert {r["cycle"] for r in only.document["races"]} == {2018, 2020}


def test_538_historical_variant_reads_the_same(polls: Any) -> None:
    parsed = parse(HISTORICAL_AL)
    race = race_of(parsed.document, 2020, "AL")
    names = {c["name"] for c in parsed.document["candidates"]}
    assert "Gordon Douglas Jones" in names
    current = race_of(polls.document, 2020, "AL")
    assert sorted(p["key"] for p in race["polls"]) == sorted(p["key"] for p in current["polls"])
    hypothetical = {q["key"]: q["hypothetical"] for p in race["polls"] for q in p["questions"]}
    assert hypothetical["538q:125275"] is True and hypothetical["538q:125276"] is False


# --- bad lines ----------------------------------------------------------------------------------


def test_a_bad_line_stops_the_parse_with_its_number(tmp_path: Path) -> None:
    lines = MEDSL.read_text(encoding="latin-1").splitlines(keepends=True)
    broken = lines[:]
    broken[100] = broken[100].replace(',FALSE,"total",', ',FALSE,"total",x')
    path = tmp_path / "broken.csv"
    path.write_text("".join(broken), encoding="latin-1")
    with pytest.raises(ParseError) as problem:
        parse(path, "medsl")
    assert problem.value.line == 101
    assert "line 101" in str(problem.value)
    skipped = parse(path, "medsl", skip_bad=True)
    assert [b.line for b in skipped.skipped] == [101]


def test_a_bad_pct_in_a_538_file(tmp_path: Path) -> None:
    text = POLLS.read_text(encoding="utf-8").splitlines(keepends=True)
    text[5] = text[5].rstrip("\n").rsplit(",", 1)[0] + ",lots\n"
    path = tmp_path / "polls.csv"
    path.write_text("".join(text), encoding="utf-8")
    with pytest.raises(ParseError) as problem:
        parse(path)
    assert problem.value.line == 6
    assert [b.line for b in parse(path, skip_bad=True).skipped] == [6]


def test_parsers_take_open_files() -> None:
    with open(POLLS, "rb") as binary:
        assert parse(binary, "fivethirtyeight-polls").rows == 4_620
    text = io.StringIO(SPECIAL_2017.read_text())
    parsed = parse(text, "openelections", name=SPECIAL_2017.name)
    assert parsed.document["races"][0]["cycle"] == 2017


def test_racedesk_documents_pass_through() -> None:
    parsed = parse(SAMPLE)
    assert parsed.format == "racedesk" and parsed.document["format"] == "racedesk/1"

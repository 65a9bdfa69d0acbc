"""db/importers/common.py: what every importer shares, each piece with the answers people see in an import's
report or in the store (names, parties, seats, dates, bad lines, the finished count's call)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from db.importers.common import (
    BadLine,
    BadLines,
    DocumentBuilder,
    ParseError,
    bounded_lines,
    csv_rows,
    display_name,
    final_count,
    general_election_day,
    needs_majority,
    open_binary,
    open_text,
    parse_us_date,
    party_538,
    party_medsl,
    person_key,
    regular_class,
    senate_seat,
    settle,
    source_name,
    state_code,
)

# --- bad lines ----------------------------------------------------------------------------------


def test_a_bad_line_says_the_file_and_the_line_it_is_on() -> None:
    assert BadLine(7, "no votes").describe() == "line 7: no votes"
    assert BadLine(7, "no votes", file="AL.csv").describe() == "AL.csv line 7: no votes"
    assert BadLine(0, "empty", file="AL.csv").describe() == "AL.csv: empty"
    assert BadLine(0, "empty").describe() == "empty"
    error = ParseError(BadLine(12, "not a date"))
    assert (str(error), error.line) == ("line 12: not a date", 12)


def test_bad_lines_stop_the_import_unless_skipped_and_keep_300_characters() -> None:
    with pytest.raises(ParseError, match=r"^line 3: why$"):
        BadLines(skip_bad=False).add(3, "why", "text")
    kept = BadLines(skip_bad=True)
    kept.add(3, "why", "x" * 301, file="f.csv")
    kept.add(4, "again")
    assert kept.lines == [BadLine(3, "why", "x" * 300, "f.csv"), BadLine(4, "again", "", None)]


def rows_of(
    text: str, required: set[str], skip_bad: bool = True
) -> tuple[list[tuple[int, dict[str, str]]], BadLines]:
    bad = BadLines(skip_bad)
    return list(csv_rows(io.StringIO(text), required, bad, "test")), bad


def test_csv_rows_number_each_row_by_its_line_and_skip_the_malformed_ones() -> None:
    rows, bad = rows_of("a,b\n1,2\n3,4,5\n6\n7,8\n9,\x07\n10,11\n", {"a", "b"})
    assert rows == [(2, {"a": "1", "b": "2"}), (5, {"a": "7", "b": "8"}), (7, {"a": "10", "b": "11"})]
    assert [(b.line, b.reason) for b in bad.lines] == [
        (3, "3 fields, the header has 2"),
        (4, "fewer fields than the header's 2"),
        (6, "column b holds a control character (U+0007) at position 1."),
    ]


def test_csv_rows_stop_at_a_header_without_the_columns_or_without_anything() -> None:
    with pytest.raises(ParseError) as caught:
        rows_of("a,c\n1,2\n", {"a", "b", "d"})
    assert str(caught.value) == "line 1: not a test file: no column b, d"
    with pytest.raises(ParseError) as caught:
        rows_of("", {"a"})
    assert str(caught.value) == "line 1: not a test file: it is empty"
    with pytest.raises(ParseError, match=r"^line 2: 3 fields, the header has 2$"):
        rows_of("a,b\n1,2,3\n", {"a"}, skip_bad=False)


def test_what_python_s_csv_reader_refuses_stops_the_import_with_its_line() -> None:
    huge = "x" * 200_000  # over the csv module's field limit
    with pytest.raises(ParseError) as caught:
        rows_of(f"{huge},b\n1,2\n", {"b"})
    assert (caught.value.line, str(caught.value)) == (
        1,
        "line 1: not a CSV header: field larger than field limit (131072)",
    )
    with pytest.raises(ParseError) as caught:
        rows_of(f"a,b\n1,2\n{huge},3\n", {"a"})
    assert (caught.value.line, str(caught.value)) == (
        3,
        "line 3: not CSV: field larger than field limit (131072)",
    )


def test_a_line_longer_than_the_limit_is_refused_not_read_whole() -> None:
    assert list(bounded_lines(io.StringIO("abc\ndef"), limit=4)) == ["abc\n", "def"]
    assert list(bounded_lines(io.StringIO("abcd"), limit=4)) == ["abcd"]
    assert list(bounded_lines(io.StringIO("abcd\nx"), limit=4)) == [
        "abcd\n",
        "x",
    ]  # the line break is no character
    with pytest.raises(ParseError, match=r"^line 1: "):
        list(bounded_lines(io.StringIO("abcde"), limit=4))
    with pytest.raises(ParseError, match=r"^line 1: "):  # one character over, with its line break after
        list(bounded_lines(io.StringIO("abcde\n"), limit=4))
    with pytest.raises(ParseError) as caught:
        list(bounded_lines(io.StringIO("ab\nabcdef\n"), limit=4))
    assert (caught.value.line, str(caught.value)) == (2, "line 2: a line longer than 4 characters")
    with pytest.raises(ParseError, match="longer than 1,048,576 characters"):
        list(bounded_lines(io.StringIO("x" * (1024 * 1024 + 1))))


# --- files --------------------------------------------------------------------------------------


def test_a_source_is_named_by_its_file_name(tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    path.write_text("a\n")
    assert source_name(path) == source_name(str(path)) == "polls.csv"
    with open(path, "rb") as handle:
        assert source_name(handle) == "polls.csv"
    assert source_name(io.BytesIO(b"")) == "<stream>"


def test_text_is_read_from_paths_text_streams_and_binary_streams(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname\r\nJosé\r\n".encode())
    with open_text(path) as stream:
        assert stream.read() == "name\r\nJosé\r\n"  # the byte-order mark dropped, line ends kept for csv
    with open_text(io.StringIO("as text")) as stream:
        assert stream.read() == "as text"
    binary = io.BytesIO("\ufeffJosé".encode())
    with open_text(binary) as stream:
        assert stream.read() == "José"
    assert not binary.closed  # the caller's file stays open
    with open_text(io.BytesIO("Jos\xe9".encode("latin-1")), encoding="latin-1") as stream:
        assert stream.read() == "José"
    with open(path, encoding="utf-8") as text_file, open_text(text_file) as stream:
        assert stream is text_file


def test_binary_formats_take_paths_and_binary_files_but_not_text(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01")
    with open_binary(path) as handle:
        assert handle.read() == b"\x00\x01"
    with open_binary(io.BytesIO(b"raw")) as handle:
        assert handle.read() == b"raw"
    with pytest.raises(TypeError, match="needs a binary file"), open_binary(io.StringIO("text")):
        pass


# --- the calendar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "day"),
    [(2020, "2020-11-03"), (2018, "2018-11-06"), (2016, "2016-11-08"), (2022, "2022-11-08"),
     (2014, "2014-11-04"), (2010, "2010-11-02"), (2015, "2015-11-03"), (2021, "2021-11-02")],
)  # fmt: skip
def test_the_general_election_is_the_tuesday_after_the_first_monday_of_november(year: int, day: str) -> None:
    found = general_election_day(year)
    assert found.isoformat() == day and found.weekday() == 1
    first_monday = next(dt.date(year, 11, d) for d in range(1, 8) if dt.date(year, 11, d).weekday() == 0)
    assert found == first_monday + dt.timedelta(days=1)


def test_the_class_up_each_cycle_repeats_every_six_years() -> None:
    assert [regular_class(y) for y in range(2012, 2026)] == [
        "Class I", None, "Class II", None, "Class III", None,
        "Class I", None, "Class II", None, "Class III", None, "Class I", None,
    ]  # fmt: skip


def test_a_special_gets_the_class_the_calendar_leaves_or_none_when_it_cannot_tell() -> None:
    # Oklahoma holds Classes II and III; in 2020 Class II is regularly up, so a special is for Class III.
    assert senate_seat(2020, "OK", True) == "Class III"
    # Both of Oregon's classes (II and III) are possible in 2018 (Class I up): the record must say.
    assert senate_seat(2018, "OR", True) is None
    assert senate_seat(2019, "OR", True) is None  # an odd year: no class is regularly up
    assert senate_seat(2021, "KY", False) is None
    assert senate_seat(2020, "XX", True) is None
    assert senate_seat(2010, "DE", True) == "Class II"  # known, though the calendar would say so too


@pytest.mark.parametrize(
    ("state", "special", "stage", "needed"),
    [
        ("GA", False, "general", True),
        ("LA", False, "general", True),
        ("MS", False, "general", False),
        ("MS", True, "general", True),
        ("AL", True, "general", False),
        ("AL", False, "primary", True),
        ("TX", False, "primary", True),
        ("CA", False, "primary", False),
        ("GA", False, "runoff", False),
        ("GA", False, "primary runoff", False),
    ],
)
def test_which_contests_need_a_majority(state: str, special: bool, stage: str, needed: bool) -> None:
    assert needs_majority(state, special, stage) is needed


def test_the_default_stage_is_the_general() -> None:
    assert needs_majority("GA", False) is True and needs_majority("AL", False) is False


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Alabama", "AL"), ("AL", "AL"), (" al ", "AL"), ("north carolina", "NC"), ("District of Columbia", "DC"),
     ("Puerto Rico", "PR"), ("Atlantis", None), ("", None), ("ALA", None)],
)  # fmt: skip
def test_states_by_name_or_code(typed: str, code: str | None) -> None:
    assert state_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "day"),
    [("7/14/20", dt.date(2020, 7, 14)), ("11/3/2020", dt.date(2020, 11, 3)), (" 1/5/21 ", dt.date(2021, 1, 5)),
     ("12/31/99", dt.date(2099, 12, 31)), ("1/1/100", dt.date(100, 1, 1))],
)  # fmt: skip
def test_538_dates(typed: str, day: dt.date) -> None:
    assert parse_us_date(typed) == day


# --- parties and names --------------------------------------------------------------------------


def test_538_party_codes() -> None:
    assert [party_538(c) for c in ("dem", " REP ", "GRE", "LIB", "", "  ")] == [
        "DEM", "REP", "GRN", "LIB", None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("detailed", "simplified", "code"),
    [
        ("DEMOCRAT", "DEMOCRAT", "DEM"),
        ("REPUBLICAN (NOT IDENTIFIED ON BALLOT)", "", "REP"),
        ("democratic-farmer-labor", "DEMOCRAT", "DEM"),  # named by its simplified party
        ("INDEPENDENT FOR MAINE", "OTHER", "OTH"),
        ("NA", "NA", None),
        ("", "", None),
        ("", "LIBERTARIAN", "LIB"),
        ("SOMETHING NEW", "NA", "OTH"),
        ("NA", "OTHER", None),  # "other" names no party: with no detailed party, none
        ("", "OTHER", None),
    ],
)
def test_medsl_parties(detailed: str, simplified: str, code: str | None) -> None:
    assert party_medsl(detailed, simplified) == code


@pytest.mark.parametrize(
    ("upper", "readable"),
    [
        ("ANGUS S. KING, JR.", "Angus S. King, Jr."),
        ("JOHN MCCAIN", "John McCain"),
        ("BETO O'ROURKE", "Beto O'Rourke"),
        ("MARY-JANE SMITH-JONES", "Mary-Jane Smith-Jones"),
        ("WILLIAM JONES III", "William Jones III"),
        ('JOHN "JACK" REED', 'John "Jack" Reed'),
        ('JOHN "MJ" HEGAR', 'John "MJ" Hegar'),
        ("ROBERT (BOB) CASEY", "Robert (Bob) Casey"),
        ("MC", "Mc"),
        ("O'", "O'"),
        ("J.R.R. TOLKIEN", "J.R.R. Tolkien"),
        ("JUAN DE LA CRUZ", "Juan De La Cruz"),
        ("  DOUG   JONES ", "Doug Jones"),
        ("Doug Jones", "Doug Jones"),
        ("ROBERT (IV) SMITH", "Robert (IV) Smith"),
        ('"', '"'),
        ("JOHN SMITH II", "John Smith II"),
        ("JOHN SMITH IV", "John Smith IV"),
        ("XAVIER BECERRA", "Xavier Becerra"),
        ("MCA MCAY", "Mca McAy"),  # "Mc" and "O'" raise the next letter only with more after it
        ("JANE SMITH-(", "Jane Smith-("),
    ],
)
def test_upper_case_names_are_made_readable(upper: str, readable: str) -> None:
    assert display_name(upper) == readable


def test_a_person_key_holds_the_source_the_state_and_the_folded_name() -> None:
    assert person_key("538", "AL", "Doug Jones, Jr.") == "538:AL:doug-jones"
    assert person_key("medsl", None, "Roy S. Moore") == "medsl:-:roy-s-moore"


# --- building documents -------------------------------------------------------------------------


def test_a_person_seen_under_several_parties_gets_the_one_seen_most_and_every_spelling() -> None:
    builder = DocumentBuilder("test")
    for party in ("REP", "IND", "IND", "REP", "REP"):
        builder.candidate("k", "Roy Moore", party=party, state="AL")
    builder.candidate("k", "ROY MOORE", party=None, state="AL", alias="Judge Moore")
    builder.candidate("k", "Roy Moore", party=None, state="AL", alias="Judge Moore")
    builder.candidate("j", "Doug Jones", party="DEM", state="AL")
    builder.candidate("j", "Doug Jones", party="IND", state="AL")  # a tie: the latest wins
    doc = builder.document()
    assert doc["format"] == "racedesk/1" and doc["source"] == "test" and doc["races"] == []
    # The one seen most often first: a store meeting a person first names them by it.
    assert doc["candidates"] == [
        {
            "key": "k",
            "name": "Roy Moore",
            "party": "REP",
            "state": "AL",
            "aliases": ["Judge Moore", "ROY MOORE"],
        },
        {"key": "j", "name": "Doug Jones", "party": "IND", "state": "AL", "aliases": []},
    ]


def test_a_party_seen_less_often_does_not_replace_the_one_seen_most() -> None:
    builder = DocumentBuilder("test")
    for party in ("DEM", "DEM", "WFP"):
        builder.candidate("k", "Name", party=party, state=None)
    assert builder.document()["candidates"][0]["party"] == "DEM"


def test_races_merge_by_their_natural_key_and_come_out_in_order_with_contests_by_date() -> None:
    builder = DocumentBuilder("test")
    late = builder.race(2020, "GA", "Class III", True, notes=None, source="file")
    late["contests"] += [{"stage": "general", "date": "2020-11-03"}, {"stage": "runoff", "date": None},
                         {"stage": "general runoff", "date": "2021-01-05"}]  # fmt: skip
    assert builder.race(2020, "GA", "Class III", True, notes="ignored") is late
    early = builder.race(2018, "GA", "Class II", False)
    early["polls"].append({"key": "p"})
    doc = builder.document()
    assert [(r["cycle"], r["seat"]) for r in doc["races"]] == [(2018, "Class II"), (2020, "Class III")]
    first, second = doc["races"]
    assert first["polls"] == [{"key": "p"}] and "polls" not in second
    assert second["source"] == "file" and "notes" not in second and second["office"] == "senate"
    assert [c["stage"] for c in second["contests"]] == ["runoff", "general", "general runoff"]
    assert late["polls"] == []  # the builder's own race is left as it was


# --- settling a finished count ------------------------------------------------------------------


def test_a_tie_at_the_top_is_too_close_unless_a_runoff_follows() -> None:
    ranked = [("a", 50), ("b", 50), ("c", 1)]
    assert settle(ranked, 101, majority=False, runoff_follows=False) == (
        {"a": "pending", "b": "pending", "c": "pending"},
        {"kind": "too close", "candidates": []},
    )
    assert settle(ranked, 101, majority=False, runoff_follows=True) == (
        {"a": "advanced", "b": "advanced", "c": "lost"},
        {"kind": "runoff", "candidates": ["a", "b"]},
    )


def test_a_tie_of_two_is_too_close() -> None:
    assert settle([("a", 7), ("b", 7)], 14, majority=False, runoff_follows=False) == (
        {"a": "pending", "b": "pending"},
        {"kind": "too close", "candidates": []},
    )


def test_a_finished_primary_before_a_runoff_sends_the_top_two_on() -> None:
    entry = final_count(
        [("a", 60, None), ("b", 30, None), ("c", 10, None)],
        {},
        100,
        majority=False,
        runoff_follows=True,
        taken=None,
        unofficial=False,
        basis=None,
        source="s",
        call_source="s",
    )
    assert [c["outcome"] for c in entry["candidates"]] == ["advanced", "advanced", "lost"]
    assert entry["call"]["kind"] == "runoff" and entry["call"]["candidates"] == ["a", "b"]


def test_a_majority_is_more_than_half() -> None:
    exactly_half = settle([("a", 50), ("b", 30), ("c", 20)], 100, majority=True, runoff_follows=False)
    assert exactly_half[1] == {"kind": "runoff", "candidates": ["a", "b"]}
    over_half = settle([("a", 51), ("b", 30), ("c", 19)], 100, majority=True, runoff_follows=False)
    assert over_half == ({"a": "won", "b": "lost", "c": "lost"}, {"kind": "winner", "candidates": ["a"]})
    plurality = settle([("a", 40), ("b", 35), ("c", 25)], 100, majority=False, runoff_follows=False)
    assert plurality[1] == {"kind": "winner", "candidates": ["a"]}
    assert settle([("a", 0), ("b", 0)], 0, majority=True, runoff_follows=True)[1] == {
        "kind": "runoff",
        "candidates": ["a", "b"],
    }


def test_a_lone_candidate_wins_even_without_a_majority_or_with_a_runoff_to_follow() -> None:
    assert settle([("a", 10)], 100, majority=True, runoff_follows=True) == (
        {"a": "won"},
        {"kind": "winner", "candidates": ["a"]},
    )
    assert settle([], 0, majority=True, runoff_follows=True) == ({}, None)

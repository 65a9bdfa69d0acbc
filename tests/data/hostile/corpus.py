"""The hostile-input corpus: files an import must refuse cleanly (one line saying what was wrong, nothing
written) or store correctly, never crash on.

Small files are committed beside this module (`python tests/data/hostile/corpus.py` writes them again);
large ones (a zip bomb, a huge line, JSON nested 200,000 deep) are made by `make_large` into a test's
folder, never committed. `CASES` maps each file to what must happen and words its reply must hold.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from db.importers import fivethirtyeight, medsl

HERE = Path(__file__).resolve().parent

#: The importers' columns, and the optional ones the rows below fill.
POLL_HEADER = sorted(
    fivethirtyeight.COLUMNS | {"methodology", "internal", "url", "candidate_id", "candidate_party"}
)
MEDSL_HEADER = sorted(medsl.COLUMNS | {"state", "district", "unofficial", "version", "party_simplified"})
OPENELECTIONS_HEADER = ["county", "precinct", "office", "district", "party", "candidate", "votes"]


def poll_row(**changes: str) -> dict[str, str]:
    row = {
        "question_id": "990001",
        "poll_id": "99001",
        "cycle": "2020",
        "state": "Alabama",
        "pollster": "Hostile Research",
        "sample_size": "600",
        "population": "lv",
        "methodology": "Online",
        "office_type": "U.S. Senate",
        "seat_name": "Class II",
        "start_date": "7/1/20",
        "end_date": "7/5/20",
        "election_date": "11/3/20",
        "internal": "false",
        "url": "",
        "stage": "general",
        "answer": "Tuberville",
        "candidate_id": "",
        "candidate_name": "Tommy Tuberville",
        "candidate_party": "REP",
        "pct": "44.0",
    }
    return row | changes


def jones(**changes: str) -> dict[str, str]:
    return poll_row(answer="Jones", candidate_name="Doug Jones", candidate_party="DEM", pct="40.0") | changes


def table(header: list[str], rows: list[dict[str, str]], newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def polls(*rows: dict[str, str], newline: str = "\n") -> str:
    return table(POLL_HEADER, list(rows), newline)


def medsl_row(**changes: str) -> dict[str, str]:
    row = {
        "year": "2018",
        "state": "KANSAS",
        "state_po": "KS",
        "office": "US SENATE",
        "district": "statewide",
        "stage": "gen",
        "special": "FALSE",
        "candidate": "JOHN DOE",
        "party_detailed": "REPUBLICAN",
        "writein": "FALSE",
        "mode": "total",
        "candidatevotes": "1000",
        "totalvotes": "1500",
        "unofficial": "FALSE",
        "version": "20210114",
        "party_simplified": "REPUBLICAN",
    }
    return row | changes


def medsl(**changes: str) -> str:
    other = medsl_row(
        candidate="JANE ROE", party_detailed="DEMOCRAT", party_simplified="DEMOCRAT", candidatevotes="500"
    )
    return table(MEDSL_HEADER, [medsl_row(**changes), other])


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def document(**race: object) -> str:
    doc = {
        "format": "racedesk/1",
        "source": "hostile corpus",
        "candidates": [{"key": "doe", "name": "John Doe", "party": "REP", "state": "KS"}],
        "races": [
            {
                "cycle": 2018,
                "state": "KS",
                "office": "senate",
                "seat": "Class II",
                "special": False,
                "contests": [
                    {
                        "stage": "general",
                        "date": "2018-11-06",
                        "candidates": [{"candidate": "doe", "party": "REP", "votes": 1000}],
                        "results": [{"final": True, "counts": {"doe": 1000}}],
                    }
                ],
            }
            | race
        ],
    }
    return json.dumps(doc)


def doc_with_votes(votes: str) -> str:
    """A document whose count is `votes` written as is (JSON numbers json.dumps would not write)."""
    return document().replace('"counts": {"doe": 1000}', f'"counts": {{"doe": {votes}}}')


@dataclass(frozen=True)
class Case:
    name: str
    outcome: str  # "refused", or "stored" (what it holds is stored, or it holds nothing new)
    says: str = ""  # words the refusal holds


#: The small files, by name: their bytes.
SMALL: dict[str, bytes] = {
    "latin1.csv": polls(poll_row(), jones(candidate_name="Doug Pe\u00f1a")).encode("latin-1"),
    "utf16.csv": polls(poll_row(), jones()).encode("utf-16"),
    "not_a_zip.zip": b"PK\x03\x04 this is no zip at all",
    "votes_1e30.csv": medsl(candidatevotes="1" + "0" * 30).encode(),
    "votes_negative.csv": medsl(candidatevotes="-5").encode(),
    "year_99999.csv": medsl(year="99999").encode(),
    "sample_1e20.csv": polls(poll_row(sample_size="1e20"), jones(sample_size="1e20")).encode(),
    "pct_nan.csv": polls(poll_row(pct="nan"), jones()).encode(),
    "pct_inf.csv": polls(poll_row(pct="inf"), jones()).encode(),
    "cycle_99999.csv": polls(poll_row(cycle="99999"), jones(cycle="99999")).encode(),
    "share_minus_40.csv": polls(poll_row(pct="-40"), jones(pct="500")).encode(),
    "shares_over_100.csv": polls(poll_row(pct="70"), jones(pct="60")).encode(),
    "empty.csv": b"",
    "header_only.csv": polls().encode(),
    "unknown_columns.csv": b"when,who,how many\n2020,Tuberville,5\n",
    "nul_in_name.csv": polls(poll_row(candidate_name="Tommy\x00Tuberville"), jones()).encode(),
    "control_in_name.csv": polls(poll_row(candidate_name="Tommy\x1bTuberville"), jones()).encode(),
    "crlf.csv": polls(poll_row(), jones(), newline="\r\n").encode(),
    "bom.csv": b"\xef\xbb\xbf"
    + polls(
        poll_row(poll_id="99002", question_id="990002"), jones(poll_id="99002", question_id="990002")
    ).encode(),
    "bom_crlf.csv": b"\xef\xbb\xbf"
    + polls(
        poll_row(poll_id="99003", question_id="990003"),
        jones(poll_id="99003", question_id="990003"),
        newline="\r\n",
    ).encode(),
    "duplicated_rows.csv": polls(poll_row(), jones(), poll_row(), jones()).encode(),
    "short_row.csv": (polls(poll_row(), jones()) + "1,2,3\n").encode(),
    "20171212__al__special__general__hostile.csv": table(
        OPENELECTIONS_HEADER,
        [
            {
                "county": "Autauga",
                "precinct": "1",
                "office": "U.S. Senate",
                "district": "",
                "party": "REP",
                "candidate": "Roy Moore",
                "votes": "1e30",
            }
        ],
    ).encode(),
    "traversal.zip": zipped({"../../evil/2020-Primary-Autauga.xls": b"x"}),
    "absolute.zip": zipped({"/tmp/2020-Primary-Autauga.xls": b"x"}),
    "nested.zip": zipped({"inner.zip": zipped({"2020-Primary-Autauga.xls": b"x"})}),
    "garbage_workbook.zip": zipped({"2020-Primary-Autauga.xls": b"\xd0\xcf\x11\xe0" + b"\x00" * 600}),
    "json_nan.json": doc_with_votes("NaN").encode(),
    "json_infinity.json": doc_with_votes("Infinity").encode(),
    "json_votes_1e30.json": doc_with_votes("1" + "0" * 30).encode(),
    "json_votes_float.json": doc_with_votes("1e400").encode(),
    "json_votes_text.json": doc_with_votes('"many"').encode(),
    "json_votes_negative.json": doc_with_votes("-1").encode(),
    "json_cycle_0.json": document(cycle=0).encode(),
    "json_cycle_text.json": document(cycle="soon").encode(),
    "json_race_not_object.json": json.dumps({"format": "racedesk/1", "races": [1]}).encode(),
    "json_list.json": b"[1, 2, 3]",
    "json_truncated.json": document().encode()[:-20],
    "json_nul_name.json": document().replace("John Doe", "John\\u0000Doe").encode(),
    "json_wrong_format.json": json.dumps({"format": "racedesk/99"}).encode(),
    "valid.json": document().encode(),
    "valid_polls.csv": polls(
        poll_row(poll_id="99004", question_id="990004"), jones(poll_id="99004", question_id="990004")
    ).encode(),
}

CASES: dict[str, Case] = {
    case.name: case
    for case in [
        Case("latin1.csv", "refused", "line 3: not UTF-8: byte 0xF1"),
        Case("utf16.csv", "refused", "not one of"),
        Case("not_a_zip.zip", "refused", "starts like a zip"),
        Case("votes_1e30.csv", "refused", "line 2: Votes cannot be over 1,000,000,000"),
        Case("votes_negative.csv", "refused", "line 2: Votes cannot be negative"),
        Case(
            "year_99999.csv", "refused", "line 2: The cycle (the election's year) must be from 1,788 to 2,100"
        ),
        Case("sample_1e20.csv", "refused", "line 2: The sample size must be from 1 to 1,000,000"),
        Case("pct_nan.csv", "refused", "line 2: Tommy Tuberville=nan: 'nan' is not a percentage"),
        Case("pct_inf.csv", "refused", "is not a percentage"),
        Case("cycle_99999.csv", "refused", "line 2: The cycle"),
        Case("share_minus_40.csv", "refused", "line 2: A share cannot be negative: Tommy Tuberville=-40"),
        Case("shares_over_100.csv", "refused", "The shares add up to 130%, over 100%"),
        Case("empty.csv", "refused", "the file is empty"),
        Case("header_only.csv", "stored"),
        Case("unknown_columns.csv", "refused", "not one of"),
        Case(
            "nul_in_name.csv", "refused", "line 2: column candidate_name holds a control character (U+0000)"
        ),
        Case("control_in_name.csv", "refused", "(U+001B)"),
        Case("crlf.csv", "stored"),
        Case("bom.csv", "stored"),
        Case("bom_crlf.csv", "stored"),
        Case("duplicated_rows.csv", "refused", "The shares add up to 168%"),
        Case("short_row.csv", "refused", "line 4: fewer fields than the header's 21"),
        Case("20171212__al__special__general__hostile.csv", "refused", "line 2: Votes cannot be over"),
        Case("traversal.zip", "refused", "unsafe name"),
        Case("absolute.zip", "refused", "unsafe name"),
        Case("nested.zip", "refused", "a zip without .xls workbooks"),
        Case("garbage_workbook.zip", "refused", "cannot read sheet"),
        Case("json_nan.json", "refused", "NaN is not a number racedesk stores"),
        Case("json_infinity.json", "refused", "Infinity is not a number racedesk stores"),
        Case("json_votes_1e30.json", "refused", "Votes cannot be over 1,000,000,000"),
        Case("json_votes_float.json", "refused", "is not a number of votes"),
        Case("json_votes_text.json", "refused", "'many' is not a number of votes"),
        Case("json_votes_negative.json", "refused", "Votes cannot be negative"),
        Case("json_cycle_0.json", "refused", "races[0].cycle: The cycle"),
        Case("json_cycle_text.json", "refused", "races[0].cycle: 'soon' is a text"),
        Case("json_race_not_object.json", "refused", "races[0] must be an object"),
        Case("json_list.json", "refused", "not one of"),
        Case("json_truncated.json", "refused", "not JSON"),
        Case("json_nul_name.json", "refused", "candidates[0].name holds a control character (U+0000)"),
        Case("json_wrong_format.json", "refused", "not one of"),
        Case("valid.json", "stored"),
        Case("valid_polls.csv", "stored"),
        # made by make_large
        Case(
            "zip_bomb.zip", "refused", "2020-Primary-Autauga.xls: unpacks to 1,024 MB; one file may be 32 MB"
        ),
        Case("lying_zip_bomb.zip", "refused", "cannot be unpacked"),
        Case("huge_line.csv", "refused", "line 2: a line longer than 1,048,576 characters"),
        Case("deep.json", "refused", "nested deeper than 32 levels"),
        Case("deep_small.json", "refused", "nested deeper than 32 levels"),
        Case("big_field.csv", "refused", "field larger than field limit"),
    ]
}


def make_large(folder: Path) -> dict[str, Path]:
    """The large cases, written into `folder` (a zip bomb of about 1 MB that unpacks to 1 GB)."""
    made = {}
    bomb = folder / "zip_bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        info = zipfile.ZipInfo("2020-Primary-Autauga.xls")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(1024):
                member.write(zeros)
    made["zip_bomb.zip"] = bomb
    made["lying_zip_bomb.zip"] = lying_bomb(folder / "lying_zip_bomb.zip")
    huge = folder / "huge_line.csv"
    huge.write_text(",".join(POLL_HEADER) + "\n" + "x" * (2 << 20) + "\n")
    made["huge_line.csv"] = huge
    deep = folder / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    made["deep.json"] = deep
    shallow = folder / "deep_small.json"
    shallow.write_text('{"format": "racedesk/1", "races": ' + "[" * 100 + "]" * 100 + "}")
    made["deep_small.json"] = shallow
    field = folder / "big_field.csv"
    field.write_text(polls(poll_row(url="https://example.org/" + "x" * 200_000), jones()))
    made["big_field.csv"] = field
    return made


def lying_bomb(path: Path) -> Path:
    """A zip whose directory says its member unpacks to 1,000 bytes, while it inflates to 64 MB."""
    data = bytearray(zipped({"2020-Primary-Autauga.xls": bytes(64 << 20)}))
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def path_of(name: str, folder: Path) -> Path:
    """The case's file: committed here, or made into `folder`."""
    if name in SMALL:
        return HERE / name
    return make_large(folder)[name] if not (folder / name).exists() else folder / name


def write_small() -> None:
    for name, data in SMALL.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    write_small()
    sys.exit(0)

"""The Alabama Secretary of State's primary precinct results: a zip of one `.xls` workbook per county.

`2020 Primary Precinct Results.zip` holds 67 workbooks (`2020-Primary-<County>.xls`), each with a
sheet "Precinct Results": columns Contest Title, Party, Candidate, then one column per precinct,
ABSENTEE and PROVISIONAL (two counties have no ABSENTEE column). The U.S. Senate contest is titled
`UNITED STATES SENATOR`, one per party; every numeric cell after the third column is summed
statewide. "Over Votes" and "Under Votes" are kept apart from the candidates.

The year comes from the workbook names; the primary's date from `PRIMARY_DATES` (or `date=`).
Alabama's primaries need a majority: without one, the top two advance to the run-off (call kind
"runoff"). The count is the sum of the published precinct sheets (certified totals can differ
slightly): marked final and official, source "AL Secretary of State precinct sheets, summed".
Reading the 67 workbooks with xlrd takes about a second, too much of the first build's budget, so
the default store reads `data/public/al-2020-primary-totals.json` instead: the same document, made
from the zip by `python -m db.importers.al_totals <zip> <json>` (see `totals_document`),
its source naming the zip and its SHA-256. `parse` reads either; a test recomputes the totals from
the zip and compares.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from collections import defaultdict
from pathlib import Path
from typing import Any

import xlrd
from xlrd.compdoc import CompDocError

from db import limits
from db.importers.common import (
    BadLine,
    BadLines,
    DocumentBuilder,
    ParsedImport,
    ParseError,
    Source,
    display_name,
    final_count,
    needs_majority,
    open_binary,
    party_538,
    person_key,
    senate_seat,
    source_name,
)
from db.importers.files import load_json, open_archive, read_limited, read_member, sha256_of
from db.names import name_key

FORMAT = "al-sos-primary"
SOURCE = "AL Secretary of State precinct sheets, summed"
SHEET = "Precinct Results"
CONTEST = "UNITED STATES SENATOR"
STATE = "AL"
WORKBOOK = re.compile(r"(?P<year>\d{4})-Primary-(?P<county>.+)\.xls$", re.IGNORECASE)
PRIMARY_DATES = {2020: dt.date(2020, 3, 3)}
#: What xlrd raises for a workbook it cannot read (it trusts the file's own record lengths).
UNREADABLE = (xlrd.XLRDError, CompDocError, AssertionError, IndexError, struct.error, EOFError)
OTHER = {"over votes": "over", "under votes": "under", "write in": "writein", "write ins": "writein"}


def parse(source: Source, *, skip_bad: bool = False, date: dt.date | None = None) -> ParsedImport:
    """The zip of county workbooks, or the statewide totals document made from it (`totals_document`)."""
    with open_binary(source) as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == b"{":
            return _parse_totals(read_limited(handle, limits.MAX_JSON_BYTES), source_name(source))
        return _parse_zip(source, skip_bad=skip_bad, date=date)


def _parse_totals(data: bytes, name: str) -> ParsedImport:
    doc = load_json(data, "a totals document")
    if not isinstance(doc, dict) or doc.get("format") != "racedesk/1" or SOURCE not in str(doc.get("source")):
        raise ParseError(
            BadLine(1, f"not a totals document made from the {SOURCE.split(' precinct')[0]} sheets")
        )
    return ParsedImport(FORMAT, doc, [], [f"statewide totals from {name} ({doc['source']})"], 0, name)


def totals_document(zip_path: str | Path) -> dict[str, Any]:
    """The statewide totals the default store ships: the zip's document, its source naming the zip."""
    path = Path(zip_path)
    parsed = _parse_zip(path)
    digest = sha256_of(path)
    parsed.document["source"] += f"; sha256 {digest}; made by python -m db.importers.al_totals"
    return parsed.document


def _parse_zip(source: Source, *, skip_bad: bool = False, date: dt.date | None = None) -> ParsedImport:
    bad = BadLines(skip_bad)
    notes: list[str] = []
    votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # party -> name key -> votes
    names: dict[str, str] = {}
    other: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    years: set[int] = set()
    rows = 0
    counties = 0
    with open_binary(source) as handle:
        archive = open_archive(handle)
        members = sorted(m for m in archive.namelist() if m.lower().endswith(".xls"))
        if not members:
            raise ParseError(BadLine(0, "the zip holds no .xls workbooks"))
        for member in members:
            match = WORKBOOK.search(member)
            if match:
                years.add(int(match["year"]))
            contents = read_member(archive, member)
            try:
                book = xlrd.open_workbook(file_contents=contents, on_demand=True)
                sheet = book.sheet_by_name(SHEET)
            except (*UNREADABLE, KeyError, ValueError) as problem:
                bad.add(0, f"cannot read sheet {SHEET!r}: {problem}", file=member)
                continue
            counties += 1
            for index in range(1, sheet.nrows):
                cells = sheet.row_values(index)
                rows += 1
                if len(cells) < 4 or str(cells[0]).strip() != CONTEST:
                    continue
                party = party_538(str(cells[1])) or ""
                name = " ".join(str(cells[2]).split())
                folded = name_key(name)
                total = 0
                for column, cell in enumerate(cells[3:], start=4):
                    if isinstance(cell, float | int):
                        try:
                            total = limits.votes(total + limits.votes(cell, f"column {column}"), name)
                        except limits.OutOfRange as problem:
                            bad.add(index + 1, str(problem), str(cells[:3]), member)
                    elif str(cell).strip():
                        bad.add(
                            index + 1, f"column {column}: {cell!r} is not a number", str(cells[:3]), member
                        )
                if folded in OTHER:
                    other[party][OTHER[folded]] += total
                else:
                    votes[party][folded] += total
                    names.setdefault(folded, name)
    if len(years) != 1:
        raise ParseError(BadLine(0, f"the workbooks name {len(years) or 'no'} years; expected one"))
    year = years.pop()
    when = date or PRIMARY_DATES.get(year)
    if when is None:
        notes.append(f"no date known for the {year} primary; pass date=")
    seat = senate_seat(year, STATE, False)
    if seat is None:
        raise ParseError(BadLine(0, f"no regular Senate election in {year}"))
    builder = DocumentBuilder(f"{SOURCE}: {source_name(source)} ({counties} counties)")
    race = builder.race(year, STATE, seat, False, source=SOURCE)
    for party in sorted(votes):
        entries = []
        for folded, count in votes[party].items():
            key = builder.candidate(
                person_key("alsos", STATE, folded),
                display_name(names[folded]),
                party=party or None,
                state=STATE,
            )
            entries.append((key, count, party or None))
        entries.sort(key=lambda e: (-e[1], e[0]))
        taken = f"{when + dt.timedelta(days=1)}T12:00:00Z" if when else None
        contest: dict[str, Any] = {
            "stage": "primary",
            "party": party,
            "status": "certified",
            "source": SOURCE,
            **final_count(
                entries,
                other[party],
                sum(v for _, v, _ in entries),
                majority=needs_majority(STATE, False, "primary"),
                runoff_follows=False,
                taken=taken,
                unofficial=False,
                basis="precincts",
                source=SOURCE,
                call_source="AL Secretary of State",
            ),
        }
        if when:
            contest["date"] = when.isoformat()
        race["contests"].append(contest)
    return ParsedImport(FORMAT, builder.document(), bad.lines, notes, rows, source_name(source))

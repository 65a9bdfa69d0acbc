"""OpenElections precinct and county results (columns county, precinct, office, district, party, candidate, votes).

Only the U.S. Senate rows are read (offices spelled "U.S. Senate", "US Senate", "UNITED STATES
SENATOR", "United States Senator", ...); they are summed statewide per contest. Write-ins, under
votes and over votes are kept apart from the candidates (`other`).

The file name says the rest, OpenElections style: `20171212__al__special__general__precinct.csv`
is the Dec 12, 2017 special general in Alabama. The cycle is the year (a run-off held in an odd
year's January or February belongs to the year before); "special" in the name makes the race a
special, whose Senate class comes from the calendar (`common.senate_seat`: the 2017 Alabama special
was for Class II). "primary" files hold one contest per party. A regular general's date is the
federal election day: a file named with another date (some older OpenElections files use
YYYY0101) gets election day, with a note. Pass `name=` when reading from an open file.

The count is marked final and official (the sum of the published precinct or county returns;
certified totals can differ slightly), dated noon UTC the day after the election; outcome and call
(source "OpenElections") follow from the votes as for MEDSL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from db import limits
from db.importers.common import (
    BadLine,
    BadLines,
    DocumentBuilder,
    ParsedImport,
    ParseError,
    Source,
    csv_rows,
    display_name,
    final_count,
    general_election_day,
    needs_majority,
    open_text,
    party_538,
    person_key,
    senate_seat,
    source_name,
)
from db.names import name_key

FORMAT = "openelections"
SOURCE = "OpenElections"
COLUMNS = {"county", "office", "party", "candidate", "votes"}
HEADER = ("county", "precinct", "office", "district", "party", "candidate", "votes")
NAME = re.compile(r"^(?P<date>\d{8})__(?P<state>[a-z]{2})__(?P<rest>.+?)\.csv$", re.IGNORECASE)
SENATE = re.compile(r"^(u s|us|united states) senat(e|or)s?$")
WRITEIN = {"write in", "write ins", "writein", "writeins", "write in votes", "scattering"}
UNDER = {"under votes", "undervotes", "under vote"}
OVER = {"over votes", "overvotes", "over vote"}


@dataclass
class _Contest:
    party: str
    candidates: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Election:
    date: dt.date
    state: str
    stage: str
    special: bool
    level: str  # precinct | county

    @property
    def cycle(self) -> int:
        if "runoff" in self.stage and self.date.year % 2 and self.date.month <= 2:
            return self.date.year - 1
        return self.date.year


def election_from_name(name: str) -> Election:
    """What an OpenElections file name says: date, state, stage, special, level."""
    match = NAME.match(name)
    if match is None:
        raise ParseError(
            BadLine(
                0,
                f"{name!r} is not an OpenElections file name like 20171212__al__special__general__precinct.csv",
            )
        )
    words = match["rest"].lower().split("__")
    try:
        date = dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        raise ParseError(BadLine(0, f"{match['date']!r} in the file name is not a date")) from None
    runoff = "runoff" in words
    if "primary" in words:
        stage = "primary runoff" if runoff else "primary"
    else:
        stage = "general runoff" if runoff else "general"
    level = "county" if "county" in words else "precinct"
    return Election(date, match["state"].upper(), stage, "special" in words, level)


def is_senate(office: str) -> bool:
    return bool(SENATE.match(name_key(office)))


def parse(source: Source, *, skip_bad: bool = False, name: str | None = None) -> ParsedImport:
    filename = name or source_name(source)
    election = election_from_name(filename)
    bad = BadLines(skip_bad)
    notes: list[str] = []
    contests: dict[str, _Contest] = {}
    rows = 0
    with open_text(source) as stream:
        for line, row in csv_rows(stream, COLUMNS, bad, "OpenElections results"):
            rows += 1
            if not is_senate(row["office"]):
                continue
            text = ",".join(row.values())
            try:
                votes = limits.votes(row["votes"], row["candidate"].strip() or "votes")
            except limits.OutOfRange as problem:
                bad.add(line, str(problem), text)
                continue
            party = (party_538(row["party"]) or "") if row["party"].strip().upper() != "NON" else ""
            folded = name_key(row["candidate"])
            contest_party = party if election.stage.startswith("primary") else ""
            if not folded:
                bad.add(line, "no candidate", text)
                continue
            contest = contests.setdefault(contest_party, _Contest(contest_party))
            if folded in WRITEIN or folded.startswith("write in"):
                contest.other["writein"] += votes
            elif folded in UNDER:
                contest.other["under"] += votes
            elif folded in OVER:
                contest.other["over"] += votes
            else:
                contest.candidates[(folded, party)] += votes
                contest.names.setdefault((folded, party), row["candidate"].strip())

    if not contests:
        notes.append(f"{filename}: no U.S. Senate rows")
    cycle, state = election.cycle, election.state
    seat = senate_seat(cycle, state, election.special)
    if seat is None:
        raise ParseError(BadLine(0, f"cannot tell which Senate class the {cycle} {state} special was for"))
    when = election.date
    if election.stage == "general" and not election.special and when != general_election_day(when.year):
        notes.append(
            f"{filename}: the name's date {when} is not election day; using {general_election_day(when.year)}"
        )
        when = general_election_day(when.year)
    builder = DocumentBuilder(f"{SOURCE} {election.level} results: {filename}")
    label = f"{SOURCE} {election.level} file, summed"
    race = builder.race(cycle, state, seat, election.special, source=f"{SOURCE} ({filename})")
    taken = f"{when + dt.timedelta(days=1)}T12:00:00Z"
    for party in sorted(contests):
        contest = contests[party]
        entries = []
        for (folded, line_party), votes in contest.candidates.items():
            key = builder.candidate(
                person_key("oe", state, folded),
                display_name(contest.names[(folded, line_party)]),
                party=line_party or None,
                state=state,
                alias=contest.names[(folded, line_party)],
            )
            entries.append((key, votes, line_party or None))
        entries.sort(key=lambda e: (-e[1], e[0]))
        other = dict(sorted(contest.other.items()))
        total = sum(v for _, v, _ in entries) + other.get("writein", 0)
        document: dict[str, Any] = {
            "stage": election.stage,
            "party": party,
            "date": when.isoformat(),
            "status": "certified",
            "source": label,
            **final_count(
                entries,
                other,
                total,
                majority=needs_majority(state, election.special, election.stage),
                runoff_follows=False,
                taken=taken,
                unofficial=False,
                basis="precincts" if election.level == "precinct" else None,
                source=label,
                call_source=SOURCE,
            ),
        }
        race["contests"].append(document)
    return ParsedImport(FORMAT, builder.document(), bad.lines, notes, rows, filename)

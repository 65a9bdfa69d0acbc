"""MEDSL's U.S. Senate statewide results, 1976-2020 (`1976-2020-senate.csv`, doi:10.7910/DVN/PEJ5QU), the
same file extended with 2022 (`1976-2022-senate.csv`), and MEDSL's U.S. House results, 1976-2022
(`1976-2022-house.csv`, doi:10.7910/DVN/IG0UN2).

One row per candidate (per party line, per vote mode) per race. Columns are found by name: the Senate
file's party column is `party_detailed` (and `party_simplified`), the House file's `party`; the House
file adds `district` (three digits, "000" at-large) and `runoff`, and writes its values in capitals
("GEN", "TOTAL"). How rows become a document:

- read as latin-1 (a few of the Senate file's bytes are not UTF-8), then each value that is UTF-8 (the
  House file's "RAÚL M GRIJALVA") as UTF-8; "NA" means missing;
- a race is (cycle, state, office, seat, special): a Senate seat is its class, from the calendar
  (`common.senate_seat`); a House seat its district number ("2"), or "AL" for an at-large seat. The
  cycle is the year, except a run-off held in an odd year's January (the Georgia run-offs of Jan 5,
  2021) belongs to the year before;
- stages: "gen" is the general, "pre" (the first round of a general that went to a run-off,
  Georgia 1992 and 2008) too, "runoff" (or `runoff` TRUE) is the general run-off, "pri" a primary;
- a party that is a state affiliate of a national one (Minnesota's Democratic-Farmer-Labor, North
  Dakota's Democratic-NPL) is that party (`db.vocabulary.party_named`);
- an unopposed candidate left off the ballot (Florida's way) has one row with 1 vote of 1 (or -1 of
  -1): stored as 0 votes, the only candidate winning, with a note;
- a race the file's numbers do not settle (a result never certified, a district that went to a
  run-off the file does not hold) carries a note from `RACE_NOTES`; an uncertified result has no
  winner (each candidacy pending, no call);
- vote modes are summed per candidate, unless the file has a "total" row for them (then that);
- a candidate on several party lines (New York's fusion ballots) is one candidacy with the sum,
  under the major party line (else the line with most votes);
- `writein` TRUE rows, and the "OTHERS"/"SCATTERING" rows, are write-ins (`other.writein`), named
  or not; "UNDER VOTES" and "BLANK VOTES" are `under`, "OVER VOTES" `over`. "NONE OF THESE
  CANDIDATES" (Nevada's ballot line) has no count kind: it is left out, with a note;
- outcome per candidacy from the votes: the top one won, or, when a run-off follows (in the file,
  or because the state needs a majority and nobody had one), the top two advanced; the call
  (kind winner/runoff, source MEDSL) says the same;
- known mistakes in the file are corrected (`STAGE_FIXES`), with a note;
- a contest's count is marked unofficial when any of its rows is; its status is "called" then,
  else "certified". The snapshot is dated by the file's `version` column (rows without one: by
  their election day).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from db import limits
from db.districts import MOST_DISTRICTS
from db.importers.common import (
    GENERAL_RUNOFF_DATES,
    MAJOR_PARTIES,
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
    party_medsl,
    person_key,
    senate_seat,
    source_name,
)
from db.names import name_key

FORMAT = "medsl"
SOURCE = "MEDSL U.S. Senate 1976-2020 (doi:10.7910/DVN/PEJ5QU)"
#: The Senate's 2022 rows (an empty `version`) were added to MEDSL's file by the repository that ships it.
SOURCE_2022 = "U.S. Senate 2022 (MEDSL's file extended by thisismactan/USA-2024)"
HOUSE_SOURCE = "MEDSL U.S. House 1976-2022 (doi:10.7910/DVN/IG0UN2)"
PARTY_COLUMNS = ("party_detailed", "party")  # the Senate file's, the House file's: one of them is needed
#: The columns every MEDSL results file has.
REQUIRED = {
    "year",
    "state_po",
    "office",
    "stage",
    "special",
    "candidate",
    "writein",
    "mode",
    "candidatevotes",
    "totalvotes",
}
COLUMNS = REQUIRED | {"party_detailed"}  # the Senate file's
OFFICES = {"US SENATE": "senate", "US HOUSE": "house"}
STAGES = {"gen": "general", "pre": "general", "runoff": "general runoff", "pri": "primary"}
WRITEIN_NAMES = {
    "", "na", "others", "other", "scattering", "scatter", "write in", "write ins", "writein",
    "other write ins", "all others", "miscellaneous",
}  # fmt: skip
UNDER_NAMES = {"under votes", "undervotes", "blank votes", "blank", "blanks"}
OVER_NAMES = {"over votes", "overvotes", "void"}
LEFT_OUT_NAMES = {"none of these candidates", "exhausted ballot"}

#: Rows the file files under the wrong stage: (year, state, special, stage in the file) -> stage.
#: The 2018 Mississippi special's "gen" rows hold the Nov 27 run-off (Hyde-Smith 486,769, Espy
#: 420,819), not the Nov 6 first round (which the file does not have).
STAGE_FIXES = {
    (2018, "MS", True, "gen"): "general runoff",
}
#: Rows filed under the other stage, told apart by the `totalvotes` they carry: (year, state, special,
#: stage in the file, totalvotes) -> stage. Georgia's 2022 Senate race: the "runoff" rows of Warnock and
#: Walker carry the Nov 8 general's total (3,935,924 with Oliver's 81,365), their "gen" rows the Dec 6
#: run-off's (3,541,877, the two of them alone).
ROW_STAGE_FIXES = {
    (2022, "GA", False, "runoff", "3935924"): "general",
    (2022, "GA", False, "gen", "3541877"): "general runoff",
}
#: Party lines the file names no candidate for (the line's name stands in the `candidate` column, the
#: party is empty): (year, state, district, line) -> the candidate on that line. Connecticut's 2022
#: cross-endorsements, and New York's 21st, whose "MODERATE" row is flagged a fusion line while Stefanik's
#: two lines are named, leaving Castelli's.
LINE_CANDIDATES: dict[tuple[int, str, str, str], str] = {
    (2022, "CT", "1", "WORKING FAMILIES"): "JOHN B LARSON",
    (2022, "CT", "4", "INDEPENDENT"): "JAYME STEVENSON",
    (2022, "CT", "5", "INDEPENDENT"): "GEORGE LOGAN",
    (2022, "CT", "5", "WORKING FAMILIES"): "JAHANA HAYES",
    (2022, "NY", "21", "MODERATE"): "MATT CASTELLI",
}
#: What the file's numbers do not say: (cycle, state, office, seat) -> (note, whether the result stands).
RACE_NOTES: dict[tuple[int, str, str, str], tuple[str, bool]] = {
    (2018, "NC", "house", "9"): (
        "Never certified: North Carolina's State Board of Elections found absentee-ballot fraud and ordered "
        "a new election, held Sep 10, 2019 (a special the shipped file does not hold).",
        False,
    ),
    (2018, "ME", "house", "2"): (
        "Decided by ranked-choice voting: the figures are the final round's, between the top two.",
        True,
    ),
    (2022, "ME", "house", "2"): (
        "Decided by ranked-choice voting; the file's figures for this race (2,656,104 votes in all) are "
        "not one round's count, and are shown as the file gives them.",
        True,
    ),
    (2020, "LA", "house", "5"): (
        "Nobody won a majority on Nov 3, so the top two met in a Dec 5, 2020 run-off, which the shipped "
        "file does not hold.",
        True,
    ),
}


@dataclass
class _Candidate:
    name: str
    lines: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # party -> votes
    modes: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # mode -> votes

    @property
    def votes(self) -> int:
        if "total" in self.modes:
            return self.modes["total"]
        return sum(self.modes.values())

    @property
    def party(self) -> str | None:
        parties = [p for p in self.lines if p]
        for major in MAJOR_PARTIES:
            if major in parties:
                return major
        return max(parties, key=lambda p: self.lines[p]) if parties else None


@dataclass
class _Contest:
    cycle: int
    state: str
    special: bool
    stage: str
    office: str = "senate"
    seat: str = ""  # a House district: "2", "AL"
    candidates: dict[str, _Candidate] = field(default_factory=dict)
    other: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    unofficial: bool = False
    version: str | None = None
    total: int | None = None
    first_line: int = 0


def _cycle(year: int, stage: str) -> int:
    return year - 1 if stage == "general runoff" and year % 2 else year


def read_row(row: dict[str, str], line: int, bad: BadLines) -> tuple[int, int, str] | None:
    """A MEDSL row's year, candidate votes and postal code; None (the line noted in `bad`) when one is unreadable."""
    text = ",".join(row.values())
    try:
        year = limits.cycle(row["year"])
        votes = limits.votes(row["candidatevotes"], row["candidate"].strip() or "candidatevotes")
    except limits.OutOfRange as problem:
        bad.add(line, str(problem), text)
        return None
    state = row["state_po"].strip().upper()
    if len(state) != 2 or not state.isalpha():
        bad.add(line, f"state_po {row['state_po']!r} is not a postal code", text)
        return None
    return year, votes, state


def newer_version(version: str | None, row: dict[str, str]) -> str | None:
    """The newest of a contest's `version` so far and this row's ("NA" and "" are none)."""
    found = (row.get("version") or "").strip()
    return max(version or found, found) if found and found != "NA" else version


def version_taken(version: str | None) -> str | None:
    """A MEDSL `version` ("20210114") as the time a final count is dated by; None if it is no date."""
    if version and len(version) == 8 and version.isdigit():
        return f"{version[:4]}-{version[4:6]}-{version[6:]}T00:00:00Z"
    return None


def parse(source: Source, *, skip_bad: bool = False, years: Iterable[int] | None = None) -> ParsedImport:
    """MEDSL's senate file as a document; `years` keeps only those cycles (2020 includes its Jan 2021 run-offs)."""
    wanted = set(years) if years is not None else None
    bad = BadLines(skip_bad)
    notes: list[str] = []
    contests: dict[tuple[int, str, str, str, bool, str], _Contest] = {}
    rows = 0
    party_column = ""
    with open_text(source, encoding="latin-1") as stream:
        for line, row in csv_rows(stream, REQUIRED, bad, "MEDSL results"):
            if not party_column:
                party_column = next((c for c in PARTY_COLUMNS if c in row), "")
                if not party_column:
                    raise ParseError(
                        BadLine(1, f"not a MEDSL results file: no column {' or '.join(PARTY_COLUMNS)}")
                    )
            rows += 1
            text = ",".join(row.values())
            if not text.isascii():
                row = {column: _utf8(value) for column, value in row.items()}
            if row["candidatevotes"].strip() == row["totalvotes"].strip() == "-1":
                row["candidatevotes"] = row["totalvotes"] = "0"  # unopposed, not on the ballot (MEDSL's -1)
            read = read_row(row, line, bad)
            if read is None:
                continue
            year, votes, state = read
            stage = STAGES.get(row["stage"].strip().lower())
            if stage is None:
                bad.add(line, f"unknown stage {row['stage']!r}", text)
                continue
            if row.get("runoff", "").strip().upper() == "TRUE":
                stage = "primary runoff" if stage == "primary" else "general runoff"
            office = OFFICES.get(" ".join(row["office"].upper().replace(".", " ").split()))
            if office is None:
                notes.append(
                    f"line {line}: office {row['office']!r} is not the U.S. Senate or House; left out"
                )
                continue
            house_seat = ""
            if office == "house":
                district = row.get("district", "").strip()
                if not district.isdigit() or int(district) > MOST_DISTRICTS:
                    bad.add(line, f"district {district!r} is not a House district number", text)
                    continue
                house_seat = str(int(district)) if int(district) else "AL"
            special = row["special"].strip().upper() == "TRUE"
            said = row["stage"].strip().lower()
            fixed = STAGE_FIXES.get((year, state, special, said)) or ROW_STAGE_FIXES.get(
                (year, state, special, said, row["totalvotes"].strip())
            )
            if fixed is not None:
                notes.append(
                    f"{year} {state}{' special' if special else ''}: the file's {row['stage']!r} rows are the {fixed}"
                )
                stage = fixed
            cycle = _cycle(year, stage)
            if wanted is not None and cycle not in wanted:
                continue
            key = (cycle, state, office, house_seat, special, stage)
            contest = contests.get(key)
            if contest is None:
                contest = contests[key] = _Contest(
                    cycle, state, special, stage, office, house_seat, first_line=line
                )
            contest.unofficial |= row.get("unofficial", "").strip().upper() == "TRUE"
            contest.version = newer_version(contest.version, row)
            with contextlib.suppress(limits.OutOfRange):
                contest.total = limits.votes(row["totalvotes"])
            name = row["candidate"].strip()
            line_of = LINE_CANDIDATES.get((year, state, house_seat, name.upper()))
            if line_of is not None and not row[party_column].strip():
                notes.append(f"{year} {state}-{house_seat}: the {name} line's votes are {line_of}'s")
                row[party_column], name = name, line_of
            folded = name_key(name)
            mode = (row["mode"].strip() or "total").lower()
            if row["writein"].strip().upper() == "TRUE" or folded in WRITEIN_NAMES:
                contest.other["writein"][mode] += votes
                if folded not in WRITEIN_NAMES:
                    notes.append(
                        f"{cycle} {state}: {votes:,} write-in votes for {display_name(name)} counted as write-ins"
                    )
                elif row["writein"].strip().upper() != "TRUE":
                    notes.append(f"{cycle} {state}: {votes:,} votes for {name!r} counted as write-ins")
                continue
            if folded in UNDER_NAMES or folded in OVER_NAMES:
                contest.other["under" if folded in UNDER_NAMES else "over"][mode] += votes
                continue
            if folded in LEFT_OUT_NAMES:
                notes.append(
                    f"{cycle} {state}: {votes:,} votes for {name!r} left out (no count kind for them)"
                )
                continue
            person = contest.candidates.get(folded)
            if person is None:
                person = contest.candidates[folded] = _Candidate(name)
            person.lines[party_medsl(row[party_column], row.get("party_simplified", "")) or ""] += votes
            person.modes[mode] += votes

    house = any(c.office == "house" for c in contests.values())
    builder = DocumentBuilder(f"{HOUSE_SOURCE if house else SOURCE}: {source_name(source)}")
    runoffs = {_race_of(c) for c in contests.values() if c.stage == "general runoff"}
    for key in sorted(contests):
        contest = contests[key]
        seat = (
            contest.seat
            if contest.office == "house"
            else senate_seat(contest.cycle, contest.state, contest.special)
        )
        if seat is None:
            bad.add(
                contest.first_line,
                f"cannot tell which Senate class the {contest.cycle} {contest.state} special was for",
            )
            continue
        note, stands = RACE_NOTES.get((contest.cycle, contest.state, contest.office, seat), (None, True))
        race = builder.race(
            contest.cycle,
            contest.state,
            seat,
            contest.special,
            office=contest.office,
            source=_source(contest),
            notes=note,
        )
        race["contests"].append(_contest_document(builder, contest, runoffs, stands=stands))
        if _unopposed(contest):
            said = f"Unopposed: {display_name(next(iter(contest.candidates.values())).name)} was not on the ballot and no votes were counted."
            race["notes"] = f"{race['notes']} {said}" if race.get("notes") else said
    for race in builder.races.values():
        fusion = _fusion_note(race, builder)
        if fusion:
            race["notes"] = f"{race['notes']} {fusion}" if race.get("notes") else fusion
    return ParsedImport(FORMAT, builder.document(), bad.lines, _dedupe(notes), rows, source_name(source))


def _utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _unopposed(contest: _Contest) -> bool:
    return len(contest.candidates) == 1 and not contest.other and (contest.total or 0) <= 1


def _race_of(contest: _Contest) -> tuple[int, str, str, str, bool]:
    return (contest.cycle, contest.state, contest.office, contest.seat, contest.special)


def _source(contest: _Contest) -> str:
    if contest.office == "house":
        return HOUSE_SOURCE
    return SOURCE_2022 if contest.version is None and contest.cycle >= 2022 else SOURCE


def _contest_document(
    builder: DocumentBuilder,
    contest: _Contest,
    runoffs: set[tuple[int, str, str, str, bool]],
    *,
    stands: bool = True,
) -> dict[str, Any]:
    entries = []
    lines = []
    for folded, person in contest.candidates.items():
        key = builder.candidate(
            person_key("medsl", contest.state, folded),
            display_name(person.name),
            party=person.party,
            state=contest.state,
            alias=person.name,
        )
        entries.append((key, 0 if _unopposed(contest) else person.votes, person.party))
        if len([p for p in person.lines if p]) > 1:
            lines.append((display_name(person.name), dict(person.lines)))
    entries.sort(key=lambda e: (-e[1], e[0]))
    other = {
        kind: (modes["total"] if "total" in modes else sum(modes.values()))
        for kind, modes in contest.other.items()
    }
    total = sum(votes for _, votes, _ in entries) + sum(other.values())
    runoff_follows = contest.stage == "general" and _race_of(contest) in runoffs
    if contest.stage == "general runoff":
        when: dt.date | None = GENERAL_RUNOFF_DATES.get((contest.cycle, contest.state))
    elif contest.cycle % 2 == 0:
        when = general_election_day(contest.cycle)
    else:
        when = None
    # A count is dated by the file's version; the 2022 rows have none, and the day they are of is a truer
    # date for them than the moment they were imported.
    taken = version_taken(contest.version) or (f"{when.isoformat()}T00:00:00Z" if when else None)
    counted = final_count(
        entries,
        other,
        total,
        majority=needs_majority(contest.state, contest.special, contest.stage),
        runoff_follows=runoff_follows,
        taken=taken,
        unofficial=contest.unofficial or not stands,
        basis=None,
        source="MEDSL",
        call_source="MEDSL",
    )
    if not stands:  # a result never certified: the count stays, nobody is declared the winner
        counted.pop("call", None)
        for entry in counted["candidates"]:
            entry["outcome"] = "pending"
    document: dict[str, Any] = {
        "stage": contest.stage,
        "party": "",
        "status": "called" if contest.unofficial or not stands else "certified",
        "source": _source(contest),
        **counted,
    }
    if lines:
        document["fusion"] = lines  # read by _fusion_note, then dropped
    if when is not None:
        document["date"] = when.isoformat()
    return document


def _fusion_note(race: dict[str, Any], builder: DocumentBuilder) -> str:
    """New York's fusion ballots: each candidate on several party lines, one candidacy with the sum; the
    note shows the lines ("Fusion lines (general): George Santos REP 133,859 + CON 11,965.")."""
    said = []
    for contest in race["contests"]:
        for name, lines in contest.pop("fusion", []):
            parts = " + ".join(
                f"{party or 'no party'} {votes:,}"
                for party, votes in sorted(lines.items(), key=lambda line: -line[1])
            )
            said.append(f"{name} {parts}")
    return f"Fusion lines, one total each: {'; '.join(said)}." if said else ""


def _dedupe(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))

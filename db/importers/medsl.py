"""MEDSL's U.S. Senate statewide results, 1976-2020 (`1976-2020-senate.csv`, doi:10.7910/DVN/PEJ5QU).

One row per candidate (per party line, per vote mode) per race. How rows become a document:

- read as latin-1 (a few bytes are not UTF-8); "NA" means missing;
- a race is (cycle, state, senate, class, special). The cycle is the year, except a run-off held
  in an odd year's January (the Georgia run-offs of Jan 5, 2021) belongs to the year before.
  The class comes from the calendar (`common.senate_seat`);
- stages: "gen" is the general, "pre" (the first round of a general that went to a run-off,
  Georgia 1992 and 2008) too, "runoff" is the general run-off, "pri" a primary;
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
  else "certified". The snapshot is dated by the file's `version` column.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from db import limits
from db.importers.common import (
    GENERAL_RUNOFF_DATES,
    MAJOR_PARTIES,
    BadLines,
    DocumentBuilder,
    ParsedImport,
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
COLUMNS = {
    "year",
    "state_po",
    "office",
    "stage",
    "special",
    "candidate",
    "party_detailed",
    "writein",
    "mode",
    "candidatevotes",
    "totalvotes",
}
STAGES = {"gen": "general", "pre": "general", "runoff": "general runoff", "pri": "primary"}
WRITEIN_NAMES = {"", "na", "others", "other", "scattering", "write in", "write ins", "writein"}
UNDER_NAMES = {"under votes", "undervotes", "blank votes", "blank", "blanks"}
OVER_NAMES = {"over votes", "overvotes"}
LEFT_OUT_NAMES = {"none of these candidates"}

#: Rows the file files under the wrong stage: (year, state, special, stage in the file) -> stage.
#: The 2018 Mississippi special's "gen" rows hold the Nov 27 run-off (Hyde-Smith 486,769, Espy
#: 420,819), not the Nov 6 first round (which the file does not have).
STAGE_FIXES = {
    (2018, "MS", True, "gen"): "general runoff",
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
    contests: dict[tuple[int, str, bool, str], _Contest] = {}
    rows = 0
    with open_text(source, encoding="latin-1") as stream:
        for line, row in csv_rows(stream, COLUMNS, bad, "MEDSL senate results"):
            rows += 1
            text = ",".join(row.values())
            read = read_row(row, line, bad)
            if read is None:
                continue
            year, votes, state = read
            stage = STAGES.get(row["stage"].strip().lower())
            if stage is None:
                bad.add(line, f"unknown stage {row['stage']!r}", text)
                continue
            if "SENATE" not in row["office"].upper():
                notes.append(f"line {line}: office {row['office']!r} is not the U.S. Senate; left out")
                continue
            special = row["special"].strip().upper() == "TRUE"
            fixed = STAGE_FIXES.get((year, state, special, row["stage"].strip().lower()))
            if fixed is not None:
                notes.append(
                    f"{year} {state}{' special' if special else ''}: the file's {row['stage']!r} rows are the {fixed}"
                )
                stage = fixed
            cycle = _cycle(year, stage)
            if wanted is not None and cycle not in wanted:
                continue
            key = (cycle, state, special, stage)
            contest = contests.get(key)
            if contest is None:
                contest = contests[key] = _Contest(cycle, state, special, stage, first_line=line)
            contest.unofficial |= row.get("unofficial", "").strip().upper() == "TRUE"
            contest.version = newer_version(contest.version, row)
            with contextlib.suppress(limits.OutOfRange):
                contest.total = limits.votes(row["totalvotes"])
            name = row["candidate"].strip()
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
            person.lines[party_medsl(row["party_detailed"], row.get("party_simplified", "")) or ""] += votes
            person.modes[mode] += votes

    builder = DocumentBuilder(f"{SOURCE}: {source_name(source)}")
    runoffs = {(c.cycle, c.state, c.special) for c in contests.values() if c.stage == "general runoff"}
    for key in sorted(contests):
        contest = contests[key]
        seat = senate_seat(contest.cycle, contest.state, contest.special)
        if seat is None:
            bad.add(
                contest.first_line,
                f"cannot tell which Senate class the {contest.cycle} {contest.state} special was for",
            )
            continue
        race = builder.race(contest.cycle, contest.state, seat, contest.special, source=SOURCE)
        race["contests"].append(_contest_document(builder, contest, runoffs))
    return ParsedImport(FORMAT, builder.document(), bad.lines, _dedupe(notes), rows, source_name(source))


def _contest_document(
    builder: DocumentBuilder, contest: _Contest, runoffs: set[tuple[int, str, bool]]
) -> dict[str, Any]:
    entries = []
    for folded, person in contest.candidates.items():
        key = builder.candidate(
            person_key("medsl", contest.state, folded),
            display_name(person.name),
            party=person.party,
            state=contest.state,
            alias=person.name,
        )
        entries.append((key, person.votes, person.party))
    entries.sort(key=lambda e: (-e[1], e[0]))
    other = {
        kind: (modes["total"] if "total" in modes else sum(modes.values()))
        for kind, modes in contest.other.items()
    }
    total = sum(votes for _, votes, _ in entries) + sum(other.values())
    runoff_follows = contest.stage == "general" and (contest.cycle, contest.state, contest.special) in runoffs
    if contest.stage == "general runoff":
        when: dt.date | None = GENERAL_RUNOFF_DATES.get((contest.cycle, contest.state))
    elif contest.cycle % 2 == 0:
        when = general_election_day(contest.cycle)
    else:
        when = None
    taken = version_taken(contest.version)
    document: dict[str, Any] = {
        "stage": contest.stage,
        "party": "",
        "status": "called" if contest.unofficial else "certified",
        "source": SOURCE,
        **final_count(
            entries,
            other,
            total,
            majority=needs_majority(contest.state, contest.special, contest.stage),
            runoff_follows=runoff_follows,
            taken=taken,
            unofficial=contest.unofficial,
            basis=None,
            source="MEDSL",
            call_source="MEDSL",
        ),
    }
    if when is not None:
        document["date"] = when.isoformat()
    return document


def _dedupe(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))

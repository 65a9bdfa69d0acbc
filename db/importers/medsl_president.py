"""MEDSL's U.S. President results by state, 1976-2020 (`1976-2020-president.csv`, doi:10.7910/DVN/42MVDX).

One row per candidate per party line per state. Columns are found by name: year, state_po, office,
candidate, party_detailed, writein, candidatevotes, totalvotes (version and party_simplified when
present). How rows become a document:

- a race is (cycle = year, state, "president", seat "", not special): each state's (and DC's) vote
  for its presidential electors; its one contest is the general election, on the November general
  election day, its count final and certified, dated by the file's `version`;
- names are "LAST, FIRST" in the file ("BIDEN, JOSEPH R. JR"); they are shown first name first
  ("Joseph R. Biden Jr."), and one person is one candidate across every state (keyed by that name);
- every row that names a candidate counts for that candidate, whatever its `writein` flag: the file
  marks all of DC's 2020 rows as write-ins (Biden's 317,323 votes among them), and gives Maryland's
  2016 write-in votes for Clinton and Trump beside their ballot lines. A candidate on several
  party lines (New York's fusion ballots) is one candidacy with the sum, under the major party line;
- rows that name nobody ("", "OTHER", "SCATTERING") are write-ins (`other.writein`); "BLANK VOTE(S)",
  "UNDERVOTES" are `under`, "OVER VOTE(S)" and the void ballots ("VOID VOTE") `over`: not votes for
  anyone, so not in the popular vote. Nevada's "NONE OF THE ABOVE" (its ballot's "None of these
  candidates") has no count kind: it is left out, with a note. Each state's rows add up to its
  `totalvotes`, less those left out;
- the outcome per candidacy comes from the votes (the top one won), and the call (kind winner,
  source MEDSL) says the same. Electoral votes are not in this file: see db/electoral.py.
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
    BadLines,
    DocumentBuilder,
    ParsedImport,
    Source,
    csv_rows,
    display_name,
    final_count,
    general_election_day,
    open_text,
    party_medsl,
    person_key,
    source_name,
)
from db.importers.medsl import (
    LEFT_OUT_NAMES,
    OVER_NAMES,
    UNDER_NAMES,
    WRITEIN_NAMES,
    newer_version,
    read_row,
    version_taken,
)
from db.importers.medsl import _Candidate as Candidate  # party lines summed; the major party's line named
from db.models import Office
from db.names import name_key

FORMAT = "medsl-president"
SOURCE = "MEDSL U.S. President 1976-2020 (doi:10.7910/DVN/42MVDX)"
COLUMNS = {
    "year",
    "state_po",
    "office",
    "candidate",
    "party_detailed",
    "writein",
    "candidatevotes",
    "totalvotes",
}
UNDER = UNDER_NAMES | {"blank vote"}
OVER = OVER_NAMES | {"over vote", "void vote", "void"}
LEFT_OUT = LEFT_OUT_NAMES | {"none of the above"}
SUFFIXES = {"JR": "JR.", "JR.": "JR.", "SR": "SR.", "SR.": "SR.", "II": "II", "III": "III", "IV": "IV"}


def ballot_name(raw: str) -> str:
    """ "BIDEN, JOSEPH R. JR" -> "Joseph R. Biden Jr."; a name without a comma is kept in its order."""
    text = " ".join(raw.replace('""', '"').split())
    if "," in text:
        last, first = (part.strip() for part in text.split(",", 1))
        words = first.split()
        suffix = SUFFIXES.get(words[-1].upper()) if words else None
        if suffix is not None:
            words = words[:-1]
        text = " ".join([*words, last, *([suffix] if suffix else [])])
    return display_name(text)


@dataclass
class _Contest:
    cycle: int
    state: str
    candidates: dict[str, Candidate] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    version: str | None = None
    total: int | None = None
    left_out: int = 0  # votes with no count kind ("none of the above")


def parse(source: Source, *, skip_bad: bool = False, years: Iterable[int] | None = None) -> ParsedImport:
    """MEDSL's president file as a document; `years` keeps only those elections."""
    wanted = set(years) if years is not None else None
    bad = BadLines(skip_bad)
    notes: list[str] = []
    contests: dict[tuple[int, str], _Contest] = {}
    rows = 0
    with open_text(source, encoding="latin-1") as stream:
        for line, row in csv_rows(stream, COLUMNS, bad, "MEDSL president results"):
            rows += 1
            read = read_row(row, line, bad)
            if read is None:
                continue
            year, votes, state = read
            if wanted is not None and year not in wanted:
                continue
            if "PRESIDENT" not in row["office"].upper():
                notes.append(f"line {line}: office {row['office']!r} is not the U.S. President; left out")
                continue
            contest = contests.get((year, state))
            if contest is None:
                contest = contests[(year, state)] = _Contest(year, state)
            contest.version = newer_version(contest.version, row)
            with contextlib.suppress(limits.OutOfRange):
                contest.total = limits.votes(row["totalvotes"])
            raw = row["candidate"].strip()
            folded = name_key(raw)
            if folded in WRITEIN_NAMES:
                contest.other["writein"] += votes
                continue
            if folded in UNDER or folded in OVER:
                contest.other["under" if folded in UNDER else "over"] += votes
                continue
            if folded in LEFT_OUT:
                contest.left_out += votes
                notes.append(f"{year} {state}: {votes:,} votes for {raw!r} left out (no count kind for them)")
                continue
            name = ballot_name(raw)
            key = name_key(name)
            person = contest.candidates.get(key)
            if person is None:
                person = contest.candidates[key] = Candidate(name)
            person.lines[party_medsl(row["party_detailed"], row.get("party_simplified", "")) or ""] += votes
            person.modes["total"] += votes

    builder = DocumentBuilder(f"{SOURCE}: {source_name(source)}")
    for natural in sorted(contests):
        contest = contests[natural]
        counted = (
            sum(p.votes for p in contest.candidates.values()) + sum(contest.other.values()) + contest.left_out
        )
        if contest.total is not None and counted != contest.total:
            notes.append(
                f"{contest.cycle} {contest.state}: the rows add up to {counted:,}, the file's totalvotes is {contest.total:,}"
            )
        race = builder.race(contest.cycle, contest.state, "", False, office=Office.PRESIDENT, source=SOURCE)
        race["contests"].append(_contest_document(builder, contest))
    return ParsedImport(
        FORMAT, builder.document(), bad.lines, list(dict.fromkeys(notes)), rows, source_name(source)
    )


def _contest_document(builder: DocumentBuilder, contest: _Contest) -> dict[str, Any]:
    entries = []
    for person in contest.candidates.values():
        key = builder.candidate(
            person_key("medsl", "US", person.name), person.name, party=person.party, state=None
        )
        entries.append((key, person.votes, person.party))
    entries.sort(key=lambda e: (-e[1], e[0]))
    total = sum(votes for _, votes, _ in entries) + sum(contest.other.values())
    taken = version_taken(contest.version)
    when: dt.date = general_election_day(contest.cycle)
    return {
        "stage": "general",
        "party": "",
        "status": "certified",
        "source": SOURCE,
        "date": when.isoformat(),
        **final_count(
            entries,
            dict(contest.other),
            total,
            majority=False,
            runoff_follows=False,
            taken=taken,
            unofficial=False,
            basis=None,
            source="MEDSL",
            call_source="MEDSL",
        ),
    }

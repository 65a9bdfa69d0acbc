"""What every importer shares: the parse result, bad lines, reading files, and the election calendar.

Importers are pure: they read a file and return a `racedesk/1` document (a dict)
with what they could not read. Only `db.importers.run` (with `db.importers.reconcile`) touches the
database.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import us

from db import limits
from db.names import name_key
from db.vocabulary import party_named

#: A path, or an open file (text or binary).
Source = str | os.PathLike[str] | IO[str] | IO[bytes]


@dataclass(frozen=True)
class BadLine:
    """A line an importer could not read: where, why, and the text."""

    line: int
    reason: str
    text: str = ""
    file: str | None = None  # the member of an archive, when the source holds several files

    def describe(self) -> str:
        line = f"line {self.line}" if self.line > 0 else ""
        where = " ".join(part for part in (self.file, line) if part)
        return f"{where}: {self.reason}" if where else self.reason


class ParseError(ValueError):
    """A line that stops the import (unless skip_bad): says where."""

    def __init__(self, bad: BadLine) -> None:
        super().__init__(bad.describe())
        self.bad = bad

    @property
    def line(self) -> int:
        return self.bad.line


@dataclass
class ParsedImport:
    """What a parser made of a file: the document, the lines it skipped, and notes for the report."""

    format: str
    document: dict[str, Any]
    skipped: list[BadLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read (skipped ones included)
    source_name: str = ""
    #: Election days the file gives for the contests its questions ask about, which the
    #: racedesk/1 format has no place for: (cycle, state, office, seat, special, stage, party) -> date.
    contest_dates: dict[tuple[Any, ...], str] = field(default_factory=dict)


class BadLines:
    """Collects bad lines: raises on the first unless skip_bad."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.lines: list[BadLine] = []

    def add(self, line: int, reason: str, text: str = "", file: str | None = None) -> None:
        bad = BadLine(line, reason, text[:300], file)
        if not self.skip_bad:
            raise ParseError(bad)
        self.lines.append(bad)


def source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "")).name or "<stream>"


@contextlib.contextmanager
def open_text(source: Source, encoding: str = "utf-8-sig") -> Iterator[IO[str]]:
    """A text stream for a path or an open file; binary files are decoded with `encoding`."""
    if isinstance(source, str | os.PathLike):
        with open(source, encoding=encoding, newline="") as handle:
            yield handle
        return
    if isinstance(source, io.TextIOBase):
        yield source
        return
    probe = source.read(0)
    if isinstance(probe, str):
        yield source  # type: ignore[misc]
        return
    wrapper = io.TextIOWrapper(source, encoding=encoding, newline="")  # type: ignore[type-var]
    try:
        yield wrapper
    finally:
        wrapper.detach()


@contextlib.contextmanager
def open_binary(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield handle
        return
    if isinstance(source, io.TextIOBase):
        raise TypeError("this format needs a binary file")
    yield source  # type: ignore[misc]


def csv_rows(
    stream: IO[str], required: set[str], bad: BadLines, what: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header must hold `required`."""
    handed = 0  # lines given to the reader: when it fails, the last is the one it failed on

    def counted() -> Iterator[str]:
        nonlocal handed
        for text in bounded_lines(stream):
            handed += 1
            yield text

    reader = csv.DictReader(counted())
    try:
        header = reader.fieldnames or []
    except csv.Error as problem:
        raise ParseError(BadLine(1, f"not a CSV header: {problem}")) from None
    if not header:
        raise ParseError(BadLine(1, f"not a {what} file: it is empty"))
    missing = required - set(header)
    if missing:
        raise ParseError(BadLine(1, f"not a {what} file: no column {', '.join(sorted(missing))}"))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as problem:
            # (`reader.line_num` has not yet counted the line it failed on)
            raise ParseError(BadLine(handed, f"not CSV: {problem}")) from None
        if None in row:  # more fields than the header
            extra = len(row[None])
            bad.add(reader.line_num, f"{len(header) + extra} fields, the header has {len(header)}")
            continue
        if any(value is None for value in row.values()):
            bad.add(reader.line_num, f"fewer fields than the header's {len(header)}")
            continue
        control = _control_in(row)
        if control:
            bad.add(reader.line_num, control)
            continue
        yield reader.line_num, row


def _control_in(row: dict[str, str]) -> str | None:
    try:  # one search over the whole row; the columns one by one only to name the one at fault
        limits.text("".join(row.values()), "a row")
        return None
    except limits.OutOfRange:
        pass
    for column, value in row.items():
        try:
            limits.text(value, f"column {column}")
        except limits.OutOfRange as problem:
            return str(problem)
    return None


def bounded_lines(stream: IO[str], limit: int = limits.MAX_LINE_CHARS) -> Iterator[str]:
    """The stream's lines, none longer than `limit` characters (a longer one is refused, not read whole)."""
    line = 0
    while True:
        text = stream.readline(limit + 1)
        if not text:
            return
        line += 1
        if len(text) > limit and not text.endswith("\n"):
            raise ParseError(BadLine(line, f"a line longer than {limit:,} characters"))
        yield text


# --- the calendar -------------------------------------------------------------------------------

_CLASSES = {0: "Class I", 2: "Class II", 4: "Class III"}

#: The two Senate classes each state holds (Class I seats were up in 2018, II in 2020, III in 2022).
STATE_CLASSES: dict[str, tuple[str, str]] = {
    "AK": ("Class II", "Class III"),
    "AL": ("Class II", "Class III"),
    "AR": ("Class II", "Class III"),
    "AZ": ("Class I", "Class III"),
    "CA": ("Class I", "Class III"),
    "CO": ("Class II", "Class III"),
    "CT": ("Class I", "Class III"),
    "DE": ("Class I", "Class II"),
    "FL": ("Class I", "Class III"),
    "GA": ("Class II", "Class III"),
    "HI": ("Class I", "Class III"),
    "IA": ("Class II", "Class III"),
    "ID": ("Class II", "Class III"),
    "IL": ("Class II", "Class III"),
    "IN": ("Class I", "Class III"),
    "KS": ("Class II", "Class III"),
    "KY": ("Class II", "Class III"),
    "LA": ("Class II", "Class III"),
    "MA": ("Class I", "Class II"),
    "MD": ("Class I", "Class III"),
    "ME": ("Class I", "Class II"),
    "MI": ("Class I", "Class II"),
    "MN": ("Class I", "Class II"),
    "MO": ("Class I", "Class III"),
    "MS": ("Class I", "Class II"),
    "MT": ("Class I", "Class II"),
    "NC": ("Class II", "Class III"),
    "ND": ("Class I", "Class III"),
    "NE": ("Class I", "Class II"),
    "NH": ("Class II", "Class III"),
    "NJ": ("Class I", "Class II"),
    "NM": ("Class I", "Class II"),
    "NV": ("Class I", "Class III"),
    "NY": ("Class I", "Class III"),
    "OH": ("Class I", "Class III"),
    "OK": ("Class II", "Class III"),
    "OR": ("Class II", "Class III"),
    "PA": ("Class I", "Class III"),
    "RI": ("Class I", "Class II"),
    "SC": ("Class II", "Class III"),
    "SD": ("Class II", "Class III"),
    "TN": ("Class I", "Class II"),
    "TX": ("Class I", "Class II"),
    "UT": ("Class I", "Class III"),
    "VA": ("Class I", "Class II"),
    "VT": ("Class I", "Class III"),
    "WA": ("Class I", "Class III"),
    "WI": ("Class I", "Class III"),
    "WV": ("Class I", "Class II"),
    "WY": ("Class I", "Class II"),
}

#: Specials whose seat the calendar cannot tell (the state's two classes are both possible, or the
#: special filled the seat also up that year): the class of the seat being filled, from the record.
KNOWN_SPECIALS: dict[tuple[int, str], str] = {
    (1990, "HI"): "Class I",  # Matsunaga's seat (Akaka)
    (1990, "IN"): "Class III",  # Quayle's seat (Coats)
    (1994, "OK"): "Class II",  # Boren's seat (Inhofe)
    (2000, "GA"): "Class III",  # Coverdell's seat (Miller)
    (2002, "MO"): "Class I",  # Mel Carnahan's seat (Talent)
    (2010, "DE"): "Class II",  # Biden's seat (Coons)
    (2010, "IL"): "Class III",  # Obama's seat, for the weeks left of its term (Kirk)
    (2010, "WV"): "Class I",  # Byrd's seat (Manchin)
    (2014, "HI"): "Class III",  # Inouye's seat (Schatz)
    (2017, "AL"): "Class II",  # Sessions's seat (Jones)
    (2018, "MN"): "Class II",  # Franken's seat (Smith)
    (2018, "MS"): "Class II",  # Cochran's seat (Hyde-Smith)
    (2020, "AZ"): "Class III",  # McCain's seat (Kelly)
    (2020, "GA"): "Class III",  # Isakson's seat (Loeffler, then Warnock)
}

#: Run-offs held after the general election, by (cycle, state): the day they were held.
GENERAL_RUNOFF_DATES: dict[tuple[int, str], dt.date] = {
    (1992, "GA"): dt.date(1992, 11, 24),
    (2008, "GA"): dt.date(2008, 12, 2),
    (2018, "MS"): dt.date(2018, 11, 27),
    (2020, "GA"): dt.date(2021, 1, 5),
    (2022, "GA"): dt.date(2022, 12, 6),
}

#: States whose general election needs a majority, else the top two meet in a run-off
#: (Mississippi only for its nonpartisan specials).
MAJORITY_STATES = frozenset({"GA", "LA"})
MAJORITY_SPECIAL_STATES = frozenset({"MS"})
#: States whose party primaries need a majority, else the top two meet in a primary run-off.
PRIMARY_MAJORITY_STATES = frozenset({"AL", "AR", "GA", "MS", "OK", "SC", "TX"})


def general_election_day(year: int) -> dt.date:
    """The Tuesday after the first Monday in November."""
    first = dt.date(year, 11, 2)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7)


def regular_class(cycle: int) -> str | None:
    """The Senate class regularly up in an even-year cycle (Class I in 2018, II in 2020, III in 2022)."""
    if cycle % 2:
        return None
    return _CLASSES[(cycle - 2018) % 6]


def senate_seat(cycle: int, state: str, special: bool) -> str | None:
    """The class of the seat a Senate race is for; None when the record does not say."""
    if not special:
        return regular_class(cycle)
    if (cycle, state) in KNOWN_SPECIALS:
        return KNOWN_SPECIALS[(cycle, state)]
    classes = set(STATE_CLASSES.get(state, ()))
    classes.discard(regular_class(cycle) or "")
    return classes.pop() if len(classes) == 1 else None


def needs_majority(state: str, special: bool, stage: str = "general") -> bool:
    """Whether a contest of this stage needs a majority of the votes (else the top two go to a run-off)."""
    if stage == "primary":
        return state in PRIMARY_MAJORITY_STATES
    if stage == "general":
        return state in MAJORITY_STATES or (special and state in MAJORITY_SPECIAL_STATES)
    return False


_STATES = {s.name.lower(): s.abbr for s in [*us.states.STATES_AND_TERRITORIES, us.states.DC]}
_ABBRS = set(_STATES.values())


def state_code(value: str) -> str | None:
    """A postal code for a state's name or code ("Alabama", "AL", "al"); None if it is no state."""
    text = value.strip()
    if text.upper() in _ABBRS:
        return text.upper()
    return _STATES.get(text.lower())


def parse_us_date(value: str) -> dt.date:
    """FiveThirtyEight's M/D/YY (or M/D/YYYY)."""
    month, day, year = (int(part) for part in value.strip().split("/"))
    if year < 100:
        year += 2000
    return dt.date(year, month, day)


# --- parties ------------------------------------------------------------------------------------

#: FiveThirtyEight's party codes as the project stores them. 538's files spell the Greens "GRE";
#: docs/data-format.md names them "GRN", so that one is renamed here (and only here).
PARTY_538 = {"GRE": "GRN"}

#: MEDSL's party_detailed (and party_simplified) to FiveThirtyEight's codes.
MAJOR_PARTIES = ("DEM", "REP")


def party_538(code: str) -> str | None:
    code = code.strip().upper()
    return PARTY_538.get(code, code) or None


def party_medsl(detailed: str, simplified: str = "") -> str | None:
    """A code for MEDSL's party columns; None when the file gives none ("", "NA")."""
    detailed = re.sub(r"\s*\(.*\)$", "", detailed.strip().upper())  # "REPUBLICAN (NOT IDENTIFIED ON BALLOT)"
    simplified = simplified.strip().upper()
    if (code := party_named(detailed)) is not None:
        return code
    if simplified and simplified not in ("NA", "OTHER") and (code := party_named(simplified)) is not None:
        return code
    if detailed and detailed != "NA":
        return "OTH"
    return None


# --- names --------------------------------------------------------------------------------------

_LOWER_WORDS = {"de", "la", "van", "von", "der", "del", "du", "da"}


def display_name(name: str) -> str:
    """A readable spelling of an upper-case name: "ANGUS S. KING, JR." -> "Angus S. King, Jr."."""
    name = " ".join(name.split())
    if not name.isupper():
        return name

    def word(text: str) -> str:
        out = []
        for part in text.split("-"):
            lower = part.lower()
            titled = lower[:1].upper() + lower[1:]
            for prefix in ("mc", "o'"):
                if lower.startswith(prefix) and len(lower) > len(prefix) + 1:
                    titled = titled[: len(prefix)] + titled[len(prefix)].upper() + titled[len(prefix) + 1 :]
            if lower.strip('"(') in ("ii", "iii", "iv"):
                titled = part.upper()
            if titled[:1] in "\"'(" and len(titled) > 1:
                titled = titled[0] + titled[1].upper() + titled[2:]
            out.append(titled)
        return "-".join(out)

    words = []
    for w in name.split(" "):
        quoted = w.strip('"()')
        if w != quoted and len(quoted) <= 2:  # a quoted short nickname is initials: "MJ"
            words.append(w)
        else:
            words.append(re.sub(r"\.([a-z])", lambda m: "." + m.group(1).upper(), word(w)))
    return " ".join(words)


def person_key(prefix: str, state: str | None, name: str) -> str:
    return f"{prefix}:{state or '-'}:{name_key(name).replace(' ', '-')}"


# --- building documents -------------------------------------------------------------------------


class DocumentBuilder:
    """Collects candidates and races into one `racedesk/1` document, merging repeats by key."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.candidates: dict[str, dict[str, Any]] = {}
        self._parties: dict[str, Counter[str]] = {}
        self.races: dict[tuple[int, str, str, str, bool], dict[str, Any]] = {}

    def candidate(
        self, key: str, name: str, *, party: str | None, state: str | None, alias: str | None = None
    ) -> str:
        """A candidate's key; a person seen under several parties gets the one seen most (latest on ties)."""
        entry = self.candidates.get(key)
        if entry is None:
            entry = {"key": key, "name": name, "party": party, "state": state, "aliases": []}
            self.candidates[key] = entry
            self._parties[key] = Counter()
        if party:
            self._parties[key][party] += 1
            seen = self._parties[key]
            if seen[party] >= max(seen.values()):
                entry["party"] = party
        for spelling in (name, alias):
            if spelling and spelling != entry["name"] and spelling not in entry["aliases"]:
                entry["aliases"].append(spelling)
        return key

    def race(
        self, cycle: int, state: str, seat: str, special: bool, *, office: str = "senate", **fields: Any
    ) -> dict[str, Any]:
        natural = (cycle, state, office, seat, special)
        race = self.races.get(natural)
        if race is None:
            race = {
                "cycle": cycle,
                "state": state,
                "office": office,
                "seat": seat,
                "special": special,
                **{k: v for k, v in fields.items() if v is not None},
                "contests": [],
                "polls": [],
            }
            self.races[natural] = race
        return race

    def document(self) -> dict[str, Any]:
        races = []
        for natural in sorted(self.races):
            race = dict(self.races[natural])
            race["contests"] = sorted(race["contests"], key=lambda c: (c.get("date") or "", c["stage"]))
            if not race["polls"]:
                del race["polls"]
            races.append(race)
        candidates = []
        # The spelling seen most comes first: a store meeting a person for the first time names them by it.
        for key in sorted(self.candidates, key=lambda k: (-sum(self._parties[k].values()), k)):
            entry = dict(self.candidates[key])
            entry["aliases"] = sorted(entry["aliases"])
            candidates.append(entry)
        return {"format": "racedesk/1", "source": self.source, "candidates": candidates, "races": races}


def final_count(
    ballot: list[tuple[str, int, str | None]],
    other: dict[str, int],
    total: int,
    *,
    majority: bool,
    runoff_follows: bool,
    taken: str | None,
    unofficial: bool,
    basis: str | None,
    source: str,
    call_source: str,
) -> dict[str, Any]:
    """A contest's finished count, as the part of its document entry that says it: the ballot with
    each outcome, the one final result, and the call the count makes (see `settle`).

    `ballot` is (candidate key, votes, party), most votes first; `total` is what a majority is of.
    """
    outcomes, call = settle(
        [(key, votes) for key, votes, _ in ballot], total, majority=majority, runoff_follows=runoff_follows
    )
    entry: dict[str, Any] = {
        "candidates": [
            {"candidate": key, "party": party, "votes": votes, "outcome": outcomes[key]}
            for key, votes, party in ballot
        ],
        "results": [
            {
                "taken_at": taken,
                "unofficial": unofficial,
                "final": True,
                "reporting_pct": 100,
                "reporting_basis": basis,
                "source": source,
                "counts": {key: votes for key, votes, _ in ballot},
                "other": dict(sorted(other.items())),
            }
        ],
    }
    if call is not None:
        entry["call"] = {**call, "source": call_source, "called_at": taken}
    return entry


def settle(
    ranked: list[tuple[str, int]], total: int, *, majority: bool, runoff_follows: bool
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Outcomes and the call for a finished count: (candidate key, votes) best first.

    The top two advance (call kind "runoff") when a run-off follows, or when the contest needs a
    majority of all votes and nobody has one; else the top one wins. A tie at the top is "too close".
    """
    if not ranked:
        return {}, None
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1] and not runoff_follows:
        return {key: "pending" for key, _ in ranked}, {"kind": "too close", "candidates": []}
    no_majority = majority and total > 0 and ranked[0][1] * 2 <= total
    if (runoff_follows or no_majority) and len(ranked) > 1:
        top = [key for key, _ in ranked[:2]]
        return (
            {key: ("advanced" if key in top else "lost") for key, _ in ranked},
            {"kind": "runoff", "candidates": top},
        )
    winner = ranked[0][0]
    return {key: ("won" if key == winner else "lost") for key, _ in ranked}, {
        "kind": "winner",
        "candidates": [winner],
    }

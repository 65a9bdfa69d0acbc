"""The FEC's candidate master file (`cn.txt` of the bulk download `cn26.zip`, `cn24.zip`, ...).

Headerless, one line per candidate registered with the FEC, 15 fields separated by `|` (the FEC's data
dictionary, "Candidate master"; data/public/fec/README.md): CAND_ID, CAND_NAME ("LAST, FIRST MIDDLE
SUFFIX"), CAND_PTY_AFFILIATION, CAND_ELECTION_YR, CAND_OFFICE_ST, CAND_OFFICE (H, S, P),
CAND_OFFICE_DISTRICT, CAND_ICI (I incumbent, C challenger, O open seat), CAND_STATUS, CAND_PCC and five
fields of mailing address, which are never read. Public domain (a U.S. government work).

What a file makes, for the cycle it is for (the election year most of its lines name, or `cycle=`):

- a race per office, state and district: the House district's (seat "2"; "AL" where the state has one
  district, db/districts.py, and for the delegates of DC and the territories), the state's regular Senate seat (the FEC does not say which seat a
  Senate candidate seeks: a state whose regular class is not up that cycle gets its known special,
  `db.importers.common.KNOWN_SPECIALS`, else its lines are left out with a note; a state holding both,
  Minnesota in 2018, has all its Senate candidates in the regular race, with no incumbent set), the
  presidency (state "US");
- a candidacy per candidate: the Democrats and Republicans in their party's primary (everyone in the
  one top-two primary in California and Washington, and in Louisiana's November general), anyone
  else in the general; an incumbent (CAND_ICI "I") is the race's incumbent; a race with an open-seat
  candidate ("O") and no incumbent is noted as an open seat;
- the FEC lists who filed, not who is on the ballot, so only statutory candidates of the cycle
  (CAND_STATUS "C") are on the card; a candidate not yet statutory ("N"), or whose statutory run was
  a prior ("P") or is a future ("F") cycle's, is stored as withdrawn, which keeps them off the card,
  and brought back when a newer file says "C".

Importing the next week's file updates what changed (a party, a status, an incumbency): the writer
matches races, contests, candidacies and people by their natural keys. Lines of other election years
are left out with a note.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from db import limits
from db.districts import district_problem, house_districts
from db.importers.common import (
    KNOWN_SPECIALS,
    STATE_CLASSES,
    BadLines,
    DocumentBuilder,
    ParsedImport,
    Source,
    bounded_lines,
    display_name,
    general_election_day,
    open_text,
    party_538,
    regular_class,
    source_name,
    state_code,
)
from db.vocabulary import party_named

FORMAT = "fec-candidates"
SOURCE = "FEC candidate master file (public domain)"
FIELDS = 15
#: A candidate id: the office's letter, then eight digits and capitals (H0AL02087, S8MN00578, P80001571).
CAND_ID = re.compile(r"^[HSP][0-9A-Z]{8}$")
OFFICES = {"H": "house", "S": "senate", "P": "president"}
#: Parties whose candidates meet in a party primary; anyone else goes on the general's ballot.
PRIMARY_PARTIES = frozenset({"DEM", "REP"})
#: States whose every candidate is on one ballot first: the top two advance (Louisiana's is the general).
TOP_TWO = {"CA": "jungle primary", "WA": "jungle primary", "LA": "general"}
#: The District of Columbia and the territories elect one delegate each (the FEC numbers some "01").
DELEGATES = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})
ON_THE_CARD = "C"  # CAND_STATUS: a statutory candidate of this cycle
NO_PARTY = frozenset({"", "UNK", "NNE", "NON", "W"})  # unknown, none, write-in
_TITLES = frozenset(
    {"MR", "MRS", "MS", "DR", "HON", "REV", "MR.", "MRS.", "MS.", "DR.", "HON.", "REV.", "REP.", "JUDGE"}
)
_NICKNAME = re.compile(r"'([^' ]+)'")  # 'BUD' -> "BUD", as display_name reads nicknames
_SUFFIXES = {"JR": "Jr.", "JR.": "Jr.", "SR": "Sr.", "SR.": "Sr.", "II": "II", "III": "III", "IV": "IV"}


def looks_like(line: str) -> bool:
    """Whether a line is one of the candidate master file's: 15 `|`-separated fields, an FEC id first."""
    fields = line.rstrip("\r\n").split("|")
    return len(fields) == FIELDS and bool(CAND_ID.match(fields[0])) and fields[5] in OFFICES


def person_name(raw: str) -> str:
    """ "CRAMER, ROBERT E "BUD" JR" -> 'Robert E "Bud" Cramer Jr.'; "ROBY, MARTHA" -> "Martha Roby"."""
    last, _, rest = raw.strip().partition(",")
    words = [w for w in rest.split() if w.upper() not in _TITLES]
    suffix = ""
    if words and words[-1].upper() in _SUFFIXES:
        suffix = _SUFFIXES[words.pop().upper()]
    last_words = last.split()
    if last_words and last_words[-1].upper() in _SUFFIXES and not suffix:
        suffix = _SUFFIXES[last_words.pop().upper()]
    shown = display_name(_NICKNAME.sub(r'"\1"', " ".join([*words, *last_words])))
    return f"{shown} {suffix}" if suffix and shown else shown


def party(code: str) -> str | None:
    code = code.strip().upper()
    if code in NO_PARTY:
        return None
    return party_named(code) or party_538(code)


def _seat(office: str, state: str, district: str, cycle: int) -> tuple[str, bool] | str:
    """(seat, special) of a line's race, or why it has none."""
    if office == "house":
        if not district.isdigit():
            return f"district {district!r} is not a number"
        number = int(district)
        at_large = number == 0 or house_districts(state, cycle) == 1 or state in DELEGATES
        seat = "AL" if at_large else str(number)
        problem = district_problem(state, cycle, seat)
        return f"{state} {problem}" if problem else (seat, False)
    if office == "senate":
        regular = regular_class(cycle)
        if regular in STATE_CLASSES.get(state, ()):
            return regular or "", False
        if (cycle, state) in KNOWN_SPECIALS:
            return KNOWN_SPECIALS[(cycle, state)], True
        return f"no Senate seat of {state} is up in {cycle}"
    return "", False


def _cycle_of(lines: list[tuple[int, list[str]]]) -> int | None:
    years = Counter(fields[3] for _, fields in lines if fields[3].isdigit())
    return int(years.most_common(1)[0][0]) if years else None


def parse(source: Source, *, skip_bad: bool = False, cycle: int | None = None) -> ParsedImport:
    """An FEC candidate master file as a document (see the module docstring)."""
    bad = BadLines(skip_bad)
    lines: list[tuple[int, list[str]]] = []
    with open_text(source, encoding="latin-1") as stream:
        for number, text in enumerate(bounded_lines(stream), start=1):
            if not text.strip():
                continue
            fields = text.rstrip("\r\n").split("|")
            if len(fields) != FIELDS:
                bad.add(number, f"{len(fields)} fields separated by '|', the FEC's file has {FIELDS}", text)
                continue
            if not CAND_ID.match(fields[0]) or fields[5] not in OFFICES:
                bad.add(number, f"not an FEC candidate line: id {fields[0]!r}, office {fields[5]!r}", text)
                continue
            try:
                for value in fields[:9]:
                    limits.text(value, "a field")
            except limits.OutOfRange as problem:
                bad.add(number, str(problem), text)
                continue
            lines.append((number, fields))
    rows = len(lines) + len(bad.lines)
    wanted = cycle if cycle is not None else _cycle_of(lines)
    name = source_name(source)
    notes: list[str] = []
    builder = DocumentBuilder(f"{SOURCE}: {name}")
    if wanted is None:
        return ParsedImport(FORMAT, builder.document(), bad.lines, ["no candidate lines"], rows, name)
    wanted = limits.cycle(str(wanted))
    other_years = 0
    left_out: Counter[str] = Counter()
    ballots: dict[tuple[Any, ...], dict[tuple[str, str], list[dict[str, Any]]]] = defaultdict(dict)
    open_seats: set[tuple[Any, ...]] = set()
    unsure: set[tuple[Any, ...]] = set()  # Senate races of states with a special as well: no incumbent set
    incumbents: dict[tuple[Any, ...], tuple[str, str | None]] = {}
    for number, fields in lines:
        cand_id, raw_name, code, year, where, letter, district, ici, status = fields[:9]
        if year.strip() != str(wanted):
            other_years += 1
            continue
        office = OFFICES[letter]
        state = "US" if office == "president" else state_code(where)
        if state is None:
            bad.add(number, f"unknown state {where!r}", "|".join(fields[:9]))
            continue
        seat = _seat(office, state, district.strip(), wanted)
        if isinstance(seat, str):
            left_out[seat] += 1
            continue
        seeks = (wanted, state, office, seat[0], seat[1])
        if office == "senate" and not seat[1] and (wanted, state) in KNOWN_SPECIALS:
            unsure.add(seeks)  # two seats up, and the FEC does not say which: all in the regular race
        label = party(code)
        shown = person_name(raw_name)
        if not shown:
            bad.add(number, "no candidate name", "|".join(fields[:9]))
            continue
        key = builder.candidate(
            f"fec:{cand_id.strip()}",
            shown,
            party=label,
            state=state if state != "US" else None,
            alias=display_name(raw_name) if display_name(raw_name) != shown else None,
        )
        stage = TOP_TWO.get(state, "primary") if office != "president" else "primary"
        if stage == "primary" and label not in PRIMARY_PARTIES:
            stage = "general"
        ballot = (stage, label or "" if stage == "primary" else "")
        incumbent = ici.strip().upper() == "I"
        entry = {
            "candidate": key,
            "party": label,
            "incumbent": incumbent,
            "withdrawn": status.strip().upper() != ON_THE_CARD,
        }
        ballots[seeks].setdefault(ballot, []).append(entry)
        if incumbent and status.strip().upper() == ON_THE_CARD and seeks not in unsure:
            incumbents[seeks] = (key, label)
        if ici.strip().upper() == "O":
            open_seats.add(seeks)
    for race_key in sorted(ballots):
        cycle_, state, office, seat, special = race_key
        fields_: dict[str, Any] = {"office": office, "source": f"{SOURCE}: {name}"}
        if race_key in incumbents:
            fields_["incumbent"], fields_["incumbent_party"] = incumbents[race_key]
        elif race_key in open_seats and race_key not in unsure:
            fields_["notes"] = "Open seat (FEC)"
        race = builder.race(cycle_, state, seat, special, **fields_)
        for (stage, label), entries in sorted(ballots[race_key].items()):
            contest: dict[str, Any] = {
                "stage": stage,
                "party": label,
                "status": "upcoming",
                "candidates": entries,
            }
            if stage == "general":
                contest["date"] = general_election_day(cycle_).isoformat()
            race["contests"].append(contest)
    for _, state, _, _, _ in sorted(unsure):
        notes.append(
            f"{state} elects two senators in {wanted}; the FEC does not say which seat each seeks: "
            "all are in the regular race, with no incumbent set"
        )
    if other_years:
        notes.append(f"{other_years} lines of other election years than {wanted} left out")
    for why, count in sorted(left_out.items()):
        notes.append(f"{count} lines left out: {why}")
    withdrawn = sum(1 for b in ballots.values() for es in b.values() for e in es if e["withdrawn"])
    if withdrawn:
        notes.append(
            f"{withdrawn} candidates not (or no longer) statutory candidates of {wanted} stored off the card"
        )
    return ParsedImport(FORMAT, builder.document(), bad.lines, notes, rows, name)

"""FiveThirtyEight's poll files, every office and every layout they came in.

One row per candidate per question; a poll holds one or more questions (match-ups). Columns are
found by name and unknown ones are ignored, so all of 538's layouts read the same way: the 2018–2020
files (`senate_polls.csv`, `house_polls.csv`, `governor_polls.csv`, `president_polls.csv`), the later
"historical" file (the party column is `party`, not `candidate_party`; some names are spelled
differently, "Gordon Douglas Jones"), and the newer layout of the 2024 cycle (`party`,
`ranked_choice_round`, `transparency_score`, and in later files `numeric_grade`, `pollscore`,
`hypothetical`, `url_article`/`url_topline`/`url_crosstab`, `endorsed_candidate_*`). A file without one
of `COLUMNS` fails with one line naming it. Where the file says which questions are hypothetical (a
`hypothetical` column), that is taken as said; a ranked-choice poll's later rounds (`ranked_choice_round`
above the first) are left out, as they repeat the first round's candidates.

- office_type "U.S. Senate", "U.S. House", "Governor", "U.S. President" (`OFFICES`); other rows are
  left out with a note. A House race is the district's (seat_number; "AL" in a state with one
  district, as db/districts.py counts them), special when the cycle is odd or its general is not on
  the general election day. A president poll without a state is the national race (state "US"); 538's
  "Maine CD-2" is Maine's race for the district's elector (seat "CD-2").

- A Senate poll's race is (cycle, state, senate, seat_name, special). 538 has no special column: a race
  is special when its seat_name is not the class regularly up in the cycle (Class I in 2018, II in
  2020, III in 2022). 538 files the Georgia run-offs of Jan 5, 2021 under cycle 2020: kept.
- Poll keys are `538:<poll_id>` (Senate) and `538:<poll_id>/<office>` (one poll often asked about a
  state's Senate and governor races: each race keeps its own); the polls that asked about two races
  of one office (both Georgia races of 2020, several districts, several states) become one poll per
  race, keyed `538:<poll_id>#<state>-<class>` (`538:73993#GA-III`), `538:<poll_id>/house#TX-6`,
  `538:<poll_id>/president#ME-CD-2`.
  Question keys are `538q:<question_id>`.
- Stages: "general" is the general. "jungle primary" held on the November general election day
  (Georgia's 2020 special, Louisiana 2020, Mississippi's 2018 special) is the general: every party
  on one ballot, the top two to a run-off if nobody has a majority; a jungle primary on another day
  (California, Washington) stays "jungle primary". "runoff" after the general election day is the
  "general runoff", before it a "primary runoff" (of the answers' party).
- Sample size and population belong to 538's questions: the poll takes its first question's, and
  a question keeps its own only when they differ from the poll's. Dates are M/D/YY.
- The questions' contests are not in the document (538 has no results); at import time, those
  the store holds are named so the questions link to them, and those still ahead (by 538's
  election_date) are created as upcoming (`ParsedImport.contest_dates`).
- Party codes are 538's, except its "GRE" for the Greens, stored as "GRN" (docs/data-format.md).

Hypothetical match-ups. The rule: a question is hypothetical when, for some party, it names a
candidate other than that party's candidate(s) on the ballot of the contest it asks about. A
polled candidate whose party has nobody on that ballot (an independent who did not qualify) does
not make the question hypothetical. So AUM's poll 67048 asks Sessions vs Jones (hypothetical:
Tuberville was the Republican on the November ballot) and Tuberville vs Jones (not).

Who is on the ballot: at import time (`db.importers.reconcile`), from the candidacies the store already
holds for that contest (the default build loads results before polls); the names are matched with
`db.people`'s reconciliation, or as a near-identical spelling within the party. When the store knows no ballot for the contest, this parser's own
guess stands: it takes as the ballot the candidates named in the contest's polls that ended in the
last 21 days before its final poll ended (FiveThirtyEight stops asking hypothetical match-ups once
the nominees are known), provided that guess names at most one candidate per party (else it makes
no guess, and no question is marked hypothetical).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from db import limits
from db.districts import house_districts
from db.importers.common import (
    BadLines,
    DocumentBuilder,
    ParsedImport,
    Source,
    csv_rows,
    general_election_day,
    open_text,
    parse_us_date,
    party_538,
    person_key,
    regular_class,
    source_name,
    state_code,
)
from db.vocabulary import POPULATION_NAME

FORMAT = "fivethirtyeight-polls"
SOURCE = "FiveThirtyEight"
COLUMNS = {
    "question_id",
    "poll_id",
    "cycle",
    "state",
    "pollster",
    "sample_size",
    "population",
    "office_type",
    "seat_name",
    "start_date",
    "end_date",
    "election_date",
    "stage",
    "answer",
    "candidate_name",
    "pct",
}
SEATS = ("Class I", "Class II", "Class III")
#: 538's office_type -> the office stored.
OFFICES = {
    "U.S. Senate": "senate",
    "U.S. House": "house",
    "Governor": "governor",
    "U.S. President": "president",
}
#: Where 538's newer layouts put the poll's link, in the order taken.
URL_COLUMNS = ("url", "url_article", "url_topline", "url_crosstab")
Race = tuple[int, str, str, str, bool]  # cycle, state, office, seat, special
GUESS_WINDOW = dt.timedelta(days=21)


@dataclass
class _Question:
    id: int
    stage: str
    n: int | None
    population: str | None
    election: dt.date | None
    answers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Poll:
    id: int
    race: Race
    fields: dict[str, Any]
    end: dt.date
    questions: dict[int, _Question] = field(default_factory=dict)


def _stage(
    raw: str, cycle: int, election: dt.date | None, end: dt.date, office: str = "senate"
) -> str | None:
    raw = raw.strip().lower()
    # Governors are also elected in odd years (Kentucky, Louisiana, Mississippi, New Jersey, Virginia).
    year = cycle if cycle % 2 == 0 or office != "senate" else cycle + 1
    general_day = general_election_day(year)
    if raw == "general":
        return "general"
    if raw == "primary":
        return "primary"
    if raw == "jungle primary":
        return "general" if election == general_day else "jungle primary"
    if raw == "runoff":
        after = election > general_day if election is not None else end > general_day
        return "general runoff" if after else "primary runoff"
    return None


def _seat(row: dict[str, str], office: str, cycle: int, state: str) -> tuple[str, str] | str:
    """(state, seat) of a row's race, or what is wrong with it."""
    if office == "senate":
        seat = row["seat_name"].strip()
        return (state, seat) if seat in SEATS else f"seat_name {row['seat_name']!r} is not a Senate class"
    if office == "house":
        text = (row.get("seat_number") or "").strip() or row["seat_name"].strip().removeprefix("District ")
        if not text.isdigit():
            return f"seat_number {text!r} is not a district number"
        number = int(text)
        return (state, "AL" if number == 0 or house_districts(state, cycle) == 1 else str(number))
    return (state, "")


def _race_state(raw: str, office: str) -> tuple[str, str] | None:
    """The state code (and, for 538's "Maine CD-2", the president race's seat) of a row's `state`."""
    raw = raw.strip()
    if office == "president":
        if not raw:
            return ("US", "")
        name, _, district = raw.partition(" CD-")
        code = state_code(name)
        if code is not None and district.isdigit():
            return (code, f"CD-{int(district)}")
    code = state_code(raw)
    return (code, "") if code is not None else None


def _special(office: str, cycle: int, seat: str, stage: str, election: dt.date | None) -> bool:
    if office == "senate":
        return seat != regular_class(cycle)
    if office == "house":
        if cycle % 2:
            return True
        return stage == "general" and election is not None and election != general_election_day(cycle)
    return False


def parse(source: Source, *, skip_bad: bool = False, cycles: Iterable[int] | None = None) -> ParsedImport:
    """A 538 polls file as a document; `cycles` keeps only those (538's cycle column)."""
    wanted = set(cycles) if cycles is not None else None
    bad = BadLines(skip_bad)
    notes: list[str] = []
    builder = DocumentBuilder(f"{SOURCE} polls (CC BY 4.0): {source_name(source)}")
    polls: dict[tuple[int, Race], _Poll] = {}
    races_of_poll: dict[int, set[Race]] = defaultdict(set)
    offices: set[str] = set()
    said: dict[int, bool] = {}  # question id -> the file's own `hypothetical`
    rounds: dict[int, str] = {}  # question id -> the ranked-choice round kept
    later_rounds = 0
    rows = 0
    left_out: dict[str, int] = defaultdict(int)
    # The same texts come again row after row (a cycle, a date, a state): each is read once.
    cycle_of, share_of, size_of = _memo(limits.cycle), _share_of(), _memo(limits.sample_size)
    date_of, state_of = _memo(parse_us_date), _memo(_race_state)
    with open_text(source) as stream:
        for line, row in csv_rows(stream, COLUMNS, bad, "FiveThirtyEight polls"):
            rows += 1
            office = OFFICES.get(row["office_type"].strip())
            if office is None:
                left_out[row["office_type"].strip() or "no office"] += 1
                continue
            try:
                poll_id = int(row["poll_id"])
                question_id = int(row["question_id"])
            except ValueError:
                bad.add(line, "poll_id or question_id is not a number", _joined(row))
                continue
            rank = (row.get("ranked_choice_round") or "").strip()
            if rounds.setdefault(question_id, rank) != rank:
                later_rounds += 1
                continue
            try:
                cycle = cycle_of(row["cycle"])
                pct = share_of(row["pct"], row["candidate_name"].strip() or row["answer"].strip() or "pct")
            except limits.OutOfRange as problem:
                bad.add(line, str(problem), _joined(row))
                continue
            if wanted is not None and cycle not in wanted:
                continue
            place = state_of(row["state"], office)
            if place is None:
                bad.add(line, f"unknown state {row['state']!r}", _joined(row))
                continue
            state, district_seat = place
            seat_of = _seat(row, office, cycle, state)
            if isinstance(seat_of, str):
                bad.add(line, seat_of, _joined(row))
                continue
            seat = district_seat or seat_of[1]
            try:
                start = date_of(row["start_date"]) if row["start_date"].strip() else None
                end = date_of(row["end_date"])
                election = date_of(row["election_date"]) if row["election_date"].strip() else None
            except ValueError:
                bad.add(line, "a date is not M/D/YY", _joined(row))
                continue
            stage = _stage(row["stage"], cycle, election, end, office)
            if stage is None:
                bad.add(line, f"unknown stage {row['stage']!r}", _joined(row))
                continue
            try:
                n = size_of(row["sample_size"]) if row["sample_size"].strip() else None
            except limits.OutOfRange as problem:
                bad.add(line, str(problem), _joined(row))
                continue
            population = row["population"].strip().lower() or None
            if population is not None and population not in POPULATION_NAME:
                bad.add(line, f"unknown population {row['population']!r}", _joined(row))
                continue
            race: Race = (cycle, state, office, seat, _special(office, cycle, seat, stage, election))
            offices.add(office)
            poll = polls.get((poll_id, race))
            if poll is None:
                poll = polls[(poll_id, race)] = _Poll(poll_id, race, _poll_fields(row, start, end), end)
                races_of_poll[poll_id].add(race)
            question = poll.questions.get(question_id)
            if question is None:
                question = poll.questions[question_id] = _Question(
                    question_id, stage, n, population, election
                )
            hypothetical = (row.get("hypothetical") or "").strip().lower()
            if hypothetical in ("true", "false"):
                said[question_id] = said.get(question_id, False) or hypothetical == "true"
            party = party_538(row.get("candidate_party", row.get("party", "")) or "")
            name = row["candidate_name"].strip()
            candidate = None
            if name:
                candidate_id = row.get("candidate_id", "").strip()
                key = f"538c:{candidate_id}" if candidate_id else person_key("538", state, name)
                candidate = builder.candidate(key, name, party=party, state=state if state != "US" else None)
            question.answers.append(
                {"candidate": candidate, "choice": row["answer"].strip() or name, "party": party, "pct": pct}
            )
    for office, count in sorted(left_out.items()):
        notes.append(f"{count} rows about {office} left out: this importer reads {', '.join(OFFICES)} polls")
    if later_rounds:
        notes.append(f"{later_rounds} rows of ranked-choice rounds after a question's first left out")

    described = " and ".join(sorted(offices)) or "no"
    for (poll_id, race), poll in sorted(polls.items(), key=lambda item: (item[0][0], item[0][1])):
        cycle, state, office, seat, special = race
        document = builder.race(
            cycle, state, seat, special, office=office, source=f"{SOURCE} {office} polls (CC BY 4.0)"
        )
        key = f"538:{poll_id}" if office == "senate" else f"538:{poll_id}/{office}"
        if sum(1 for other in races_of_poll[poll_id] if other[2] == office) > 1:
            key += f"#{state}-{seat.removeprefix('Class ')}" if seat else f"#{state}"
        document["polls"].append(_poll_document(key, poll, said))
    builder.source = f"{SOURCE} {described} polls (CC BY 4.0): {source_name(source)}"
    doc = builder.document()
    _guess_hypotheticals(doc, notes, {f"538q:{q}" for q in said})
    parsed = ParsedImport(FORMAT, doc, bad.lines, notes, rows, source_name(source))
    for (_, race), poll in polls.items():
        for question in poll.questions.values():
            if question.election is not None:
                party = _question_party(question)
                parsed.contest_dates[(*race, question.stage, party)] = question.election.isoformat()
    return parsed


_T = TypeVar("_T")


def _memo(function: Callable[..., _T]) -> Callable[..., _T]:
    """`function` remembering its results by its arguments (a failure is not kept: each bad line says so)."""
    results: dict[tuple[Any, ...], _T] = {}

    def remembered(*arguments: Any) -> _T:
        try:
            return results[arguments]
        except KeyError:
            results[arguments] = function(*arguments)
            return results[arguments]

    return remembered


def _joined(row: dict[str, str]) -> str:
    """A row as its line's text (for the report of a bad line)."""
    return ",".join(row.values())


def _share_of() -> Callable[[str, str], float]:
    """`limits.share`, remembering each text's share (who it is only names a failure, which is not kept)."""
    shares: dict[str, float] = {}

    def share(value: str, who: str) -> float:
        if value not in shares:
            shares[value] = limits.share(value, who)
        return shares[value]

    return share


def _poll_fields(row: dict[str, str], start: dt.date | None, end: dt.date) -> dict[str, Any]:
    def text(column: str) -> str | None:
        return (row.get(column) or "").strip() or None

    return {
        "pollster": text("pollster"),
        "sponsor": text("sponsors") or text("sponsor_candidate"),
        "partisan": text("partisan"),
        "internal": (row.get("internal") or "").strip().lower() == "true",
        "start": start.isoformat() if start else None,
        "end": end.isoformat(),
        "methodology": text("methodology"),
        "url": next((link for link in map(text, URL_COLUMNS) if link), None),
        "source": SOURCE,
    }


def _poll_document(key: str, poll: _Poll, said: dict[int, bool]) -> dict[str, Any]:
    questions = [poll.questions[q] for q in sorted(poll.questions)]
    first = questions[0]
    document: dict[str, Any] = {"key": key, **poll.fields, "n": first.n, "population": first.population}
    document["questions"] = []
    for question in questions:
        party = _question_party(question)
        document["questions"].append(
            {
                "key": f"538q:{question.id}",
                "stage": question.stage,
                "party": party,
                "hypothetical": said.get(question.id, False),
                "n": question.n if question.n != first.n else None,
                "population": question.population if question.population != first.population else None,
                "answers": question.answers,
            }
        )
    return document


def _question_party(question: _Question) -> str:
    """The party of the primary (or primary run-off) a question asks about: its answers' one party."""
    parties = {a["party"] for a in question.answers if a["party"]}
    if question.stage in ("primary", "primary runoff") and len(parties) == 1:
        return parties.pop()
    return ""


def _guess_hypotheticals(doc: dict[str, Any], notes: list[str], said: set[str]) -> None:
    """This file's own guess at the ballots, for contests the store knows nothing about (see above);
    questions the file marks itself (`said`, their keys) keep the file's word."""
    parties = {c["key"]: c["party"] for c in doc["candidates"]}
    for race in doc["races"]:
        by_contest: dict[tuple[str, str], list[tuple[dt.date, dict[str, Any]]]] = defaultdict(list)
        for poll in race.get("polls", []):
            end = dt.date.fromisoformat(poll["end"])
            for question in poll["questions"]:
                by_contest[(question["stage"], question["party"])].append((end, question))
        for asked in by_contest.values():
            last = max(end for end, _ in asked)
            ballot: dict[str, set[str]] = defaultdict(set)
            for end, question in asked:
                if end >= last - GUESS_WINDOW:
                    for answer in question["answers"]:
                        if answer["candidate"]:
                            ballot[parties.get(answer["candidate"]) or ""].add(answer["candidate"])
            if any(len(keys) > 1 for party, keys in ballot.items() if party):
                continue
            for _, question in asked:
                if question["key"] not in said:
                    question["hypothetical"] = is_hypothetical(question, ballot, parties)


def is_hypothetical(
    question: dict[str, Any], ballot: dict[str, set[str]], parties: dict[str, str | None]
) -> bool:
    """Whether a question names, for some party, someone other than that party's candidates on the ballot."""
    for answer in question["answers"]:
        key = answer["candidate"]
        party = parties.get(key) if key else None
        if key and party and ballot.get(party) and key not in ballot[party]:
            return True
    return False

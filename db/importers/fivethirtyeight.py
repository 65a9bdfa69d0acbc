"""FiveThirtyEight's senate polls: `senate_polls.csv` and the later `senate_polls_historical.csv`.

One row per candidate per question; a poll holds one or more questions (match-ups). The
historical variant names the party column `party` (not `candidate_party`), adds columns, and
spells some names differently ("Gordon Douglas Jones"); both are read the same way.

- A poll's race is (cycle, state, senate, seat_name, special). 538 has no special column: a race
  is special when its seat_name is not the class regularly up in the cycle (Class I in 2018, II in
  2020, III in 2022). 538 files the Georgia run-offs of Jan 5, 2021 under cycle 2020: kept.
- Poll keys are `538:<poll_id>`; the few polls that asked about two races (both Georgia races of
  2020) become one poll per race, keyed `538:<poll_id>#<state>-<class>` (`538:73993#GA-III`).
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
- `president_polls.csv` (same layout, office_type "U.S. President") is read too: a state's polls go to
  that state's president race (seat "", not special), the national polls (no state) to the national
  race, state "US". 538's polls of Maine's and Nebraska's districts ("Maine CD-2") are left out, with
  a note: racedesk keeps the president's races by state.

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
    general_election_day,
    open_text,
    parse_us_date,
    party_538,
    person_key,
    regular_class,
    source_name,
    state_code,
)
from db.models import Office
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
#: 538's office_type -> the office. A president's race has no seat: a Senate race always has one.
OFFICES = {"U.S. Senate": Office.SENATE, "U.S. President": Office.PRESIDENT}
NATIONAL = "US"  # the state of the national president race
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
    race: tuple[int, str, str, bool]
    fields: dict[str, Any]
    end: dt.date
    questions: dict[int, _Question] = field(default_factory=dict)


def _stage(raw: str, cycle: int, election: dt.date | None, end: dt.date) -> str | None:
    raw = raw.strip().lower()
    general_day = general_election_day(cycle if cycle % 2 == 0 else cycle + 1)
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


def parse(source: Source, *, skip_bad: bool = False, cycles: Iterable[int] | None = None) -> ParsedImport:
    """A 538 senate polls file as a document; `cycles` keeps only those (538's cycle column)."""
    wanted = set(cycles) if cycles is not None else None
    bad = BadLines(skip_bad)
    notes: list[str] = []
    builder = DocumentBuilder(f"{SOURCE} senate polls (CC BY 4.0): {source_name(source)}")
    polls: dict[tuple[int, tuple[int, str, str, bool]], _Poll] = {}
    races_of_poll: dict[int, set[tuple[int, str, str, bool]]] = defaultdict(set)
    rows = 0
    left_out: dict[str, int] = defaultdict(int)
    districts: dict[str, int] = defaultdict(int)  # president polls of one district's electoral vote
    with open_text(source) as stream:
        for line, row in csv_rows(stream, COLUMNS, bad, "FiveThirtyEight polls"):
            rows += 1
            text = ",".join(row.values())
            polled = OFFICES.get(row["office_type"].strip())
            if polled is None:
                left_out[row["office_type"].strip() or "no office"] += 1
                continue
            try:
                poll_id = int(row["poll_id"])
                question_id = int(row["question_id"])
            except ValueError:
                bad.add(line, "poll_id or question_id is not a number", text)
                continue
            try:
                cycle = limits.cycle(row["cycle"])
                pct = limits.share(
                    row["pct"], row["candidate_name"].strip() or row["answer"].strip() or "pct"
                )
            except limits.OutOfRange as problem:
                bad.add(line, str(problem), text)
                continue
            if wanted is not None and cycle not in wanted:
                continue
            state = state_code(row["state"]) if polled == Office.SENATE or row["state"].strip() else NATIONAL
            if state is None and polled == Office.PRESIDENT and " CD-" in row["state"]:
                districts[row["state"].strip()] += 1
                continue
            if state is None:
                bad.add(line, f"unknown state {row['state']!r}", text)
                continue
            seat = row["seat_name"].strip() if polled == Office.SENATE else ""
            if polled == Office.SENATE and seat not in SEATS:
                bad.add(line, f"seat_name {row['seat_name']!r} is not a Senate class", text)
                continue
            try:
                start = parse_us_date(row["start_date"]) if row["start_date"].strip() else None
                end = parse_us_date(row["end_date"])
                election = parse_us_date(row["election_date"]) if row["election_date"].strip() else None
            except ValueError:
                bad.add(line, "a date is not M/D/YY", text)
                continue
            stage = _stage(row["stage"], cycle, election, end)
            if stage is None:
                bad.add(line, f"unknown stage {row['stage']!r}", text)
                continue
            try:
                n = limits.sample_size(row["sample_size"]) if row["sample_size"].strip() else None
            except limits.OutOfRange as problem:
                bad.add(line, str(problem), text)
                continue
            population = row["population"].strip().lower() or None
            if population is not None and population not in POPULATION_NAME:
                bad.add(line, f"unknown population {row['population']!r}", text)
                continue
            race = (cycle, state, seat, bool(seat) and seat != regular_class(cycle))
            poll = polls.get((poll_id, race))
            if poll is None:
                poll = polls[(poll_id, race)] = _Poll(poll_id, race, _poll_fields(row, start, end), end)
                races_of_poll[poll_id].add(race)
            question = poll.questions.get(question_id)
            if question is None:
                question = poll.questions[question_id] = _Question(
                    question_id, stage, n, population, election
                )
            party = party_538(row.get("candidate_party", row.get("party", "")) or "")
            name = row["candidate_name"].strip()
            candidate = None
            if name:
                candidate_id = row.get("candidate_id", "").strip()
                key = f"538c:{candidate_id}" if candidate_id else person_key("538", state, name)
                candidate = builder.candidate(key, name, party=party, state=state)
            question.answers.append(
                {"candidate": candidate, "choice": row["answer"].strip() or name, "party": party, "pct": pct}
            )
    for office, count in sorted(left_out.items()):
        notes.append(f"{count} rows about {office} left out: this importer reads senate and president polls")
    for district, count in sorted(districts.items()):
        notes.append(f"{count} rows about {district} left out: racedesk keeps the president's races by state")

    for (poll_id, race), poll in sorted(polls.items(), key=lambda item: (item[0][0], item[0][1])):
        cycle, state, seat, special = race
        document = builder.race(cycle, state, seat, special, office=_office(seat))
        key = f"538:{poll_id}"
        if len(races_of_poll[poll_id]) > 1:
            key += f"#{state}-{seat.removeprefix('Class ')}" if seat else f"#{state}"
        document["polls"].append(_poll_document(key, poll))
    doc = builder.document()
    _guess_hypotheticals(doc, notes)
    parsed = ParsedImport(FORMAT, doc, bad.lines, notes, rows, source_name(source))
    for (_, race), poll in polls.items():
        for question in poll.questions.values():
            if question.election is not None:
                party = _question_party(question)
                parsed.contest_dates[
                    (race[0], race[1], _office(race[2]), race[2], race[3], question.stage, party)
                ] = question.election.isoformat()
    return parsed


def _office(seat: str) -> str:
    """The office of a poll's race: only a Senate race has a seat (its class)."""
    return Office.SENATE if seat else Office.PRESIDENT


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
        "url": text("url"),
        "source": SOURCE,
    }


def _poll_document(key: str, poll: _Poll) -> dict[str, Any]:
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
                "hypothetical": False,
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


def _guess_hypotheticals(doc: dict[str, Any], notes: list[str]) -> None:
    """This file's own guess at the ballots, for contests the store knows nothing about (see above)."""
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

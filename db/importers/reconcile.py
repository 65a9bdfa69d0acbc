"""Fitting an imported document to what the store already holds, before the writer stores it.

Another source's file names races, contests and people the store may know already: a race or
contest keeps the sources it has, with this file's added; a FiveThirtyEight question is linked to
the contest it asks about and judged hypothetical against the ballot the store knows for it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.dataset.load import batches, race_key
from db.importers.common import ParsedImport
from db.importers.fivethirtyeight import FORMAT as POLLS
from db.importers.racedesk import FORMAT as RACEDESK
from db.importers.report import ImportReport
from db.models import Candidacy, Candidate, CandidateAlias, Contest, Race
from db.names import name_key
from db.people import name_match, parties_agree


class _StoreView:
    """What the store holds about a document's races: their sources, and each contest's ballot."""

    def __init__(self) -> None:
        self.race_source: dict[tuple[Any, ...], str | None] = {}
        self.contest_source: dict[tuple[Any, ...], str | None] = {}
        self.ballots: dict[tuple[Any, ...], list[tuple[str | None, list[str]]]] = defaultdict(list)

    @classmethod
    async def load(cls, session: AsyncSession, doc: dict[str, Any]) -> _StoreView:
        view = cls()
        wanted = {race_key(r) for r in doc.get("races", [])}
        if not wanted:
            return view
        races = {}
        columns = tuple_(Race.cycle, Race.state, Race.office, Race.seat, Race.special)
        for batch in batches(wanted):  # the document's races only, not every race of their cycles
            found = await session.execute(
                select(
                    Race.id, Race.cycle, Race.state, Race.office, Race.seat, Race.special, Race.source
                ).where(columns.in_(batch))
            )
            for race_id, *natural, source in found:
                races[race_id] = key = tuple(natural)
                view.race_source[key] = source
        if not races:
            return view
        rows = await session.execute(
            select(Contest.id, Contest.race_id, Contest.stage, Contest.party, Contest.source).where(
                Contest.race_id.in_(races)
            )
        )
        contests = {}
        for contest_id, race_id, stage, party, source in rows:
            contests[contest_id] = (*races[race_id], stage, party or "")
            view.contest_source[contests[contest_id]] = source
        people = await session.execute(
            select(Candidacy.contest_id, Candidate.id, Candidate.name, Candidate.party)
            .join(Candidate, Candidate.id == Candidacy.candidate_id)
            .where(Candidacy.contest_id.in_(contests))
        )
        on_ballot = [(contests[c], pid, shown, label) for c, pid, shown, label in people]
        spellings: dict[int, list[str]] = defaultdict(list)
        ids = {pid for _, pid, _, _ in on_ballot}
        if ids:
            for pid, alias in await session.execute(
                select(CandidateAlias.candidate_id, CandidateAlias.alias).where(
                    CandidateAlias.candidate_id.in_(ids)
                )
            ):
                spellings[pid].append(alias)
        for contest_key, pid, shown, label in on_ballot:
            view.ballots[contest_key].append((label, [shown, *spellings[pid]]))
        return view


#: How each format's source is named in a race's or contest's `source` text.
SOURCE_LABELS = {
    "medsl": "MEDSL",
    "openelections": "OpenElections",
    "al-sos-primary": "Secretary of State",
    "fivethirtyeight-polls": "FiveThirtyEight",
    "fec-candidates": "FEC",
}


def _merged_source(existing: str | None, mine: str | None, label: str) -> str | None:
    """None (leave the store's) when the store's source already names this one; else both."""
    if not mine or not existing:
        return mine
    if label.lower() in existing.lower():
        return None
    return f"{existing}; {mine}"


async def fit_to_store(session: AsyncSession, parsed: ParsedImport, report: ImportReport) -> None:
    """Adjust an imported document to the store: keep sources already named, judge hypotheticals.

    A racedesk document is stored as written. For the others: a race or contest the store already
    holds keeps its source, with this file's added when it is not already named (the writer would
    replace it). For FiveThirtyEight polls, a question about a contest whose ballot the store knows
    is hypothetical when it names, for some party, someone not on that ballot for that party
    (db/importers/fivethirtyeight.py explains the rule).
    """
    if parsed.format == RACEDESK:
        return
    doc = parsed.document
    label = SOURCE_LABELS.get(parsed.format, parsed.format)
    view = await _StoreView.load(session, doc)
    for race in doc.get("races", []):
        key = race_key(race)
        if key in view.race_source and parsed.format == POLLS:
            race.pop("source", None)  # polls attach to a race another source made: its source stands
        elif key in view.race_source:
            race["source"] = _merged_source(view.race_source[key], race.get("source"), label)
        for contest in race.get("contests", []):
            ckey = (*key, contest["stage"], contest.get("party") or "")
            if ckey in view.contest_source:
                contest["source"] = _merged_source(view.contest_source[ckey], contest.get("source"), label)
    if parsed.format == POLLS:
        _name_contests(parsed, view, report)
        _judge_hypotheticals(doc, view, report)


def _name_contests(parsed: ParsedImport, view: _StoreView, report: ImportReport) -> None:
    """Name in each race the contests its questions ask about, so the writer links them.

    The writer links a question only to a contest of the same document. A contest the store holds
    is named by stage and party alone (the writer finds it and changes nothing); one it lacks is
    created as upcoming when its election day (from the file) is still ahead, or when the polls made
    the race (the store held none): such a race takes its stages and election days from the poll rows;
    else the questions about it are stored without a contest, and a note says how many.
    """
    today = dt.date.today().isoformat()
    unlinked: Counter[str] = Counter()
    for race in parsed.document.get("races", []):
        key = race_key(race)
        named = {(c["stage"], c.get("party") or "") for c in race.get("contests", [])}
        for poll in race.get("polls", []):
            for question in poll.get("questions", []):
                asked = (question.get("stage"), question.get("party") or "")
                if not asked[0] or asked in named:
                    continue
                when = parsed.contest_dates.get((*key, *asked))
                if (*key, *asked) in view.contest_source:
                    race.setdefault("contests", []).append({"stage": asked[0], "party": asked[1]})
                elif when and (when >= today or key not in view.race_source):
                    race.setdefault("contests", []).append(
                        {"stage": asked[0], "party": asked[1], "date": when, "status": "upcoming"}
                    )
                else:
                    unlinked[f"{key[0]} {key[1]}{' special' if key[4] else ''} {asked[0]}"] += 1
                    continue
                named.add(asked)
    if unlinked:
        report.notes.append(
            f"{sum(unlinked.values())} questions about contests the store does not hold, stored without "
            "a contest: " + ", ".join(f"{what} ({n})" for what, n in sorted(unlinked.items()))
        )


def _judge_hypotheticals(doc: dict[str, Any], view: _StoreView, report: ImportReport) -> None:
    people = {c["key"]: c for c in doc.get("candidates", [])}
    judged = flipped = 0
    for race in doc.get("races", []):
        key = race_key(race)
        for poll in race.get("polls", []):
            for question in poll.get("questions", []):
                ballot = view.ballots.get((*key, question.get("stage"), question.get("party") or ""))
                if not ballot:
                    continue
                judged += 1
                verdict = _off_ballot(question, ballot, people)
                if verdict != question.get("hypothetical", False):
                    flipped += 1
                question["hypothetical"] = verdict
    if judged:
        report.notes.append(
            f"{judged} questions judged against the ballots the store knows "
            f"({flipped} differ from the file's own guess)"
        )


def _off_ballot(
    question: dict[str, Any], ballot: list[tuple[str | None, list[str]]], people: dict[str, dict[str, Any]]
) -> bool:
    parties_on_ballot = {party for party, _ in ballot if party}
    for answer in question.get("answers", []):
        person = people.get(answer.get("candidate") or "")
        if person is None:
            continue
        party = person.get("party") or answer.get("party")
        names = [person["name"], *person.get("aliases", [])]
        on = any(
            parties_agree(party, ballot_party)
            and any(_same_on_ballot(n, s, party == ballot_party) for n in names for s in spellings)
            for ballot_party, spellings in ballot
        )
        if not on and party in parties_on_ballot:
            return True
    return False


def _same_on_ballot(polled: str, listed: str, same_party: bool) -> bool:
    """The reconciliation's match, or (same party) a near-identical spelling: "O'Connor" / "O'Conner"."""
    if name_match(polled, listed):
        return True
    return same_party and fuzz.ratio(name_key(polled), name_key(listed)) >= 90

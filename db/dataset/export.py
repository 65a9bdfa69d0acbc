"""Writing the whole store out as one `racedesk/1` document: the inverse of `db.dataset.load`.

It round-trips: loading the document into an empty store and exporting again gives the same
document. Candidate keys are made from state and name ("AL:doug-jones"). What the format cannot
say is left out: a contest's earlier calls (only the standing one is exported), endorsements not
tied to a race, and the stage of questions about contests the store does not have.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dataset.load import FORMAT
from db.models import (
    Answer,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    ChamberBaseline,
    Contest,
    Endorsement,
    Poll,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
    Stage,
)
from db.names import name_key
from db.reads.races import send_order

_STAGE_ORDER = {stage.value: i for i, stage in enumerate(Stage)}


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _compact(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


@dataclass
class _Store:
    """The store read whole, each kind of row grouped under the row it belongs to."""

    keys: dict[int, str]  # a live person's id -> their key in the document
    merged: dict[int, int]  # a person's id -> the live person they were merged into (or themselves)
    contests: dict[int, list[Contest]]  # by race
    candidacies: dict[int, list[Candidacy]]  # by contest
    candidacy_keys: dict[int, str | None]  # candidacy id -> its person's key
    snapshots: dict[int, list[ResultSnapshot]]  # by contest, oldest first
    counts: dict[int, list[ResultCount]]  # by snapshot
    standing: dict[int, Call]  # by contest: its newest call
    polls: dict[int, list[Poll]]  # by race
    questions: dict[int, list[Question]]  # by poll
    answers: dict[int, list[Answer]]  # by question
    endorsements: dict[int, list[Endorsement]]  # by race
    contest_of: dict[int, Contest]  # by id

    def key_of(self, person_id: int | None) -> str | None:
        return self.keys.get(self.merged.get(person_id, person_id)) if person_id is not None else None


async def export_document(session: AsyncSession) -> dict[str, Any]:
    """The whole store as one racedesk/1 document, in a deterministic order (see the module docstring)."""
    people = list(await session.scalars(select(Candidate)))
    merged = _merge_targets(people)
    aliases: dict[int, set[str]] = defaultdict(set)
    for pid, alias in await session.execute(select(CandidateAlias.candidate_id, CandidateAlias.alias)):
        aliases[merged.get(pid, pid)].add(alias)
    keys, candidates = _candidate_entries(people, aliases)
    store = await _read_store(session, keys, merged)
    races = sorted(
        await session.scalars(select(Race)), key=lambda r: (r.cycle, r.state, r.office, r.seat, r.special)
    )
    baselines = sorted(
        await session.scalars(select(ChamberBaseline)), key=lambda b: (b.cycle, b.office, b.party)
    )
    return {
        "format": FORMAT,
        "source": "racedesk export",
        "candidates": candidates,
        "races": [_race_entry(store, race) for race in races],
        "baselines": [_baseline_entry(b) for b in baselines],
    }


def _merge_targets(people: list[Candidate]) -> dict[int, int]:
    """Each person's id -> the person they were merged into, following chains of merges."""
    target = {p.id: p.merged_into_id or p.id for p in people}
    for pid in target:
        seen = {pid}
        while target[target[pid]] != target[pid] and target[pid] not in seen:
            seen.add(target[pid])
            target[pid] = target[target[pid]]
    return target


def _candidate_entries(
    people: list[Candidate], aliases: dict[int, set[str]]
) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """The live people's keys ("AL:doug-jones", then "AL:doug-jones-2"), and their entries."""
    live = sorted(
        (p for p in people if p.merged_into_id is None),
        key=lambda p: (p.state or "", p.name_key, p.party or "", p.name, p.id),
    )
    keys: dict[int, str] = {}
    used: Counter[str] = Counter()
    entries = []
    for person in live:
        base = f"{person.state or 'US'}:{name_key(person.name).replace(' ', '-') or 'unnamed'}"
        used[base] += 1
        keys[person.id] = base if used[base] == 1 else f"{base}-{used[base]}"
        entries.append(
            _compact(
                {
                    "key": keys[person.id],
                    "name": person.name,
                    "party": person.party,
                    "state": person.state,
                    "office_held": person.office_held,
                    "aliases": sorted(aliases[person.id] - {person.name}),
                }
            )
        )
    return keys, entries


async def _grouped(session: AsyncSession, query: Select[Any], by: str) -> dict[int, list[Any]]:
    """The rows of a query, in its order, grouped by the value of one column."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in await session.scalars(query):
        grouped[getattr(row, by)].append(row)
    return grouped


async def _read_store(session: AsyncSession, keys: dict[int, str], merged: dict[int, int]) -> _Store:
    contests = await _grouped(session, select(Contest), "race_id")
    candidacies = await _grouped(session, select(Candidacy).order_by(Candidacy.id), "contest_id")
    store = _Store(
        keys=keys,
        merged=merged,
        contests=contests,
        candidacies=candidacies,
        candidacy_keys={},
        snapshots=await _grouped(session, select(ResultSnapshot).order_by(*send_order()), "contest_id"),
        counts=await _grouped(session, select(ResultCount).order_by(ResultCount.id), "snapshot_id"),
        standing={c.contest_id: c for c in await session.scalars(select(Call).order_by(Call.id))},
        polls=await _grouped(session, select(Poll), "race_id"),
        questions=await _grouped(session, select(Question).order_by(Question.id), "poll_id"),
        answers=await _grouped(session, select(Answer).order_by(Answer.id), "question_id"),
        endorsements=await _grouped(
            session, select(Endorsement).where(Endorsement.race_id.is_not(None)), "race_id"
        ),
        contest_of={c.id: c for cs in contests.values() for c in cs},
    )
    store.candidacy_keys = {c.id: store.key_of(c.candidate_id) for cs in candidacies.values() for c in cs}
    return store


def _race_entry(store: _Store, race: Race) -> dict[str, Any]:
    entry = _compact(
        {
            "cycle": race.cycle,
            "state": race.state,
            "office": race.office,
            "seat": race.seat,
            "special": race.special,
            "incumbent": store.key_of(race.incumbent_id),
            "incumbent_party": race.incumbent_party,
            "source": race.source,
            "notes": race.notes,
        }
    )
    contests = sorted(
        store.contests[race.id], key=lambda c: (_day(c.date) or "", _STAGE_ORDER.get(c.stage, 9), c.party)
    )
    entry["contests"] = [_contest_entry(store, c) for c in contests]
    # Polls and endorsements in the order they were stored (a card shows the one stored last first among
    # equals): loaded back in that order, they keep it.
    polls = sorted(store.polls[race.id], key=lambda p: (p.end_date, p.id))
    entry["polls"] = [_poll_entry(store, p) for p in polls]
    endorsements = sorted(store.endorsements[race.id], key=lambda e: (_day(e.date) or "", e.id))
    entry["endorsements"] = [_endorsement_entry(store, e) for e in endorsements]
    return entry


def _contest_entry(store: _Store, contest: Contest) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "stage": contest.stage,
        "party": contest.party or "",
        "date": _day(contest.date),
        "poll_close": _when(contest.poll_close),
        "status": contest.status,
        "source": contest.source,
    }
    keys = store.candidacy_keys
    ballot = sorted(
        store.candidacies[contest.id],
        key=lambda c: (-(c.votes if c.votes is not None else -1), keys[c.id] or ""),
    )
    entry["candidates"] = [_candidacy_entry(store, c) for c in ballot]
    entry["results"] = [_result_entry(store, s) for s in store.snapshots[contest.id]]
    call = store.standing.get(contest.id)
    if call is not None:
        entry["call"] = _call_entry(store, call)
    return _compact(entry)


def _candidacy_entry(store: _Store, candidacy: Candidacy) -> dict[str, Any]:
    return {
        "candidate": store.candidacy_keys[candidacy.id],
        "party": candidacy.party,
        "incumbent": candidacy.incumbent,
        "withdrawn": candidacy.withdrawn,
        "outcome": candidacy.outcome,
        "votes": candidacy.votes,
    }


def _result_entry(store: _Store, snapshot: ResultSnapshot) -> dict[str, Any]:
    counts = store.counts[snapshot.id]
    named = {store.candidacy_keys[c.candidacy_id]: c.votes for c in counts if c.candidacy_id}
    other = {c.kind: c.votes for c in counts if not c.candidacy_id}
    return _compact(
        {
            "taken_at": _when(snapshot.taken_at),
            "unofficial": snapshot.unofficial,
            "final": snapshot.final,
            "reporting_pct": snapshot.reporting_pct,
            "reporting_basis": snapshot.reporting_basis,
            "precincts_reporting": snapshot.precincts_reporting,
            "precincts_total": snapshot.precincts_total,
            "source": snapshot.source,
            "counts": dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
            "other": dict(sorted(other.items())),
        }
    )


def _call_entry(store: _Store, call: Call) -> dict[str, Any]:
    return _compact(
        {
            "kind": call.kind,
            "candidates": [store.candidacy_keys.get(cid) for cid in call.candidacy_ids],
            "source": call.source,
            "called_at": _when(call.called_at),
        }
    )


def _poll_entry(store: _Store, poll: Poll) -> dict[str, Any]:
    entry = _compact(
        {
            "key": poll.source_key,
            "pollster": poll.pollster,
            "sponsor": poll.sponsor,
            "partisan": poll.partisan,
            "internal": poll.internal,
            "start": _day(poll.start_date),
            "end": _day(poll.end_date),
            "n": poll.sample_size,
            "population": poll.population,
            "methodology": poll.methodology,
            "url": poll.url,
            "source": poll.source,
        }
    )
    entry["questions"] = [_question_entry(store, q) for q in store.questions[poll.id]]
    return entry


def _question_entry(store: _Store, question: Question) -> dict[str, Any]:
    contest = store.contest_of.get(question.contest_id or 0)
    return _compact(
        {
            "key": question.source_key,
            "stage": contest.stage if contest else None,
            "party": (contest.party or "") if contest else None,
            "hypothetical": question.hypothetical,
            "n": question.sample_size,
            "population": question.population,
            "answers": [_answer_entry(store, a) for a in store.answers[question.id]],
        }
    )


def _answer_entry(store: _Store, answer: Answer) -> dict[str, Any]:
    return {
        "candidate": store.key_of(answer.candidate_id),
        "choice": answer.choice,
        "party": answer.party,
        "pct": answer.pct,
    }


def _endorsement_entry(store: _Store, endorsement: Endorsement) -> dict[str, Any]:
    return _compact(
        {
            "endorser": endorsement.endorser,
            "kind": endorsement.endorser_kind,
            "candidate": store.key_of(endorsement.candidate_id),
            "stance": endorsement.stance,
            "date": _day(endorsement.date),
            "source": endorsement.source,
            "url": endorsement.url,
            "quote": endorsement.quote,
        }
    )


def _baseline_entry(baseline: ChamberBaseline) -> dict[str, Any]:
    return _compact(
        {
            "cycle": baseline.cycle,
            "office": baseline.office,
            "party": baseline.party,
            "seats_not_up": baseline.seats_not_up,
            "source": baseline.source,
        }
    )

"""Importing a file into the store, and exporting the store as one `racedesk/1` document.

`import_file` parses (in a worker thread, so the bot's event loop keeps running), adjusts the
document to what the store already knows (see `_StoreView`), and stores it with the one writer,
`db.dataset`, inside a SAVEPOINT of the caller's transaction:

- a bad line fails the whole import with its line number (`ImportFailed`) and the savepoint is
  rolled back, so nothing of this file is written; with `skip_bad` each bad line is skipped and
  reported instead;
- `dry_run` does everything, then rolls the savepoint back: the report says what would change;
- an `ImportRun` row records the file's SHA-256 (with the format and parser options): importing the
  same file again changes nothing and says so (`force=True` loads it anyway, which is harmless:
  the writer is idempotent by natural keys).

The caller commits (as with `db.dataset.load_document`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import inspect
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.audit import SYSTEM, Actor
from db.dataset import DocumentError, DocumentLoader
from db.importers import detect_format, parse
from db.importers.common import BadLine, ParsedImport, ParseError
from db.importers.fivethirtyeight import FORMAT as POLLS
from db.importers.racedesk import FORMAT as RACEDESK
from db.models import (
    Answer,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    ChamberBaseline,
    Contest,
    Endorsement,
    ImportRun,
    NameToken,
    Poll,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
    Stage,
)
from db.names import name_key
from db.people import name_match, parties_agree

Progress = Callable[[str], Awaitable[None] | None]


class ImportFailed(Exception):
    """An import that wrote nothing: the file, and the line (or document path) at fault."""

    def __init__(self, name: str, reason: str, bad: BadLine | None = None) -> None:
        super().__init__(f"{name}: {reason}; nothing was imported")
        self.name = name
        self.reason = reason
        self.bad = bad

    @property
    def line(self) -> int | None:
        return self.bad.line if self.bad else None


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    name: str
    format: str = ""
    sha256: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    already_imported: bool = False
    rows: int = 0
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    merges: list[str] = field(default_factory=list)
    ambiguities: list[str] = field(default_factory=list)
    skipped: list[BadLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    parts: list[ImportReport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(+self.added) or bool(+self.updated)

    @classmethod
    def combine(cls, name: str, parts: list[ImportReport]) -> ImportReport:
        report = cls(name=name, format="+".join(dict.fromkeys(p.format for p in parts)), parts=parts)
        for part in parts:
            report.dry_run |= part.dry_run
            report.rows += part.rows
            report.added += part.added
            report.updated += part.updated
            report.merges += part.merges
            report.ambiguities += part.ambiguities
            report.skipped += part.skipped
            report.notes += part.notes
            report.seconds += part.seconds
        report.already_imported = bool(parts) and all(p.already_imported for p in parts)
        return report

    def describe(self) -> str:
        """A short summary for people: what changed, merged people, ambiguous names, skipped lines."""
        head = f"{self.name}" + (" (dry run)" if self.dry_run else "")
        if self.already_imported:
            return f"{head}: already imported; nothing changed"
        would = "would add" if self.dry_run else "added"
        parts = [f"{n:,} {kind}" for kind, n in sorted(self.added.items()) if n]
        changes = f"{would} {', '.join(parts)}" if parts else "nothing new"
        updated = [f"{n:,} {kind}" for kind, n in sorted(self.updated.items()) if n]
        if updated:
            changes += f"; {'would update' if self.dry_run else 'updated'} {', '.join(updated)}"
        lines = [f"{head}: {changes} ({self.rows:,} rows read in {self.seconds:.1f} s)"]
        if self.merges:
            lines.append(f"{len(self.merges)} spellings matched to known people: " + _some(self.merges))
        if self.ambiguities:
            lines.append(f"{len(self.ambiguities)} names left ambiguous: " + _some(self.ambiguities))
        if self.skipped:
            lines.append(
                f"{len(self.skipped)} bad lines skipped: " + _some([b.describe() for b in self.skipped])
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "rows": self.rows,
            "added": dict(self.added),
            "updated": dict(self.updated),
            "merges": self.merges,
            "ambiguities": self.ambiguities,
            "skipped": [b.describe() for b in self.skipped],
            "notes": self.notes,
        }


def _some(items: list[str], limit: int = 3) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


async def _say(progress: Progress | None, message: str) -> None:
    if progress is None:
        return
    result = progress(message)
    if inspect.isawaitable(result):
        await result


def _options_key(options: dict[str, Any]) -> str:
    return json.dumps(
        options, sort_keys=True, default=lambda v: sorted(v) if isinstance(v, set | frozenset) else list(v)
    )


async def import_file(
    session: AsyncSession,
    path: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    actor: Actor = SYSTEM,
    progress: Progress | None = None,
    force: bool = False,
    options: dict[str, Any] | None = None,
) -> ImportReport:
    """Import one file (see the module docstring); `options` go to the format's parser (e.g. years=)."""
    path = Path(path)
    started = time.perf_counter()
    if fmt == "auto":
        fmt = detect_format(path)
    opts = {
        k: sorted(v) if isinstance(v, set | frozenset | tuple | list) else v
        for k, v in (options or {}).items()
    }
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    report = ImportReport(name=path.name, format=fmt, sha256=sha, options=opts, dry_run=dry_run)
    if not force:
        runs = await session.scalars(
            select(ImportRun).where(ImportRun.sha256 == sha, ImportRun.format == fmt).order_by(ImportRun.id)
        )
        key = _options_key(opts)
        if any(_options_key((run.summary or {}).get("options", {})) == key for run in runs):
            report.already_imported = True
            report.notes.append("this file was imported before with these options")
            report.seconds = time.perf_counter() - started
            await _say(progress, report.describe())
            return report
    await _say(progress, f"reading {path.name} ({fmt})")
    try:
        parsed = await asyncio.to_thread(parse, path, fmt, skip_bad=skip_bad, **opts)
    except ParseError as problem:
        raise ImportFailed(path.name, str(problem), problem.bad) from problem
    report.rows = parsed.rows
    report.skipped = list(parsed.skipped)
    report.notes += parsed.notes
    doc = parsed.document
    await _say(progress, f"storing {len(doc.get('races', []))} races from {path.name}")
    savepoint = await session.begin_nested()
    ids = _ClientIds(session) if session.get_bind().dialect.name == "sqlite" else None
    try:
        # The run is written first: on SQLite that takes the write lock, which the client-side ids need.
        run = ImportRun(format=fmt, name=path.name[:256], sha256=sha, summary={"options": opts})
        session.add(run)
        await session.flush()
        await _fit_to_store(session, parsed, report)
        if ids is not None:
            ids.start()
        loader = DocumentLoader(session, actor, source_name=f"{fmt}: {path.name}"[:64])
        if _repeats(doc):
            summary = await loader.load(doc)
        else:
            with session.no_autoflush:
                summary = await loader.load(doc)
        await session.flush()
        report.added, report.updated = summary.added, summary.updated
        report.merges = [m.describe() for m in loader.people.merges]
        report.ambiguities = [a.describe() for a in loader.people.ambiguities]
        report.seconds = time.perf_counter() - started
        run.summary = report.as_dict()
        await session.flush()
    except DocumentError as problem:
        await savepoint.rollback()
        raise ImportFailed(path.name, str(problem)) from problem
    except BaseException:
        await savepoint.rollback()
        raise
    finally:
        if ids is not None:
            ids.stop()
    if dry_run:
        await savepoint.rollback()
    else:
        await savepoint.commit()
    report.seconds = time.perf_counter() - started
    await _say(progress, report.describe())
    return report


class _ClientIds:
    """Primary keys given by the client to new polls, questions, answers, counts, aliases and tokens.

    The ORM needs each new row's id back. On PostgreSQL it inserts many rows per statement and
    reads the ids with RETURNING; on SQLite, which cannot return them in order, it falls back to
    one INSERT per row, and an import of FiveThirtyEight's polls makes some 8,000 of them. With
    ids given here the ORM sends one executemany per table instead: the same rows, in the same
    order (`insert_order`), with the ids SQLite would have picked (max + 1). Safe because the
    import holds SQLite's write lock (it has written its ImportRun) before the first id is taken,
    so no other writer can insert until it commits.
    """

    BATCHED = (Poll, Question, Answer, ResultCount, CandidateAlias, NameToken)

    def __init__(self, session: AsyncSession) -> None:
        self.sync = session.sync_session
        self.next: dict[type[Any], int] = {}

    def start(self) -> None:
        event.listen(self.sync, "before_flush", self.before_flush)

    def stop(self) -> None:
        if event.contains(self.sync, "before_flush", self.before_flush):
            event.remove(self.sync, "before_flush", self.before_flush)

    def before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        pending = [obj for obj in session.new if isinstance(obj, self.BATCHED) and obj.id is None]
        pending.sort(key=lambda obj: obj._sa_instance_state.insert_order)
        for obj in pending:
            cls = type(obj)
            if cls not in self.next:
                highest = session.connection().execute(select(func.max(cls.id))).scalar()
                self.next[cls] = (highest or 0) + 1
            obj.id = self.next[cls]
            self.next[cls] += 1


def _repeats(doc: dict[str, Any]) -> bool:
    """Whether a document names one object twice (a poll key, a race, a contest, an endorsement).

    The writer looks each object up by its natural key before adding it. Those look-ups flush the
    session first (autoflush), once per object: most of an import's time. A document without
    repeats cannot find its own unflushed objects, so it is loaded with autoflush off (the writer
    still flushes where it needs ids) and gives the same rows; one with repeats is loaded as is.
    """
    races: set[tuple[Any, ...]] = set()
    polls: set[str] = set()
    for race in doc.get("races", []):
        try:
            key = _race_key(race)
        except (KeyError, TypeError, ValueError):
            return True
        if key in races:
            return True
        races.add(key)
        contests = [(c.get("stage"), c.get("party") or "") for c in race.get("contests", [])]
        endorsements = [
            (e.get("candidate"), e.get("endorser"), e.get("stance", "endorse"), e.get("date"))
            for e in race.get("endorsements", [])
        ]
        if len(set(contests)) < len(contests) or len(set(endorsements)) < len(endorsements):
            return True
        for poll in race.get("polls", []):
            if poll.get("key"):
                if poll["key"] in polls:
                    return True
                polls.add(poll["key"])
    return False


# --- fitting a document to the store ------------------------------------------------------------


class _StoreView:
    """What the store holds about a document's races: their sources, and each contest's ballot."""

    def __init__(self) -> None:
        self.race_source: dict[tuple[Any, ...], str | None] = {}
        self.contest_source: dict[tuple[Any, ...], str | None] = {}
        self.ballots: dict[tuple[Any, ...], list[tuple[str | None, list[str]]]] = defaultdict(list)

    @classmethod
    async def load(cls, session: AsyncSession, doc: dict[str, Any]) -> _StoreView:
        view = cls()
        wanted = {_race_key(r) for r in doc.get("races", [])}
        if not wanted:
            return view
        cycles = {k[0] for k in wanted}
        races = {}
        for race in await session.scalars(select(Race).where(Race.cycle.in_(cycles))):
            key = (race.cycle, race.state, race.office, race.seat, race.special)
            if key in wanted:
                races[race.id] = key
                view.race_source[key] = race.source
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


def _race_key(race: dict[str, Any]) -> tuple[Any, ...]:
    return (
        int(race["cycle"]),
        str(race["state"]).upper(),
        race["office"],
        str(race.get("seat", "")),
        bool(race.get("special", False)),
    )


#: How each format's source is named in a race's or contest's `source` text.
SOURCE_LABELS = {
    "medsl": "MEDSL",
    "openelections": "OpenElections",
    "al-sos-primary": "Secretary of State",
    "fivethirtyeight-polls": "FiveThirtyEight",
}


def _merged_source(existing: str | None, mine: str | None, label: str) -> str | None:
    """None (leave the store's) when the store's source already names this one; else both."""
    if not mine or not existing:
        return mine
    if label.lower() in existing.lower():
        return None
    return f"{existing}; {mine}"


async def _fit_to_store(session: AsyncSession, parsed: ParsedImport, report: ImportReport) -> None:
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
        key = _race_key(race)
        if key in view.race_source:
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
    created as upcoming when its election day (from the file) is still ahead; else the questions
    about it are stored without a contest, and a note says how many.
    """
    today = dt.date.today().isoformat()
    unlinked: Counter[str] = Counter()
    for race in parsed.document.get("races", []):
        key = _race_key(race)
        named = {(c["stage"], c.get("party") or "") for c in race.get("contests", [])}
        for poll in race.get("polls", []):
            for question in poll.get("questions", []):
                asked = (question.get("stage"), question.get("party") or "")
                if not asked[0] or asked in named:
                    continue
                when = parsed.contest_dates.get((*key, *asked))
                if (*key, *asked) in view.contest_source:
                    race.setdefault("contests", []).append({"stage": asked[0], "party": asked[1]})
                elif when and when >= today:
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
        key = _race_key(race)
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


# --- export -------------------------------------------------------------------------------------

_STAGE_ORDER = {stage.value: i for i, stage in enumerate(Stage)}


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _compact(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


async def export_document(session: AsyncSession) -> dict[str, Any]:
    """The whole store as one racedesk/1 document, in a deterministic order.

    It round-trips: loading it into an empty store and exporting again gives the same document.
    Candidate keys are made from state and name ("AL:doug-jones"). What the format cannot say is
    left out: a contest's earlier calls (only the standing one is exported), endorsements not
    tied to a race, and the stage of questions about contests the store does not have.
    """
    people = (await session.scalars(select(Candidate))).all()
    target = {p.id: p.merged_into_id or p.id for p in people}
    for pid in target:  # follow chains of merges
        seen = {pid}
        while target[target[pid]] != target[pid] and target[pid] not in seen:
            seen.add(target[pid])
            target[pid] = target[target[pid]]
    live = sorted(
        (p for p in people if p.merged_into_id is None),
        key=lambda p: (p.state or "", p.name_key, p.party or "", p.name, p.id),
    )
    aliases: dict[int, set[str]] = defaultdict(set)
    for pid, alias in await session.execute(select(CandidateAlias.candidate_id, CandidateAlias.alias)):
        aliases[target.get(pid, pid)].add(alias)
    keys: dict[int, str] = {}
    used: Counter[str] = Counter()
    candidates = []
    for person in live:
        base = f"{person.state or 'US'}:{name_key(person.name).replace(' ', '-') or 'unnamed'}"
        used[base] += 1
        keys[person.id] = base if used[base] == 1 else f"{base}-{used[base]}"
        candidates.append(
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

    def key_of(person_id: int | None) -> str | None:
        return keys.get(target.get(person_id, person_id)) if person_id is not None else None

    contests_by_race: dict[int, list[Contest]] = defaultdict(list)
    for contest in await session.scalars(select(Contest)):
        contests_by_race[contest.race_id].append(contest)
    candidacies: dict[int, list[Candidacy]] = defaultdict(list)
    candidacy_key: dict[int, str | None] = {}
    for candidacy in await session.scalars(select(Candidacy).order_by(Candidacy.id)):
        candidacies[candidacy.contest_id].append(candidacy)
        candidacy_key[candidacy.id] = key_of(candidacy.candidate_id)
    counts: dict[int, list[ResultCount]] = defaultdict(list)
    for count in await session.scalars(select(ResultCount).order_by(ResultCount.id)):
        counts[count.snapshot_id].append(count)
    snapshots: dict[int, list[ResultSnapshot]] = defaultdict(list)
    for snapshot in await session.scalars(
        select(ResultSnapshot).order_by(ResultSnapshot.taken_at, ResultSnapshot.id)
    ):
        snapshots[snapshot.contest_id].append(snapshot)
    standing: dict[int, Call] = {}
    for call in await session.scalars(select(Call).order_by(Call.id)):
        standing[call.contest_id] = call
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in await session.scalars(select(Answer).order_by(Answer.id)):
        answers[answer.question_id].append(answer)
    questions: dict[int, list[Question]] = defaultdict(list)
    for question in await session.scalars(select(Question).order_by(Question.id)):
        questions[question.poll_id].append(question)
    polls: dict[int, list[Poll]] = defaultdict(list)
    for poll in await session.scalars(select(Poll)):
        polls[poll.race_id].append(poll)
    endorsements: dict[int, list[Endorsement]] = defaultdict(list)
    for endorsement in await session.scalars(select(Endorsement).where(Endorsement.race_id.is_not(None))):
        endorsements[endorsement.race_id or 0].append(endorsement)
    contest_of: dict[int, Contest] = {c.id: c for cs in contests_by_race.values() for c in cs}

    def contest_entry(contest: Contest) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "stage": contest.stage,
            "party": contest.party or "",
            "date": _day(contest.date),
            "poll_close": _when(contest.poll_close),
            "status": contest.status,
            "source": contest.source,
        }
        rows = sorted(
            candidacies[contest.id],
            key=lambda c: (-(c.votes if c.votes is not None else -1), candidacy_key[c.id] or ""),
        )
        entry["candidates"] = [
            {
                "candidate": candidacy_key[c.id],
                "party": c.party,
                "incumbent": c.incumbent,
                "withdrawn": c.withdrawn,
                "outcome": c.outcome,
                "votes": c.votes,
            }
            for c in rows
        ]
        entry["results"] = []
        for snapshot in snapshots[contest.id]:
            named = {candidacy_key[c.candidacy_id]: c.votes for c in counts[snapshot.id] if c.candidacy_id}
            other = {c.kind: c.votes for c in counts[snapshot.id] if not c.candidacy_id}
            entry["results"].append(
                _compact(
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
            )
        call = standing.get(contest.id)
        if call is not None:
            entry["call"] = _compact(
                {
                    "kind": call.kind,
                    "candidates": [candidacy_key.get(cid) for cid in call.candidacy_ids],
                    "source": call.source,
                    "called_at": _when(call.called_at),
                }
            )
        return _compact(entry)

    def poll_entry(poll: Poll) -> dict[str, Any]:
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
        entry["questions"] = []
        for question in questions[poll.id]:
            contest = contest_of.get(question.contest_id or 0)
            entry["questions"].append(
                _compact(
                    {
                        "key": question.source_key,
                        "stage": contest.stage if contest else None,
                        "party": (contest.party or "") if contest else None,
                        "hypothetical": question.hypothetical,
                        "n": question.sample_size,
                        "population": question.population,
                        "answers": [
                            {
                                "candidate": key_of(a.candidate_id),
                                "choice": a.choice,
                                "party": a.party,
                                "pct": a.pct,
                            }
                            for a in answers[question.id]
                        ],
                    }
                )
            )
        return entry

    races = []
    for race in sorted(
        await session.scalars(select(Race)), key=lambda r: (r.cycle, r.state, r.office, r.seat, r.special)
    ):
        entry = _compact(
            {
                "cycle": race.cycle,
                "state": race.state,
                "office": race.office,
                "seat": race.seat,
                "special": race.special,
                "incumbent": key_of(race.incumbent_id),
                "incumbent_party": race.incumbent_party,
                "source": race.source,
                "notes": race.notes,
            }
        )
        contests = sorted(
            contests_by_race[race.id],
            key=lambda c: (_day(c.date) or "", _STAGE_ORDER.get(c.stage, 9), c.party),
        )
        entry["contests"] = [contest_entry(c) for c in contests]
        race_polls = sorted(polls[race.id], key=lambda p: (p.end_date, p.source_key or "", p.pollster, p.id))
        entry["polls"] = [poll_entry(p) for p in race_polls]
        entry["endorsements"] = [
            _compact(
                {
                    "endorser": e.endorser,
                    "kind": e.endorser_kind,
                    "candidate": key_of(e.candidate_id),
                    "stance": e.stance,
                    "date": _day(e.date),
                    "source": e.source,
                    "url": e.url,
                    "quote": e.quote,
                }
            )
            for e in sorted(
                endorsements[race.id],
                key=lambda e: (_day(e.date) or "", e.endorser, key_of(e.candidate_id) or "", e.stance),
            )
        ]
        races.append(entry)
    baselines = [
        _compact(
            {
                "cycle": b.cycle,
                "office": b.office,
                "party": b.party,
                "seats_not_up": b.seats_not_up,
                "source": b.source,
            }
        )
        for b in sorted(
            await session.scalars(select(ChamberBaseline)), key=lambda b: (b.cycle, b.office, b.party)
        )
    ]
    return {
        "format": "racedesk/1",
        "source": "racedesk export",
        "candidates": candidates,
        "races": races,
        "baselines": baselines,
    }

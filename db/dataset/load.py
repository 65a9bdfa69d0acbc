"""Storing a `racedesk/1` document (docs/data-format.md): the one writer every import goes through.

Idempotent by natural keys, and all in the caller's transaction: a document is
stored whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import Actor, record
from db.bulk import Staged, insert_returning_ids, insert_rows, insert_staged
from db.dataset.check import DocumentError, check_document
from db.models import (
    Answer,
    Call,
    CallKind,
    Candidacy,
    Candidate,
    ChamberBaseline,
    Contest,
    ContestStatus,
    CountKind,
    Endorsement,
    EndorserKind,
    Office,
    Outcome,
    Poll,
    Population,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
    Stage,
    Stance,
)
from db.people import PeopleIndex
from db.reads.races import standing_calls
from db.validation import TooLong, check_row

FORMAT = "racedesk/1"
BATCH = 400  # keys per look-up query
POLL_BATCH = 2000  # polls per INSERT
#: Gives a new row's primary key before it is flushed (`db.importers.run`'s ids: the next free ones on SQLite,
#: a block of each table's sequence on PostgreSQL).
NewId = Callable[[type[Any]], Awaitable[int]]
#: With `new_id`, the tables whose new rows are kept as `Staged` rows and inserted together, in this order
#: (each row's references before it); the first four's rows are referred to, so they get their ids at once.
STAGED = (Race, Contest, Candidacy, ResultSnapshot, ResultCount, Call, Endorsement)
_REFERRED_TO = frozenset(STAGED[:4])


@dataclass
class LoadSummary:
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(+self.added) or bool(+self.updated)

    def describe(self) -> str:
        if not self.changed:
            return "nothing changed"
        parts = [f"{n} {kind} added" for kind, n in sorted(self.added.items()) if n]
        parts += [f"{n} {kind} updated" for kind, n in sorted(self.updated.items()) if n]
        return ", ".join(parts)


def _date(value: str | None, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DocumentError(f"{where}: {value!r} is not a date like 2020-07-14") from None


def _datetime(value: str | None, where: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DocumentError(f"{where}: {value!r} is not a time like 2020-07-15T01:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _choice(value: str, allowed: type[Any], where: str) -> str:
    options = [member.value for member in allowed]
    if value not in options:
        raise DocumentError(f"{where}: {value!r} is not one of {', '.join(options)}")
    return value


def counts_digest(counts: dict[str, int]) -> str:
    """The same counts always give the same digest, so a repeated snapshot is recognised."""
    canonical = json.dumps(sorted(counts.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def batches(items: Iterable[Any]) -> Iterable[list[Any]]:
    """The items, BATCH at a time (keys for one look-up query)."""
    items = list(items)
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


class DocumentLoader:
    """Stores a document. What it holds already is read up front, a few queries per BATCH races
    (`_read_stored`), not one query per object, so a load costs the same whatever else the store holds.

    With `new_id`, new rows get their keys from it and are kept as plain rows (`Staged`, no ORM object),
    inserted at the end with one INSERT per table (`_write_staged`); without, each new race, contest,
    candidacy and person is an ORM object, flushed for its id.
    """

    def __init__(
        self, session: AsyncSession, actor: Actor, source_name: str = "document", new_id: NewId | None = None
    ) -> None:
        self.session = session
        self.actor = actor
        self.source_name = source_name
        self.new_id = new_id
        self.people = PeopleIndex(session, new_id=new_id, later={})
        self.summary = LoadSummary()
        self._keys: dict[str, Candidate] = {}
        self._known_polls: set[str] = set()
        self._races: dict[tuple[Any, ...], Race] = {}
        self._contests: dict[tuple[int, str, str], Contest] = {}
        self._candidacies: dict[tuple[int, int], Candidacy] = {}
        self._snapshots: set[tuple[int, str, float | None]] = set()
        self._calls: dict[int, Call] = {}
        self._endorsements: set[tuple[Any, ...]] = set()
        self._baselines: dict[tuple[Any, ...], ChamberBaseline] = {}
        self._staged: dict[type[Any], list[dict[str, Any]]] = {}
        self._new_polls: list[tuple[dict[str, Any], list[tuple[dict[str, Any], list[dict[str, Any]]]]]] = []

    async def load(self, doc: dict[str, Any]) -> LoadSummary:
        try:
            return await self._load(doc)
        except TooLong as problem:
            raise DocumentError(str(problem)) from None

    async def _load(self, doc: dict[str, Any]) -> LoadSummary:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            raise DocumentError(f"not a {FORMAT} document (its 'format' is {found!r})")
        check_document(doc)
        self._known_polls = await self._poll_keys_stored(doc)
        await self._read_stored(doc)
        await self.people.prepare(
            ([person["name"], *person.get("aliases", [])], person.get("state"), person.get("party"))
            for person in doc.get("candidates", [])
            if isinstance(person.get("name"), str)
        )
        for i, person in enumerate(doc.get("candidates", [])):
            await self._candidate(person, f"candidates[{i}]")
        for i, race in enumerate(doc.get("races", [])):
            await self._race(race, f"races[{i}]")
        for i, baseline in enumerate(doc.get("baselines", [])):
            await self._baseline(baseline, f"baselines[{i}]")
        await self._write_staged()
        await self._store_polls()
        await self.people.write_later()
        if self.summary.changed:
            await record(
                self.session,
                self.actor,
                "import",
                "document",
                None,
                after={"source": self.source_name, "summary": self.summary.describe()},
            )
        return self.summary

    async def _poll_keys_stored(self, doc: dict[str, Any]) -> set[str]:
        """The document's poll keys already in the store: one query per 500 keys, not one per poll
        (a query per poll would also flush every pending poll, one INSERT at a time)."""
        keys = [p["key"] for r in doc.get("races", []) for p in r.get("polls", []) if p.get("key")]
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            known.update(
                k
                for k in await self.session.scalars(select(Poll.source_key).where(Poll.source_key.in_(batch)))
                if k
            )
        return known

    async def _read_stored(self, doc: dict[str, Any]) -> None:
        """The document's races the store holds, with their contests, candidacies, counts' digests,
        standing calls and endorsements: what the writer would otherwise look up one object at a time."""
        races = [r for r in doc.get("races", []) if isinstance(r, dict)]
        keys = {key for key in map(_race_key, races) if key is not None}
        for batch in batches(keys):
            columns = tuple_(Race.cycle, Race.state, Race.office, Race.seat, Race.special)
            for race in await self.session.scalars(select(Race).where(columns.in_(batch))):
                self._races[(race.cycle, race.state, race.office, race.seat, race.special)] = race
        race_ids = [race.id for race in self._races.values()]
        contests = [c for r in races for c in r.get("contests", []) if isinstance(c, dict)]
        if not race_ids or not contests:
            wanted_endorsements = race_ids and any(r.get("endorsements") for r in races)
            if wanted_endorsements:
                await self._read_endorsements(race_ids)
            return
        for batch in batches(race_ids):
            for contest in await self.session.scalars(select(Contest).where(Contest.race_id.in_(batch))):
                self._contests[(contest.race_id, contest.stage, contest.party)] = contest
        contest_ids = [c.id for c in self._contests.values()]
        for batch in batches(contest_ids):
            if any(c.get("candidates") for c in contests):
                for row in await self.session.scalars(
                    select(Candidacy).where(Candidacy.contest_id.in_(batch))
                ):
                    self._candidacies[(row.contest_id, row.candidate_id)] = row
            if any(c.get("results") for c in contests):
                digests = await self.session.execute(
                    select(
                        ResultSnapshot.contest_id, ResultSnapshot.digest, ResultSnapshot.reporting_pct
                    ).where(ResultSnapshot.contest_id.in_(batch))
                )
                self._snapshots.update((c, d, r) for c, d, r in digests)
            if any(c.get("call") for c in contests):
                self._calls.update(await standing_calls(self.session, batch))
        if any(r.get("endorsements") for r in races):
            await self._read_endorsements(race_ids)

    async def _read_endorsements(self, race_ids: list[int]) -> None:
        for batch in batches(race_ids):
            rows = await self.session.execute(
                select(
                    Endorsement.race_id,
                    Endorsement.candidate_id,
                    Endorsement.endorser,
                    Endorsement.stance,
                    Endorsement.date,
                ).where(Endorsement.race_id.in_(batch))
            )
            self._endorsements.update(tuple(row) for row in rows)

    async def _new(self, model: type[Any], **values: Any) -> Any:
        """A new row of `model`: with `new_id` a `Staged` row (its id given now if others refer to it), else
        an ORM object added to the session (`_give_id` flushes it for its id)."""
        if self.new_id is None:
            row = model(**values)
            self.session.add(row)
            return row
        staged = Staged(model, **values)
        if model in _REFERRED_TO:
            staged.id = await self.new_id(model)
        self._staged.setdefault(model, []).append(staged.values)
        return staged

    async def _give_id(self, row: Any) -> None:
        """A new ORM object's key, by flushing it (a `Staged` row has its key already)."""
        if self.new_id is None:
            await self.session.flush()

    async def _write_staged(self) -> None:
        """Insert the staged rows: the new people first, then what the session holds (the rows the document
        changed), then each staged table's rows in one INSERT, in `STAGED` order."""
        await self.people.write_people()
        await self.session.flush()
        for model in STAGED:
            rows = self._staged.pop(model, [])
            for row in rows:
                check_row(model, row)
            await insert_staged(self.session, model, rows)

    def _person(self, key: str | None, where: str) -> Candidate:
        if key is None or key not in self._keys:
            raise DocumentError(f"{where}: candidate {key!r} is not among the document's candidates")
        return self._keys[key]

    async def _candidate(self, item: dict[str, Any], where: str) -> None:
        key, name = item.get("key"), item.get("name")
        if not key or not name:
            raise DocumentError(f"{where}: a candidate needs a 'key' and a 'name'")
        before, filled, spellings = (
            len(self.people.created),
            len(self.people.filled_in),
            self.people.spellings_added,
        )
        self._keys[key] = await self.people.get_or_create(
            name,
            item.get("state"),
            party=item.get("party"),
            aliases=item.get("aliases", []),
            office_held=item.get("office_held"),
            source=self.source_name,
        )
        self.summary.added["candidates"] += len(self.people.created) - before
        self.summary.updated["candidates"] += len(self.people.filled_in) - filled
        self.summary.added["other spellings"] += self.people.spellings_added - spellings

    async def _race(self, item: dict[str, Any], where: str) -> None:
        try:
            natural = {
                "cycle": int(item["cycle"]),
                "state": str(item["state"]).upper(),
                "office": _choice(item["office"], Office, where),
                "seat": str(item.get("seat", "")),
                "special": bool(item.get("special", False)),
            }
        except KeyError as missing:
            raise DocumentError(f"{where}: a race needs {missing}") from None
        key = tuple(natural.values())
        race = self._races.get(key)
        incumbent = self._person(item["incumbent"], where) if item.get("incumbent") else None
        new = race is None
        if race is None:
            race = self._races[key] = await self._new(Race, **natural)
            self.summary.added["races"] += 1
        changed = False
        for attr, value in (
            ("incumbent_party", item.get("incumbent_party")),
            ("source", item.get("source")),
            ("notes", item.get("notes")),
            ("incumbent_id", incumbent.id if incumbent else None),
        ):
            if value is not None and getattr(race, attr) != value:
                setattr(race, attr, value)
                changed = True
        if changed and not new:
            self.summary.updated["races"] += 1
        if new:
            await self._give_id(race)
        contests = {}
        for i, contest in enumerate(item.get("contests", [])):
            row = await self._contest(race, contest, f"{where}.contests[{i}]")
            contests[(row.stage, row.party)] = row
        for i, poll in enumerate(item.get("polls", [])):
            await self._poll(race, contests, poll, f"{where}.polls[{i}]")
        for i, endorsement in enumerate(item.get("endorsements", [])):
            await self._endorsement(race, endorsement, f"{where}.endorsements[{i}]")

    async def _contest(self, race: Race, item: dict[str, Any], where: str) -> Contest:
        stage = _choice(item.get("stage", ""), Stage, where)
        party = item.get("party") or ""
        contest = self._contests.get((race.id, stage, party))
        new = contest is None
        if contest is None:
            contest = self._contests[(race.id, stage, party)] = await self._new(
                Contest, race_id=race.id, stage=stage, party=party
            )
            self.summary.added["contests"] += 1
        fields = {
            "date": _date(item.get("date"), f"{where}.date"),
            "poll_close": _datetime(item.get("poll_close"), f"{where}.poll_close"),
            "status": _choice(item["status"], ContestStatus, where) if item.get("status") else None,
            "source": item.get("source"),
        }
        changed = False
        for attr, value in fields.items():
            if value is not None and getattr(contest, attr) != value:
                setattr(contest, attr, value)
                changed = True
        if changed and not new:
            self.summary.updated["contests"] += 1
        if new:
            await self._give_id(contest)
        candidacies = {}
        for i, entry in enumerate(item.get("candidates", [])):
            candidacy = await self._candidacy(contest, entry, f"{where}.candidates[{i}]")
            candidacies[entry["candidate"]] = candidacy
        for i, snapshot in enumerate(item.get("results", [])):
            await self._snapshot(contest, candidacies, snapshot, f"{where}.results[{i}]")
        if item.get("call"):
            await self._call(contest, candidacies, item["call"], f"{where}.call")
        return contest

    async def _candidacy(self, contest: Contest, item: dict[str, Any], where: str) -> Candidacy:
        person = self._person(item.get("candidate"), where)
        candidacy = self._candidacies.get((contest.id, person.id))
        new = candidacy is None
        if candidacy is None:
            candidacy = await self._new(Candidacy, contest_id=contest.id, candidate_id=person.id)
            self._candidacies[(contest.id, person.id)] = candidacy
            self.summary.added["candidacies"] += 1
        changed = False
        for attr in ("party", "incumbent", "withdrawn", "votes", "outcome"):
            value = item.get(attr)
            if attr == "outcome" and value is not None:
                value = _choice(value, Outcome, where)
            if value is not None and getattr(candidacy, attr) != value:
                setattr(candidacy, attr, value)
                changed = True
        if changed and not new:
            self.summary.updated["candidacies"] += 1
        if new:
            await self._give_id(candidacy)
        return candidacy

    async def _snapshot(
        self, contest: Contest, candidacies: dict[str, Candidacy], item: dict[str, Any], where: str
    ) -> None:
        counts: dict[str, int] = {}
        for key, votes in item.get("counts", {}).items():
            if key not in candidacies:
                raise DocumentError(f"{where}: {key!r} is not a candidate in this contest")
            counts[f"c{candidacies[key].id}"] = int(votes)
        for kind, votes in item.get("other", {}).items():
            counts[_choice(kind, CountKind, where)] = int(votes)
        digest = counts_digest(counts)
        reporting = item.get("reporting_pct")
        # The same votes with more reporting are a later update of their own (the desk may post one).
        if (contest.id, digest, reporting) in self._snapshots:
            return
        self._snapshots.add((contest.id, digest, reporting))
        snapshot = await self._new(
            ResultSnapshot,
            contest_id=contest.id,
            taken_at=_datetime(item.get("taken_at"), f"{where}.taken_at") or dt.datetime.now(dt.UTC),
            reporting_pct=item.get("reporting_pct"),
            reporting_basis=item.get("reporting_basis"),
            precincts_reporting=item.get("precincts_reporting"),
            precincts_total=item.get("precincts_total"),
            unofficial=bool(item.get("unofficial", False)),
            final=bool(item.get("final", False)),
            source=item.get("source"),
            digest=digest,
            posted_by=self.actor.id,
        )
        rows: list[dict[str, Any]] = [
            {"candidacy_id": candidacies[key].id, "votes": int(votes)}
            for key, votes in item.get("counts", {}).items()
        ] + [
            {"kind": kind, "label": kind, "votes": int(votes)}
            for kind, votes in item.get("other", {}).items()
        ]
        for count in rows:
            if self.new_id is None:
                snapshot.counts.append(ResultCount(**count))
            else:
                await self._new(ResultCount, snapshot_id=snapshot.id, **count)
        self.summary.added["result snapshots"] += 1

    async def _call(
        self, contest: Contest, candidacies: dict[str, Candidacy], item: dict[str, Any], where: str
    ) -> None:
        kind = _choice(item.get("kind", ""), CallKind, where)
        try:
            ids = [candidacies[key].id for key in item.get("candidates", [])]
        except KeyError as missing:
            raise DocumentError(f"{where}: {missing} is not a candidate in this contest") from None
        standing = self._calls.get(contest.id)
        if standing is not None and standing.kind == kind and list(standing.candidacy_ids) == ids:
            return
        self._calls[contest.id] = await self._new(
            Call,
            contest_id=contest.id,
            kind=kind,
            candidacy_ids=ids,
            source=item.get("source"),
            called_by=self.actor.id,
            called_at=_datetime(item.get("called_at"), f"{where}.called_at") or dt.datetime.now(dt.UTC),
        )
        self.summary.added["calls"] += 1

    async def _poll(
        self, race: Race, contests: dict[tuple[str, str], Contest], item: dict[str, Any], where: str
    ) -> None:
        key = item.get("key")
        if key and key in self._known_polls:
            return
        end = _date(item.get("end"), f"{where}.end")
        if end is None or not item.get("pollster"):
            raise DocumentError(f"{where}: a poll needs a 'pollster' and an 'end' date")
        population = item.get("population")
        poll = {
            "race_id": race.id,
            "pollster": item["pollster"],
            "sponsor": item.get("sponsor"),
            "partisan": item.get("partisan"),
            "internal": bool(item.get("internal", False)),
            "start_date": _date(item.get("start"), f"{where}.start"),
            "end_date": end,
            "sample_size": item.get("n"),
            "population": _choice(population, Population, where) if population else None,
            "methodology": item.get("methodology"),
            "url": item.get("url"),
            "source": item.get("source"),
            "source_key": key,
            "created_by": self.actor.id,
        }
        check_row(Poll, poll)
        questions = [
            self._question(contests, question, f"{where}.questions[{i}]")
            for i, question in enumerate(item.get("questions", []))
        ]
        self._new_polls.append((poll, questions))
        if key:
            self._known_polls.add(key)  # a repeat later in the same document is the same poll
        self.summary.added["polls"] += 1

    def _question(
        self, contests: dict[tuple[str, str], Contest], item: dict[str, Any], where: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A question's row and its answers' rows (their poll's and question's ids are given when stored)."""
        stage = item.get("stage")
        contest = contests.get((stage, item.get("party") or "")) if stage else None
        population = item.get("population")
        question = {
            "contest_id": contest.id if contest else None,
            "hypothetical": bool(item.get("hypothetical", False)),
            "sample_size": item.get("n"),
            "population": _choice(population, Population, where) if population else None,
            "source_key": item.get("key"),
        }
        check_row(Question, question)
        answers = []
        for i, answer in enumerate(item.get("answers", [])):
            key = answer.get("candidate")
            person = self._person(key, f"{where}.answers[{i}]") if key else None
            answers.append(_answer(person, answer, f"{where}.answers[{i}]"))
        return question, answers

    async def _store_polls(self) -> None:
        """The document's new polls, questions and answers: one INSERT per table for each POLL_BATCH polls
        (after a flush of the races, contests and people they point to), the ids read back in order."""
        if not self._new_polls:
            return
        await self.session.flush()
        for start in range(0, len(self._new_polls), POLL_BATCH):
            batch = self._new_polls[start : start + POLL_BATCH]
            poll_ids = await self._insert(Poll, [poll for poll, _ in batch])
            questions = [
                ({**question, "poll_id": poll_id}, answers)
                for poll_id, (_, asked) in zip(poll_ids, batch, strict=True)
                for question, answers in asked
            ]
            question_ids = await self._insert(Question, [question for question, _ in questions])
            answers = [
                {**answer, "question_id": question_id}
                for question_id, (_, given) in zip(question_ids, questions, strict=True)
                for answer in given
            ]
            await insert_rows(self.session, Answer, answers)
        self._new_polls.clear()

    async def _insert(self, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
        """Insert rows, returning their new ids in the rows' order: given by `new_id` (one executemany),
        else read back with RETURNING (PostgreSQL sends batches; SQLite would send a row at a time)."""
        if not rows:
            return []
        if self.new_id is not None:
            for row in rows:
                row["id"] = await self.new_id(model)
            await insert_rows(self.session, model, rows)
            return [row["id"] for row in rows]
        return await insert_returning_ids(self.session, model, rows)

    async def _endorsement(self, race: Race, item: dict[str, Any], where: str) -> None:
        person = self._person(item.get("candidate"), where)
        stance = _choice(item.get("stance", "endorse"), Stance, where)
        kind = _choice(item.get("kind", "person"), EndorserKind, where)
        when = _date(item.get("date"), f"{where}.date")
        if not item.get("endorser"):
            raise DocumentError(f"{where}: an endorsement needs an 'endorser'")
        natural = (race.id, person.id, item["endorser"], stance, when)
        if natural in self._endorsements:
            return
        self._endorsements.add(natural)
        await self._new(
            Endorsement,
            race_id=race.id,
            candidate_id=person.id,
            endorser=item["endorser"],
            endorser_kind=kind,
            stance=stance,
            date=when,
            quote=item.get("quote"),
            source=item.get("source"),
            url=item.get("url"),
            created_by=self.actor.id,
        )
        self.summary.added["endorsements"] += 1

    async def _baseline(self, item: dict[str, Any], where: str) -> None:
        try:
            natural = {"cycle": int(item["cycle"]), "office": item["office"], "party": item["party"]}
            seats = int(item["seats_not_up"])
        except (KeyError, ValueError) as problem:
            raise DocumentError(
                f"{where}: a baseline needs cycle, office, party, seats_not_up ({problem})"
            ) from None
        key = tuple(natural.values())
        row = self._baselines.get(key) or await self.session.scalar(
            select(ChamberBaseline).filter_by(**natural)
        )
        if row is None:
            row = self._baselines[key] = ChamberBaseline(
                **natural, seats_not_up=seats, source=item.get("source")
            )
            self.session.add(row)
            self.summary.added["baselines"] += 1
        elif row.seats_not_up != seats:
            row.seats_not_up = seats
            self.summary.updated["baselines"] += 1


def race_key(race: dict[str, Any]) -> tuple[Any, ...]:
    """A document race's natural key (cycle, state, office, seat, special); KeyError, TypeError or
    ValueError when it is malformed."""
    return (
        int(race["cycle"]),
        str(race["state"]).upper(),
        race["office"],
        str(race.get("seat", "")),
        bool(race.get("special", False)),
    )


def _race_key(item: dict[str, Any]) -> tuple[Any, ...] | None:
    """`race_key`, or None when the race is malformed (`_race` says how)."""
    try:
        return race_key(item)
    except (KeyError, TypeError, ValueError):
        return None


def _answer(person: Candidate | None, item: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        pct = float(item["pct"])
    except (KeyError, TypeError, ValueError):
        raise DocumentError(f"{where}: an answer needs a numeric 'pct'") from None
    choice = item.get("choice") or (person.name if person else None)
    if not choice:
        raise DocumentError(f"{where}: an answer needs a 'choice' or a 'candidate'")
    row = {
        "candidate_id": person.id if person else None,
        "choice": choice,
        "party": item.get("party"),
        "pct": pct,
    }
    check_row(Answer, row)
    return row


async def load_document(
    session: AsyncSession, doc: dict[str, Any], actor: Actor, source_name: str = "document"
) -> LoadSummary:
    """Store a document in the session's transaction; the caller commits."""
    return await DocumentLoader(session, actor, source_name).load(doc)

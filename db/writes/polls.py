"""Polls and endorsements, added and removed by the desk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import limits
from db.audit import Actor, record
from db.models import (
    Answer,
    AuditEntry,
    Candidate,
    Contest,
    Endorsement,
    EndorserKind,
    Poll,
    Population,
    Question,
    Race,
    Stance,
)
from db.reads.races import stored_endorsement
from db.writes.common import (
    StageRef,
    choose_person,
    contest_label,
    day_text,
    find_person,
    load_race,
    pick_contest,
    race_label,
    race_people,
    row_dict,
    short_name,
    spellings,
    today,
)
from db.writes.errors import Duplicate, NotFound, WriteError

POLL_FIELDS = (
    "race_id", "pollster", "sponsor", "partisan", "internal", "start_date", "end_date", "sample_size",
    "population", "methodology", "url", "source", "source_key", "created_by", "created_at",
)  # fmt: skip
ENDORSEMENT_FIELDS = (
    "race_id", "candidate_id", "endorser", "endorser_kind", "stance", "date", "quote", "source", "url",
    "created_by", "created_at",
)  # fmt: skip


@dataclass
class PollInput:
    race_id: int
    pollster: str
    end: dt.date
    answers: list[tuple[str, float]]  # (name as typed, percent)
    start: dt.date | None = None
    sample_size: int | None = None
    population: str | None = None
    sponsor: str | None = None
    url: str | None = None
    hypothetical: bool = False
    stage: StageRef = field(default_factory=StageRef)
    partisan: str | None = None
    internal: bool = False
    force: bool = False  # store it even though it ended after the election it asks about


@dataclass
class PollOutcome:
    race: Race
    poll: Poll
    contest: Contest | None
    answers: list[tuple[Candidate, float]]  # highest first
    audit: AuditEntry


def _check_shares(answers: list[tuple[str, float]]) -> None:
    if len(answers) < 2:
        raise WriteError("A poll needs at least two answers, e.g. `Tuberville=43.9 Jones=35.5`.")
    limits.shares_total([limits.share(pct, name) for name, pct in answers])  # the limits every import keeps


def _poll_contest(race: Race, data: PollInput) -> Contest | None:
    """The stage the poll asks about: as said; else the first stage from the poll's end whose ballot has
    everyone named; else, for a hypothetical match-up, the general; else the next stage."""
    if data.stage.said:
        return pick_contest(race, data.stage, when_unsaid="next", on=data.end)
    if not race.contests:
        return None
    ordered = sorted(
        race.contests, key=lambda c: (c.date is not None and c.date < data.end, c.date or dt.date.max)
    )
    for contest in ordered:
        people = [c.candidate for c in contest.candidacies]
        try:
            for name, _ in data.answers:
                choose_person(name, people, spellings, "")
        except WriteError:
            continue
        return contest
    if data.hypothetical:
        generals = [c for c in race.contests if c.stage == "general"]
        if len(generals) == 1:
            return generals[0]
    return pick_contest(race, data.stage, when_unsaid="next", on=data.end)


async def add_poll(session: AsyncSession, actor: Actor, data: PollInput) -> PollOutcome:
    race = await load_race(session, data.race_id)
    pollster = data.pollster.strip()
    if not pollster:
        raise WriteError('Name the pollster, e.g. `pollster="Auburn University at Montgomery"`.')
    if data.start is not None and data.start > data.end:
        raise WriteError(
            f"The poll's end date ({day_text(data.end)}) is before its start ({day_text(data.start)})."
        )
    if data.end > today():
        raise WriteError(f"The poll's end date ({day_text(data.end)}) is in the future.")
    if data.sample_size is not None:
        limits.sample_size(data.sample_size)
    if data.population is not None and data.population not in {p.value for p in Population}:
        raise WriteError(f"The population must be lv, rv, a or v, not '{data.population}'.")
    _check_shares(data.answers)

    contest = _poll_contest(race, data)
    if contest is not None and contest.date is not None and data.end > contest.date and not data.force:
        raise WriteError(
            f"The poll ended {day_text(data.end)}, after the {contest_label(contest)} it asks about "
            f"({day_text(contest.date)}): polls are fielded before their election. Check the dates, or add "
            "`force=yes` if it is right."
        )
    where_people: list[Candidate]
    if data.hypothetical or contest is None:
        where_people, where = race_people(race), race_label(race)
    else:
        where_people = [c.candidate for c in contest.candidacies]
        where = f"the {contest_label(contest)} of {race_label(race)}"
    answers: list[tuple[Candidate, float]] = []
    for name, pct in data.answers:
        try:
            person: Candidate = choose_person(name, where_people, spellings, where)
        except NotFound as problem:
            if not data.hypothetical and contest is not None:
                try:
                    choose_person(name, race_people(race), spellings, race_label(race))
                except WriteError:
                    raise problem from None
                raise WriteError(
                    f"'{name}' is not on the ballot of the {contest_label(contest)}. Name the stage the poll "
                    "asked about, or add `hypothetical` for a match-up that is not on the ballot."
                ) from None
            raise
        if any(p.id == person.id for p, _ in answers):
            raise WriteError(f"{person.name} is named twice.")
        answers.append((person, pct))

    duplicate = await _same_poll(session, race.id, pollster, data.end, answers)
    if duplicate is not None:
        raise Duplicate(
            f"That poll is already stored as poll #{duplicate}: nothing new was stored.", duplicate
        )

    poll = Poll(
        race_id=race.id,
        pollster=pollster,
        sponsor=data.sponsor,
        partisan=data.partisan,
        internal=data.internal,
        start_date=data.start,
        end_date=data.end,
        sample_size=data.sample_size,
        population=data.population,
        url=data.url,
        source="desk",
        created_by=actor.id,
    )
    question = Question(
        contest_id=contest.id if contest else None,
        hypothetical=data.hypothetical,
        sample_size=None,
        population=None,
    )
    parties = {c.candidate_id: c.party for c in (contest.candidacies if contest else [])}
    for person, pct in answers:
        question.answers.append(
            Answer(
                candidate_id=person.id,
                choice=short_name(person),
                party=parties.get(person.id) or person.party,
                pct=pct,
            )
        )
    poll.questions.append(question)
    session.add(poll)
    await session.flush()
    entry = await record(
        session,
        actor,
        "poll.add",
        "polls",
        poll.id,
        race_id=race.id,
        after=await poll_record(session, poll.id),
    )
    answers.sort(key=lambda a: -a[1])
    return PollOutcome(race, poll, contest, answers, entry)


async def _same_poll(
    session: AsyncSession, race_id: int, pollster: str, end: dt.date, answers: list[tuple[Candidate, float]]
) -> int | None:
    polls = await session.scalars(
        select(Poll)
        .where(Poll.race_id == race_id, Poll.pollster == pollster, Poll.end_date == end)
        .options(selectinload(Poll.questions).selectinload(Question.answers))
    )
    wanted = sorted((p.id, round(pct, 2)) for p, pct in answers)
    for poll in polls:
        for question in poll.questions:
            have = sorted((a.candidate_id, round(a.pct, 2)) for a in question.answers)
            if have == wanted:
                return poll.id
    return None


async def load_poll(session: AsyncSession, poll_id: int) -> Poll | None:
    return await session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .options(selectinload(Poll.questions).selectinload(Question.answers))
        .execution_options(populate_existing=True)
    )


async def poll_record(session: AsyncSession, poll_id: int) -> dict[str, Any]:
    """The whole poll as JSON, enough to put it back exactly (ids included)."""
    poll = await load_poll(session, poll_id)
    assert poll is not None
    data = {"id": poll.id, **row_dict(poll, POLL_FIELDS)}
    data["questions"] = [
        {
            "id": q.id,
            "contest_id": q.contest_id,
            "hypothetical": q.hypothetical,
            "sample_size": q.sample_size,
            "population": q.population,
            "source_key": q.source_key,
            "answers": [
                {
                    "id": a.id,
                    "candidate_id": a.candidate_id,
                    "choice": a.choice,
                    "party": a.party,
                    "pct": a.pct,
                }
                for a in q.answers
            ],
        }
        for q in poll.questions
    ]
    return data


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _datetime(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


async def restore_poll(session: AsyncSession, data: dict[str, Any]) -> Poll:
    """Put a removed poll back, with its old ids when they are free."""
    fields = {k: data.get(k) for k in POLL_FIELDS}
    fields["start_date"] = _date(fields["start_date"])
    fields["end_date"] = _date(fields["end_date"])
    fields["created_at"] = _datetime(fields["created_at"])
    free = await session.get(Poll, data["id"]) is None
    poll = Poll(id=data["id"] if free else None, **fields)
    for q in data.get("questions", []):
        question = Question(
            id=q["id"] if free else None,
            contest_id=q.get("contest_id"),
            hypothetical=q.get("hypothetical", False),
            sample_size=q.get("sample_size"),
            population=q.get("population"),
            source_key=q.get("source_key"),
        )
        for a in q.get("answers", []):
            question.answers.append(
                Answer(
                    id=a["id"] if free else None,
                    candidate_id=a.get("candidate_id"),
                    choice=a["choice"],
                    party=a.get("party"),
                    pct=a["pct"],
                )
            )
        poll.questions.append(question)
    session.add(poll)
    await session.flush()
    return poll


@dataclass
class RemovedPoll:
    poll_id: int
    race: Race | None
    description: str
    record: dict[str, Any]
    added_audit_id: int | None  # the audit entry that added it, if the desk did
    audit: AuditEntry


async def remove_poll(session: AsyncSession, actor: Actor, poll_id: int) -> RemovedPoll:
    poll = await load_poll(session, poll_id)
    if poll is None:
        raise NotFound(f"There is no poll #{poll_id}.")
    race = await session.get(Race, poll.race_id)
    data = await poll_record(session, poll_id)
    description = f"{poll.pollster}, ended {day_text(poll.end_date)}"
    added = await session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == "poll.add",
            AuditEntry.entity_id == poll_id,
            AuditEntry.undone_by_id.is_(None),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    await session.delete(poll)
    await session.flush()
    entry = await record(session, actor, "poll.remove", "polls", poll_id, race_id=poll.race_id, before=data)
    return RemovedPoll(poll_id, race, description, data, added, entry)


@dataclass
class EndorsementInput:
    race_id: int
    endorser: str
    candidate: str
    stance: str = Stance.ENDORSE
    kind: str = EndorserKind.PERSON
    date: dt.date | None = None
    url: str | None = None
    source: str | None = None
    quote: str | None = None


@dataclass
class EndorsementOutcome:
    race: Race
    endorsement: Endorsement
    candidate: Candidate
    audit: AuditEntry


async def add_endorsement(session: AsyncSession, actor: Actor, data: EndorsementInput) -> EndorsementOutcome:
    race = await load_race(session, data.race_id)
    endorser = data.endorser.strip()
    if not endorser:
        raise WriteError('Name the endorser, e.g. `endorser="Donald Trump"`.')
    if data.stance not in {s.value for s in Stance}:
        raise WriteError(f"The stance must be endorse, oppose, withhold or rescind, not '{data.stance}'.")
    if data.kind not in {k.value for k in EndorserKind}:
        kinds = ", ".join(k.value for k in EndorserKind)
        raise WriteError(f"The kind must be one of {kinds}; not '{data.kind}'.")
    if data.date is not None and data.date > today():
        raise WriteError(f"The endorsement's date ({day_text(data.date)}) is in the future.")
    person = await find_person(session, race, data.candidate)
    exists = await stored_endorsement(session, race.id, person.id, endorser, data.stance, data.date)
    if exists is not None:
        raise Duplicate(f"That is already stored as endorsement #{exists}: nothing new was stored.", exists)
    endorsement = Endorsement(
        race_id=race.id,
        candidate_id=person.id,
        endorser=endorser,
        endorser_kind=data.kind,
        stance=data.stance,
        date=data.date,
        quote=data.quote,
        source=data.source,
        url=data.url,
        created_by=actor.id,
    )
    session.add(endorsement)
    await session.flush()
    entry = await record(
        session,
        actor,
        "endorsement.add",
        "endorsements",
        endorsement.id,
        race_id=race.id,
        after={"id": endorsement.id, **row_dict(endorsement, ENDORSEMENT_FIELDS)},
    )
    return EndorsementOutcome(race, endorsement, person, entry)


@dataclass
class RemovedEndorsement:
    endorsement_id: int
    description: str
    audit: AuditEntry


async def remove_endorsement(session: AsyncSession, actor: Actor, endorsement_id: int) -> RemovedEndorsement:
    endorsement = await session.scalar(
        select(Endorsement)
        .where(Endorsement.id == endorsement_id)
        .options(selectinload(Endorsement.candidate))
    )
    if endorsement is None:
        raise NotFound(f"There is no endorsement #{endorsement_id}.")
    data = {"id": endorsement.id, **row_dict(endorsement, ENDORSEMENT_FIELDS)}
    description = f"{endorsement.endorser} ({endorsement.stance}) {endorsement.candidate.name}"
    await session.delete(endorsement)
    await session.flush()
    entry = await record(
        session,
        actor,
        "endorsement.remove",
        "endorsements",
        endorsement_id,
        race_id=endorsement.race_id,
        before=data,
    )
    return RemovedEndorsement(endorsement_id, description, entry)


async def restore_endorsement(session: AsyncSession, data: dict[str, Any]) -> Endorsement:
    fields = {k: data.get(k) for k in ENDORSEMENT_FIELDS}
    fields["date"] = _date(fields["date"])
    fields["created_at"] = _datetime(fields["created_at"])
    free = await session.get(Endorsement, data["id"]) is None
    endorsement = Endorsement(id=data["id"] if free else None, **fields)
    session.add(endorsement)
    await session.flush()
    return endorsement

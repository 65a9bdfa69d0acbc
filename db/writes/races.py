"""Races, their stages and the people on their ballots, as the desk adds and corrects them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import limits
from db.audit import Actor, record
from db.lookup import POSTAL_CODES
from db.models import (
    Answer,
    AuditEntry,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Endorsement,
    NameToken,
    Office,
    Poll,
    Race,
    ResultCount,
    ResultSnapshot,
    Stage,
)
from db.names import name_key, name_tokens
from db.people import PeopleIndex
from db.vocabulary import party_code
from db.writes.common import (
    StageRef,
    contest_label,
    find_person,
    load_race,
    merged_away_text,
    name_matches,
    pick_contest,
    race_label,
    spellings,
)
from db.writes.errors import MergedAway, WriteError

RACE_EDITABLE = ("seat", "incumbent_party", "notes", "source")


@dataclass(frozen=True)
class ContestDate:
    stage: str  # a Stage value
    party: str
    date: dt.date | None


@dataclass
class RaceInput:
    state: str
    office: str
    cycle: int
    seat: str = ""
    special: bool = False
    incumbent_party: str | None = None
    notes: str | None = None
    source: str | None = None
    contests: list[ContestDate] = field(default_factory=list)


@dataclass
class RaceOutcome:
    race: Race
    contests: list[Contest]  # added (or re-dated)
    changed: dict[str, tuple[Any, Any]]  # field -> (before, after)
    audit: AuditEntry


def _check_contest(race_cycle: int, item: ContestDate) -> None:
    if item.stage not in {s.value for s in Stage}:
        raise WriteError(f"'{item.stage}' is not a stage.")
    if item.date is not None and abs(item.date.year - race_cycle) > 1:
        raise WriteError(f"The {item.stage} date {item.date.isoformat()} is far from the {race_cycle} cycle.")


async def add_race(session: AsyncSession, actor: Actor, data: RaceInput) -> RaceOutcome:
    state = data.state.upper()
    if state not in POSTAL_CODES and state != "US":
        raise WriteError(f"'{data.state}' is not a state: use a name or a postal code, e.g. AL.")
    if data.office not in {o.value for o in Office}:
        raise WriteError(f"The office must be senate, house, governor or president, not '{data.office}'.")
    limits.cycle(data.cycle)
    if data.cycle > dt.date.today().year + 10:
        raise WriteError(f"{data.cycle} is not an election year racedesk can store.")
    if data.office == Office.HOUSE and not data.seat:
        raise WriteError("A House race needs its district, e.g. `AL-02`.")
    natural = {
        "cycle": data.cycle,
        "state": state,
        "office": data.office,
        "seat": data.seat,
        "special": data.special,
    }
    existing = await session.scalar(select(Race).filter_by(**natural))
    if existing is not None:
        raise WriteError(f"{race_label(existing)} already exists. Change it with `race-edit`.")
    for item in data.contests:
        _check_contest(data.cycle, item)
    race = Race(**natural, incumbent_party=data.incumbent_party, notes=data.notes, source=data.source)
    session.add(race)
    await session.flush()
    contests = []
    for item in data.contests:
        contest = Contest(race_id=race.id, stage=item.stage, party=item.party, date=item.date)
        session.add(contest)
        contests.append(contest)
    await session.flush()
    entry = await record(
        session,
        actor,
        "race.add",
        "races",
        race.id,
        race_id=race.id,
        after={**natural, "contest_ids": [c.id for c in contests]},
    )
    return RaceOutcome(race, contests, {}, entry)


@dataclass
class RaceEdit:
    race_id: int
    fields: dict[str, Any] = field(default_factory=dict)  # RACE_EDITABLE names
    contests: list[ContestDate] = field(default_factory=list)  # add, or set the date of
    incumbent: str | None = None  # a name in the race; "" clears


async def edit_race(session: AsyncSession, actor: Actor, data: RaceEdit) -> RaceOutcome:
    race = await load_race(session, data.race_id)
    if not data.fields and not data.contests and data.incumbent is None:
        raise WriteError('Say what to change, e.g. `notes="..."` or `general=2026-11-03`.')
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in data.fields.items():
        if name not in RACE_EDITABLE:
            raise WriteError(f"A race has no field '{name}'.")
        if getattr(race, name) != value:
            changed[name] = (getattr(race, name), value)
            setattr(race, name, value)
    if data.incumbent is not None:
        person = await find_person(session, race, data.incumbent, anywhere=True) if data.incumbent else None
        new_id = person.id if person else None
        if race.incumbent_id != new_id:
            changed["incumbent_id"] = (race.incumbent_id, new_id)
            race.incumbent_id = new_id
    added: list[Contest] = []
    redated: dict[str, Any] = {}
    for item in data.contests:
        _check_contest(race.cycle, item)
        contest = next((c for c in race.contests if c.stage == item.stage and c.party == item.party), None)
        if contest is None:
            contest = Contest(race_id=race.id, stage=item.stage, party=item.party, date=item.date)
            session.add(contest)
            added.append(contest)
        elif contest.date != item.date:
            redated[str(contest.id)] = [
                contest.date.isoformat() if contest.date else None,
                item.date.isoformat() if item.date else None,
            ]
            contest.date = item.date
            added.append(contest)
    if not changed and not added:
        raise WriteError(f"Nothing to change: {race_label(race)} already has those values.")
    await session.flush()
    new_contests = [c.id for c in added if str(c.id) not in redated]
    entry = await record(
        session,
        actor,
        "race.edit",
        "races",
        race.id,
        race_id=race.id,
        before={k: v[0] for k, v in changed.items()}
        | {"contest_dates": {k: v[0] for k, v in redated.items()}},
        after={k: v[1] for k, v in changed.items()}
        | {"contest_dates": {k: v[1] for k, v in redated.items()}, "contest_ids": new_contests},
    )
    return RaceOutcome(race, added, changed, entry)


@dataclass
class CandidateInput:
    race_id: int
    stage: StageRef
    name: str
    party: str | None = None
    incumbent: bool = False


@dataclass
class CandidateOutcome:
    race: Race
    contest: Contest | None
    person: Candidate
    candidacies: list[Candidacy]
    created_person: bool
    changed: dict[str, tuple[Any, Any]]
    audit: AuditEntry


def _party(value: str | None) -> str | None:
    if value is None:
        return None
    code = party_code(value)
    if not code or len(code) > 16 or not code.isalpha():
        raise WriteError(f"'{value}' is not a party: use REP, DEM, LIB, GRN, IND or another short code.")
    return code


async def add_candidate(session: AsyncSession, actor: Actor, data: CandidateInput) -> CandidateOutcome:
    race = await load_race(session, data.race_id)
    name = " ".join(data.name.split())
    if not name_key(name):
        raise WriteError('Give the candidate\'s name, e.g. `name="Doug Jones"`.')
    if not data.stage.said and len(race.contests) > 1:
        stages = ", ".join(contest_label(c) for c in race.contests)
        raise WriteError(f"Which stage's ballot? {race_label(race)} has: {stages}.")
    contest = pick_contest(race, data.stage, when_unsaid="next")
    party = _party(data.party)
    people = PeopleIndex(session)
    person = await people.get_or_create(
        name, race.state if race.state != "US" else None, party=party, source="desk"
    )
    created = bool(people.created)
    if any(c.candidate_id == person.id for c in contest.candidacies):
        raise WriteError(f"{person.name} is already on the ballot of the {contest_label(contest)}.")
    candidacy = Candidacy(
        contest_id=contest.id, candidate_id=person.id, party=party or person.party, incumbent=data.incumbent
    )
    session.add(candidacy)
    await session.flush()
    entry = await record(
        session,
        actor,
        "candidate.add",
        "candidacies",
        candidacy.id,
        race_id=race.id,
        after={
            "candidacy_id": candidacy.id,
            "candidate_id": person.id,
            "contest_id": contest.id,
            "name": person.name,
            "created_person": created,
        },
    )
    return CandidateOutcome(race, contest, person, [candidacy], created, {}, entry)


@dataclass
class CandidateEdit:
    race_id: int
    candidate: str  # who, as typed
    stage: StageRef = field(default_factory=StageRef)
    name: str | None = None
    party: str | None = None
    alias: str | None = None
    withdrawn: bool | None = None
    incumbent: bool | None = None
    office_held: str | None = None


def _refuse_another_persons_name(race: Race, person: Candidate, spelling: str) -> None:
    """A spelling given to `person` must not name someone else on a stage they share: writes naming either
    of them would then be refused as ambiguous."""
    stages = [c for c in race.contests if any(x.candidate_id == person.id for x in c.candidacies)]
    for contest in stages:
        for other in contest.candidacies:
            if other.candidate_id == person.id:
                continue
            theirs = spellings(other.candidate)
            if any(name_matches(spelling, theirs)) or any(any(name_matches(s, [spelling])) for s in theirs):
                raise WriteError(
                    f"'{spelling}' names {other.candidate.name}, who is also on the {contest_label(contest)}: "
                    f"another spelling of {person.name} must name only them."
                )


async def edit_candidate(session: AsyncSession, actor: Actor, data: CandidateEdit) -> CandidateOutcome:
    race = await load_race(session, data.race_id)
    person = await find_person(session, race, data.candidate)
    candidacies = [c for contest in race.contests for c in contest.candidacies if c.candidate_id == person.id]
    if data.stage.said:
        contest = pick_contest(race, data.stage)
        candidacies = [c for c in candidacies if c.contest_id == contest.id]
        if not candidacies:
            raise WriteError(f"{person.name} is not on the ballot of the {contest_label(contest)}.")
    person_before: dict[str, Any] = {}
    person_after: dict[str, Any] = {}
    changed: dict[str, tuple[Any, Any]] = {}
    if data.name is not None:
        new_name = " ".join(data.name.split())
        if not name_key(new_name):
            raise WriteError("The new name is empty.")
        if new_name != person.name:
            person_before.update(name=person.name, name_key=person.name_key)
            person_after.update(name=new_name, name_key=name_key(new_name))
            changed["name"] = (person.name, new_name)
    if data.office_held is not None and data.office_held != person.office_held:
        person_before["office_held"], person_after["office_held"] = person.office_held, data.office_held
        changed["office held"] = (person.office_held, data.office_held)
    party = _party(data.party)
    if party is not None and party != person.party:
        person_before["party"], person_after["party"] = person.party, party
        changed["party"] = (person.party, party)
    candidacy_before: dict[str, dict[str, Any]] = {}
    candidacy_after: dict[str, dict[str, Any]] = {}
    for candidacy in candidacies:
        for attr, value in (("party", party), ("withdrawn", data.withdrawn), ("incumbent", data.incumbent)):
            was = getattr(candidacy, attr)
            if value is not None and was != value:
                candidacy_before.setdefault(str(candidacy.id), {})[attr] = was
                candidacy_after.setdefault(str(candidacy.id), {})[attr] = value
                setattr(candidacy, attr, value)
                changed.setdefault(attr if attr != "party" else "party on the ballot", (was, value))
    for attr, value in person_after.items():
        setattr(person, attr, value)
    added_aliases: list[int] = []
    added_tokens: list[int] = []
    spelled = [data.alias] if data.alias else []
    if "name" in person_after:
        spelled.append(person_after["name"])
    for spelling in spelled:
        key = name_key(spelling)
        if not key:
            raise WriteError("The other spelling is empty.")
        _refuse_another_persons_name(race, person, spelling)
        exists = await session.scalar(
            select(CandidateAlias.id).where(
                CandidateAlias.candidate_id == person.id, CandidateAlias.alias_key == key
            )
        )
        if exists is not None:
            continue
        alias = CandidateAlias(candidate_id=person.id, alias=spelling, alias_key=key, source="desk")
        session.add(alias)
        await session.flush()
        added_aliases.append(alias.id)
        for token in name_tokens(spelling):
            known = await session.scalar(
                select(NameToken.id).where(NameToken.candidate_id == person.id, NameToken.token == token)
            )
            if known is None:
                row = NameToken(candidate_id=person.id, token=token)
                session.add(row)
                await session.flush()
                added_tokens.append(row.id)
        if spelling == data.alias:
            changed["other spelling"] = (None, data.alias)
    if not changed and not added_aliases:
        raise WriteError(f"Nothing to change: {person.name} already has those values.")
    await session.flush()
    entry = await record(
        session,
        actor,
        "candidate.edit",
        "candidates",
        person.id,
        race_id=race.id,
        before={"person": person_before, "candidacies": candidacy_before},
        after={
            "person": person_after,
            "candidacies": candidacy_after,
            "aliases": added_aliases,
            "tokens": added_tokens,
        },
    )
    return CandidateOutcome(race, None, person, candidacies, False, changed, entry)


@dataclass
class MergeOutcome:
    race: Race
    merged: Candidate
    into: Candidate
    moved: dict[str, list[int]]
    audit: AuditEntry


MERGE_TABLES: tuple[tuple[str, Any, Any], ...] = (
    ("candidacies", Candidacy, Candidacy.candidate_id),
    ("answers", Answer, Answer.candidate_id),
    ("endorsements", Endorsement, Endorsement.candidate_id),
    ("races", Race, Race.incumbent_id),
)


async def merge_candidates(
    session: AsyncSession, actor: Actor, race_id: int, merged_name: str, into_name: str
) -> MergeOutcome:
    """Two records of one person: move everything of `merged` to `into` and keep `merged` as a pointer.

    Both must be in the race named and neither merged away already (so no cycle can form); those merged
    into `merged` before now point at `into`, so every pointer leads straight to a live person."""
    race = await load_race(session, race_id)
    merged = await find_person(session, race, merged_name)
    try:
        into = await find_person(session, race, into_name)
    except MergedAway as refused:
        if refused.into_id != merged.id:
            raise
        raise WriteError(
            f"{refused} Merging {merged.name} into it would make a cycle, so nothing was merged."
        ) from None
    if merged.id == into.id:
        raise WriteError(f"'{merged_name}' and '{into_name}' are the same person ({merged.name}).")
    clash = await session.scalar(
        select(func.count())
        .select_from(Candidacy)
        .where(
            Candidacy.candidate_id == merged.id,
            Candidacy.contest_id.in_(select(Candidacy.contest_id).where(Candidacy.candidate_id == into.id)),
        )
    )
    if clash:
        raise WriteError(
            f"{merged.name} and {into.name} are both on one ballot, so they are two people: not merged."
        )
    moved: dict[str, list[int]] = {}
    for name, model, column in MERGE_TABLES:
        ids = list(await session.scalars(select(model.id).where(column == merged.id)))
        if ids:
            await session.execute(update(model).where(model.id.in_(ids)).values({column.key: into.id}))
        moved[name] = ids
    moved["aliases"] = await _move_spellings(session, CandidateAlias, "alias_key", merged.id, into.id)
    moved["tokens"] = await _move_spellings(session, NameToken, "token", merged.id, into.id)
    moved["pointers"] = list(
        await session.scalars(select(Candidate.id).where(Candidate.merged_into_id == merged.id))
    )
    if moved["pointers"]:
        await session.execute(
            update(Candidate).where(Candidate.id.in_(moved["pointers"])).values(merged_into_id=into.id)
        )
    merged.merged_into_id = into.id
    await session.flush()
    entry = await record(
        session,
        actor,
        "candidate.merge",
        "candidates",
        merged.id,
        race_id=race.id,
        before={"merged_into_id": None},
        after={"merged_into_id": into.id, "into_name": into.name, "merged_name": merged.name, "moved": moved},
    )
    return MergeOutcome(race, merged, into, moved, entry)


Spelling = TypeVar("Spelling", CandidateAlias, NameToken)


async def _move_spellings(
    session: AsyncSession,
    model: type[Spelling],
    key: str,
    merged_id: int,
    into_id: int,
) -> list[int]:
    """Give `into` the aliases (or name tokens) of `merged` it lacks; the ids of those moved."""
    has = set(await session.scalars(select(getattr(model, key)).where(model.candidate_id == into_id)))
    ids = [
        row.id
        for row in await session.scalars(select(model).where(model.candidate_id == merged_id))
        if getattr(row, key) not in has
    ]
    if ids:
        await session.execute(update(model).where(model.id.in_(ids)).values(candidate_id=into_id))
    return ids


MOVED_KINDS: tuple[tuple[str, Any, Any], ...] = (
    *MERGE_TABLES,
    ("aliases", CandidateAlias, CandidateAlias.candidate_id),
    ("tokens", NameToken, NameToken.candidate_id),
    ("pointers", Candidate, Candidate.merged_into_id),
)


async def unmerge(session: AsyncSession, merged_id: int, into_id: int, moved: dict[str, list[int]]) -> None:
    """Put back what a merge moved, exactly; refused, with the reason, when that is no longer the state the
    merge left (the person merged since, or a moved row changed again)."""
    merged = await session.get(Candidate, merged_id)
    into = await session.get(Candidate, into_id)
    if merged is None or into is None:
        raise WriteError("One of the two people is gone, so the merge cannot be undone.")
    if into.merged_into_id is not None:
        raise WriteError(f"{await merged_away_text(session, into)} Undo that first, then this merge.")
    if merged.merged_into_id != into.id:
        raise WriteError(f"{merged.name} is no longer merged into {into.name}; nothing to split.")
    for name, model, column in MOVED_KINDS:
        ids = moved.get(name) or []
        if not ids:
            continue
        rows = {
            row_id: person_id
            for row_id, person_id in await session.execute(select(model.id, column).where(model.id.in_(ids)))
        }
        changed = [row_id for row_id, person_id in rows.items() if person_id != into.id]
        if changed:
            raise WriteError(
                f"{name.capitalize()} that the merge moved to {into.name} ({', '.join(f'#{i}' for i in changed)}) "
                "changed again since; not undone."
            )
        if rows:
            await session.execute(
                update(model).where(model.id.in_(list(rows))).values({column.key: merged_id})
            )
    merged.merged_into_id = None
    await session.flush()


async def race_has_data(session: AsyncSession, race_id: int) -> list[str]:
    """What besides its stages a race holds (so removing it would lose something)."""
    found = []
    contest_ids = select(Contest.id).where(Contest.race_id == race_id)
    checks = (
        ("polls", select(func.count(Poll.id)).where(Poll.race_id == race_id)),
        ("endorsements", select(func.count(Endorsement.id)).where(Endorsement.race_id == race_id)),
        ("candidates", select(func.count(Candidacy.id)).where(Candidacy.contest_id.in_(contest_ids))),
        ("results", select(func.count(ResultSnapshot.id)).where(ResultSnapshot.contest_id.in_(contest_ids))),
        ("calls", select(func.count(Call.id)).where(Call.contest_id.in_(contest_ids))),
    )
    for label, query in checks:
        if await session.scalar(query):
            found.append(label)
    return found


async def candidacy_has_data(session: AsyncSession, candidacy_id: int) -> str | None:
    """What names this candidacy (votes in stored results, a call), so taking it off the ballot would lose
    something; None when nothing does."""
    if await session.scalar(
        select(func.count(ResultCount.id)).where(ResultCount.candidacy_id == candidacy_id)
    ):
        return "has votes in stored results"
    contest_id = select(Candidacy.contest_id).where(Candidacy.id == candidacy_id).scalar_subquery()
    for ids in await session.scalars(select(Call.candidacy_ids).where(Call.contest_id == contest_id)):
        if candidacy_id in (ids or []):
            return "is named in a call of that stage"
    return None


async def person_in_use(session: AsyncSession, person_id: int) -> bool:
    for model, column in ((Candidacy, Candidacy.candidate_id), (Answer, Answer.candidate_id),
                          (Endorsement, Endorsement.candidate_id), (Race, Race.incumbent_id),
                          (Candidate, Candidate.merged_into_id)):  # fmt: skip
        if await session.scalar(select(func.count()).select_from(model).where(column == person_id)):
            return True
    return False

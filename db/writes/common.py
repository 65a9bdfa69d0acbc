"""What every write shares: loading a race whole, choosing its contest, naming candidates.

A candidate is named by any unambiguous part of any of their names within the
contest (or race) at hand: "Tuberville", "tommy", "T. Tuberville", "DOUG JONES".
A name that fits several people is refused with the list; one that fits nobody is
refused with the people who are there (and the nearest, for a typo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.lookup import state_name
from db.models import LARGEST_ID, AuditEntry, Candidacy, Candidate, Contest, Race
from db.names import fold, name_key
from db.reads.races import stage_sort_key
from db.vocabulary import contest_name, office_name, party_name, preferred_stage, stage_name, stages_meant
from db.writes.errors import Ambiguous, MergedAway, NotFound, WriteError


@dataclass(frozen=True)
class StageRef:
    """A stage as a person named it: `general`, `rep primary`, `runoff`. Empty: not said."""

    stage: str | None = None  # a Stage value, or ANY_RUNOFF (see db.vocabulary for what each word means)
    party: str | None = None

    @property
    def said(self) -> bool:
        return self.stage is not None or self.party is not None

    def describe(self) -> str:
        words = [w for w in (party_name(self.party), stage_name(self.stage)) if w]
        return " ".join(words) or "stage"


def race_label(race: Race) -> str:
    seat = f" ({race.seat})" if race.seat and race.office != "house" else ""
    if race.office == "house" and race.seat:
        seat = f" {race.state}-{race.seat.zfill(2) if race.seat.isdigit() else race.seat}"
    special = " special" if race.special else ""
    return f"{race.cycle} {state_name(race.state)} {office_name(race.office)}{special}{seat}"


def contest_label(contest: Contest) -> str:
    return contest_name(contest.stage, contest.party)


def day_text(day: dt.date | None) -> str:
    return "no date set" if day is None else f"{day:%b} {day.day}, {day.year}"


def today() -> dt.date:
    """The date in UTC: on election night in the US it is already the next day or the same, never earlier."""
    return dt.datetime.now(dt.UTC).date()


async def lock_race(session: AsyncSession, race_id: int) -> None:
    """Take the race's row for this transaction, so writes to one race happen one after another.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: SQLite has no FOR UPDATE, and its driver only begins
    a transaction at the first write, so an UPDATE first is what makes the reads that follow see the latest
    commit and keeps other writers out until this one commits. On PostgreSQL it is a row lock.
    """
    await session.execute(update(Race).where(Race.id == race_id).values(id=Race.id))


async def load_race(session: AsyncSession, race_id: int, *, lock: bool = True) -> Race:
    """The race with its contests, their candidacies and the people (with their other spellings); locked
    for this transaction unless `lock` is False."""
    if lock:
        await lock_race(session, race_id)
    race = await session.scalar(
        select(Race)
        .where(Race.id == race_id)
        .options(
            selectinload(Race.contests)
            .selectinload(Contest.candidacies)
            .selectinload(Candidacy.candidate)
            .selectinload(Candidate.aliases),
            selectinload(Race.incumbent),
        )
        .execution_options(populate_existing=True)
    )
    if race is None:
        raise NotFound("That race no longer exists.")
    return race


def stages_text(race: Race) -> str:
    contests = sorted(race.contests, key=stage_sort_key)
    return ", ".join(f"{contest_label(c)} ({day_text(c.date)})" for c in contests) or "none yet"


def pick_contest(
    race: Race, ref: StageRef, *, when_unsaid: str = "latest held", on: dt.date | None = None
) -> Contest:
    """The contest a stage reference means in this race.

    Unsaid, it is the race's only contest, else (`latest held`) the latest one held by `on`, or
    (`next`) the first one not yet held, else the latest.
    """
    on = on or today()
    contests = sorted(race.contests, key=stage_sort_key)
    if not contests:
        raise WriteError(f"{race_label(race)} has no stages yet: add one with `race-edit` first.")
    if ref.said:
        fitting = [c for c in contests if _fits(c, ref)]
        if ref.stage is not None:  # "runoff" with both runoffs: the primary runoff
            best = preferred_stage(stages_meant(ref.stage), (c.stage for c in fitting))
            fitting = [c for c in fitting if c.stage == best]
        if not fitting:
            raise NotFound(f"{race_label(race)} has no {ref.describe()}. Its stages: {stages_text(race)}.")
        if len(fitting) > 1:
            options = [contest_label(c) for c in fitting]
            raise Ambiguous(
                f"{race_label(race)} has {len(fitting)} of those: {', '.join(options)}. Say which, e.g. "
                f"`{options[0].split()[0].lower()[:3]} {stage_name(fitting[0].stage)}`.",
                options,
            )
        return fitting[0]
    if len(contests) == 1:
        return contests[0]
    held = [c for c in contests if c.date is not None and c.date <= on]
    if when_unsaid == "next":
        upcoming = [c for c in contests if c.date is None or c.date > on]
        return upcoming[0] if upcoming else contests[-1]
    if not held:
        raise WriteError(
            f"No stage of {race_label(race)} has been held yet. Its stages: {stages_text(race)}."
        )
    latest = max(c.date for c in held if c.date is not None)
    same_day = [c for c in held if c.date == latest]
    if len(same_day) > 1:
        options = [contest_label(c) for c in same_day]
        raise Ambiguous(
            f"Several stages of {race_label(race)} were held on {day_text(latest)}: {', '.join(options)}. "
            "Say which.",
            options,
        )
    return same_day[0]


def _fits(contest: Contest, ref: StageRef) -> bool:
    if ref.party is not None and contest.party != ref.party:
        return False
    return ref.stage is None or contest.stage in stages_meant(ref.stage)


def require_held(race: Race, contest: Contest, what: str, on: dt.date | None = None) -> None:
    on = on or today()
    if contest.date is not None and contest.date > on:
        raise WriteError(
            f"The {contest_label(contest)} of {race_label(race)} is on {day_text(contest.date)} and has not "
            f"been held yet, so it cannot have {what}."
        )


def spellings(person: Candidate) -> list[str]:
    return [person.name, *(a.alias for a in person.aliases)]


def _words(text: str) -> list[str]:
    return name_key(text).split() or fold(text).split()


def name_matches(query: str, names: Sequence[str]) -> tuple[bool, bool]:
    """(exact, partial): whether `query` is one of `names`, or every word of it starts a word of one."""
    key = name_key(query)
    wanted = _words(query)
    if not wanted:
        return False, False
    exact = any(name_key(n) == key for n in names)
    partial = False
    for name in names:
        words = _words(name)
        if all(any(w.startswith(q) for w in words) for q in wanted):
            partial = True
            break
    return exact, partial


def choose_person(query: str, people: Iterable[Any], names_of: Any, where: str) -> Any:
    """The one of `people` that `query` names. `names_of(item)` gives its spellings."""
    items = list(people)
    if not _words(query):
        raise WriteError(f"'{query}' is not a name.")
    exact, partial = [], []
    for item in items:
        is_exact, is_partial = name_matches(query, names_of(item))
        if is_exact:
            exact.append(item)
        if is_partial:
            partial.append(item)
    if len(exact) == 1:
        return exact[0]
    found = exact or partial
    if not exact and found and max(len(w) for w in _words(query)) < 3:
        raise WriteError(f"'{query}' is too short to tell who is meant in {where}; use more of the name.")
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        choices = [names_of(i)[0] for i in found]
        raise Ambiguous(
            f"'{query}' could be {' or '.join(choices)} in {where}. Use more of the name.", choices
        )
    everyone = [names_of(i)[0] for i in items]
    close = process.extractOne(
        fold(query),
        {i: fold(n) for i, n in enumerate(everyone)},
        scorer=fuzz.WRatio,
        score_cutoff=75,
    )
    hint = f" Did you mean {everyone[close[2]]}?" if close else ""
    listed = ", ".join(everyone) if everyone else "nobody yet"
    raise NotFound(f"'{query}' is not a candidate in {where}.{hint} The candidates: {listed}.")


def find_candidacy(race: Race, contest: Contest, query: str) -> Candidacy:
    where = f"the {contest_label(contest)} of {race_label(race)}"
    found: Candidacy = choose_person(query, contest.candidacies, lambda c: spellings(c.candidate), where)
    return found


def race_people(race: Race) -> list[Candidate]:
    seen: dict[int, Candidate] = {}
    for contest in sorted(race.contests, key=stage_sort_key):
        for candidacy in contest.candidacies:
            seen.setdefault(candidacy.candidate.id, candidacy.candidate)
    if race.incumbent is not None and race.incumbent_id not in seen:
        seen[race.incumbent.id] = race.incumbent
    return list(seen.values())


async def find_person(session: AsyncSession, race: Race, query: str, *, anywhere: bool = False) -> Candidate:
    """A person in any stage of the race (or its incumbent). `#123` names a candidate by id, who must be in
    the race too unless `anywhere`; a record merged into another person is refused, saying into whom."""
    text = query.strip()
    if text.startswith("#") and text[1:].isascii() and text[1:].isdigit():
        if int(text[1:]) > LARGEST_ID:
            raise NotFound(f"There is no candidate {text}.")
        person = await session.scalar(
            select(Candidate).where(Candidate.id == int(text[1:])).options(selectinload(Candidate.aliases))
        )
        if person is None:
            raise NotFound(f"There is no candidate {text}.")
        if person.merged_into_id is not None:
            raise MergedAway(await merged_away_text(session, person), person.id, person.merged_into_id)
        if not anywhere and person.id not in {p.id for p in race_people(race)}:
            listed = ", ".join(f"{p.name} (#{p.id})" for p in race_people(race)) or "nobody yet"
            raise NotFound(
                f"{text} is {person.name}, who is not in {race_label(race)}. Its candidates: {listed}."
            )
        return person
    found: Candidate = choose_person(text, race_people(race), spellings, race_label(race))
    return found


async def merged_away_text(session: AsyncSession, person: Candidate) -> str:
    """ "Stanley Adair (#8) was merged into Doug Jones (#1) by #41 (`undo 41` splits them)." """
    into = await session.get(Candidate, person.merged_into_id)
    entry = await session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == "candidate.merge",
            AuditEntry.entity_id == person.id,
            AuditEntry.undone_by_id.is_(None),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    whom = f"{into.name} (#{into.id})" if into is not None else f"candidate #{person.merged_into_id}"
    by = f" by #{entry} (`undo {entry}` splits them)" if entry is not None else ""
    return f"{person.name} (#{person.id}) was merged into {whom}{by}."


def short_name(person: Candidate) -> str:
    words = person.name.split()
    return words[-1] if words else person.name


def jsonable(value: Any) -> Any:
    """Dates and times as ISO text, for the audit trail's JSON."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def row_dict(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: jsonable(getattr(obj, f)) for f in fields}

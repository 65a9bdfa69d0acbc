"""Undo: revert one audited write, recorded as a write of its own.

Each kind of write knows how to put things back. An undo is refused, with the
reason, when it would lose something written since (a race that now holds polls,
a call that a newer call replaced, a field edited again) or when it makes no
sense (an import, an undo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.audit import Actor, record
from db.models import (
    AuditEntry,
    Call,
    CallKind,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Endorsement,
    NameToken,
    Race,
    ResultSnapshot,
)
from db.reads.races import latest_snapshot, standing_call
from db.writes.common import contest_label, load_race, race_label
from db.writes.config import restore_settings
from db.writes.errors import NotFound, WriteError
from db.writes.feeds import UNDO_HANDLERS as FEED_UNDO
from db.writes.polls import load_poll, restore_endorsement, restore_poll
from db.writes.races import (
    candidacy_has_data,
    person_in_use,
    race_has_data,
    unmerge,
)
from db.writes.results import decision


@dataclass
class UndoOutcome:
    original: AuditEntry
    audit: AuditEntry
    description: str  # what was put back, for the reply
    race: Race | None = None
    contest: Contest | None = None
    # What the correction announcement needs (when the original was announced):
    correction: str | None = None  # "result", "call", "uncall", "poll"
    details: dict[str, Any] = field(default_factory=dict)


Row = TypeVar("Row")
Handler = Callable[[AsyncSession, AuditEntry], Awaitable[tuple[str, dict[str, Any]]]]


async def undo(session: AsyncSession, actor: Actor, audit_id: int) -> UndoOutcome:
    # Take the entry's row first (see lock_race): two undos of one write cannot both run.
    await session.execute(update(AuditEntry).where(AuditEntry.id == audit_id).values(id=AuditEntry.id))
    original = await session.scalar(select(AuditEntry).where(AuditEntry.id == audit_id))
    if original is None:
        raise NotFound(f"There is no audit entry #{audit_id}. `audit` lists them.")
    if original.undone_by_id is not None:
        raise WriteError(f"#{audit_id} was already undone (by #{original.undone_by_id}).")
    if original.action == "undo":
        raise WriteError(f"#{audit_id} is itself an undo. To have it back, post it again.")
    handler = HANDLERS.get(original.action)
    if handler is None:
        raise WriteError(f"#{audit_id} ({original.action}) cannot be undone from Discord.")
    description, details = await handler(session, original)
    race_id = original.race_id
    if race_id is not None and await session.get(Race, race_id) is None:
        race_id = None  # the undo removed the race itself
    entry = await record(
        session,
        actor,
        "undo",
        original.entity,
        original.entity_id,
        race_id=race_id,
        before=original.after,
        after={
            "undid": original.action,
            "description": description,
            **({"restored": original.before} if original.before else {}),
        },
        undoes_id=original.id,
    )
    original.undone_by_id = entry.id
    await session.flush()
    race = await load_race(session, race_id) if race_id is not None else None
    contest = None
    contest_id = details.get("contest_id")
    if race is not None and contest_id is not None:
        contest = next((c for c in race.contests if c.id == contest_id), None)
    correction = {
        "result.add": "result",
        "call.add": "call",
        "call.uncall": "uncall",
        "poll.add": "poll",
    }.get(original.action)
    if not details.get("changed", True):
        correction = None  # the outcome members were told of still stands: nothing to correct
    return UndoOutcome(original, entry, description, race, contest, correction, details)


def _after(entry: AuditEntry) -> dict[str, Any]:
    return dict(entry.after or {})


def _before(entry: AuditEntry) -> dict[str, Any]:
    return dict(entry.before or {})


async def _still_there(session: AsyncSession, model: type[Row], row_id: Any, gone: str) -> Row:
    """The row a write made or changed; refused, saying `gone`, when it no longer exists."""
    row = await session.get(model, row_id)
    if row is None:
        raise WriteError(gone)
    return row


def _refuse_if_changed(
    entry: AuditEntry, row: object, after: dict[str, Any], whose: str, skip: tuple[str, ...] = ()
) -> None:
    """Refused when a field the write set has been changed again since."""
    for name, value in after.items():
        if name not in skip and getattr(row, name) != value:
            raise WriteError(f"{whose} {name.replace('_', ' ')} changed again since #{entry.id}; not undone.")


async def _undo_result(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    snapshot = await session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.id == entry.entity_id)
        .options(selectinload(ResultSnapshot.counts))
    )
    if snapshot is None:
        raise WriteError(f"Result #{entry.entity_id} is already gone.")
    contest = await session.get(Contest, snapshot.contest_id)
    assert contest is not None
    removed = {"taken_at": snapshot.taken_at.isoformat(), "reporting_pct": snapshot.reporting_pct}
    await session.delete(snapshot)
    await session.flush()
    remaining = await latest_snapshot(session, contest.id)
    was_current = remaining is None or remaining.id < snapshot.id
    status_before, status_after = _before(entry).get("contest_status"), _after(entry).get("contest_status")
    if was_current and status_before and contest.status == status_after:
        contest.status = status_before  # as the count that is current again left it
    return (
        f"removed result #{entry.entity_id} of the {contest_label(contest)}",
        {"contest_id": contest.id, "removed": removed, "current_id": remaining.id if remaining else None},
    )


async def _undo_call(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    call = await _still_there(session, Call, entry.entity_id, f"Call #{entry.entity_id} is already gone.")
    standing = await standing_call(session, call.contest_id)
    if standing is not None and standing.id != call.id:
        raise WriteError(
            f"A newer call (#{standing.id}) stands for that stage now; undo that one first "
            "(`audit` shows its entry)."
        )
    contest = await session.scalar(
        select(Contest).where(Contest.id == call.contest_id).options(selectinload(Contest.candidacies))
    )
    assert contest is not None
    before = _before(entry)
    contest.status = before.get("contest_status", contest.status)
    outcomes = before.get("outcomes") or {}
    for candidacy in contest.candidacies:
        if str(candidacy.id) in outcomes:
            candidacy.outcome = outcomes[str(candidacy.id)]
    kind, ids = call.kind, list(call.candidacy_ids)
    removed = decision(call)
    await session.delete(call)
    await session.flush()
    now_standing = await standing_call(session, contest.id)
    changed = decision(now_standing) != removed
    what = "the withdrawal of the call" if kind == CallKind.UNCALLED else f"the {kind} call"
    unchanged = "" if changed else "; it confirmed the call that stands, so nothing is announced"
    return (
        f"removed {what} (#{entry.entity_id}) of the {contest_label(contest)}{unchanged}",
        {
            "contest_id": contest.id,
            "kind": kind,
            "candidacy_ids": ids,
            "standing_id": now_standing.id if now_standing else None,
            "changed": changed,
        },
    )


async def _undo_poll_add(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    poll = await load_poll(session, entry.entity_id or 0)
    if poll is None:
        raise WriteError(f"Poll #{entry.entity_id} is already gone.")
    text = f"removed poll #{poll.id} ({poll.pollster})"
    details = {"pollster": poll.pollster, "end_date": poll.end_date.isoformat(), "poll_id": poll.id}
    await session.delete(poll)
    await session.flush()
    return text, details


async def _undo_poll_remove(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    data = _before(entry)
    if not await session.get(Race, data.get("race_id")):
        raise WriteError("The poll's race is gone, so the poll cannot come back.")
    poll = await restore_poll(session, data)
    return f"put poll #{poll.id} ({poll.pollster}) back", {"poll_id": poll.id}


async def _undo_endorsement_add(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    endorsement = await _still_there(
        session, Endorsement, entry.entity_id, f"Endorsement #{entry.entity_id} is already gone."
    )
    await session.delete(endorsement)
    await session.flush()
    return f"removed endorsement #{entry.entity_id} ({endorsement.endorser})", {}


async def _undo_endorsement_remove(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    data = _before(entry)
    if not await session.get(Candidate, data.get("candidate_id")):
        raise WriteError("The endorsed candidate is gone, so the endorsement cannot come back.")
    endorsement = await restore_endorsement(session, data)
    return f"put endorsement #{endorsement.id} ({endorsement.endorser}) back", {}


async def _undo_race_add(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    race = await _still_there(session, Race, entry.entity_id, f"Race #{entry.entity_id} is already gone.")
    held = await race_has_data(session, race.id)
    if held:
        raise WriteError(
            f"{race_label(race)} now holds {', '.join(held)}; undoing its creation would lose them. "
            "Undo or remove those first."
        )
    label = race_label(race)
    await session.execute(delete(Contest).where(Contest.race_id == race.id))
    await session.delete(race)
    await session.flush()
    return f"removed the race {label}", {}


async def _undo_race_edit(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    race = await load_race(session, entry.entity_id or 0)
    before, after = _before(entry), _after(entry)
    _refuse_if_changed(entry, race, after, "The race's", skip=("contest_dates", "contest_ids"))
    for name, value in before.items():
        if name != "contest_dates":
            setattr(race, name, value)
    contests = {c.id: c for c in race.contests}
    for contest_id, day in (before.get("contest_dates") or {}).items():
        contest = contests.get(int(contest_id))
        if contest is not None:
            contest.date = dt.date.fromisoformat(day) if day else None
    for contest_id in after.get("contest_ids") or []:
        contest = contests.get(contest_id)
        if contest is None:
            continue
        has = await session.scalar(select(Candidacy.id).where(Candidacy.contest_id == contest_id).limit(1))
        has = has or await session.scalar(
            select(ResultSnapshot.id).where(ResultSnapshot.contest_id == contest_id).limit(1)
        )
        if has:
            raise WriteError(
                f"The {contest_label(contest)} added by #{entry.id} now has candidates or results; not undone."
            )
        await session.delete(contest)
    await session.flush()
    return f"put {race_label(race)} back as it was before #{entry.id}", {}


async def _undo_candidate_add(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    after = _after(entry)
    candidacy = await _still_there(
        session, Candidacy, after.get("candidacy_id"), "That candidacy is already gone."
    )
    held = await candidacy_has_data(session, candidacy.id)
    if held:
        raise WriteError(f"{after.get('name')} {held} now; not undone.")
    await session.delete(candidacy)
    await session.flush()
    text = f"took {after.get('name')} off the ballot"
    if after.get("created_person") and not await person_in_use(session, after["candidate_id"]):
        person = await session.get(Candidate, after["candidate_id"])
        if person is not None:
            await session.delete(person)
            await session.flush()
            text += " and removed the person"
    return text, {}


async def _undo_candidate_edit(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    person = await _still_there(session, Candidate, entry.entity_id, "That candidate is gone.")
    before, after = _before(entry), _after(entry)
    _refuse_if_changed(entry, person, after.get("person") or {}, f"{person.name}'s")
    for name, value in (before.get("person") or {}).items():
        setattr(person, name, value)
    for candidacy_id, values in (before.get("candidacies") or {}).items():
        candidacy = await session.get(Candidacy, int(candidacy_id))
        if candidacy is not None:
            for name, value in values.items():
                setattr(candidacy, name, value)
    if after.get("aliases"):
        await session.execute(delete(CandidateAlias).where(CandidateAlias.id.in_(after["aliases"])))
    if after.get("tokens"):
        await session.execute(delete(NameToken).where(NameToken.id.in_(after["tokens"])))
    await session.flush()
    return f"put {person.name} back as before #{entry.id}", {}


async def _undo_merge(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    after = _after(entry)
    await unmerge(
        session, entry.entity_id or 0, int(after.get("merged_into_id") or 0), after.get("moved") or {}
    )
    return f"split {after.get('merged_name')} from {after.get('into_name')} again", {}


async def _undo_config(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    before, after = _before(entry), _after(entry)
    from db.writes.config import guild_settings

    row = await guild_settings(session, int(after["guild_id"]))
    for name, value in after.items():
        if name != "guild_id" and row is not None and getattr(row, name) != value:
            raise WriteError(f"That setting changed again since #{entry.id}; not undone.")
    await restore_settings(session, before)
    name = next((k for k in before if k != "guild_id"), "setting")
    return f"put the server's {name.replace('_id', '').replace('_', ' ')} back", {
        "guild_id": int(after["guild_id"])
    }


HANDLERS: dict[str, Handler] = {
    "result.add": _undo_result,
    "call.add": _undo_call,
    "call.uncall": _undo_call,
    "poll.add": _undo_poll_add,
    "poll.remove": _undo_poll_remove,
    "endorsement.add": _undo_endorsement_add,
    "endorsement.remove": _undo_endorsement_remove,
    "race.add": _undo_race_add,
    "race.edit": _undo_race_edit,
    "candidate.add": _undo_candidate_add,
    "candidate.edit": _undo_candidate_edit,
    "candidate.merge": _undo_merge,
    "config.set": _undo_config,
    **FEED_UNDO,
}

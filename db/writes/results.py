"""Result snapshots and race calls, posted by the desk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import limits
from db.audit import Actor, record
from db.dataset import counts_digest
from db.models import (
    AuditEntry,
    Call,
    CallKind,
    Candidacy,
    Contest,
    ContestStatus,
    CountKind,
    Outcome,
    Race,
    ResultCount,
    ResultSnapshot,
)
from db.reads.races import latest_snapshot, send_order, snapshot_counts, standing_call
from db.vocabulary import COUNT_KIND_NAME
from db.writes.common import (
    StageRef,
    contest_label,
    day_text,
    find_candidacy,
    load_race,
    pick_contest,
    race_label,
    require_held,
    row_dict,
)
from db.writes.errors import Duplicate, WriteError


@dataclass
class ResultInput:
    race_id: int
    stage: StageRef
    counts: list[tuple[str, int]]  # (name as typed, votes)
    other: dict[str, int] = field(default_factory=dict)  # writein / under / over
    reporting_pct: float | None = None
    precincts: tuple[int, int] | None = None
    source: str | None = None
    final: bool = False
    official: bool = False
    # The message that sent the count (a Discord snowflake) and its time: a contest's counts are ordered by
    # these, so one that arrives after a later one goes into the history in its place. None: now, unordered.
    sent_id: int | None = None
    sent_at: dt.datetime | None = None


@dataclass
class CountLine:
    candidacy: Candidacy
    votes: int
    share: float | None
    change: int | None  # votes since the previous snapshot; None: not in it (or no previous one)
    previous_share: float | None


@dataclass
class ResultOutcome:
    race: Race
    contest: Contest
    snapshot: ResultSnapshot
    previous: ResultSnapshot | None
    lines: list[CountLine]  # most votes first
    total: int
    total_change: int | None
    left_out: list[str]  # candidates on the ballot this update does not count
    went_down: list[str]  # candidates whose count fell (a correction?)
    audit: AuditEntry
    # The current count, sent after this one arrived: this one is history only, neither current nor announced.
    newer: ResultSnapshot | None = None


def _shares(votes: dict[int, int], writein: int) -> tuple[int, dict[int, float]]:
    total = sum(votes.values()) + writein
    return total, {k: round(100 * v / total, 2) if total else 0.0 for k, v in votes.items()}


def snapshot_record(
    snapshot: ResultSnapshot, votes: dict[int, int], other: dict[str, int]
) -> dict[str, object]:
    data = row_dict(
        snapshot,
        (
            "contest_id",
            "taken_at",
            "reporting_pct",
            "precincts_reporting",
            "precincts_total",
            "source",
            "digest",
            "sent_id",
        ),
    )
    data.update(
        final=snapshot.final,
        unofficial=snapshot.unofficial,
        counts={str(k): v for k, v in votes.items()},
        other=other,
    )
    return data


async def post_result(session: AsyncSession, actor: Actor, data: ResultInput) -> ResultOutcome:
    race = await load_race(session, data.race_id)
    contest = pick_contest(race, data.stage)
    require_held(race, contest, "results")
    if not data.counts:
        raise WriteError("Give at least one candidate's votes, e.g. `Tuberville=333890`.")
    votes: dict[int, int] = {}
    for name, n in data.counts:
        candidacy = find_candidacy(race, contest, name)
        if candidacy.id in votes:
            raise WriteError(f"{candidacy.candidate.name} is counted twice ('{name}').")
        votes[candidacy.id] = limits.votes(n, candidacy.candidate.name)  # the limits every import keeps
    for kind, n in data.other.items():
        limits.votes(n, kind)
    if data.reporting_pct is not None:
        limits.reporting(data.reporting_pct)
    if data.precincts is not None and not 0 <= data.precincts[0] <= data.precincts[1]:
        raise WriteError(
            f"Precincts reporting ({data.precincts[0]}) must be between 0 and the total ({data.precincts[1]})."
        )

    digest = counts_digest({**{f"c{k}": v for k, v in votes.items()}, **data.other})
    taken_at = data.sent_at or dt.datetime.now(dt.UTC)
    if data.sent_id is not None:
        same = await session.scalar(
            select(ResultSnapshot).where(
                ResultSnapshot.contest_id == contest.id, ResultSnapshot.sent_id == data.sent_id
            )
        )
        if same is not None:
            raise Duplicate(
                f"That message's count is already stored as result #{same.id}: nothing new was stored.",
                same.id,
                same.taken_at,
            )
    current = await latest_snapshot(session, contest.id)
    newer = current if current is not None and _sent_after(current, taken_at, data.sent_id) else None
    # The count this one follows in the order sent: its changes are measured against it.
    previous = current if newer is None else await _sent_before(session, contest.id, taken_at, data.sent_id)
    if previous is not None:
        had, _ = snapshot_counts(previous)
        missing = [c for c in contest.candidacies if c.id in had and c.id not in votes]
        if missing:
            names = ", ".join(f"{c.candidate.name} (had {had[c.id]:,})" for c in missing)
            raise WriteError(
                f"A result gives every candidate's count, and this one leaves out {names}, who "
                f"{'are' if len(missing) > 1 else 'is'} in result #{previous.id}. Add them as `Name=votes`."
            )
    reporting = data.reporting_pct
    if reporting is None and data.precincts is not None and data.precincts[1]:
        reporting = round(100 * data.precincts[0] / data.precincts[1], 1)
    if (
        previous is not None
        and previous.digest == digest
        and (reporting is None or reporting == previous.reporting_pct)
    ):
        raise Duplicate(
            f"That is the count already stored as result #{previous.id} for the {contest_label(contest)} "
            f"of {race_label(race)}: nothing new was stored.",
            previous.id,
            previous.taken_at,
        )
    earlier = await session.scalar(
        select(ResultSnapshot.id).where(
            ResultSnapshot.contest_id == contest.id,
            ResultSnapshot.digest == digest,
            ResultSnapshot.id != (previous.id if previous else -1),
        )
    )
    if earlier is not None and newer is not None:
        raise Duplicate(f"Those are the counts of result #{earlier}: nothing new was stored.", earlier)
    if earlier is not None and previous is not None:
        raise Duplicate(
            f"Those are the counts of the older result #{earlier}; the current count (result #{previous.id}) "
            "is newer, so nothing was stored.",
            earlier,
        )

    snapshot = ResultSnapshot(
        contest_id=contest.id,
        taken_at=taken_at,
        sent_id=data.sent_id,
        reporting_pct=reporting,
        reporting_basis="precincts"
        if data.precincts is not None
        else ("expected vote" if reporting is not None else None),
        precincts_reporting=data.precincts[0] if data.precincts else None,
        precincts_total=data.precincts[1] if data.precincts else None,
        unofficial=not data.official,
        final=data.final,
        source=data.source,
        digest=digest,
        posted_by=actor.id,
    )
    for candidacy_id, n in votes.items():
        snapshot.counts.append(ResultCount(candidacy_id=candidacy_id, kind=CountKind.CANDIDATE, votes=n))
    for kind, n in data.other.items():
        snapshot.counts.append(ResultCount(kind=kind, label=kind, votes=n))
    session.add(snapshot)
    status_before = contest.status
    if contest.status == ContestStatus.UPCOMING:
        contest.status = ContestStatus.COUNTING
    elif contest.status == ContestStatus.CERTIFIED and not (data.final and data.official):
        # The certified count is no longer the current one: the stage is called, or counting, again.
        called = decision(await standing_call(session, contest.id))
        contest.status = (
            ContestStatus.CALLED if called and called[0] != CallKind.TOO_CLOSE else ContestStatus.COUNTING
        )
    await session.flush()

    total, shares = _shares(votes, data.other.get(CountKind.WRITEIN, 0))
    old_votes, old_other = snapshot_counts(previous) if previous is not None else ({}, {})
    old_total, old_shares = _shares(old_votes, old_other.get(CountKind.WRITEIN, 0))
    by_id = {c.id: c for c in contest.candidacies}
    lines = [
        CountLine(
            candidacy=by_id[cid],
            votes=n,
            share=shares[cid],
            change=(n - old_votes[cid]) if cid in old_votes else None,
            previous_share=old_shares.get(cid),
        )
        for cid, n in votes.items()
    ]
    lines.sort(key=lambda line: (-line.votes, line.candidacy.candidate.name))
    left_out = [c.candidate.name for c in contest.candidacies if c.id not in votes and not c.withdrawn]
    left_out += [COUNT_KIND_NAME.get(kind, kind) for kind in old_other if kind not in data.other]
    went_down = [
        line.candidacy.candidate.name for line in lines if line.change is not None and line.change < 0
    ]
    entry = await record(
        session,
        actor,
        "result.add",
        "result_snapshots",
        snapshot.id,
        race_id=race.id,
        before={"contest_status": status_before, "previous_id": previous.id if previous else None},
        after={"contest_status": contest.status, **snapshot_record(snapshot, votes, data.other)},
    )
    return ResultOutcome(
        race=race,
        contest=contest,
        snapshot=snapshot,
        previous=previous,
        lines=lines,
        total=total,
        total_change=(total - old_total) if previous is not None else None,
        left_out=left_out,
        went_down=went_down,
        audit=entry,
        newer=newer,
    )


def _sent_after(snapshot: ResultSnapshot, taken_at: dt.datetime, sent_id: int | None) -> bool:
    """Whether `snapshot` comes after a count sent at `taken_at` by message `sent_id` (db.reads.races'
    send_order; a count without a message comes after those stored before it at the same moment)."""
    return (snapshot.taken_at, snapshot.sent_id or 0) > (taken_at, sent_id or 0)


async def _sent_before(
    session: AsyncSession, contest_id: int, taken_at: dt.datetime, sent_id: int | None
) -> ResultSnapshot | None:
    """The contest's last count sent before `taken_at` (message `sent_id`), with its counts."""
    earlier = or_(
        ResultSnapshot.taken_at < taken_at,
        and_(ResultSnapshot.taken_at == taken_at, func.coalesce(ResultSnapshot.sent_id, 0) < (sent_id or 0)),
    )
    return await session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.contest_id == contest_id, earlier)
        .order_by(*send_order(newest_first=True))
        .limit(1)
        .options(selectinload(ResultSnapshot.counts))
    )


@dataclass
class CallInput:
    """A change to a stage's call: a call, or (kind "uncalled") the withdrawal of the standing one."""

    race_id: int
    stage: StageRef
    kind: str  # CallKind.WINNER | CallKind.RUNOFF | CallKind.TOO_CLOSE | CallKind.UNCALLED
    names: list[str] = field(default_factory=list)
    source: str | None = None


@dataclass
class CallOutcome:
    race: Race
    contest: Contest
    call: Call
    previous: Call | None  # the call that stood before
    named: list[
        Candidacy
    ]  # the winner, or the two advancing; none for "too close"; uncalls: the withdrawn call's
    confirms: bool  # the same call already stood
    audit: AuditEntry


# How many people a call of each kind names, and what to say when it names another number.
NAMES_NEEDED: dict[str, tuple[int, str]] = {
    CallKind.WINNER: (1, "Name one winner, e.g. `call alabama general Tuberville`."),
    CallKind.RUNOFF: (
        2,
        "A runoff call names the two who advance, e.g. `call alabama primary runoff Tuberville Sessions`.",
    ),
    CallKind.TOO_CLOSE: (0, "A too-close call names nobody."),
}
# Calls after which nobody has won or lost yet.
UNDECIDED = (CallKind.TOO_CLOSE, CallKind.UNCALLED)


def _outcomes(contest: Contest) -> dict[str, str]:
    return {str(c.id): c.outcome for c in contest.candidacies}


async def change_call(session: AsyncSession, actor: Actor, data: CallInput) -> CallOutcome:
    """Store a call of a stage, or withdraw its standing one: a new Call row either way, with the
    stage's status and every candidacy's outcome following it."""
    race = await load_race(session, data.race_id)
    contest = pick_contest(race, data.stage)
    uncall = data.kind == CallKind.UNCALLED
    named = [] if uncall else _named(race, contest, data)
    previous = await standing_call(session, contest.id)
    if uncall:
        named = _withdrawn(race, contest, previous)
    ids = [] if uncall else [c.id for c in named]
    confirms = not uncall and decision(previous) == (data.kind, tuple(ids))
    before = {
        "contest_status": contest.status,
        "outcomes": _outcomes(contest),
        "previous_call_id": previous.id if previous else None,
    }
    call = Call(
        contest_id=contest.id,
        kind=data.kind,
        candidacy_ids=ids,
        source=data.source,
        called_by=actor.id,
        called_at=dt.datetime.now(dt.UTC),
    )
    session.add(call)
    _follow_call(contest, data.kind, ids)
    await session.flush()
    if uncall:
        what: dict[str, object] = {"withdrawn_call_id": previous.id if previous else None}
    else:
        what = {"candidacy_ids": ids, "names": [c.candidate.name for c in named]}
    entry = await record(
        session,
        actor,
        "call.uncall" if uncall else "call.add",
        "calls",
        call.id,
        race_id=race.id,
        before=before,
        after={
            "contest_id": contest.id,
            "kind": call.kind,
            **what,
            "source": call.source,
            "contest_status": contest.status,
            "outcomes": _outcomes(contest),
        },
    )
    return CallOutcome(race, contest, call, previous, named, confirms, entry)


def decision(call: Call | None) -> tuple[str, tuple[int, ...]] | None:
    """What a standing call tells members: its kind and whom it names; None when nothing is called. Two
    calls with the same decision are one outcome: the second confirms the first."""
    if call is None or call.kind == CallKind.UNCALLED:
        return None
    return call.kind, tuple(call.candidacy_ids)


def _named(race: Race, contest: Contest, data: CallInput) -> list[Candidacy]:
    """The candidacies a call names, checked against what its kind needs."""
    require_held(race, contest, "a call")
    named: list[Candidacy] = []
    for name in data.names:
        candidacy = find_candidacy(race, contest, name)
        if candidacy in named:
            raise WriteError(f"{candidacy.candidate.name} is named twice.")
        named.append(candidacy)
    needed, wrong = NAMES_NEEDED.get(data.kind, (len(named), ""))
    if len(named) != needed:
        raise WriteError(wrong)
    return named


def _withdrawn(race: Race, contest: Contest, standing: Call | None) -> list[Candidacy]:
    """Those the call being withdrawn named; refused when no call stands."""
    if standing is None or standing.kind == CallKind.UNCALLED:
        raise WriteError(
            f"The {contest_label(contest)} of {race_label(race)} ({day_text(contest.date)}) has no call to withdraw."
        )
    by_id = {c.id: c for c in contest.candidacies}
    return [by_id[i] for i in standing.candidacy_ids if i in by_id]


def _follow_call(contest: Contest, kind: str, ids: list[int]) -> None:
    """The stage's status and each candidacy's outcome after a call of this kind."""
    if kind in UNDECIDED:
        if contest.status == ContestStatus.CALLED:
            contest.status = ContestStatus.COUNTING
        for candidacy in contest.candidacies:
            if candidacy.outcome in (Outcome.WON, Outcome.LOST, Outcome.ADVANCED):
                candidacy.outcome = Outcome.PENDING
        return
    if contest.status != ContestStatus.CERTIFIED:
        contest.status = ContestStatus.CALLED
    for candidacy in contest.candidacies:
        if candidacy.withdrawn or candidacy.outcome == Outcome.WITHDRAWN:
            continue
        if candidacy.id in ids:
            candidacy.outcome = Outcome.WON if kind == CallKind.WINNER else Outcome.ADVANCED
        else:
            candidacy.outcome = Outcome.LOST

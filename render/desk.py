"""The desk's replies: what was stored, its id, how to undo it, and who hears about it. Pure."""

from __future__ import annotations

from db.outbox import Correction, Enqueued
from db.writes.common import contest_label, day_text
from db.writes.polls import EndorsementOutcome, PollOutcome, RemovedEndorsement, RemovedPoll
from db.writes.races import CandidateOutcome, MergeOutcome, RaceOutcome
from db.writes.results import CallOutcome, ResultOutcome
from render.format import escape
from render.race import endorsement_line, race_title


def undo_hint(prefix: str, audit_id: int) -> str:
    return f"Undo: `{prefix}undo {audit_id}`."


def reach(queued: Enqueued) -> str:
    """ "Announcing in 3 channels and to 2 followers by DM." """
    if queued.total == 0:
        return "No server has a results channel and nobody follows this race, so nothing is announced."
    parts = []
    if queued.channels:
        parts.append(f"in {queued.channels} channel{'s' if queued.channels != 1 else ''}")
    if queued.dms:
        parts.append(f"to {queued.dms} follower{'s' if queued.dms != 1 else ''} by DM")
    return "Announcing " + " and ".join(parts) + "."


def told(queued: Enqueued | None, correction: Correction | None) -> str | None:
    """The last line of a desk write's reply: who hears about it (None: nothing was announced)."""
    if correction is not None:
        return correction_reach(correction) if correction.announced or correction.withdrawn else None
    return reach(queued) if queued is not None else None


def correction_reach(correction: Correction) -> str:
    parts = []
    if correction.withdrawn:
        n = correction.withdrawn
        parts.append(f"Withdrew {n} announcement{'s' if n != 1 else ''} not yet delivered.")
    if correction.queued.total:
        text = reach(correction.queued).replace("Announcing", "Announcing the correction", 1)
        parts.append(text)
    return " ".join(parts)


def correction_past_keeping(days: int) -> str:
    return f"Announcements are kept {days} days after their write, and this write is older: no correction is announced."


def _where(outcome: ResultOutcome | CallOutcome) -> str:
    return f"the {contest_label(outcome.contest)} of {escape(race_title(outcome.race))}"


def result_stored(outcome: ResultOutcome, prefix: str) -> str:
    lines = [
        f"Stored result #{outcome.snapshot.id} for {_where(outcome)}. {undo_hint(prefix, outcome.audit.id)}"
    ]
    if outcome.previous is None:
        lines.append("It is the first count of this stage.")
    else:
        lines.append(f"Changes are since result #{outcome.previous.id}.")
    if outcome.newer is not None:
        lines.append(
            f"Result #{outcome.newer.id}, sent after this one, is the current count: this one goes into the "
            "history in its place and is not announced."
        )
    if outcome.went_down:
        lines.append(f"Note: the count went down for {escape(', '.join(outcome.went_down))}. A correction?")
    if outcome.left_out:
        lines.append(f"Not in this update: {escape(', '.join(outcome.left_out))}.")
    return "\n".join(lines)


def call_stored(outcome: CallOutcome, prefix: str) -> str:
    what = {"winner": "call", "runoff": "runoff call", "too close": "too-close call"}.get(
        outcome.call.kind, "call"
    )
    lines = [f"Stored {what} #{outcome.call.id} for {_where(outcome)}. {undo_hint(prefix, outcome.audit.id)}"]
    if outcome.confirms:
        lines.append("The same call already stood; this one confirms it, so nothing is announced.")
    elif outcome.previous is not None and outcome.previous.kind != "uncalled":
        lines.append(f"It replaces call #{outcome.previous.id}.")
    return "\n".join(lines)


def uncall_stored(outcome: CallOutcome, prefix: str) -> str:
    previous = outcome.previous.id if outcome.previous is not None else "?"
    return (
        f"Withdrew call #{previous} for {_where(outcome)}; it is uncalled now (#{outcome.call.id}). "
        f"{undo_hint(prefix, outcome.audit.id)}"
    )


def poll_stored(outcome: PollOutcome, prefix: str) -> str:
    stage = f" ({contest_label(outcome.contest)})" if outcome.contest is not None else ""
    return (
        f"Stored poll #{outcome.poll.id} for {escape(race_title(outcome.race))}{stage}. "
        f"{undo_hint(prefix, outcome.audit.id)}"
    )


def poll_removed(removed: RemovedPoll, prefix: str) -> str:
    return f"Removed poll #{removed.poll_id} ({escape(removed.description)}). {undo_hint(prefix, removed.audit.id)}"


def endorsement_stored(outcome: EndorsementOutcome, prefix: str) -> str:
    e = outcome.endorsement
    line = endorsement_line(e.endorser, e.endorser_kind, e.stance, outcome.candidate.name)
    when = f" ({day_text(e.date)})" if e.date else ""
    return (
        f"Stored endorsement #{e.id} in {escape(race_title(outcome.race))}: {line}{when}. "
        f"{undo_hint(prefix, outcome.audit.id)}"
    )


def endorsement_removed(removed: RemovedEndorsement, prefix: str) -> str:
    return (
        f"Removed endorsement #{removed.endorsement_id} ({escape(removed.description)}). "
        f"{undo_hint(prefix, removed.audit.id)}"
    )


def race_added(outcome: RaceOutcome, prefix: str) -> str:
    return race_stored(outcome, prefix, added=True)


def race_changed(outcome: RaceOutcome, prefix: str) -> str:
    return race_stored(outcome, prefix, added=False)


def race_stored(outcome: RaceOutcome, prefix: str, *, added: bool) -> str:
    title = escape(race_title(outcome.race))
    stages = ", ".join(f"{contest_label(c)} ({day_text(c.date)})" for c in outcome.contests)
    if added:
        head = f"Stored race #{outcome.race.id}: {title}."
        if stages:
            head += f" Stages: {stages}."
        else:
            head += f" Add its stages with `{prefix}race-edit {title.split(' ', 1)[1].lower()} general=...`."
    else:
        changes = [f"{name.replace('_', ' ')}: {escape(str(old) if old is not None else '—')} → {escape(str(new) if new is not None else '—')}"
                   for name, (old, new) in outcome.changed.items()]  # fmt: skip
        if stages:
            changes.append(f"stages set: {stages}")
        head = f"Changed race #{outcome.race.id}, {title}: " + "; ".join(changes) + "."
    return f"{head} {undo_hint(prefix, outcome.audit.id)}"


def candidate_stored(outcome: CandidateOutcome, prefix: str) -> str:
    person = outcome.person
    new = "new person" if outcome.created_person else "a person already known"
    stage = f"the {contest_label(outcome.contest)}" if outcome.contest is not None else "the race"
    party = f" ({escape(person.party)})" if person.party else ""
    return (
        f"Added {escape(person.name)}{party} (candidate #{person.id}, {new}) to the ballot of {stage} of "
        f"{escape(race_title(outcome.race))}. {undo_hint(prefix, outcome.audit.id)}"
    )


def candidate_changed(outcome: CandidateOutcome, prefix: str) -> str:
    changes = "; ".join(
        f"{name}: {escape(str(old) if old is not None else '—')} → {escape(str(new))}"
        for name, (old, new) in outcome.changed.items()
    )
    return f"Changed candidate #{outcome.person.id}, {escape(outcome.person.name)}: {changes}. {undo_hint(prefix, outcome.audit.id)}"


def merged(outcome: MergeOutcome, prefix: str) -> str:
    moved = ", ".join(f"{len(ids)} {name}" for name, ids in outcome.moved.items() if ids) or "nothing else"
    return (
        f"Merged {escape(outcome.merged.name)} (#{outcome.merged.id}) into {escape(outcome.into.name)} "
        f"(#{outcome.into.id}); moved {moved}. {undo_hint(prefix, outcome.audit.id)}"
    )

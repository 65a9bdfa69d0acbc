"""Announcements: what every results channel and follower receives for a result, a call, an uncall, a new
poll, and a correction. Pure: data in, an embed (or a message body) out, within Discord's limits.

Every name and label typed by a person is escaped, so nothing in an announcement formats or pings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord

from db.lookup import race_hint
from db.models import CallKind, Candidacy, Contest, ContestStatus, Poll, Race
from db.reads.races import ContestView
from db.writes.results import CallOutcome, CountLine, ResultOutcome
from db.writes.undo import UndoOutcome
from render.format import (
    count_label,
    date_range,
    escape,
    pct,
    short_date,
    stage_title,
    timestamp,
    with_party,
)
from render.limits import clip, clip_lines, fit_embed, fit_message
from render.race import contest_line, race_title

RESULT_COLOUR = discord.Colour.from_rgb(44, 95, 170)
CALL_COLOUR = discord.Colour.from_rgb(46, 139, 87)
UNCALL_COLOUR = discord.Colour.from_rgb(214, 137, 16)
POLL_COLOUR = discord.Colour.from_rgb(120, 81, 169)
CORRECTION_COLOUR = discord.Colour.from_rgb(192, 57, 43)
LINES_SHOWN = 12


def headline(race: Race, contest: Contest) -> str:
    return f"{race_title(race)} · {stage_title(contest.stage, contest.party)}"


def _signed(n: int) -> str:
    return f"+{n:,}" if n >= 0 else f"−{-n:,}"


def count_line(line: CountLine) -> str:
    person = line.candidacy.candidate
    name = escape(with_party(person.name, line.candidacy.party or person.party))
    change = f" ({_signed(line.change)})" if line.change is not None else ""
    return f"**{name}** {line.votes:,}{change} · {pct(line.share)}"


def reporting_text(outcome: ResultOutcome) -> str:
    snapshot = outcome.snapshot
    parts = []
    if snapshot.precincts_total:
        parts.append(f"{snapshot.precincts_reporting:,} of {snapshot.precincts_total:,} precincts")
    if snapshot.reporting_pct is not None:
        before = outcome.previous.reporting_pct if outcome.previous is not None else None
        moved = f" (was {before:g}%)" if before is not None and before != snapshot.reporting_pct else ""
        parts.append(f"{snapshot.reporting_pct:g}% reporting{moved}")
    return ", ".join(parts)


def result_embed(outcome: ResultOutcome) -> discord.Embed:
    """A new count: each candidate's votes, share and change since the previous count."""
    snapshot = outcome.snapshot
    lines = [count_line(line) for line in outcome.lines[:LINES_SHOWN]]
    if len(outcome.lines) > LINES_SHOWN:
        lines.append(f"+{len(outcome.lines) - LINES_SHOWN} more")
    change = f" ({_signed(outcome.total_change)})" if outcome.total_change is not None else ""
    lines.append(f"Total {outcome.total:,}{change}")
    reporting = reporting_text(outcome)
    if reporting:
        lines.append(reporting.capitalize())
    if outcome.previous is None:
        lines.append("First count for this stage.")
    certified = outcome.contest.status == ContestStatus.CERTIFIED
    status = count_label(snapshot.final, snapshot.unofficial, certified)
    embed = discord.Embed(
        title=f"📊 {headline(outcome.race, outcome.contest)}: count update",
        description=clip_lines(lines, 4000),
        colour=RESULT_COLOUR,
        timestamp=snapshot.taken_at,
    )
    source = f"Source: {snapshot.source} · " if snapshot.source else ""
    embed.set_footer(text=f"{source}{status} · result #{snapshot.id}")
    return fit_embed(embed)


def _names(candidacies: list[Candidacy]) -> list[str]:
    return [f"**{escape(with_party(c.candidate.name, c.party or c.candidate.party))}**" for c in candidacies]


def call_embed(outcome: CallOutcome, view: ContestView | None = None) -> discord.Embed:
    """A race call: the winner, the two advancing to a runoff, or too close to call."""
    contest, call = outcome.contest, outcome.call
    stage = stage_title(contest.stage, contest.party).lower()
    names = _names(outcome.named)
    if call.kind == CallKind.WINNER:
        title = f"✅ Race call: {headline(outcome.race, contest)}"
        text = f"{names[0]} wins the {stage}."
    elif call.kind == CallKind.RUNOFF:
        title = f"➡️ Runoff: {headline(outcome.race, contest)}"
        text = f"{' and '.join(names)} advance to a runoff."
    else:
        title = f"⚖️ Too close to call: {headline(outcome.race, contest)}"
        text = f"The {stage} is too close to call."
    lines = [text]
    if view is not None and view.snapshot is not None:
        lines.append(f"Count: {_count_summary(view)}")
    embed = discord.Embed(
        title=title, description="\n".join(lines), colour=CALL_COLOUR, timestamp=call.called_at
    )
    embed.set_footer(text=f"Called by {call.source}" if call.source else "Called by the racedesk desk")
    return fit_embed(embed)


def uncall_embed(outcome: CallOutcome, view: ContestView | None = None) -> discord.Embed:
    contest = outcome.contest
    stage = stage_title(contest.stage, contest.party).lower()
    previous = outcome.previous
    names = _names(outcome.named)
    if previous is not None and previous.kind == CallKind.WINNER and names:
        was = f"The call of {names[0]} as the winner no longer stands."
    elif previous is not None and previous.kind == CallKind.RUNOFF and names:
        was = f"The call sending {' and '.join(names)} to a runoff no longer stands."
    else:
        was = "The earlier call no longer stands."
    lines = [was, f"The {stage} is uncalled."]
    if view is not None and view.snapshot is not None:
        lines.append(f"Count: {_count_summary(view)}")
    embed = discord.Embed(
        title=f"⚠️ Call withdrawn: {headline(outcome.race, contest)}",
        description="\n".join(lines),
        colour=UNCALL_COLOUR,
        timestamp=outcome.call.called_at,
    )
    embed.set_footer(text=f"Source: {outcome.call.source}" if outcome.call.source else "racedesk desk")
    return fit_embed(embed)


def _count_summary(view: ContestView) -> str:
    """The count as the race card shows it, without the outcome words."""
    counted = [s for s in view.standings if s.share is not None][:4]
    text = ", ".join(f"{escape(s.candidacy.candidate.name)} {pct(s.share)}" for s in counted)
    if view.snapshot is not None and view.snapshot.reporting_pct is not None:
        text += f" ({view.snapshot.reporting_pct:g}% reporting)"
    return text or "none yet"


def poll_embed(
    race: Race, poll: Poll, contest: Contest | None, answers: list[tuple[Any, float]]
) -> discord.Embed:
    """A new poll: pollster, fielded dates, sample, each answer's share and the leader's margin."""
    question = poll.questions[0] if poll.questions else None
    hypothetical = bool(question and question.hypothetical)
    sample = ""
    if poll.sample_size:
        sample = f"{poll.sample_size:,}" + (f" {poll.population.upper()}" if poll.population else "")
    head = [escape(poll.pollster)]
    if poll.sponsor:
        head.append(f"for {escape(poll.sponsor)}")
    lines = [" ".join(head), ", ".join(p for p in (date_range(poll.start_date, poll.end_date), sample) if p)]
    shares = ", ".join(f"**{escape(person.name)}** {share:g}%" for person, share in answers[:LINES_SHOWN])
    lines.append(shares)
    if len(answers) > 1:
        lead = answers[0][1] - answers[1][1]
        lines.append(f"{escape(answers[0][0].name.split()[-1])} +{lead:.1f}" if lead else "Tied")
    if hypothetical:
        lines.append("Hypothetical match-up (not on the ballot).")
    if poll.url:
        lines.append(f"<{clip(poll.url, 500)}>")
    stage = f" · {stage_title(contest.stage, contest.party)}" if contest is not None else ""
    embed = discord.Embed(
        title=f"🗳️ New poll: {race_title(race)}{stage}",
        description=clip_lines(lines, 4000),
        colour=POLL_COLOUR,
    )
    embed.set_footer(text=f"poll #{poll.id}")
    return fit_embed(embed)


def correction_embed(
    race: Race | None, contest: Contest | None, what: str, view: ContestView | None = None
) -> discord.Embed:
    """An earlier announcement no longer stands: what was withdrawn and, for a count or a call, how it
    stands now."""
    where = (
        headline(race, contest)
        if race is not None and contest is not None
        else (race_title(race) if race else "")
    )
    lines = [what]
    if view is not None:
        lines.append(f"Now: {contest_line(view)}")
    embed = discord.Embed(
        title=clip(f"↩️ Correction: {where}" if where else "↩️ Correction", 256),
        description=clip_lines(lines, 4000),
        colour=CORRECTION_COLOUR,
        timestamp=dt.datetime.now(dt.UTC),
    )
    embed.set_footer(text="racedesk desk")
    return fit_embed(embed)


def withdrawn_result_text(taken_at: dt.datetime, snapshot_id: int | None) -> str:
    ref = f" (result #{snapshot_id})" if snapshot_id else ""
    return f"The count update of {timestamp(taken_at)}{ref} was withdrawn."


def withdrawn_poll_text(pollster: str, end: dt.date) -> str:
    return f"The poll by {escape(pollster)} (ended {short_date(end)}) was withdrawn."


def withdrawn_call_text(kind: str, names: list[str]) -> str:
    """An undone race call (`kind` as the audit records it; `names` the called candidates)."""
    shown = " and ".join(f"**{escape(n)}**" for n in names)
    texts: dict[str, str] = {
        CallKind.WINNER: f"The call of {shown} as the winner was withdrawn.",
        CallKind.RUNOFF: f"The call sending {shown} to a runoff was withdrawn.",
    }
    return texts.get(kind, "The too-close call was withdrawn.")


WITHDRAWN_UNCALL_TEXT = "The withdrawal of the earlier call was itself withdrawn: that call stands again."


def undo_correction(
    outcome: UndoOutcome, view: ContestView | None, prefix: str
) -> tuple[dict[str, Any], bool]:
    """The correction announced when an announced write is undone: its message body, and whether it may
    ping (calls and uncalls do). `view` is how the stage stands now (not shown for a poll)."""
    details, after = outcome.details, outcome.original.after or {}
    if outcome.correction == "result":
        taken = dt.datetime.fromisoformat(details["removed"]["taken_at"])
        text = withdrawn_result_text(taken, outcome.original.entity_id)
    elif outcome.correction == "call":
        text = withdrawn_call_text(after.get("kind", ""), after.get("names") or [])
    elif outcome.correction == "uncall":
        text = WITHDRAWN_UNCALL_TEXT
    else:
        text = withdrawn_poll_text(details.get("pollster", ""), dt.date.fromisoformat(details["end_date"]))
        view = None
    embed = correction_embed(outcome.race, outcome.contest, text, view)
    note = follower_note(outcome.race, prefix)
    return body(embed, dm_content=note), outcome.correction in ("call", "uncall")


def follower_note(race: Race | None, prefix: str) -> str | None:
    """What a follower's DM says above the update: why it came, and how to stop it."""
    if race is None:
        return None
    return f"You follow {escape(race_title(race))}. To stop: `{prefix}unfollow {race_hint(race)}`"


def body(embed: discord.Embed, content: str | None = None, dm_content: str | None = None) -> dict[str, Any]:
    """A message body for the outbox: content and embeds, fitted to Discord's limits; `dm_content` replaces
    the content in followers' DMs."""
    fitted_content, embeds = fit_message(content, [embed])
    data: dict[str, Any] = {"content": fitted_content, "embeds": [e.to_dict() for e in embeds]}
    if dm_content:
        data["dm_content"] = clip(dm_content, 2000)
    return data

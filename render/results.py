"""The results reply: a stage's current count, its call, and how the count moved."""

from __future__ import annotations

import datetime as dt

import discord

from db.models import CallKind, ContestStatus, CountKind
from db.reads.races import ContestView
from db.reads.results import History, has_count
from db.vocabulary import COUNT_KIND_NAME
from render.format import count_label, escape, pct, short_date, stage_title, timestamp, votes, with_party
from render.limits import EMBED_TOTAL, clip, clip_lines, fit_embed
from render.race import COLOR, short_names

LINES_SHOWN = 15


def contest_heading(race_title: str, view: ContestView) -> str:
    contest = view.contest
    return f"{race_title} · {stage_title(contest.stage, contest.party)} · {short_date(contest.date)}"


def _standing_lines(view: ContestView) -> list[str]:
    winners = set(view.call.candidacy_ids) if view.call is not None else set()
    mark = "✅" if view.call is not None and view.call.kind == CallKind.WINNER else "→"
    lines = []
    counted = [s for s in view.standings if s.votes is not None]
    for standing in counted[:LINES_SHOWN]:
        candidacy = standing.candidacy
        name = escape(with_party(candidacy.candidate.name, candidacy.party or candidacy.candidate.party))
        if candidacy.incumbent:
            name += " · incumbent"
        prefix = f"{mark} " if candidacy.id in winners else ""
        lines.append(f"{prefix}**{name}**: {votes(standing.votes)} · {pct(standing.share)}")
    rest = counted[LINES_SHOWN:]
    if rest:
        lines.append(f"+{len(rest)} more: {votes(sum(s.votes or 0 for s in rest))} votes in all")
    writeins = view.other_votes.get(CountKind.WRITEIN)
    if writeins and view.total_votes:
        lines.append(f"Write-ins: {votes(writeins)} · {pct(100 * writeins / view.total_votes)}")
    return lines


def margin_text(view: ContestView) -> str | None:
    counted = [s for s in view.standings if s.votes is not None]
    if len(counted) < 2 or counted[0].share is None or counted[1].share is None:
        return None
    names = short_names(view)
    lead = counted[0].votes or 0
    second = counted[1].votes or 0
    if lead == second:
        return f"Tied at {votes(lead)} votes"
    points = counted[0].share - counted[1].share
    done = (view.call is not None and view.call.kind == CallKind.WINNER) or (
        view.snapshot is not None and view.snapshot.final
    )
    verb = (
        "won by"
        if done and view.call is not None and counted[0].candidacy.id in view.call.candidacy_ids
        else "leads by"
    )
    return (
        f"{escape(names[counted[0].candidacy.id])} {verb} {points:.1f} points ({votes(lead - second)} votes)"
    )


def counted_text(view: ContestView) -> str:
    snapshot = view.snapshot
    status = view.contest.status
    parts = []
    if snapshot is not None and snapshot.reporting_pct is not None:
        basis = snapshot.reporting_basis or "precincts"
        detail = ""
        if snapshot.precincts_reporting is not None and snapshot.precincts_total:
            detail = f" ({snapshot.precincts_reporting:,} of {snapshot.precincts_total:,})"
        parts.append(f"{snapshot.reporting_pct:g}% of {escape(basis)}{detail}")
    certified = status == ContestStatus.CERTIFIED
    if snapshot is not None:
        parts.append(count_label(snapshot.final, snapshot.unofficial, certified))
    elif certified:
        parts.append(count_label(True, False, certified))
    elif has_count(view):
        parts.append("final votes as recorded")
    return " · ".join(parts) or "—"


def call_text(view: ContestView) -> str:
    call = view.call
    names = short_names(view)
    if call is None:
        return "Not called" if has_count(view) else "Not called: no votes counted yet"
    who = " and ".join(escape(names.get(i, "?")) for i in call.candidacy_ids)
    source = f" · {escape(call.source)}" if call.source else ""
    when = f" · {timestamp(call.called_at, 'R')}"
    if call.kind == CallKind.WINNER:
        return f"✅ {who} won{source}{when}"
    if call.kind == CallKind.RUNOFF:
        return f"→ {who} advance to a runoff{source}{when}"
    if call.kind == CallKind.TOO_CLOSE:
        return f"Too close to call{source}{when}"
    return f"{escape(call.kind)}{source}{when}"


def results_embed(
    race_title: str,
    view: ContestView,
    history_hint: str,
    now: dt.datetime | None = None,
    budget: int = EMBED_TOTAL,
) -> discord.Embed:
    embed = discord.Embed(title=clip(contest_heading(race_title, view), 256), colour=COLOR)
    if has_count(view):
        embed.description = clip_lines(_standing_lines(view), 4000)
        margin = margin_text(view)
        if margin:
            embed.add_field(name="Margin", value=margin, inline=False)
        embed.add_field(name="Counted", value=counted_text(view), inline=False)
        if view.snapshot is not None:
            updated = f"{timestamp(view.snapshot.taken_at, 'R')} ({timestamp(view.snapshot.taken_at, 'f')})"
            embed.add_field(name="Updated", value=updated, inline=False)
        not_counted = [
            f"{COUNT_KIND_NAME[kind].capitalize()}: {votes(view.other_votes[kind])}"
            for kind in (CountKind.UNDER, CountKind.OVER)
            if view.other_votes.get(kind)
        ]
        if not_counted:
            embed.add_field(name="Not votes for anyone", value=", ".join(not_counted), inline=False)
    else:
        now = now or dt.datetime.now(dt.UTC)
        close = view.contest.poll_close
        when = (
            f"Polls close {timestamp(close, 'R')} ({timestamp(close, 'f')})."
            if close and close > now
            else "No votes counted yet."
        )
        running = [
            escape(with_party(s.candidacy.candidate.name, s.candidacy.party))
            for s in view.standings
            if not s.candidacy.withdrawn
        ]
        lines = [when]
        if running:
            lines.append(
                "On the ballot: "
                + ", ".join(running[:20])
                + (f", +{len(running) - 20} more" if len(running) > 20 else "")
            )
        embed.description = clip_lines(lines, 2000)
    embed.add_field(name="Call", value=call_text(view), inline=False)
    source = (
        view.snapshot.source if view.snapshot is not None and view.snapshot.source else view.contest.source
    )
    footer = [f"Source: {clip(source, 200)}" if source else "Source: racedesk desk"]
    if view.snapshot is not None:
        footer.append(f"How the count moved: {history_hint}")
    embed.set_footer(text=" · ".join(footer))
    return fit_embed(embed, budget)


def history_embed(race_title: str, history: History) -> discord.Embed:
    view = history.view
    embed = discord.Embed(
        title=clip(f"{contest_heading(race_title, view)} · how the count moved", 256), colour=COLOR
    )
    names = short_names(view)
    lines = []
    for i, step in enumerate(history.steps):
        when = timestamp(step.snapshot.taken_at, "f")
        reported = f" · {step.reporting_pct:g}% in" if step.reporting_pct is not None else ""
        first = i == 0 and history.count == len(history.steps)
        added = (
            "first count"
            if first
            else f"+{votes(step.added)} votes"
            if step.added >= 0
            else f"{votes(step.added)} votes (a correction)"
        )
        split = [
            (names.get(cid, "?"), n) for cid, n in sorted(step.added_by.items(), key=lambda kv: -kv[1]) if n
        ]
        shares = ""
        if split and step.added > 0:
            shares = ": " + ", ".join(
                f"{escape(name)} {'+' if n > 0 else ''}{votes(n)} ({100 * n / step.added:.0f}%)"
                for name, n in split[:3]
            )
            if len(split) > 3:
                shares += f", +{len(split) - 3} more"
        certified = i == len(history.steps) - 1 and view.contest.status == ContestStatus.CERTIFIED
        label = count_label(step.snapshot.final, step.snapshot.unofficial, certified)
        lines.append(f"**{when}**{reported} · {added}{shares} → {votes(step.total)} in all · {label}")
    embed.description = clip_lines(lines, 4000) if lines else "No counts recorded yet."
    shown = len(history.steps)
    footer = f"{shown} update{'s' if shown != 1 else ''}"
    if history.count > shown:
        footer = f"The newest {shown} of {history.count} updates"
    embed.set_footer(text=f"{footer}, oldest first · shares of the votes each update added")
    return fit_embed(embed)


def no_stages_text(title: str) -> str:
    """A race with no stages in the data (`title` is the race's)."""
    return f"No stages of the {escape(title)} are in the data yet."


def missing_stage_text(title: str, said: str, views: list[ContestView], *, for_party: bool) -> str:
    """The race has no stage like the one asked for (`said`: "primary runoff"); the stages it has."""
    have = ", ".join(
        f"{stage_title(v.contest.stage, v.contest.party)} ({short_date(v.contest.date)})" for v in views
    )
    return f"The {escape(title)} has no {said} stage{' for that party' if for_party else ''}. It has: {have}."

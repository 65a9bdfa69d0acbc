"""The race card: one embed that reads well on a phone and fits Discord's limits for any race."""

from __future__ import annotations

import datetime as dt

import discord

from db.lookup import RaceMatches, state_name
from db.models import CallKind, Outcome, Stance
from db.polling import MatchupAverage
from db.reads.polls import ListedPollLike
from db.reads.races import ContestView, RaceCard
from db.reads.rows import RaceLike
from db.vocabulary import OFFICE_NAME
from render.format import (
    date_range,
    display_surname,
    escape,
    party_letter,
    pct,
    short_date,
    stage_title,
    timestamp,
    with_party,
)
from render.limits import clip, clip_lines, fit_embed

COLOR = discord.Colour.from_rgb(44, 95, 170)
STANDINGS_SHOWN = 4
CANDIDATES_SHOWN = 12
ATTRIBUTION = {"FiveThirtyEight": "FiveThirtyEight polls (CC BY 4.0)"}
NO_RESULTS = "no results stored"  # a stage whose day has passed and of which the store holds no count


def race_title(race: RaceLike) -> str:
    office = OFFICE_NAME.get(race.office, race.office.title())
    seat = race.seat
    if race.office == "house" and seat:
        seat = f"{race.state}-{seat.zfill(2)}" if seat.isdigit() else f"{race.state}-{seat}"
    special = " special" if race.special else ""
    detail = f" ({seat})" if seat and race.office != "house" else (f" {seat}" if seat else "")
    return f"{race.cycle} {state_name(race.state)} {office}{special}{detail}"


def short_names(view: ContestView) -> dict[int, str]:
    """Surnames, unless two people in the contest share one."""
    surnames = [display_surname(s.candidacy.candidate.name) for s in view.standings]
    names = {}
    for standing, surname in zip(view.standings, surnames, strict=True):
        clash = surnames.count(surname) > 1
        names[standing.candidacy.id] = standing.candidacy.candidate.name if clash else surname
    return names


def contest_line(view: ContestView, now: dt.datetime | None = None) -> str:
    """One stage in a line or two: the outcome when known, else the count, else who is running."""
    names = short_names(view)
    counted = [s for s in view.standings if s.votes is not None]
    unofficial = " (unofficial)" if view.snapshot is not None and view.snapshot.unofficial else ""
    call = view.call
    if call is not None and call.kind == CallKind.WINNER and call.candidacy_ids:
        winners = [names.get(i, "?") for i in call.candidacy_ids]
        losers = [s for s in counted if s.candidacy.id not in call.candidacy_ids]
        shares = [s for s in counted if s.share is not None]
        if len(winners) == 1 and len(losers) == 1 and len(shares) == 2:
            figures = "–".join(pct(s.share) for s in shares)
            return f"✅ {escape(winners[0])} defeated {escape(names[losers[0].candidacy.id])}, {figures}{unofficial}"
        lead = _standings_text(view, names)
        return f"✅ {escape(', '.join(winners))} won" + (f": {lead}{unofficial}" if lead else "")
    if call is not None and call.kind == CallKind.RUNOFF:
        lead = _standings_text(view, names)
        advanced = " and ".join(escape(names.get(i, "?")) for i in call.candidacy_ids)
        return f"{lead}{unofficial}\n→ runoff: {advanced}" if lead else f"→ runoff: {advanced}"
    if counted:
        status = "too close to call" if call is not None and call.kind == CallKind.TOO_CLOSE else "counting"
        reporting = ""
        if view.snapshot is not None and view.snapshot.reporting_pct is not None:
            reporting = f", {view.snapshot.reporting_pct:g}% in"
        return f"{_standings_text(view, names)}{unofficial} ({status}{reporting})"
    return _upcoming_text(view, names, now)


def _standings_text(view: ContestView, names: dict[int, str]) -> str:
    counted = [s for s in view.standings if s.share is not None]
    shown = [f"{escape(names[s.candidacy.id])} {pct(s.share)}" for s in counted[:STANDINGS_SHOWN]]
    if len(counted) > STANDINGS_SHOWN:
        shown.append(f"+{len(counted) - STANDINGS_SHOWN} more")
    return ", ".join(shown)


def _upcoming_text(view: ContestView, names: dict[int, str], now: dt.datetime | None) -> str:
    running = [
        escape(with_party(names[s.candidacy.id], s.candidacy.party))
        for s in view.standings
        if s.candidacy.outcome != Outcome.WITHDRAWN and not s.candidacy.withdrawn
    ]
    who = (
        " vs ".join(running[:STANDINGS_SHOWN]) if len(running) <= 3 else ", ".join(running[:STANDINGS_SHOWN])
    )
    if len(running) > STANDINGS_SHOWN:
        who += f", +{len(running) - STANDINGS_SHOWN} more"
    now = now or dt.datetime.now(dt.UTC)
    close = view.contest.poll_close
    held = view.contest.date is not None and view.contest.date < now.date()
    if close and close > now:
        when = f"polls close {timestamp(close, 'R')}"
    else:
        when = NO_RESULTS if held else "upcoming"
    return f"{when}: {who}" if who else when


def candidates_text(card: RaceCard) -> str:
    seen: dict[int, str] = {}
    incumbent_id = card.race.incumbent_id
    for view in reversed(card.contests):  # the latest stage's candidates first
        for standing in view.standings:
            person = standing.candidacy.candidate
            if person.id in seen or standing.candidacy.withdrawn:
                continue  # a candidate withdrawn (or, in the FEC's file, not running) is off the card
            label = with_party(escape(person.name), standing.candidacy.party or person.party)
            if person.id == incumbent_id:
                label += " · incumbent"
            seen[person.id] = label
    names = list(seen.values())
    text = ", ".join(names[:CANDIDATES_SHOWN])
    if len(names) > CANDIDATES_SHOWN:
        text += f", +{len(names) - CANDIDATES_SHOWN} more"
    return text


def poll_line(poll: ListedPollLike) -> str:
    """ "Auburn University at Montgomery, Jul 2–9, 2020, 558 RV: Tuberville 43.9, Jones 35.5 (Tuberville +8.4)"."""
    sample = f"{poll.sample_size:,} {poll.population.upper()}" if poll.sample_size and poll.population else ""
    flags = " [partisan]" if poll.partisan else (" [internal]" if poll.internal else "")
    head = ", ".join(
        p for p in (escape(poll.pollster) + flags, date_range(poll.start_date, poll.end_date), sample) if p
    )
    real = [q for q in poll.questions if not q.hypothetical] or poll.questions
    if not real or not real[0].answers:
        return head
    answers = sorted(real[0].answers, key=lambda a: -a.pct)
    body = ", ".join(f"{escape(a.choice)} {a.pct:g}" for a in answers[:STANDINGS_SHOWN])
    margin = (
        f" ({escape(answers[0].choice)} +{answers[0].pct - answers[1].pct:.1f})" if len(answers) > 1 else ""
    )
    extra = len(poll.questions) - 1
    more = f"\n+{extra} more match-up{'s' if extra > 1 else ''}" if extra > 0 else ""
    return f"{head}: {body}{margin}{more}"


def average_line(avg: MatchupAverage) -> str:
    shares = ", ".join(f"{escape(s.choice)} {s.pct:.1f}" for s in avg.shares[:STANDINGS_SHOWN])
    n = f"{avg.poll_count} poll{'s' if avg.poll_count != 1 else ''}"
    label = "hypothetical: " if avg.hypothetical else ""
    return f"{label}{shares} ({n}, to {short_date(avg.newest)})"


def endorsement_line(endorser: str, kind: str, stance: str, candidate: str) -> str:
    who = f"{escape(endorser)} ({kind})" if kind and kind != "person" else escape(endorser)
    verb = {
        Stance.ENDORSE: "endorsed",
        Stance.OPPOSE: "opposes",
        Stance.WITHHOLD: "refused to endorse",
        Stance.RESCIND: "withdrew the endorsement of",
    }.get(Stance(stance), stance)
    return f"{who} {verb} {escape(candidate)}"


def race_embed(card: RaceCard, now: dt.datetime | None = None) -> discord.Embed:
    race = card.race
    embed = discord.Embed(title=race_title(race), colour=COLOR)
    lines = []
    if race.incumbent is not None:
        lines.append(f"Incumbent: {escape(with_party(race.incumbent.name, race.incumbent_party))}")
    elif race.incumbent_party:
        lines.append(f"Seat held by: {party_letter(race.incumbent_party)}")
    if race.notes:
        lines.append(clip(escape(race.notes), 300))
    embed.description = "\n".join(lines) or None
    for view in card.contests[:10]:
        title = f"{stage_title(view.contest.stage, view.contest.party)} · {short_date(view.contest.date)}"
        embed.add_field(name=title, value=contest_line(view, now), inline=False)
    if not card.contests:
        embed.add_field(name="Results", value="No results are stored for this race.", inline=False)
    if len(card.contests) > 10:
        embed.add_field(name="More stages", value=f"+{len(card.contests) - 10} more", inline=False)
    candidates = candidates_text(card)
    if candidates:
        embed.add_field(name="Candidates", value=candidates, inline=False)
    if card.latest_poll is not None:
        embed.add_field(
            name=f"Latest poll (of {card.poll_count})", value=poll_line(card.latest_poll), inline=False
        )
    if card.averages:
        value = clip_lines([average_line(a) for a in card.averages[:3]], 1024)
        embed.add_field(name="Polling average (last 30 days)", value=value, inline=False)
    if card.endorsements:
        lines = [
            endorsement_line(e.endorser, e.endorser_kind, e.stance, e.candidate.name)
            for e in card.endorsements
        ]
        if card.endorsement_count > len(lines):
            lines.append(f"+{card.endorsement_count - len(lines)} more")
        embed.add_field(name="Key endorsements", value=clip_lines(lines, 1024), inline=False)
    embed.set_footer(text=f"Source: {race.source}" if race.source else "Source: racedesk desk")
    return fit_embed(embed)


def matches_embed(matches: RaceMatches, prefix: str, command: str = "race") -> discord.Embed:
    """Several races fit: a short list, each with the words that ask for it."""
    lines = [f"**{escape(race_title(r))}**: `{prefix}{command} {matches.hint(r)}`" for r in matches.races]
    embed = discord.Embed(
        title=clip(f"{len(matches.races)} races match '{matches.query.text}'", 256),
        description=clip_lines(lines, 4000),
        colour=COLOR,
    )
    return fit_embed(embed)


def no_match_text(matches: RaceMatches, prefix: str, command: str = "race") -> str:
    text = f"No race found for '{escape(clip(matches.query.text, 100))}'."
    if matches.suggestions:
        tries = ", ".join(f"`{prefix}{command} {matches.hint(r)}`" for r in matches.suggestions)
        text += f" Try {tries}."
    else:
        text += f" Try a state, a candidate or a year, e.g. `{prefix}{command} alabama 2020`."
    return text

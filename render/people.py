"""Person cards (`candidate`), endorsement lists (`endorsements`) and the short list when several people match."""

from __future__ import annotations

import discord

from db.lookup import race_hint, state_name
from db.models import CallKind, Outcome
from db.reads.people import PeopleMatches, PersonCard, Run
from db.reads.rows import EndorsementRow, Person
from db.vocabulary import PARTY_NAME
from render.format import escape, party_letter, pct, short_date, stage_title, votes
from render.limits import clip, clip_lines, fit_embed
from render.polls import average_line
from render.race import COLOR, endorsement_line, race_title

RACES_SHOWN = 8
ENDORSEMENTS_SHOWN = 5
PAGE_LINES = 12
PAGE_CHARS = 3600
QUOTE_MAX = 160


def person_label(person: Person) -> str:
    """ "Jeff Sessions (R-AL)"."""
    tags = "-".join(t for t in (party_letter(person.party), person.state or "") if t)
    return f"{person.name} ({tags})" if tags else person.name


def person_hint(person: Person, others: list[Person]) -> str:
    """Words that find this person again: the name, and the state when the name is shared."""
    shared = [p for p in others if p.id != person.id and p.name_key == person.name_key]
    if shared and person.state:
        return f"{person.name} {state_name(person.state).lower()}"
    return person.name


def people_embed(matches: PeopleMatches, prefix: str, command: str) -> discord.Embed:
    lines = []
    for person in matches.people:
        runs = matches.runs.get(person.id, 0)
        ran = f" · {runs} race{'s' if runs != 1 else ''}" if runs else ""
        hint = person_hint(person, matches.people)
        lines.append(f"**{escape(person_label(person))}**{ran}: `{prefix}{command} {clip(hint, 80)}`")
    embed = discord.Embed(
        title=clip(f"{len(matches.people)} people match '{escape(matches.query.text)}'", 256),
        description=clip_lines(lines, 4000),
        colour=COLOR,
    )
    return fit_embed(embed)


def no_person_text(text: str, prefix: str, command: str) -> str:
    return (
        f"No candidate matches '{escape(clip(' '.join(text.split()), 100))}'. "
        f"Try a surname or a full name, e.g. `{prefix}{command} sessions`."
    )


OUTCOME_TEXT: dict[str, str] = {
    Outcome.WON: "✅ won",
    Outcome.LOST: "lost",
    Outcome.ADVANCED: "advanced to the runoff",
    Outcome.WITHDRAWN: "withdrew",
}


def run_line(run: Run) -> str:
    """ "Republican primary · Mar 3, 2020: advanced to the runoff · 227,082 votes (31.6%), 2nd of 7"."""
    contest = run.view.contest
    head = f"{stage_title(contest.stage, contest.party)} · {short_date(contest.date)}"
    outcome = OUTCOME_TEXT.get(run.standing.candidacy.outcome)
    call = run.view.call
    if outcome is None:
        if (
            call is not None
            and call.kind == CallKind.WINNER
            and run.standing.candidacy.id in call.candidacy_ids
        ):
            outcome = "✅ won"
        elif (
            call is not None
            and call.kind == CallKind.RUNOFF
            and run.standing.candidacy.id in call.candidacy_ids
        ):
            outcome = "advanced to the runoff"
        elif run.standing.votes is not None:
            outcome = "counting"
        else:
            outcome = "on the ballot"
    if run.standing.candidacy.withdrawn and run.standing.candidacy.outcome != Outcome.WITHDRAWN:
        outcome += " (withdrew)"
    parts = [outcome]
    if run.standing.votes is not None:
        counted = [s for s in run.view.standings if s.votes is not None]
        place = next(i for i, s in enumerate(counted, 1) if s.candidacy.id == run.standing.candidacy.id)
        parts.append(
            f"{votes(run.standing.votes)} votes ({pct(run.standing.share)}), {_ordinal(place)} of {len(counted)}"
        )
    return f"{head}: {' · '.join(parts)}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def endorsement_text(e: EndorsementRow, with_race: bool = False) -> list[str]:
    """One endorsement (a line, and its quote when there is one): who, stance, whom, when, source."""
    line = endorsement_line(e.endorser, e.endorser_kind, e.stance, e.candidate.name)
    extra = [short_date(e.date) if e.date else ""]
    if with_race and e.race is not None:
        extra.append(race_title(e.race))
    if e.source:
        extra.append(escape(clip(e.source, 80)))
    line += "".join(f" · {x}" for x in extra if x)
    lines = [line]
    if e.quote:
        lines.append(f"> “{escape(clip(' '.join(e.quote.split()), QUOTE_MAX))}”")
    return lines


def person_embed(card: PersonCard, prefix: str) -> discord.Embed:
    person = card.person
    name = f"{person.name} ({party_letter(person.party)})" if person.party else person.name
    embed = discord.Embed(title=clip(escape(name), 256), colour=COLOR)
    about = [
        " · ".join(
            p
            for p in (
                PARTY_NAME.get(person.party or "", person.party or ""),
                state_name(person.state) if person.state else "",
            )
            if p
        )
    ]
    if person.office_held:
        about.append(escape(clip(person.office_held, 300)))
    if card.incumbent_in:
        about.append("Incumbent in: " + ", ".join(escape(race_title(r)) for r in card.incumbent_in[:3]))
    if card.aliases:
        about.append("Also written: " + ", ".join(escape(a) for a in card.aliases[:5]))
    embed.description = clip_lines([a for a in about if a], 1000)
    races: list[tuple[str, list[str]]] = []
    for run in card.runs:
        title = race_title(run.race)
        if not races or races[-1][0] != title:
            races.append((title, []))
        races[-1][1].append(run_line(run))
    for title, lines in races[:RACES_SHOWN]:
        embed.add_field(name=escape(title), value=clip_lines(lines, 1024), inline=False)
    more_races = card.races_total - min(len(races), RACES_SHOWN)
    if more_races > 0:
        embed.add_field(name="Earlier races", value=f"+{more_races} more", inline=False)
    if not card.runs:
        embed.add_field(name="Races", value="No races in racedesk's data.", inline=False)
    if card.endorsements:
        lines = [endorsement_text(e, with_race=True)[0] for e in card.endorsements[:ENDORSEMENTS_SHOWN]]
        if card.endorsement_count > ENDORSEMENTS_SHOWN:
            lines.append(
                f"+{card.endorsement_count - ENDORSEMENTS_SHOWN} more: `{prefix}endorsements {clip(person.name, 60)}`"
            )
        embed.add_field(
            name=f"Endorsements ({card.endorsement_count})", value=clip_lines(lines, 1024), inline=False
        )
    if card.polls:
        race = card.polls[0].race
        lines = [average_line(p.average, p.contests) for p in card.polls]
        lines.append(
            f"Named in {card.poll_mentions} poll match-up{'s' if card.poll_mentions != 1 else ''} · `{prefix}polls {race_hint(race)}`"
        )
        embed.add_field(
            name=f"Polling average · {race_title(race)}", value=clip_lines(lines, 1024), inline=False
        )
    embed.set_footer(
        text="Votes: each stage's latest count; shares are of all votes counted, write-ins included."
    )
    return fit_embed(embed)


def endorsement_pages(
    title: str, rows: list[EndorsementRow], count: int, with_race: bool
) -> list[discord.Embed]:
    """Every endorsement read, in pages of at most PAGE_LINES entries that fit an embed."""
    pages: list[list[str]] = [[]]
    size = 0
    entries = 0
    for e in rows:
        block = "\n".join(endorsement_text(e, with_race))
        if pages[-1] and (entries >= PAGE_LINES or size + len(block) + 1 > PAGE_CHARS):
            pages.append([])
            size = entries = 0
        pages[-1].append(clip(block, 1000))
        size += len(block) + 1
        entries += 1
    embeds = []
    for i, lines in enumerate(pages, 1):
        embed = discord.Embed(
            title=clip(f"Endorsements · {title}", 256), description="\n".join(lines) or None, colour=COLOR
        )
        shown = f"the weightiest {len(rows)} of {count}" if count > len(rows) else f"{count}"
        footer = f"{shown} endorsement{'s' if count != 1 else ''}, the weightiest first (president, party, governor, senator …)"
        if len(pages) > 1:
            footer += f" · page {i}/{len(pages)}"
        embed.set_footer(text=footer)
        embeds.append(fit_embed(embed))
    return embeds


def no_endorsements_text(title: str) -> str:
    """Nobody endorsed in a race or a person (`title`: the race's title or the person's name)."""
    return f"No endorsements recorded for {escape(title)}."

"""The polls reply: one page of a race's polls, newest first, under the average of each match-up."""

from __future__ import annotations

import re
from collections.abc import Mapping

import discord

from db.polling import DEFAULT_SAMPLE, MAX_WEIGHT, WINDOW_DAYS, MatchupAverage
from db.reads.polls import ListedQuestionLike, PollFilter, PollPage, ShownPoll, StageLike
from render.chart import ChartResult
from render.format import date_range, escape, party_letter, short_date, stage_title
from render.limits import clip, clip_lines, fit_embed
from render.race import ATTRIBUTION, COLOR

ANSWERS_SHOWN = 6
AVERAGES_SHOWN = 3
POLL_NAME_MAX = 200
POLL_VALUE_MAX = 800
DESCRIPTION_MAX = 900
METHOD = (
    f"Average: each pollster's latest poll in the {WINDOW_DAYS} days to the newest, weighted by sample "
    f"size (none counted as {DEFAULT_SAMPLE}, at most {MAX_WEIGHT:,})"
)
_URL = re.compile(r"^https?://[^\s()<>\[\]]{1,300}$")


def sample_text(size: int | None, population: str | None) -> str:
    """ "558 RV"; "558"; "RV"; ""."""
    parts = [f"{size:,}" if size else "", population.upper() if population else ""]
    return " ".join(p for p in parts if p)


def matchup_label(contest: StageLike | None, hypothetical: bool) -> str:
    stage = stage_title(contest.stage, contest.party) if contest is not None else "Match-up"
    return f"Hypothetical {stage[0].lower()}{stage[1:]}" if hypothetical else stage


def shares_text(pairs: list[tuple[str, float]], shown: int = ANSWERS_SHOWN) -> str:
    """ "Tuberville 43.9, Jones 35.5 · Tuberville +8.4" (highest first)."""
    ordered = sorted(pairs, key=lambda p: -p[1])
    body = ", ".join(f"{escape(name)} {share:g}" for name, share in ordered[:shown])
    if len(ordered) > shown:
        body += f", +{len(ordered) - shown} more"
    if len(ordered) >= 2:
        margin = ordered[0][1] - ordered[1][1]
        body += f" · {escape(ordered[0][0])} +{margin:.1f}" if margin > 0.05 else " · tied"
    return body


def question_line(question: ListedQuestionLike, contests: Mapping[int, StageLike]) -> str:
    contest = contests.get(question.contest_id) if question.contest_id else None
    label = matchup_label(contest, question.hypothetical)
    extra = sample_text(question.sample_size, question.population)
    head = f"{label} ({extra})" if extra else label
    return f"{head}: {shares_text([(a.choice, a.pct) for a in question.answers])}"


def poll_flags(shown: ShownPoll) -> list[str]:
    poll = shown.poll
    flags = []
    if poll.sponsor:
        flags.append(f"for {escape(clip(poll.sponsor, 80))}")
    if poll.partisan:
        flags.append(f"⚑ partisan ({party_letter(poll.partisan)})")
    if poll.internal:
        flags.append("⚑ internal")
    return flags


def poll_field(shown: ShownPoll, contests: Mapping[int, StageLike]) -> tuple[str, str]:
    poll = shown.poll
    name = clip(f"{escape(poll.pollster)} · {date_range(poll.start_date, poll.end_date)}", POLL_NAME_MAX)
    about = [
        sample_text(poll.sample_size, poll.population),
        escape(poll.methodology or ""),
        *poll_flags(shown),
    ]
    if poll.url and _URL.match(poll.url):
        about.append(f"[source]({poll.url})")
    lines = [" · ".join(p for p in about if p)] if any(about) else []
    lines += [question_line(q, contests) for q in shown.questions]
    return name, clip_lines(lines, POLL_VALUE_MAX)


def average_line(avg: MatchupAverage, contests: Mapping[int, StageLike]) -> str:
    contest = contests.get(avg.contest_id) if avg.contest_id else None
    n = f"{avg.poll_count} poll{'s' if avg.poll_count != 1 else ''}"
    shares = shares_text([(s.choice, s.pct) for s in avg.shares], shown=4)
    return f"{matchup_label(contest, avg.hypothetical)}: {shares} ({n}, to {short_date(avg.newest)})"


def polls_embed(title: str, page: PollPage, filters: str = "") -> discord.Embed:
    embed = discord.Embed(title=clip(f"Polls · {title}", 256), colour=COLOR)
    lines = []
    if page.averages:
        lines.append("**Average**")
        lines += [average_line(a, page.contests) for a in page.averages[:AVERAGES_SHOWN]]
        if len(page.averages) > AVERAGES_SHOWN:
            lines.append(f"+{len(page.averages) - AVERAGES_SHOWN} more match-ups")
    if filters:
        lines.append(f"Showing: {filters}")
    if lines:
        embed.description = clip_lines(lines, DESCRIPTION_MAX)
    for shown in page.polls:
        name, value = poll_field(shown, page.contests)
        embed.add_field(name=name, value=value or "—", inline=False)
    last = page.first + len(page.polls) - 1
    if page.total == 1:
        footer = ["1 poll"]
    else:
        footer = [f"Polls {page.first}–{last} of {page.total}, newest first · page {page.page}/{page.pages}"]
    if page.total != page.all_polls:
        footer.append(f"{page.all_polls} polls without filters")
    footer.append(METHOD)
    sources = sorted({ATTRIBUTION[s.poll.source] for s in page.polls if s.poll.source in ATTRIBUTION})
    footer += sources
    embed.set_footer(text=" · ".join(footer))
    return fit_embed(embed)


def no_polls_text(race: str, page: PollPage, filters: str, prefix: str, hint: str) -> str:
    if page.all_polls == 0:
        return f"No polls of the {escape(race)} yet. The race card: `{prefix}race {hint}`."
    n = f"{page.all_polls} poll{'s' if page.all_polls != 1 else ''}"
    return f"No polls of the {escape(race)} match ({filters}); it has {n} in all: `{prefix}polls {hint}`."


def describe_filter(flt: PollFilter, population_label: str | None = None) -> str:
    """What a filter keeps, in words: "likely voters · since Jun 1 · general polls" ("" for none).
    `population_label` names the population ("likely voters"); without it the code is shown."""
    parts = []
    if flt.population:
        parts.append(population_label or flt.population)
    if flt.since:
        parts.append(f"since {short_date(flt.since)}")
    if flt.stage:
        stage = stage_title(flt.stage, flt.party)
        parts.append(f"{stage if flt.party else stage.lower()} polls")
    return " · ".join(parts)


def poll_credit(sources: set[str]) -> str:
    """The attribution for polls from these sources ("" when none needs one)."""
    return " · ".join(ATTRIBUTION[s] for s in sorted(sources) if s in ATTRIBUTION)


def chart_filename(hint: str) -> str:
    return f"polls-{hint.replace(' ', '-')}.png"


def chart_embed(
    race_title: str, hint: str, result: ChartResult | None, filters: str, prefix: str, credit: str
) -> discord.Embed:
    """The message around a polls chart (the image is attached as `chart_filename(hint)`), or, with no
    chart, that there is nothing to draw."""
    title = clip(f"Polls chart · {race_title}", 256)
    if result is None:
        text = f"No polls to draw{f' ({filters})' if filters else ''}."
        return discord.Embed(title=title, description=text, colour=COLOR)
    lines = [f"{escape(result.matchup)} · {result.polls} poll{'s' if result.polls != 1 else ''}"]
    if result.choices > result.shown:
        lines.append(f"The top {result.shown} of {result.choices} candidates are drawn.")
    if filters:
        lines.append(f"Showing: {filters}")
    lines.append(f"The list: `{prefix}polls {hint}`")
    embed = discord.Embed(title=title, description="\n".join(lines), colour=COLOR)
    embed.set_image(url=f"attachment://{chart_filename(hint)}")
    embed.set_footer(text=credit or "racedesk")
    return fit_embed(embed)

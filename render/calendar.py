"""The calendar reply: the stages voting on a day or in a range, by day, in pages."""

from __future__ import annotations

import datetime as dt

import discord

from db.models import ContestStatus
from db.reads.calendar import Calendar, Entry
from render.format import escape, stage_title
from render.limits import clip, fit_embed
from render.race import COLOR, race_title

PAGE_LINES = 25
PAGE_CHARS = 3500
STATUS_NOTE: dict[str, str] = {
    ContestStatus.COUNTING: " · counting",
    ContestStatus.CALLED: " · called",
    ContestStatus.CERTIFIED: " · certified",
}


def day_heading(day: dt.date) -> str:
    return f"**{day:%a}, {day:%b} {day.day}, {day.year}**"


def entry_line(entry: Entry) -> str:
    """ "2020 Alabama U.S. Senate (Class II): Republican runoff · called"."""
    stage = stage_title(entry.contest.stage, entry.contest.party)
    note = STATUS_NOTE.get(entry.contest.status, "")
    return f"{escape(race_title(entry.race))}: {stage}{note}"


def calendar_pages(calendar: Calendar, label: str) -> list[discord.Embed]:
    pages: list[list[str]] = [[]]
    size = 0
    day: dt.date | None = None
    for entry in calendar.entries:
        line = clip(entry_line(entry), 300)
        date = entry.contest.date
        heading = day_heading(date) if date is not None and date != day else None
        block = ([heading] if heading else []) + [line]
        needed = sum(len(b) + 1 for b in block)
        if pages[-1] and (len(pages[-1]) + len(block) > PAGE_LINES or size + needed > PAGE_CHARS):
            pages.append([])
            size = 0
            if heading is None and entry.contest.date is not None:  # the day goes on: say which
                block.insert(0, day_heading(entry.contest.date) + " (continued)")
                needed = sum(len(b) + 1 for b in block)
        pages[-1].extend(block)
        size += needed
        day = entry.contest.date
    embeds = []
    shown = len(calendar.entries)
    for i, lines in enumerate(pages, 1):
        embed = discord.Embed(
            title=clip(f"Calendar · {label}", 256), description="\n".join(lines), colour=COLOR
        )
        count = f"{calendar.total} stage{'s' if calendar.total != 1 else ''}, by state"
        if calendar.total > shown:
            count += f" (the first {shown} listed)"
        footer = count + (f" · page {i}/{len(pages)}" if len(pages) > 1 else "")
        embed.set_footer(text=footer)
        embeds.append(fit_embed(embed))
    return embeds


def empty_calendar_text(calendar: Calendar, label: str, prefix: str) -> str:
    text = f"Nothing votes {label} in racedesk's data."
    near = [d for d in (calendar.earlier, calendar.later) if d is not None]
    if near:
        tries = " and ".join(f"{d:%b} {d.day}, {d.year} (`{prefix}calendar {d.isoformat()}`)" for d in near)
        text += f" The nearest dates with contests: {tries}."
    return text

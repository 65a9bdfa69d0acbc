"""Pure parsing for the member commands: dates and ranges, poll filters, result stages, pages.

Nothing here touches Discord or the database, so every rule is tested directly.
Each parser raises `UsageError` (cogs.support.errors) with a short explanation; cogs
may raise it again with a better example.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from dateutil import parser as dateparser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from cogs.support.errors import UsageError
from db.names import fold
from db.vocabulary import (
    PARTY_WORDS,
    POPULATION_NAME,
    POPULATION_WORDS,
    STAGE_PHRASES,
    STAGE_WORDS,
    fold_word,
    population_of,
    stage_of,
    stages_meant,
)
from render.format import escape
from render.limits import clip

WEEKDAYS = {
    "monday": MO, "mon": MO, "tuesday": TU, "tue": TU, "tues": TU, "wednesday": WE, "wed": WE,
    "thursday": TH, "thu": TH, "thur": TH, "thurs": TH, "friday": FR, "fri": FR,
    "saturday": SA, "sat": SA, "sunday": SU, "sun": SU,
}  # fmt: skip
MONTH_WORDS = frozenset(
    w for i in range(1, 13) for w in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
) | {"sept"}
RANGE_SEPARATORS = re.compile(r"\s+(?:to|through|thru|until|till|-|–|—)\s+|\s*(?:–|—)\s*")
MAX_PHRASE = 60  # longer "dates" are not dates


def shown(text: str) -> str:
    """Member input quoted back: short, no markdown, no mentions."""
    return escape(clip(" ".join(text.split()), 60))


# The one type for wrong input, under the names the parsers and their callers used before.
ParseProblem = UsageError
ParseError = UsageError


@dataclass(frozen=True)
class DateSpan:
    """A day or a range of days (inclusive), and how to say it."""

    start: dt.date
    end: dt.date
    label: str
    relative: bool = False  # said relative to today ("next tuesday"), and labelled that way

    @property
    def one_day(self) -> bool:
        return self.start == self.end

    @property
    def in_sentence(self) -> str:
        """ "today (Fri, Nov 27, 2026)", "on Tue, Jul 14, 2020", "in November 2020"."""
        if self.relative:
            return self.label
        return f"on {self.label}" if self.one_day else f"in {self.label}"


def day_label(day: dt.date) -> str:
    return f"{day:%a}, {day:%b} {day.day}, {day.year}"


def range_label(start: dt.date, end: dt.date) -> str:
    if start == end:
        return day_label(start)
    if start.year == end.year and start.month == end.month:
        return f"{start:%b} {start.day}–{end.day}, {end.year}"
    if start.year == end.year:
        return f"{start:%b} {start.day}–{end:%b} {end.day}, {end.year}"
    return f"{start:%b} {start.day}, {start.year}–{end:%b} {end.day}, {end.year}"


def _week(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _relative(words: list[str], today: dt.date) -> DateSpan | None:
    """today, tomorrow, yesterday, this/next/last week|month|year, [this|next|last] <weekday>, next N days."""
    phrase = " ".join(words)
    simple = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
    if phrase in simple:
        day = today + dt.timedelta(days=simple[phrase])
        return DateSpan(day, day, f"{phrase.replace('tonight', 'today')} ({day_label(day)})", relative=True)
    if len(words) == 2 and words[0] in ("this", "next", "last", "coming", "past", "previous"):
        which, unit = words
        shift = {"this": 0, "coming": 1, "next": 1, "last": -1, "past": -1, "previous": -1}[which]
        if unit == "week":
            start, end = _week(today + dt.timedelta(weeks=shift))
            return DateSpan(start, end, f"{phrase} ({range_label(start, end)})", relative=True)
        if unit == "month":
            first = today.replace(day=1) + relativedelta(months=shift)
            start, end = _month(first.year, first.month)
            return DateSpan(start, end, f"{phrase} ({first:%B} {first.year})", relative=True)
        if unit == "year":
            year = today.year + shift
            return DateSpan(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{phrase} ({year})", relative=True)
        if unit in ("weekend",):
            saturday = today + relativedelta(days=7 * max(shift, 0), weekday=SA(+1 if shift >= 0 else -1))
            return DateSpan(
                saturday,
                saturday + dt.timedelta(days=1),
                f"{phrase} ({range_label(saturday, saturday + dt.timedelta(days=1))})",
                relative=True,
            )
    if len(words) == 3 and words[0] in ("next", "last", "past", "coming") and words[2] == "days":
        if not words[1].isdigit() or not 1 <= int(words[1]) <= 366:
            raise UsageError("Give a number of days from 1 to 366, e.g. `next 7 days`.")
        n = int(words[1])
        if words[0] in ("next", "coming"):
            start, end = today, today + dt.timedelta(days=n - 1)
        else:
            start, end = today - dt.timedelta(days=n - 1), today
        which = "next" if words[0] in ("next", "coming") else "past"
        return DateSpan(start, end, f"the {which} {n} days ({range_label(start, end)})")
    weekday_words = (
        words[1:] if len(words) == 2 and words[0] in ("this", "next", "last", "coming", "on") else words
    )
    if len(weekday_words) == 1 and weekday_words[0] in WEEKDAYS:
        weekday = WEEKDAYS[weekday_words[0]]
        which = words[0] if len(words) == 2 else "this"
        if which == "last":
            day = today + relativedelta(days=-1, weekday=weekday(-1))
        elif which == "next":
            day = today + relativedelta(days=+1, weekday=weekday(+1))
        else:  # "tuesday", "this tuesday", "on tuesday": the coming one, today included
            day = today + relativedelta(weekday=weekday(+1))
        return DateSpan(day, day, f"{phrase} ({day_label(day)})", relative=True)
    return None


def _absolute(phrase: str, default_year: int) -> DateSpan:
    """One calendar expression: a day, a month or a year, through python-dateutil."""
    has_digit = any(c.isdigit() for c in phrase)
    words = phrase.replace(",", " ").split()
    if not has_digit and not any(w.rstrip(".") in MONTH_WORDS for w in words):
        raise UsageError(f"I can't read '{shown(phrase)}' as a date.")
    try:
        a = dateparser.parse(phrase, default=dt.datetime(default_year, 1, 1))
        b = dateparser.parse(phrase, default=dt.datetime(default_year + 1, 2, 2))
    except (ValueError, OverflowError) as problem:
        detail = str(problem).split(":")[0]
        reason = f" ({detail})" if "must be" in detail or "out of range" in detail else ""
        raise UsageError(f"I can't read '{shown(phrase)}' as a date{reason}.") from None
    year_given, month_given, day_given = a.year == b.year, a.month == b.month, a.day == b.day
    if a.year < 1900 or a.year > 2100:
        raise UsageError(f"'{shown(phrase)}': give a year between 1900 and 2100.")
    if day_given and month_given:
        day = a.date()
        return DateSpan(day, day, day_label(day))
    if month_given and not day_given:
        start, end = _month(a.year, a.month)
        return DateSpan(start, end, f"{a:%B} {a.year}")
    if year_given and not month_given and not day_given:
        return DateSpan(dt.date(a.year, 1, 1), dt.date(a.year, 12, 31), str(a.year))
    raise UsageError(f"I can't tell which day '{shown(phrase)}' means: add the month.")


def parse_when(text: str, today: dt.date, default_year: int | None = None) -> DateSpan:
    """A day or a range: "today", "next tuesday", "july 14 2020", "2020-07-14", "november 2020",
    "this week", "next 7 days", "july 1 to july 15 2020". Dates without a year take `default_year`
    (default: today's year)."""
    phrase = " ".join(text.strip().lower().split())
    if not phrase:
        raise UsageError("Which day? Give a date.")
    if len(phrase) > MAX_PHRASE:
        raise UsageError("That is too long to be a date.")
    year = default_year or today.year
    phrase = re.sub(r"^(?:on|from|between)\s+", "", phrase)
    phrase = re.sub(r"\s+and\s+", " to ", phrase) if phrase.count(" and ") == 1 else phrase
    relative = _relative(fold(phrase).split(), today)
    if relative is not None:
        return relative
    parts = [p.strip() for p in RANGE_SEPARATORS.split(phrase) if p.strip()]
    if len(parts) == 2:
        start_text, end_text = parts
        month = next((w for w in start_text.split() if w.rstrip(".,") in MONTH_WORDS), None)
        if month and not any(c.isalpha() for c in end_text):  # "july 1 - 15 2020"
            end_text = f"{month} {end_text}"
        end = _absolute(end_text, year)
        # "july 1 to july 15 2020": the start borrows the year (and month) it leaves out from the end.
        if not re.search(r"\b\d{4}\b", start_text):
            start_text += f" {end.end.year}"
        if not any(c.isalpha() for c in start_text) and "-" not in start_text and "/" not in start_text:
            start_text = f"{end.end:%B} {start_text}"
        start = _absolute(start_text, end.end.year)
        if start.start > end.end:
            raise UsageError(f"'{shown(text)}' ends before it starts.")
        return DateSpan(start.start, end.end, range_label(start.start, end.end))
    if len(parts) > 2:
        raise UsageError(f"I can't read '{shown(phrase)}' as a date or a range.")
    return _absolute(phrase, year)


DATE_EXAMPLES = ("today", "next tuesday", "july 14 2020", "2020-07-14", "november 2020", "this week")


# ---------------------------------------------------------------- poll queries

POPULATION_NAMES = POPULATION_NAME  # the vocabulary's labels, under the name the polls cog imports
CHART_WORDS = frozenset({"chart", "graph", "plot", "trend"})
PAGE_WORDS = frozenset({"page", "pg", "p"})


@dataclass
class PollQuery:
    race_text: str
    population: str | None = None
    since_text: str | None = None
    page: int | None = None
    chart: bool = False


def _page_number(word: str | None) -> int:
    if word is None or not word.isdigit() or not 1 <= int(word) <= 10_000:
        raise UsageError("Give the page as a number, e.g. `page 2`.")
    return int(word)


def split_page(text: str) -> tuple[str, int | None]:
    """ "alabama page 2" -> ("alabama", 2); any other text comes back as it was."""
    words = text.split()
    for i, word in enumerate(words):
        if word.lower() in ("page", "pg"):
            page = _page_number(words[i + 1] if i + 1 < len(words) else None)
            return " ".join(words[:i] + words[i + 2 :]), page
    return text, None


def split_poll_query(text: str) -> PollQuery:
    """Separate the race from the filters: `alabama lv since june page 2 chart`."""
    words = text.split()
    query = PollQuery("")
    rest: list[str] = []
    i = 0
    populations = {w for w in POPULATION_WORDS if len(w) > 1 and " " not in w}
    keywords = populations | CHART_WORDS | {"page", "pg", "since", "after", "from"}
    while i < len(words):
        word = words[i].lower().strip(",")
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if following and population_of(f"{word} {following}") is not None:  # "likely voters", "all adults"
            query.population = population_of(f"{word} {following}")
            i += 2
        elif word in populations:  # one letter ("a") only as the desk's `pop=a`
            query.population = population_of(word)
            i += 1
        elif word in CHART_WORDS:
            query.chart = True
            i += 1
        elif word in ("page", "pg"):
            query.page = _page_number(following or None)
            i += 2
        elif word in ("since", "after", "from"):
            j = i + 1
            while j < len(words) and words[j].lower().strip(",") not in keywords:
                j += 1
            if j == i + 1:
                raise UsageError(f"Since when? Give a date after `{word}`, e.g. `since june`.")
            query.since_text = " ".join(words[i + 1 : j])
            i = j
        else:
            rest.append(words[i])
            i += 1
    query.race_text = " ".join(rest)
    return query


# ---------------------------------------------------------------- result queries


@dataclass
class ResultsQuery:
    race_text: str
    stages: tuple[str, ...] = ()  # the stages meant, in order of preference; () for "the latest"
    stage: str | None = None  # the stage said: a Stage value or ANY_RUNOFF (db.vocabulary)
    party: str | None = None
    history: bool = False


def split_results_query(text: str, history: bool = True) -> ResultsQuery:
    """ "alabama runoff", "georgia general runoff history", "alabama gop primary".

    With `history` False, "history" is left in the race text (for commands that have no history)."""
    words = text.split()
    lowered = [fold_word(w) for w in words]
    keep = [True] * len(words)
    query = ResultsQuery("")
    for i, word in enumerate(lowered):
        if history and word in ("history", "changes", "timeline"):
            query.history, keep[i] = True, False
    said: list[str] = []
    for i in range(len(lowered) - 1):  # "general runoff", "top two", "run off"
        if all(keep[i : i + 2]) and tuple(lowered[i : i + 2]) in STAGE_PHRASES:
            said += lowered[i : i + 2]
            keep[i : i + 2] = [False, False]
    for i, word in enumerate(lowered):
        if keep[i] and word in STAGE_WORDS:
            said.append(word)
            keep[i] = False
    if said:  # a party word counts beside a stage word; alone it is left to the race lookup
        for i, word in enumerate(lowered):
            if keep[i] and word in PARTY_WORDS:
                said.append(word)
                keep[i] = False
        query.stage, query.party = stage_of(said)
        query.stages = stages_meant(query.stage)
    query.race_text = " ".join(w for w, k in zip(words, keep, strict=True) if k)
    return query

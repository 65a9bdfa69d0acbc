"""Dates as people type them, for every command: one module, python-dateutil underneath.

Members (`parse_when`): a day or a span, "today", "next tuesday", "july 14 2020", "november 2020",
"this week", "next 7 days", "july 1 to 15 2020"; a date without a year takes the default year.
The desk (`date`, `date_range`): one day or a fielded range, "July 2-9", "7/14/20", "July 2-9, 2020",
"June 28 - July 9"; a year left out is the race's cycle year.
Both read one date through `read_date` and split a range with `split_range`; every problem is a
UsageError that says what is wrong.
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
DASHES = str.maketrans({"–": "-", "—": "-", "‒": "-", "―": "-", "−": "-"})
RANGE_WORDS = (" to ", " until ", " till ", " through ", " thru ", "..", " - ")
MAX_PHRASE = 60  # longer "dates" are not dates


def shown(text: str) -> str:
    """Member input quoted back: short, no markdown, no mentions."""
    return escape(clip(" ".join(text.split()), 60))


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
    try:  # read twice with different defaults: what differs was not written
        a = read_date(phrase, dt.datetime(default_year, 1, 1))
        b = read_date(phrase, dt.datetime(default_year + 1, 2, 2))
    except ValueError as problem:
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
    parts = split_range(phrase)
    if parts is not None:
        start_text, end_text = (part.strip() for part in parts)
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
    return _absolute(phrase, year)


DATE_EXAMPLES = ("today", "next tuesday", "july 14 2020", "2020-07-14", "november 2020", "this week")


# ------------------------------------------------------------------ what both read with

_ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def read_date(text: str, default: dt.datetime) -> dt.datetime:
    """python-dateutil's reading of one date, what is not written taken from `default`. Raises ValueError
    (with dateutil's reason) when it cannot."""
    try:
        return dateparser.parse(text, default=default)
    except OverflowError as problem:
        raise ValueError(str(problem)) from None


def split_range(text: str) -> tuple[str, str] | None:
    """The two ends of a range, or None for one date: "july 1 to 15", "June 28 - July 9", "July 2–9"'s
    dash, "7/2-7/9", "2020-07-02 2020-07-09"; but "2020-07-14", "7-14-20", "7-14" and "2020-02" are one."""
    raw = " ".join(text.translate(DASHES).split())
    lowered = raw.lower()
    for separator in RANGE_WORDS:
        if separator in lowered:
            index = lowered.index(separator)
            return raw[:index], raw[index + len(separator) :]
    if _ISO.fullmatch(raw) or re.fullmatch(r"\d{1,2}-\d{1,2}-\d{2,4}", raw):
        return None
    isos = _ISO.findall(raw)
    if len(isos) == 2:
        return isos[0], isos[1]
    if raw.count("-") == 1:
        left, right = raw.split("-")
        if left.strip() and right.strip() and re.search(r"[A-Za-z/]", left + right):
            return left, right
    return None


# ------------------------------------------------------------------ the desk's dates

DATE_HELP = "Write dates like `July 14, 2020`, `7/14/20` or `2020-07-14`; a range like `July 2-9, 2020`."


YEARS_BEFORE_CYCLE = 4  # a desk date may be this many years before the race's cycle (an early endorsement)
YEARS_AFTER_CYCLE = 1  # and this many after it (a runoff in the January after)
_WRITTEN_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")


def ascii_digits_only(text: str) -> bool:
    """Whether every digit in `text` is one of 0-9 (not ٣, ３ or ²): only those count as numbers."""
    return all(c in "0123456789" for c in text if c.isdigit() or c.isnumeric())


def day_and_year(text: str, year: int, example: str) -> tuple[dt.date, bool]:
    """A date, and whether the year was written. A missing year is `year`; a written one must be near it
    (from `YEARS_BEFORE_CYCLE` before to `YEARS_AFTER_CYCLE` after)."""
    cleaned = text.strip().strip(",").strip()
    if not cleaned:
        raise UsageError(f"A date is missing. {DATE_HELP}", example)
    if not ascii_digits_only(cleaned):
        raise UsageError(f"'{shown(text)}': write dates with the digits 0-9. {DATE_HELP}", example)
    if not re.search(r"\d", cleaned):
        raise UsageError(f"'{shown(text)}' is not a date. {DATE_HELP}", example)
    try:
        parsed = read_date(cleaned, dt.datetime(year, 1, 1))
    except ValueError:
        raise UsageError(f"'{shown(text)}' is not a date I can read. {DATE_HELP}", example) from None
    if re.fullmatch(r"\d{1,2}", cleaned):
        raise UsageError(f"'{shown(text)}' is only a day: add the month. {DATE_HELP}", example)
    if re.fullmatch(r"\d{4}", cleaned):
        raise UsageError(f"'{shown(text)}' is only a year: add the month and day. {DATE_HELP}", example)
    written = _WRITTEN_YEAR.search(cleaned)
    has_year = bool(written) or bool(re.search(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b", cleaned))
    if not has_year and parsed.year != year:  # dateutil read a number as the year: "July 40" -> 2040
        raise UsageError(f"'{shown(text)}' is not a date I can read. {DATE_HELP}", example)
    first, last = year - YEARS_BEFORE_CYCLE, year + YEARS_AFTER_CYCLE
    if (written and int(written[1]) != parsed.year) or not first <= parsed.year <= last:
        shown_year = written[1] if written else str(parsed.year)
        raise UsageError(
            f"'{shown(text)}': {shown_year} is too far from the race's {year} cycle: give a year from {first} to {last}.",
            example,
        )
    return parsed.date(), has_year


def date(text: str, year: int, example: str) -> dt.date:
    return day_and_year(text, year, example)[0]


_SAME_MONTH = re.compile(
    r"^(?P<month>[A-Za-z]{3,9}\.?)\s*(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*-\s*(?P<d2>\d{1,2})(?:st|nd|rd|th)?"
    r"(?:\s*,?\s*(?P<year>\d{4}|'?\d{2}))?$"
)
WRAP_DAYS = 92  # a start after the end, its year unwritten, is the year before when that spans at most this


def date_range(text: str, year: int, example: str) -> tuple[dt.date | None, dt.date]:
    """ "July 2-9", "July 2-9, 2020", "June 28 - July 9", "31 - Feb 2", "Dec 28 - Jan 3", "7/2/20-7/9/20",
    "2020-07-02 to 2020-07-09", or one day. The start may borrow the end's month and year; across a year's
    end it is in the year before (Dec 28 - Jan 3, 2020 starts on Dec 28, 2019)."""
    raw = " ".join(text.translate(DASHES).split())
    if not raw:
        raise UsageError(f"The dates are missing. {DATE_HELP}", example)
    same = _SAME_MONTH.match(raw)
    if same:
        tail = f", {same['year']}" if same["year"] else ""
        end_text = f"{same['month']} {same['d2']}{tail}"
        end, _ = day_and_year(end_text, year, example)
        start, _ = day_and_year(f"{same['month']} {same['d1']}{tail}", year, example)
        return start, end
    parts = split_range(raw)
    if parts is None:
        return None, date(raw, year, example)
    start_text, end_text = parts
    end, end_has_year = day_and_year(end_text, year, example)
    start_year = end.year if end_has_year else year
    if re.fullmatch(r"\d{1,2}", start_text.strip()):  # "28 - July 9", "31 - Feb 2": only a day
        return _day_before(int(start_text), end, text, example), end
    start, start_has_year = day_and_year(start_text, start_year, example)
    return across_new_year(start, end, start_has_year), end


def across_new_year(start: dt.date, end: dt.date, start_has_year: bool) -> dt.date:
    """A start after its end, its year not written, is in the year before when that spans at most
    `WRAP_DAYS` ("Dec 28 - Jan 3, 2020" starts on Dec 28, 2019); otherwise it stays, to be refused."""
    if start <= end or start_has_year:
        return start
    try:
        earlier = start.replace(year=start.year - 1)
    except ValueError:  # Feb 29
        return start
    return earlier if (end - earlier).days <= WRAP_DAYS else start


def _day_before(day: int, end: dt.date, text: str, example: str) -> dt.date:
    """The start of a range written as a lone day: that day in the end's month, or else the month before
    ("31 - Feb 2" starts on Jan 31)."""
    if day <= end.day and day >= 1:
        return end.replace(day=day)
    before = end.replace(day=1) - dt.timedelta(days=1)
    if 1 <= day <= before.day:
        return before.replace(day=day)
    raise UsageError(
        f"'{shown(text)}': {day} is not a day of {end:%B} or of {before:%B}. {DATE_HELP}", example
    )

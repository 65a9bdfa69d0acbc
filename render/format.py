"""Small formatting helpers shared by every renderer."""

from __future__ import annotations

import datetime as dt
import re

import discord

from db.vocabulary import PARTY_LETTER, contest_name

# Every character discord.py's escapes act on: markdown (`_ \ ~ | * ``, and `>`, `[`, `#` or `-` where they
# begin a quote, a link, a heading or a list) and mentions (`@`). Text without any is shown as it is, and
# most names and titles have none: a card escapes some thirty of them, each two regex passes.
_ESCAPED = frozenset("_\\~|*`>[#-@")


def escape(text: str | None) -> str:
    """Data text shown as typed: no markdown effects, no mention syntax."""
    if not text:
        return ""
    if _ESCAPED.isdisjoint(text):
        return text
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Words that begin a surname of several ("Van Hollen", "De La Cruz"), never taken from a first name.
SURNAME_PARTICLES = frozenset(
    {"da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "la", "le", "st", "van", "von"}
)


# Surnames of two words with no particle, as the FEC's candidate file writes them ("CORTEZ MASTO, CATHERINE"):
# those of people in the data racedesk ships. A name's words say nothing of where its surname begins.
TWO_WORD_SURNAMES = frozenset(
    {
        "barzee flores", "blunt rochester", "cortes barragan", "cortez masto", "grechen shirley",
        "herrera beutler", "lee lake", "lujan grisham", "marquez peterson", "mcmorris rodgers",
        "mitsch bush", "perez gissy", "san nicolas", "torres small", "wasserman schultz",
    }
)  # fmt: skip
# A line on the ballot that is no person ("None Of The Above", Nevada's): shown whole.
NOT_A_PERSON = re.compile(r"(?i)none of (the above|these candidates)")


def display_surname(name: str) -> str:
    """ "Angus S. King, Jr." -> "King"; "Joseph R. Biden Jr." -> "Biden"; "Chris Van Hollen" -> "Van Hollen";
    "Catherine Cortez Masto" -> "Cortez Masto"."""
    if NOT_A_PERSON.fullmatch(name.strip()):
        return name.strip()
    words = [w for w in name.replace(",", " ").split() if w.lower().rstrip(".") not in SUFFIXES]
    if not words:
        return name
    start = len(words) - 1
    if start > 1 and " ".join(words[-2:]).lower() in TWO_WORD_SURNAMES:
        start -= 1
    while start > 1 and words[start - 1].lower().rstrip(".") in SURNAME_PARTICLES:
        start -= 1
    return " ".join(words[start:])


def party_letter(party: str | None) -> str:
    if not party:
        return ""
    return PARTY_LETTER.get(party.upper(), party[:3].upper())


def with_party(name: str, party: str | None) -> str:
    letter = party_letter(party)
    return f"{name} ({letter})" if letter else name


def votes(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}%"


# Month names by hand, not `%b`: strftime costs ten times as much (a polls page formats dozens of dates) and
# follows the process's locale.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month(day: dt.date) -> str:
    return MONTHS[day.month - 1]


def short_date(day: dt.date | None) -> str:
    if day is None:
        return "date not set"
    return f"{month(day)} {day.day}, {day.year}"


def date_range(start: dt.date | None, end: dt.date) -> str:
    """ "Jul 2–9, 2020", "Jun 28–Jul 9, 2020", "Dec 30, 2019–Jan 4, 2020"."""
    if start is None or start == end:
        return short_date(end)
    if start.year != end.year:
        return f"{short_date(start)}–{short_date(end)}"
    if start.month != end.month:
        return f"{month(start)} {start.day}–{month(end)} {end.day}, {end.year}"
    return f"{month(start)} {start.day}–{end.day}, {end.year}"


def timestamp(moment: dt.datetime, style: str = "f") -> str:
    """Discord shows this in each member's own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def stage_title(stage: str, party: str | None) -> str:
    name = contest_name(stage, party)
    return name[0].upper() + name[1:]


def count_label(final: bool, unofficial: bool, certified: bool = False) -> str:
    """How official a count is, as the data says: "unofficial" (or "final, unofficial" when the count is
    complete), "official", "final", or "final, certified" (`certified`: the stage is, and this is its count)."""
    if unofficial:
        return "final, unofficial" if final else "unofficial"
    if certified:
        return "final, certified"
    return "final" if final else "official"

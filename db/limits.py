"""The limits shared data keeps, whoever writes it: the desk's commands (`db/writes`, and the desk's
parsers for their early replies) and every import (the importers, and `db/dataset/load.py` for racedesk/1
documents). One place, so that a number the desk refuses is refused by an import too, with the same words.

Each check returns the value (as the store keeps it) or raises `OutOfRange`, whose message says what was
wrong and what is allowed. Numbers must be finite: NaN and infinity are never a share, a count or a size.
The file limits (sizes, archive contents, JSON depth) are here too: `db.importers.files` applies them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from db.writes.errors import WriteError

#: Elections a race may belong to: the first federal elections to a century from now.
CYCLE_MIN, CYCLE_MAX = 1788, 2100
#: One candidate's votes, or any count kind's: above any electorate (about 160 million voted in 2020).
MAX_VOTES = 1_000_000_000
#: A poll's sample: the largest published online panels are some hundreds of thousands.
MAX_SAMPLE_SIZE = 1_000_000
MAX_PRECINCTS = 1_000_000
MAX_SEATS = 1_000
#: Rounding lets a poll's shares add up to a little over 100.
SHARE_SLACK = 1.0

MiB = 1024 * 1024
#: An attachment `!import` downloads: Discord's own upload limit for most servers. What a file describes is
#: held in memory until it is stored (about 5 times the file's size for FiveThirtyEight's polls), so this
#: also keeps the bot within twice its resting memory (bench/import_memory.py).
MAX_UPLOAD_BYTES = 10 * MiB
#: A file `racedesk import` reads: CSVs are streamed, but what they describe is held until it is stored.
MAX_FILE_BYTES = 256 * MiB
#: A JSON document is parsed whole, so it is held to less.
MAX_JSON_BYTES = 64 * MiB
#: racedesk/1 nests 9 deep (document, races, race, contests, contest, results, result, counts, count).
MAX_JSON_DEPTH = 32
#: An archive: what it may unpack to, member by member and in all, and how much each member may grow.
MAX_MEMBER_BYTES = 32 * MiB
MAX_UNPACKED_BYTES = 512 * MiB
MAX_MEMBERS = 1_000
MAX_RATIO = 100
#: One line of a CSV file, in characters.
MAX_LINE_CHARS = 1 * MiB

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OutOfRange(WriteError):
    """A value outside what shared data allows; the message is meant for people. A desk write refuses
    with it as with any WriteError; an importer adds the line it was on."""


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _number(value: Any) -> float | int | None:
    """An int or float from a number, or from its text ("1,392,100", "43.9"); None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"[+-]?\d{1,40}", text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return None
    return None


def whole(value: Any, what: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`: an int, an integral float, or their text."""
    number = _number(value)
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        raise OutOfRange(f"{what}: '{_shown(value)}' is not a number from {low:,} to {high:,}.")
    if isinstance(number, float):
        if not number.is_integer():
            raise OutOfRange(f"{what} must be a whole number, not {_shown(value)}.")
        number = int(number)
    if not low <= number <= high:
        raise OutOfRange(f"{what} must be from {low:,} to {high:,}, not {_shown(value)}.")
    return number


def votes(value: Any, who: str = "votes") -> int:
    """A count of votes: 0 to MAX_VOTES."""
    number = _number(value)
    if number is not None and math.isfinite(number) and number < 0:
        raise OutOfRange(f"Votes cannot be negative: {who}={_shown(value)}.")
    if number is None or not math.isfinite(number) or (isinstance(number, float) and not number.is_integer()):
        raise OutOfRange(f"{who}: '{_shown(value)}' is not a number of votes (a whole number, e.g. 1392100).")
    if number > MAX_VOTES:
        raise OutOfRange(f"Votes cannot be over {MAX_VOTES:,}: {who}={_shown(value)}.")
    return int(number)


def sample_size(value: Any) -> int:
    return whole(value, "The sample size", 1, MAX_SAMPLE_SIZE)


def cycle(value: Any) -> int:
    return whole(value, "The cycle (the election's year)", CYCLE_MIN, CYCLE_MAX)


def precincts(value: Any, what: str = "Precincts") -> int:
    return whole(value, what, 0, MAX_PRECINCTS)


def seats(value: Any) -> int:
    return whole(value, "Seats not up", 0, MAX_SEATS)


def percentage(value: Any, who: str, noun: str = "A share") -> float:
    """A share of 0 to 100 (percent); NaN and infinity are not percentages."""
    number = _number(value)
    if number is None or not math.isfinite(number):
        raise OutOfRange(f"{who}={_shown(value)}: '{_shown(value)}' is not a percentage (0 to 100).")
    if number < 0:
        raise OutOfRange(f"{noun} cannot be negative: {who}={_shown(value)}.")
    if number > 100:
        raise OutOfRange(f"{noun} cannot be over 100%: {who}={_shown(value)}.")
    return float(number)


def share(value: Any, who: str) -> float:
    return percentage(value, who)


def reporting(value: Any) -> float:
    return percentage(value, "reporting", noun="Reporting")


def shares_total(shares: Iterable[float]) -> float:
    """The shares of one question together: at most 100 (and a little, for rounding)."""
    total = sum(shares)
    if total > 100 + SHARE_SLACK:
        raise OutOfRange(f"The shares add up to {total:g}%, over 100%: check the numbers.")
    return total


def has_control(value: str) -> bool:
    """Whether `text` would refuse this text (checked without naming it: a row's many texts cost less)."""
    return _CONTROL.search(value) is not None


def text(value: Any, what: str) -> str:
    """Text stored for people to read: no NUL or other control characters (tabs and line breaks aside)."""
    if not isinstance(value, str):
        raise OutOfRange(f"{what} must be text, not {type(value).__name__}.")
    found = _CONTROL.search(value)
    if found:
        raise OutOfRange(
            f"{what} holds a control character (U+{ord(found.group()):04X}) at position {found.start() + 1}."
        )
    return value

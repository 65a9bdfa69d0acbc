"""Reading what moderators type: words that name the race and stage, `key=value` pairs, quotes, numbers
and dates. Pure; every problem is a UsageError that says what is wrong and shows an example. Each
`parse_<command>` hands back the write's own input (db/writes), or a `Draft` that makes it once the race it
names is found: a new desk field is one key here and one field in the write.

    !result alabama general Tuberville=1,392,100 Jones=920500 reporting=99.5% source=AP
    !poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 ...

Forgiving where it is safe: smart quotes, `Tuberville = 5` with spaces, `Tuberville 44 Jones 36` for a
result's or a poll's numbers, votes with commas, shares with or without `%`, dates as "July 2-9", "7/14/20"
or "July 2-9, 2020" (cogs.support.dates; a year left out is the race's cycle year).
Never guessing where it is not: an unknown key, a number that is not one, or a date dateutil cannot read is
refused.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from cogs.support.dates import across_new_year, ascii_digits_only, date, date_range, day_and_year
from cogs.support.errors import UsageError
from db import limits, vocabulary
from db.districts import district_problem
from db.lookup import parse_query, state_name
from db.models import LARGEST_ID, CallKind, EndorserKind, Office, Race, Stage
from db.vocabulary import (
    ANY_RUNOFF,
    ENDORSER_KIND_WORDS,
    PARTY_WORDS,
    POPULATION_WORDS,
    STAGE_WORDS,
    STANCE_WORDS,
    is_stage_word,
    kind_key,
)
from db.writes.common import StageRef
from db.writes.polls import EndorsementInput, PollInput
from db.writes.races import CandidateEdit, CandidateInput, ContestDate, RaceEdit, RaceInput
from db.writes.results import CallInput, ResultInput
from render.limits import clip

T = TypeVar("T")
V = TypeVar("V")

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "＂": '"'})
TRUE_WORDS = {"yes", "y", "true", "1", "on"}
FALSE_WORDS = {"no", "n", "false", "0", "off"}


@dataclass
class Parsed:
    words: list[str]  # the free words, in order
    pairs: list[tuple[str, str]]  # (key as typed, value), in order

    def keys(self) -> list[str]:
        return [k for k, _ in self.pairs]


# Characters no field may hold: control characters (NUL among them) other than the whitespace between words,
# lone surrogates, and the marks that reverse or isolate text so that it reads otherwise than it is stored.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def refuse_control_characters(text: str, example: str) -> None:
    """Wrong input: a control character anywhere in what was typed (tabs and line breaks separate words)."""
    for character in text:
        if character in "\t\n\r":
            continue
        if unicodedata.category(character) in ("Cc", "Cs") or character in BIDI_CONTROLS:
            raise UsageError(
                f"That holds a control character (U+{ord(character):04X}), which no field may: type it again "
                "without it.",
                example,
            )


def tokenize(text: str, example: str) -> list[str]:
    """Words, with "double quotes" around spaces; single quotes are letters (O'Rourke). Control characters
    are refused."""
    refuse_control_characters(text, example)
    lexer = shlex.shlex(text.translate(SMART_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        raw = list(lexer)
    except ValueError:
        raise UsageError('A quote (") is not closed.', example) from None
    merged: list[str] = []
    i = 0
    while i < len(raw):  # "Tuberville = 5", "Tuberville= 5", "Tuberville =5"
        token = raw[i]
        if token == "=" and merged and i + 1 < len(raw):
            merged[-1] = f"{merged[-1]}={raw[i + 1]}"
            i += 2
            continue
        if token.endswith("=") and token.count("=") == 1 and i + 1 < len(raw) and "=" not in raw[i + 1]:
            merged.append(token + raw[i + 1])
            i += 2
            continue
        if token.startswith("=") and merged and "=" not in merged[-1]:
            merged[-1] = merged[-1] + token
            i += 1
            continue
        merged.append(token)
        i += 1
    return merged


def split_pairs(text: str | None, example: str) -> Parsed:
    words: list[str] = []
    pairs: list[tuple[str, str]] = []
    for token in tokenize(text or "", example):
        if "=" in token and not token.startswith("="):
            key, value = token.split("=", 1)
            key = key.strip()
            if not key:
                raise UsageError(f"'{token}' has no name before the `=`.", example)
            pairs.append((key, value.strip()))
        elif token.startswith("="):
            raise UsageError(f"'{token}' has no name before the `=`.", example)
        else:
            words.append(token)
    return Parsed(words, pairs)


# A number as moderators type one after a name: "44", "43.9%", "1,392,100".
BARE_NUMBER = re.compile(r"-?\d[\d,_.]*%?")


def with_bare_pairs(parsed: Parsed) -> Parsed:
    """`Tuberville 44 Jones 36` read as `Tuberville=44 Jones=36`: names, each followed by its number, at the
    end of the free words. A word or a number that names the race is left to it ("new york 12" is a
    district, "alabama 2020" and "doug jones 2017" a year): a count that reads as a year is written
    `Jones=2017` or `Jones 2,017`."""
    words = list(parsed.words)
    bare: list[tuple[str, str]] = []
    while len(words) >= 2 and _is_bare_pair(words[:-2], words[-2], words[-1]):
        bare.insert(0, (words[-2], words[-1]))
        del words[-2:]
    return Parsed(words, bare + parsed.pairs) if bare else parsed


def _is_bare_pair(before: list[str], name: str, number: str) -> bool:
    if not BARE_NUMBER.fullmatch(number) or not re.search(r"[^\W\d_]", name) or re.search(r"\d", name):
        return False
    race = _race_parts(before)
    return _race_parts([*before, name]) == race == _race_parts([*before, name, number])


def _race_parts(words: list[str]) -> tuple[object, ...]:
    """What the words say of the race, names aside."""
    query = parse_query(" ".join(words))
    return (query.cycle, query.state, query.office, query.district, query.special, query.seat, query.said)


def _fold(key: str) -> str:
    return key.lower().replace("_", "-")


def known_key(key: str, aliases: dict[str, str]) -> str | None:
    return aliases.get(_fold(key))


def unknown_key_error(
    key: str, aliases: dict[str, str], example: str, candidates_allowed: bool
) -> UsageError:
    names = sorted(set(aliases.values()))
    close = process.extractOne(_fold(key), list(aliases), scorer=fuzz.ratio, score_cutoff=70)
    hint = f" Did you mean `{aliases[close[0]]}`?" if close else ""
    keys = ", ".join(f"`{n}`" for n in names)
    if candidates_allowed:
        return UsageError(f"'{key}' is neither a key nor a candidate here.{hint} Keys: {keys}.", example)
    return UsageError(f"There is no key '{key}'.{hint} Keys: {keys}.", example)


# ------------------------------------------------------------------ numbers


SHOWN_LENGTH = 40  # of a value quoted back in a refusal: a pasted wall of digits is not repeated whole


def shown(value: str) -> str:
    return clip(value, SHOWN_LENGTH)


def _digits_checked(value: str, who: str, example: str) -> None:
    """Only 0-9 count as digits: `Tuberville=٣٤٥` is refused, not read as 345."""
    if not ascii_digits_only(value):
        raise UsageError(f"{who}={shown(value)}: write numbers with the digits 0-9.", example)


def votes(value: str, who: str, example: str) -> int:
    _digits_checked(value, who, example)
    text = value.strip().replace(",", "").replace("_", "").replace("\u202f", "").replace(" ", "")
    if re.fullmatch(r"-\d+", text):
        raise UsageError(f"Votes cannot be negative: {who}={shown(value)}.", example)
    if re.fullmatch(r"\d+\.\d+", text):
        raise UsageError(f"Votes are whole numbers: {who}={shown(value)}.", example)
    if not re.fullmatch(r"\d{1,12}", text):
        raise UsageError(
            f"{who}={shown(value) or '(nothing)'}: '{shown(value)}' is not a number of votes.", example
        )
    return _within(lambda: limits.votes(int(text), who), example)


def _within(check: Callable[[], T], example: str) -> T:
    """A check of db/limits.py, the limits every write and import keeps, as a usage reply."""
    try:
        return check()
    except limits.OutOfRange as problem:
        raise UsageError(str(problem), example) from None


def whole(value: str, what: str, example: str) -> int:
    _digits_checked(value, what, example)
    text = value.strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"\d{1,9}", text):
        raise UsageError(f"{what} must be a whole number, not '{shown(value)}'.", example)
    return int(text)


def percent(value: str, who: str, example: str, noun: str = "A share") -> float:
    _digits_checked(value, who, example)
    text = value.strip().rstrip("%").strip()
    if not re.fullmatch(r"-?(?:[0-9]{1,12}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})", text):
        raise UsageError(
            f"{who}={shown(value) or '(nothing)'}: '{shown(value)}' is not a percentage.", example
        )
    return _within(lambda: limits.percentage(float(text), who, noun), example)


def record_id(value: int, noun: str, example: str) -> int:
    """An id as typed (`poll remove 12`): one that no record can have is refused here, before any query
    (99999999999999999999 overflows the database's integer)."""
    if not 1 <= value <= LARGEST_ID:
        raise UsageError(f"There is no {noun} #{value}.", example)
    return value


def boolean(value: str, what: str, example: str) -> bool:
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise UsageError(f"{what} takes yes or no, not '{shown(value)}'.", example)


def text_value(value: str, what: str, example: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise UsageError(f"`{what}=` needs a value.", example)
    return text


def url_value(value: str, example: str) -> str:
    text = value.strip()
    if not re.fullmatch(r"https?://[^\s<>]+", text) or len(text) > 1000:
        raise UsageError(f"'{value[:80]}' is not a web address (it should start with https://).", example)
    return text


# ------------------------------------------------------------------ stages


@dataclass
class StagePhrase:
    ref: StageRef
    words: list[str]  # as typed
    start: int  # index in the words
    end: int  # one past the last


def stage_of(words: list[str]) -> StageRef:
    return StageRef(*vocabulary.stage_of(words))


def find_stage(words: list[str]) -> StagePhrase | None:
    """The first run of stage and party words that comes after at least one other word."""
    for start in range(1, len(words)):
        if is_stage_word(words[start]):
            end = start
            while end < len(words) and is_stage_word(words[end]):
                end += 1
            return StagePhrase(stage_of(words[start:end]), words[start:end], start, end)
    return None


@dataclass
class RaceAndStage:
    race: str
    stage: StageRef
    rest: list[str] = field(default_factory=list)
    stage_words: list[str] = field(default_factory=list)


def race_and_stage(words: list[str]) -> RaceAndStage:
    phrase = find_stage(words)
    if phrase is None:
        return RaceAndStage(" ".join(words), StageRef())
    return RaceAndStage(" ".join(words[: phrase.start]), phrase.ref, words[phrase.end :], phrase.words)


KEY_VALUE = "Name values as `key=value`."
NAME_NUMBER = "Give each name its number (`Tuberville 44 Jones 36`), or name values as `key=value`."


def _no_rest(found: RaceAndStage, example: str, expected: str = KEY_VALUE) -> None:
    if found.rest:
        raise UsageError(
            f"I don't know what '{' '.join(found.rest)}' means after the stage. {expected}", example
        )


def _need_race(race: str, example: str) -> None:
    if not race.strip():
        raise UsageError("Which race? Name a state, a candidate or a year first.", example)


# ------------------------------------------------------------------ what the parse hands the write

RACE_NOT_YET = 0  # the race_id of a draft's input until the race is found


@dataclass(frozen=True)
class Draft(Generic[T]):
    """A write's input as typed: the words that name its race, and the input itself once that race is found
    (a date without a year takes the race's cycle year)."""

    race: str
    make: Callable[[Race], T]


def _candidate_number(
    key: str, value: str, aliases: dict[str, str], what: str, read: Callable[[str, str, str], V], example: str
) -> V:
    """`Name=number` for a candidate; a key that is no name, a misspelt key or no number is refused."""
    if not re.search(r"[A-Za-z]", key):
        raise UsageError(f"'{key}={value}': '{key}' is not a name.", example)
    if _looks_like_key(key, aliases):
        raise unknown_key_error(key, aliases, example, candidates_allowed=True)
    if not re.search(r"\d", value):
        keys = ", ".join(f"`{k}`" for k in sorted(set(aliases.values())))
        raise UsageError(
            f"{key}={value}: '{value}' is not {what}, and '{key}' is not a key ({keys}).", example
        )
    return read(value, key, example)


def _looks_like_key(key: str, aliases: dict[str, str]) -> bool:
    """A misspelt key ("reportng", "polster"), not a candidate's name."""
    return (
        process.extractOne(_fold(key), [a for a in aliases if len(a) > 2], scorer=fuzz.ratio, score_cutoff=80)
        is not None
    )


def _as_typed(value: str, _name: str, _example: str) -> str:
    return value


def _values(
    parsed: Parsed, aliases: dict[str, str], example: str, read: Callable[[str, str, str], str] = _as_typed
) -> dict[str, str]:
    """The `key=value` pairs by their keys' own names, each value read by `read`; any other key is refused."""
    values: dict[str, str] = {}
    for key, value in parsed.pairs:
        name = known_key(key, aliases)
        if name is None:
            raise unknown_key_error(key, aliases, example, candidates_allowed=False)
        values[name] = read(value, name, example)
    return values


# ------------------------------------------------------------------ result


RESULT_KEYS = {
    "reporting": "reporting",
    "reported": "reporting",
    "in": "reporting",
    "precincts": "precincts",
    "source": "source",
    "src": "source",
    "final": "final",
    "official": "official",
} | vocabulary.COUNT_KIND_WORDS


def _precincts(value: str, example: str) -> tuple[int, int]:
    _digits_checked(value, "precincts", example)
    match = re.fullmatch(r"\s*([\d,]+)\s*(?:/|of)\s*([\d,]+)\s*", value)
    if not match:
        raise UsageError(
            f"precincts={value}: write it as reporting/total, e.g. `precincts=1850/1980`.", example
        )
    return whole(match[1], "precincts", example), whole(match[2], "precincts", example)


def parse_result(text: str | None, example: str) -> Draft[ResultInput]:
    parsed = with_bare_pairs(split_pairs(text, example))
    found = race_and_stage(parsed.words)
    _need_race(found.race, example)
    _no_rest(found, example, NAME_NUMBER)
    data = ResultInput(RACE_NOT_YET, found.stage, counts=[])
    for key, value in parsed.pairs:
        name = known_key(key, RESULT_KEYS)
        if name is None:
            data.counts.append(
                (key, _candidate_number(key, value, RESULT_KEYS, "a number of votes", votes, example))
            )
        elif name == "reporting":
            data.reporting_pct = percent(value, "reporting", example, noun="Reporting")
        elif name == "precincts":
            data.precincts = _precincts(value, example)
        elif name == "source":
            data.source = text_value(value, "source", example)
        elif name in vocabulary.COUNT_KIND_NAME:
            data.other[name] = votes(value, key, example)
        elif name in ("final", "official"):
            setattr(data, name, boolean(value, name, example))
    if not data.counts:
        raise UsageError(
            "Give each candidate's votes: `Tuberville 1392100 Jones 920500` or `Name=votes`.", example
        )
    return Draft(found.race, lambda race: replace(data, race_id=race.id))


# ------------------------------------------------------------------ call and uncall


CALL_KEYS = {"source": "source", "src": "source", "by": "source"}
TOO_CLOSE = {"too-close", "tooclose", "too_close"}


def _call_source(parsed: Parsed, example: str) -> str | None:
    """A call's or an uncall's one key: `source=`."""
    return _values(parsed, CALL_KEYS, example, read=text_value).get("source")


def _called(words: list[str], example: str) -> tuple[str, StageRef, str, list[str]]:
    """The race words, the stage, the kind of call and the names it makes."""
    lowered = [w.lower() for w in words]
    too_close = False
    for i in range(len(lowered)):
        if lowered[i] in TOO_CLOSE or (
            lowered[i] == "too" and i + 1 < len(lowered) and lowered[i + 1] == "close"
        ):
            width = 1 if lowered[i] in TOO_CLOSE else 2
            if i + width != len(words):
                raise UsageError("`too close` comes last, after the race and stage.", example)
            words, too_close = words[:i], True
            break
    found = race_and_stage(words)
    if too_close:
        _need_race(found.race, example)
        _no_rest(found, example)
        return found.race, found.stage, CallKind.TOO_CLOSE, []
    if found.stage_words:
        _need_race(found.race, example)
        rest = found.rest
        if rest and rest[0].lower() in ("runoff", "run-off"):
            return found.race, found.stage, CallKind.RUNOFF, rest[1:]
        if found.stage_words[-1].lower() in ("runoff", "run-off") and len(rest) >= 2:
            return found.race, stage_of(found.stage_words[:-1]), CallKind.RUNOFF, rest
        if not rest:
            raise UsageError("Name the winner after the stage.", example)
        return found.race, found.stage, CallKind.WINNER, [" ".join(rest)]
    if len(words) < 2:
        raise UsageError("Name the race, then the winner.", example)
    return " ".join(words[:-1]), StageRef(), CallKind.WINNER, [words[-1]]


def parse_call(text: str | None, example: str) -> Draft[CallInput]:
    parsed = split_pairs(text, example)
    source = _call_source(parsed, example)
    race, stage, kind, names = _called(list(parsed.words), example)
    return Draft(race, lambda found: CallInput(found.id, stage, kind, names, source))


def parse_uncall(text: str | None, example: str) -> Draft[CallInput]:
    """An uncall is a call of kind `uncalled`: the stage's call is withdrawn."""
    parsed = split_pairs(text, example)
    source = _call_source(parsed, example)
    found = race_and_stage(parsed.words)
    _need_race(found.race, example)
    _no_rest(found, example)
    return Draft(found.race, lambda race: CallInput(race.id, found.stage, CallKind.UNCALLED, [], source))


# ------------------------------------------------------------------ poll


POLL_KEYS = {
    "pollster": "pollster",
    "by": "pollster",
    "dates": "dates",
    "date": "dates",
    "fielded": "dates",
    "start": "start",
    "end": "end",
    "n": "n",
    "sample": "n",
    "sample-size": "n",
    "pop": "pop",
    "population": "pop",
    "sponsor": "sponsor",
    "url": "url",
    "link": "url",
    "hypothetical": "hypothetical",
    "partisan": "partisan",
    "internal": "internal",
    "force": "force",
}


@dataclass
class Fielded:
    """When a poll was fielded, as typed: `dates=` or `start=`/`end=`."""

    dates: str | None = None
    start: str | None = None
    end: str | None = None

    def days(self, year: int, example: str) -> tuple[dt.date | None, dt.date]:
        """The first and last day, a missing year being `year` (the race's cycle)."""
        if self.dates is not None:
            if self.start is not None or self.end is not None:
                raise UsageError("Give `dates=` or `start=`/`end=`, not both.", example)
            return date_range(self.dates, year, example)
        if self.end is None:
            raise UsageError('When was the poll fielded? Add `dates="July 2-9, 2020"`.', example)
        end, end_has_year = day_and_year(self.end, year, example)
        if self.start is None:
            return None, end
        start, start_has_year = day_and_year(self.start, end.year if end_has_year else year, example)
        return across_new_year(start, end, start_has_year), end


def _population(value: str, example: str) -> str:
    population = POPULATION_WORDS.get(" ".join(value.lower().split()))
    if population is None:
        raise UsageError(
            f"pop={value}: use lv, rv, a or v (likely voters, registered, adults, voters).", example
        )
    return population


def parse_poll(text: str | None, example: str) -> Draft[PollInput]:
    typed = split_pairs(text, example)
    words = [w for w in typed.words if w.lower() != "hypothetical"]
    parsed = with_bare_pairs(Parsed(words, typed.pairs))
    found = race_and_stage(parsed.words)
    _need_race(found.race, example)
    _no_rest(found, example, NAME_NUMBER)
    data = PollInput(RACE_NOT_YET, pollster="", end=dt.date.min, answers=[], stage=found.stage)
    data.hypothetical = len(words) != len(typed.words)
    fielded = Fielded()
    for key, value in parsed.pairs:
        name = known_key(key, POLL_KEYS)
        if name is None:
            data.answers.append((key, _candidate_number(key, value, POLL_KEYS, "a share", percent, example)))
        elif name == "pollster":
            data.pollster = text_value(value, "pollster", example)
        elif name in ("dates", "start", "end"):
            setattr(fielded, name, text_value(value, name, example))
        elif name == "n":
            data.sample_size = whole(value, "The sample size (n)", example)
        elif name == "pop":
            data.population = _population(value, example)
        elif name == "sponsor":
            data.sponsor = text_value(value, "sponsor", example)
        elif name == "url":
            data.url = url_value(value, example)
        elif name == "partisan":
            data.partisan = text_value(value, "partisan", example).upper()[:16]
        elif name in ("hypothetical", "internal", "force"):
            setattr(data, name, boolean(value, name, example))
    if not data.pollster:
        raise UsageError('Who ran the poll? Add `pollster="..."`.', example)
    if len(data.answers) < 2:
        raise UsageError(
            "Give at least two answers, e.g. `Tuberville 43.9 Jones 35.5` or `Tuberville=43.9 Jones=35.5`.",
            example,
        )
    _within(lambda: limits.shares_total(p for _, p in data.answers), example)

    def make(race: Race) -> PollInput:
        start, end = fielded.days(race.cycle, example)
        return replace(data, race_id=race.id, start=start, end=end)

    return Draft(found.race, make)


# ------------------------------------------------------------------ endorsement


ENDORSE_KEYS = {
    "endorser": "endorser",
    "by": "endorser",
    "who": "endorser",
    "candidate": "candidate",
    "for": "candidate",
    "of": "candidate",
    "stance": "stance",
    "kind": "kind",
    "type": "kind",
    "date": "date",
    "on": "date",
    "url": "url",
    "link": "url",
    "source": "source",
    "quote": "quote",
}


def parse_endorse(text: str | None, example: str) -> Draft[EndorsementInput]:
    parsed = split_pairs(text, example)
    race = " ".join(parsed.words)
    _need_race(race, example)
    values = _values(parsed, ENDORSE_KEYS, example)
    if not values.get("endorser", "").strip():
        raise UsageError('Who endorsed? Add `endorser="Donald Trump"`.', example)
    if not values.get("candidate", "").strip():
        raise UsageError("Whom? Add `candidate=Tuberville`.", example)
    data = EndorsementInput(
        RACE_NOT_YET,
        text_value(values["endorser"], "endorser", example),
        text_value(values["candidate"], "candidate", example),
    )
    if "stance" in values:
        stance = STANCE_WORDS.get(values["stance"].strip().lower())
        if stance is None:
            raise UsageError(f"stance={values['stance']}: use endorse, oppose, withhold or rescind.", example)
        data.stance = stance
    if "kind" in values:
        kind = ENDORSER_KIND_WORDS.get(kind_key(values["kind"]))
        if kind is None:
            options = ", ".join(k.value for k in EndorserKind)
            raise UsageError(f"kind={values['kind']}: use one of {options}.", example)
        data.kind = kind
    day = text_value(values["date"], "date", example) if "date" in values else None
    data.url = url_value(values["url"], example) if "url" in values else None
    data.source = text_value(values["source"], "source", example) if "source" in values else None
    data.quote = text_value(values["quote"], "quote", example) if "quote" in values else None

    def make(found: Race) -> EndorsementInput:
        return replace(data, race_id=found.id, date=date(day, found.cycle, example) if day else None)

    return Draft(race, make)


# ------------------------------------------------------------------ races


def contest_key(key: str) -> tuple[str, str] | None:
    """`general`, `primary`, `rep-primary`, `dem-runoff`, `general-runoff`, `jungle` → (stage, party)."""
    parts = [p for p in re.split(r"[-_ ]", key.lower()) if p]
    if not parts or not all(p in STAGE_WORDS or p in PARTY_WORDS for p in parts):
        return None
    ref = stage_of(parts)
    if ref.stage is None:
        return None
    stage = Stage.PRIMARY_RUNOFF if ref.stage == ANY_RUNOFF else ref.stage
    return stage, ref.party or ""


RACE_KEYS = {
    "seat": "seat",
    "class": "seat",
    "notes": "notes",
    "note": "notes",
    "source": "source",
    "incumbent-party": "incumbent_party",
    "party": "incumbent_party",
    "incumbent": "incumbent",
}


@dataclass
class RaceForm:
    words: list[str]
    fields: dict[str, str]
    contests: list[tuple[str, str, str]]  # (stage, party, date text)
    incumbent: str | None = None

    def dated(self, year: int, example: str) -> list[ContestDate]:
        """The stages with their dates, a missing year being `year`."""
        return [
            ContestDate(stage, party, date(day, year, example) if day else None)
            for stage, party, day in self.contests
        ]


def parse_race(text: str | None, example: str, *, editing: bool) -> RaceForm:
    parsed = split_pairs(text, example)
    form = RaceForm(parsed.words, {}, [])
    for key, value in parsed.pairs:
        stage = contest_key(key)
        if stage is not None:
            form.contests.append((stage[0], stage[1], value.strip()))
            continue
        name = known_key(key, RACE_KEYS)
        if name is None:
            raise UsageError(
                f"There is no key '{key}'. Keys: seat, notes, source, incumbent-party, incumbent, and stage "
                'dates such as general=2026-11-03, rep-primary="May 19", runoff="June 16".',
                example,
            )
        if name == "incumbent":
            if not editing:
                raise UsageError(
                    "Add the race first, then its candidates; `race-edit` sets the incumbent.", example
                )
            form.incumbent = value.strip()
        elif name == "incumbent_party":
            form.fields[name] = text_value(value, key, example).upper()
        else:
            form.fields[name] = value.strip()
    _need_race(" ".join(form.words), example)
    return form


def parse_race_add(text: str | None, example: str) -> RaceInput:
    """A new race: its state, office and year are read from the words the way `!race` reads them."""
    form = parse_race(text, example, editing=False)
    query = parse_query(" ".join(form.words))
    needs = (("a state", query.state), ("an office", query.office), ("a year", query.cycle))
    missing = [what for what, value in needs if not value]
    years = [w for w in query.name_words if re.fullmatch(r"[0-9]{3,}", w)]
    if not query.cycle and years:
        raise UsageError(f"{years[0]} is not a year of a race here: give one from 1970 to 2099.", example)
    if missing:
        raise UsageError(f"A new race needs {', '.join(missing)}.", example)
    assert query.state and query.office and query.cycle
    district = query.district
    numbers = [w for w in query.name_words if w.isdigit() and ascii_digits_only(w)]
    if query.office == Office.HOUSE and district is None and len(numbers) == 1:  # "alabama house 2026 2"
        district = str(int(numbers[0]))
    if query.office == Office.HOUSE and district is not None:
        problem = district_problem(query.state, query.cycle, district)
        if problem:
            raise UsageError(f"{state_name(query.state)} {problem}.", example)
    return RaceInput(
        state=query.state,
        office=query.office,
        cycle=query.cycle,
        seat=district or form.fields.get("seat", ""),
        special=bool(query.special),
        incumbent_party=form.fields.get("incumbent_party"),
        notes=form.fields.get("notes"),
        source=form.fields.get("source"),
        contests=form.dated(query.cycle, example),
    )


def parse_race_edit(text: str | None, example: str) -> Draft[RaceEdit]:
    form = parse_race(text, example, editing=True)
    return Draft(
        " ".join(form.words),
        lambda race: RaceEdit(race.id, dict(form.fields), form.dated(race.cycle, example), form.incumbent),
    )


# ------------------------------------------------------------------ candidates


CANDIDATE_KEYS = {
    "name": "name",
    "party": "party",
    "incumbent": "incumbent",
    "candidate": "candidate",
    "who": "candidate",
    "alias": "alias",
    "also": "alias",
    "withdrawn": "withdrawn",
    "office": "office_held",
    "office-held": "office_held",
}


@dataclass
class CandidateForm:
    race: str
    stage: StageRef
    values: dict[str, str]

    def flag(self, name: str, example: str) -> bool | None:
        """A yes/no value if it was given."""
        return boolean(self.values[name], name, example) if name in self.values else None


def parse_candidate(
    text: str | None, example: str, *, required: tuple[str, ...], allowed: tuple[str, ...]
) -> CandidateForm:
    parsed = split_pairs(text, example)
    words = list(parsed.words)
    flags = {w.lower() for w in words} & {"incumbent", "withdrawn"}
    words = [w for w in words if w.lower() not in flags]
    found = race_and_stage(words)
    _need_race(found.race, example)
    _no_rest(found, example)
    aliases = {k: v for k, v in CANDIDATE_KEYS.items() if v in allowed}
    values = {flag: "yes" for flag in flags if flag in allowed} | _values(parsed, aliases, example)
    for name in required:
        if not values.get(name, "").strip():
            raise UsageError(f"`{name}=` is missing.", example)
    return CandidateForm(found.race, found.stage, values)


def parse_candidate_add(text: str | None, example: str) -> Draft[CandidateInput]:
    form = parse_candidate(text, example, required=("name",), allowed=("name", "party", "incumbent"))
    values = form.values
    incumbent = bool(form.flag("incumbent", example))
    data = CandidateInput(RACE_NOT_YET, form.stage, values["name"], values.get("party"), incumbent)
    return Draft(form.race, lambda race: replace(data, race_id=race.id))


def parse_candidate_edit(text: str | None, example: str) -> Draft[CandidateEdit]:
    allowed = ("candidate", "name", "party", "alias", "withdrawn", "incumbent", "office_held")
    form = parse_candidate(text, example, required=("candidate",), allowed=allowed)
    values = form.values
    data = CandidateEdit(
        race_id=RACE_NOT_YET,
        candidate=values["candidate"],
        stage=form.stage,
        name=values.get("name"),
        party=values.get("party"),
        alias=values.get("alias"),
        withdrawn=form.flag("withdrawn", example),
        incumbent=form.flag("incumbent", example),
        office_held=values.get("office_held"),
    )
    return Draft(form.race, lambda race: replace(data, race_id=race.id))


MERGE_KEYS = {"from": "from", "merge": "from", "into": "into", "to": "into"}


def parse_merge(text: str | None, example: str) -> tuple[str, str, str]:
    parsed = split_pairs(text, example)
    race = " ".join(parsed.words)
    _need_race(race, example)
    values = _values(parsed, MERGE_KEYS, example, read=text_value)
    if "from" not in values or "into" not in values:
        raise UsageError("Say which record goes into which: `from=... into=...`.", example)
    return race, values["from"], values["into"]


def parse_candidate_merge(text: str | None, example: str) -> Draft[tuple[int, str, str]]:
    """(race id, the record merged, the record it goes into): `merge_candidates`' arguments."""
    race, merged, into = parse_merge(text, example)
    return Draft(race, lambda found: (found.id, merged, into))

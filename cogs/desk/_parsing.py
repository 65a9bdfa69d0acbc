"""Reading what moderators type: words that name the race and stage, `key=value` pairs, quotes, numbers
and dates. Pure; every problem is a ParseError that says what is wrong and shows an example.

    !result alabama general Tuberville=1,392,100 Jones=920500 reporting=99.5% source=AP
    !poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 ...

Forgiving where it is safe: smart quotes, `Tuberville = 5` with spaces, votes with commas, shares with or
without `%`, dates as "July 2-9", "7/14/20" or "July 2-9, 2020" (cogs.support.dates; a year left out is the
race's cycle year).
Never guessing where it is not: an unknown key, a number that is not one, or a date dateutil cannot read is
refused.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from cogs.support.dates import date as date  # the dates live in cogs.support.dates
from cogs.support.dates import date_range as date_range
from cogs.support.dates import day_and_year as _parse_day
from cogs.support.parsing import ParseError
from db import vocabulary
from db.models import CallKind, EndorserKind, Stage, Stance
from db.vocabulary import (
    ANY_RUNOFF,
    ENDORSER_KIND_WORDS,
    PARTY_WORDS,
    POPULATION_WORDS,
    STAGE_WORDS,
    STANCE_WORDS,
    is_stage_word,
)
from db.vocabulary import kind_key as _kind_key
from db.writes.common import StageRef

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "＂": '"'})
TRUE_WORDS = {"yes", "y", "true", "1", "on"}
FALSE_WORDS = {"no", "n", "false", "0", "off"}


@dataclass
class Parsed:
    words: list[str]  # the free words, in order
    pairs: list[tuple[str, str]]  # (key as typed, value), in order

    def keys(self) -> list[str]:
        return [k for k, _ in self.pairs]


def tokenize(text: str, example: str) -> list[str]:
    """Words, with "double quotes" around spaces; single quotes are letters (O'Rourke)."""
    lexer = shlex.shlex(text.translate(SMART_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        raw = list(lexer)
    except ValueError:
        raise ParseError('A quote (") is not closed.', example) from None
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
                raise ParseError(f"'{token}' has no name before the `=`.", example)
            pairs.append((key, value.strip()))
        elif token.startswith("="):
            raise ParseError(f"'{token}' has no name before the `=`.", example)
        else:
            words.append(token)
    return Parsed(words, pairs)


def _fold(key: str) -> str:
    return key.lower().replace("_", "-")


def known_key(key: str, aliases: dict[str, str]) -> str | None:
    return aliases.get(_fold(key))


def unknown_key_error(
    key: str, aliases: dict[str, str], example: str, candidates_allowed: bool
) -> ParseError:
    names = sorted(set(aliases.values()))
    close = process.extractOne(_fold(key), list(aliases), scorer=fuzz.ratio, score_cutoff=70)
    hint = f" Did you mean `{aliases[close[0]]}`?" if close else ""
    keys = ", ".join(f"`{n}`" for n in names)
    if candidates_allowed:
        return ParseError(f"'{key}' is neither a key nor a candidate here.{hint} Keys: {keys}.", example)
    return ParseError(f"There is no key '{key}'.{hint} Keys: {keys}.", example)


# ------------------------------------------------------------------ numbers


def votes(value: str, who: str, example: str) -> int:
    text = value.strip().replace(",", "").replace("_", "").replace("\u202f", "").replace(" ", "")
    if re.fullmatch(r"-\d+", text):
        raise ParseError(f"Votes cannot be negative: {who}={value}.", example)
    if re.fullmatch(r"\d+\.\d+", text):
        raise ParseError(f"Votes are whole numbers: {who}={value}.", example)
    if not re.fullmatch(r"\d{1,12}", text):
        raise ParseError(f"{who}={value or '(nothing)'}: '{value}' is not a number of votes.", example)
    return int(text)


def whole(value: str, what: str, example: str) -> int:
    text = value.strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"\d{1,9}", text):
        raise ParseError(f"{what} must be a whole number, not '{value}'.", example)
    return int(text)


def percent(value: str, who: str, example: str, noun: str = "A share") -> float:
    text = value.strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise ParseError(f"{who}={value or '(nothing)'}: '{value}' is not a percentage.", example) from None
    if math.isnan(number) or math.isinf(number):
        raise ParseError(f"{who}={value}: '{value}' is not a percentage.", example)
    if number < 0:
        raise ParseError(f"{noun} cannot be negative: {who}={value}.", example)
    if number > 100:
        raise ParseError(f"{noun} cannot be over 100%: {who}={value}.", example)
    return number


def boolean(value: str, what: str, example: str) -> bool:
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ParseError(f"{what} takes yes or no, not '{value}'.", example)


def text_value(value: str, what: str, example: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ParseError(f"`{what}=` needs a value.", example)
    return text


def url_value(value: str, example: str) -> str:
    text = value.strip()
    if not re.fullmatch(r"https?://[^\s<>]+", text) or len(text) > 1000:
        raise ParseError(f"'{value[:80]}' is not a web address (it should start with https://).", example)
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


def _no_rest(found: RaceAndStage, example: str) -> None:
    if found.rest:
        raise ParseError(
            f"I don't know what '{' '.join(found.rest)}' means after the stage. Name values as `key=value`.",
            example,
        )


def _need_race(race: str, example: str) -> None:
    if not race.strip():
        raise ParseError("Which race? Name a state, a candidate or a year first.", example)


# ------------------------------------------------------------------ the write forms


RESULT_KEYS = {
    "reporting": "reporting",
    "reported": "reporting",
    "in": "reporting",
    "precincts": "precincts",
    "source": "source",
    "src": "source",
    "writein": "writein",
    "write-in": "writein",
    "write-ins": "writein",
    "writeins": "writein",
    "under": "under",
    "undervotes": "under",
    "over": "over",
    "overvotes": "over",
    "final": "final",
    "official": "official",
}


@dataclass
class ResultForm:
    race: str
    stage: StageRef
    counts: list[tuple[str, int]]
    other: dict[str, int]
    reporting: float | None = None
    precincts: tuple[int, int] | None = None
    source: str | None = None
    final: bool = False
    official: bool = False


def parse_result(text: str | None, example: str) -> ResultForm:
    parsed = split_pairs(text, example)
    found = race_and_stage(parsed.words)
    _need_race(found.race, example)
    _no_rest(found, example)
    form = ResultForm(found.race, found.stage, [], {})
    for key, value in parsed.pairs:
        name = known_key(key, RESULT_KEYS)
        if name is None:
            if not re.search(r"[A-Za-z]", key):
                raise ParseError(f"'{key}={value}': '{key}' is not a name.", example)
            if _looks_like_key(key, RESULT_KEYS):
                raise unknown_key_error(key, RESULT_KEYS, example, candidates_allowed=True)
            if not re.search(r"\d", value):
                keys = ", ".join(f"`{k}`" for k in sorted(set(RESULT_KEYS.values())))
                raise ParseError(
                    f"{key}={value}: '{value}' is not a number of votes, and '{key}' is not a key ({keys}).",
                    example,
                )
            form.counts.append((key, votes(value, key, example)))
        elif name == "reporting":
            form.reporting = percent(value, "reporting", example, noun="Reporting")
        elif name == "precincts":
            match = re.fullmatch(r"\s*([\d,]+)\s*(?:/|of)\s*([\d,]+)\s*", value)
            if not match:
                raise ParseError(
                    f"precincts={value}: write it as reporting/total, e.g. `precincts=1850/1980`.", example
                )
            form.precincts = (whole(match[1], "precincts", example), whole(match[2], "precincts", example))
        elif name == "source":
            form.source = text_value(value, "source", example)
        elif name in ("writein", "under", "over"):
            form.other[name] = votes(value, key, example)
        elif name == "final":
            form.final = boolean(value, "final", example)
        elif name == "official":
            form.official = boolean(value, "official", example)
    if not form.counts:
        raise ParseError("Give each candidate's votes as `Name=votes`.", example)
    return form


CALL_KEYS = {"source": "source", "src": "source", "by": "source"}
TOO_CLOSE = {"too-close", "tooclose", "too_close"}


@dataclass
class CallForm:
    race: str
    stage: StageRef
    kind: str
    names: list[str]
    source: str | None = None


def parse_call(text: str | None, example: str) -> CallForm:
    parsed = split_pairs(text, example)
    source = None
    for key, value in parsed.pairs:
        if known_key(key, CALL_KEYS) is None:
            raise unknown_key_error(key, CALL_KEYS, example, candidates_allowed=False)
        source = text_value(value, "source", example)
    words = list(parsed.words)
    lowered = [w.lower() for w in words]
    too_close = False
    for i in range(len(lowered)):
        if lowered[i] in TOO_CLOSE or (
            lowered[i] == "too" and i + 1 < len(lowered) and lowered[i + 1] == "close"
        ):
            width = 1 if lowered[i] in TOO_CLOSE else 2
            if i + width != len(words):
                raise ParseError("`too close` comes last, after the race and stage.", example)
            words, too_close = words[:i], True
            break
    found = race_and_stage(words)
    if too_close:
        _need_race(found.race, example)
        _no_rest(found, example)
        return CallForm(found.race, found.stage, CallKind.TOO_CLOSE, [], source)
    if found.stage_words:
        _need_race(found.race, example)
        rest = found.rest
        if rest and rest[0].lower() in ("runoff", "run-off"):
            return CallForm(found.race, found.stage, CallKind.RUNOFF, rest[1:], source)
        if found.stage_words[-1].lower() in ("runoff", "run-off") and len(rest) >= 2:
            base = stage_of(found.stage_words[:-1])
            return CallForm(found.race, base, CallKind.RUNOFF, rest, source)
        if not rest:
            raise ParseError("Name the winner after the stage.", example)
        return CallForm(found.race, found.stage, CallKind.WINNER, [" ".join(rest)], source)
    if len(words) < 2:
        raise ParseError("Name the race, then the winner.", example)
    return CallForm(" ".join(words[:-1]), StageRef(), CallKind.WINNER, [words[-1]], source)


@dataclass
class UncallForm:
    race: str
    stage: StageRef
    source: str | None = None


def parse_uncall(text: str | None, example: str) -> UncallForm:
    parsed = split_pairs(text, example)
    source = None
    for key, value in parsed.pairs:
        if known_key(key, CALL_KEYS) is None:
            raise unknown_key_error(key, CALL_KEYS, example, candidates_allowed=False)
        source = text_value(value, "source", example)
    found = race_and_stage(parsed.words)
    _need_race(found.race, example)
    _no_rest(found, example)
    return UncallForm(found.race, found.stage, source)


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
}
POPULATIONS = POPULATION_WORDS


@dataclass
class PollForm:
    race: str
    stage: StageRef
    pollster: str | None = None
    dates: str | None = None
    start: str | None = None
    end: str | None = None
    sample_size: int | None = None
    population: str | None = None
    sponsor: str | None = None
    url: str | None = None
    hypothetical: bool = False
    partisan: str | None = None
    internal: bool = False
    answers: list[tuple[str, float]] = field(default_factory=list)

    def fielded(self, year: int, example: str) -> tuple[dt.date | None, dt.date]:
        """The fielded dates, a missing year being `year` (the race's cycle)."""
        if self.dates is not None:
            if self.start is not None or self.end is not None:
                raise ParseError("Give `dates=` or `start=`/`end=`, not both.", example)
            return date_range(self.dates, year, example)
        if self.end is None:
            raise ParseError('When was the poll fielded? Add `dates="July 2-9, 2020"`.', example)
        end, end_has_year = _parse_day(self.end, year, example)
        start = None
        if self.start is not None:
            start = date(self.start, end.year if end_has_year else year, example)
        return start, end


def parse_poll(text: str | None, example: str) -> PollForm:
    parsed = split_pairs(text, example)
    words = [w for w in parsed.words if w.lower() != "hypothetical"]
    found = race_and_stage(words)
    _need_race(found.race, example)
    _no_rest(found, example)
    form = PollForm(found.race, found.stage, hypothetical=len(words) != len(parsed.words))
    for key, value in parsed.pairs:
        name = known_key(key, POLL_KEYS)
        if name is None:
            if not re.search(r"[A-Za-z]", key):
                raise ParseError(f"'{key}={value}': '{key}' is not a name.", example)
            if _looks_like_key(key, POLL_KEYS):
                raise unknown_key_error(key, POLL_KEYS, example, candidates_allowed=True)
            if not re.search(r"\d", value):
                keys = ", ".join(f"`{k}`" for k in sorted(set(POLL_KEYS.values())))
                raise ParseError(
                    f"{key}={value}: '{value}' is not a share, and '{key}' is not a key ({keys}).", example
                )
            form.answers.append((key, percent(value, key, example)))
        elif name == "pollster":
            form.pollster = text_value(value, "pollster", example)
        elif name == "dates":
            form.dates = text_value(value, "dates", example)
        elif name == "start":
            form.start = text_value(value, "start", example)
        elif name == "end":
            form.end = text_value(value, "end", example)
        elif name == "n":
            form.sample_size = whole(value, "The sample size (n)", example)
        elif name == "pop":
            population = POPULATIONS.get(" ".join(value.lower().split()))
            if population is None:
                raise ParseError(
                    f"pop={value}: use lv, rv, a or v (likely voters, registered, adults, voters).", example
                )
            form.population = population
        elif name == "sponsor":
            form.sponsor = text_value(value, "sponsor", example)
        elif name == "url":
            form.url = url_value(value, example)
        elif name == "hypothetical":
            form.hypothetical = boolean(value, "hypothetical", example)
        elif name == "partisan":
            form.partisan = text_value(value, "partisan", example).upper()[:16]
        elif name == "internal":
            form.internal = boolean(value, "internal", example)
    if form.pollster is None:
        raise ParseError('Who ran the poll? Add `pollster="..."`.', example)
    if len(form.answers) < 2:
        raise ParseError(
            "Give at least two answers as `Name=share`, e.g. `Tuberville=43.9 Jones=35.5`.", example
        )
    total = sum(p for _, p in form.answers)
    if total > 101:
        raise ParseError(f"The shares add up to {total:g}%, over 100%: check the numbers.", example)
    return form


def _looks_like_key(key: str, aliases: dict[str, str]) -> bool:
    """A misspelt key ("reportng", "polster"), not a candidate's name."""
    return (
        process.extractOne(_fold(key), [a for a in aliases if len(a) > 2], scorer=fuzz.ratio, score_cutoff=80)
        is not None
    )


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
STANCES = STANCE_WORDS
KINDS = ENDORSER_KIND_WORDS


@dataclass
class EndorseForm:
    race: str
    endorser: str
    candidate: str
    stance: str = Stance.ENDORSE
    kind: str = EndorserKind.PERSON
    date: str | None = None
    url: str | None = None
    source: str | None = None
    quote: str | None = None


def parse_endorse(text: str | None, example: str) -> EndorseForm:
    parsed = split_pairs(text, example)
    race = " ".join(parsed.words)
    _need_race(race, example)
    values: dict[str, str] = {}
    for key, value in parsed.pairs:
        name = known_key(key, ENDORSE_KEYS)
        if name is None:
            raise unknown_key_error(key, ENDORSE_KEYS, example, candidates_allowed=False)
        values[name] = value
    if not values.get("endorser", "").strip():
        raise ParseError('Who endorsed? Add `endorser="Donald Trump"`.', example)
    if not values.get("candidate", "").strip():
        raise ParseError("Whom? Add `candidate=Tuberville`.", example)
    form = EndorseForm(
        race,
        text_value(values["endorser"], "endorser", example),
        text_value(values["candidate"], "candidate", example),
    )
    if "stance" in values:
        stance = STANCES.get(values["stance"].strip().lower())
        if stance is None:
            raise ParseError(f"stance={values['stance']}: use endorse, oppose, withhold or rescind.", example)
        form.stance = stance
    if "kind" in values:
        kind = KINDS.get(_kind_key(values["kind"]))
        if kind is None:
            options = ", ".join(k.value for k in EndorserKind)
            raise ParseError(f"kind={values['kind']}: use one of {options}.", example)
        form.kind = kind
    form.date = text_value(values["date"], "date", example) if "date" in values else None
    form.url = url_value(values["url"], example) if "url" in values else None
    form.source = text_value(values["source"], "source", example) if "source" in values else None
    form.quote = text_value(values["quote"], "quote", example) if "quote" in values else None
    return form


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
            raise ParseError(
                f"There is no key '{key}'. Keys: seat, notes, source, incumbent-party, incumbent, and stage "
                'dates such as general=2026-11-03, rep-primary="May 19", runoff="June 16".',
                example,
            )
        if name == "incumbent":
            if not editing:
                raise ParseError(
                    "Add the race first, then its candidates; `race-edit` sets the incumbent.", example
                )
            form.incumbent = value.strip()
        elif name == "incumbent_party":
            form.fields[name] = text_value(value, key, example).upper()
        else:
            form.fields[name] = value.strip()
    _need_race(" ".join(form.words), example)
    return form


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
    values: dict[str, str] = {flag: "yes" for flag in flags if flag in allowed}
    aliases = {k: v for k, v in CANDIDATE_KEYS.items() if v in allowed}
    for key, value in parsed.pairs:
        name = known_key(key, aliases)
        if name is None:
            raise unknown_key_error(key, aliases, example, candidates_allowed=False)
        values[name] = value
    for name in required:
        if not values.get(name, "").strip():
            raise ParseError(f"`{name}=` is missing.", example)
    return CandidateForm(found.race, found.stage, values)


MERGE_KEYS = {"from": "from", "merge": "from", "into": "into", "to": "into"}


def parse_merge(text: str | None, example: str) -> tuple[str, str, str]:
    parsed = split_pairs(text, example)
    race = " ".join(parsed.words)
    _need_race(race, example)
    values: dict[str, str] = {}
    for key, value in parsed.pairs:
        name = known_key(key, MERGE_KEYS)
        if name is None:
            raise unknown_key_error(key, MERGE_KEYS, example, candidates_allowed=False)
        values[name] = text_value(value, name, example)
    if "from" not in values or "into" not in values:
        raise ParseError("Say which record goes into which: `from=... into=...`.", example)
    return race, values["from"], values["into"]

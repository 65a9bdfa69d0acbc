"""Finding races from what people type: "alabama", "AL-02", "bama senate 2020", "gerogia special", "tuberville".

Parsing is pure (`parse_query`); finding (`find_races`) runs indexed queries and
never loads every race. A query of places and years (a state, a district, an office, a year, `special`) is
one prebuilt statement (`_statement`, one per shape of query): the races, best first, each with what the
words that reach it exactly depend on (`hint_flags`), built into Race objects without the ORM's row loading
(`_detached`). Names add their own lookups of people first; a miss adds one for the suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import us
from rapidfuzz import fuzz, process
from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from db.direct import forget, prebuilt
from db.models import NATIONAL, Candidacy, Contest, NameToken, Office, Race
from db.names import fold
from db.reads.rows import RaceLike
from db.reads.tables import RACES
from db.vocabulary import OFFICE_WORDS, PARTY_WORDS, STAGE_PHRASES, STAGE_WORDS, stage_of

if TYPE_CHECKING:
    from db.directory import RaceDirectory

# Nicknames and spellings `us` does not know.
STATE_NICKNAMES = {
    "bama": "AL",
    "cali": "CA",
    "socal": "CA",
    "jersey": "NJ",
    "mass": "MA",
    "penn": "PA",
    "penna": "PA",
    "pennsylvannia": "PA",
    "zona": "AZ",
    "sconnie": "WI",
    "nola": "LA",
    "washington state": "WA",
    "dc": "DC",
    "washington dc": "DC",
    "united states": NATIONAL,  # the national race for president
    "national": NATIONAL,
}
# Postal codes that are also everyday words count only in capitals ("IN", not "in").
WORD_LIKE_CODES = frozenset({"in", "or", "me", "hi", "ok", "oh", "id", "de", "pa", "ma", "la", "co", "as"})
FILLER = frozenset(
    {"the", "race", "races", "of", "for", "us", "u", "s", "election", "seat", "class", "cycle"}
)
DISTRICT = re.compile(r"^([a-z]{2})-?(\d{1,2}|al)$")  # "al-02", "al02", "ak-al" (at large)
DISTRICT_NUMBER = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")  # after a state: "2", "02", "2nd"
AT_LARGE = (("at", "large"), ("atlarge",))  # "wyoming at-large"
YEAR = re.compile(r"^(?:19[7-9]\d|20\d\d)$")
SHORT_YEAR = re.compile(r"^['\u2019](\d\d)$")  # "'20", or "’20" as phones type it
SEAT_CLASSES = {
    "1": "Class I",
    "i": "Class I",
    "2": "Class II",
    "ii": "Class II",
    "3": "Class III",
    "iii": "Class III",
}
MIN_FUZZY_STATE = 82
MIN_FUZZY_NAME = 80
MIN_SUGGESTION = 60
PEOPLE_OF_ONE_WORD = 200  # the people a race query of one name word finds at most
#: The pick rule: where a query names a state but no office, district or seat class, the races of the
#: newest cycle (or of the cycle asked) come first, and among them the office most asked about first.
OFFICE_ORDER = (Office.SENATE, Office.PRESIDENT, Office.GOVERNOR, Office.HOUSE)
OFFICE_RANK: dict[str, int] = {office: rank for rank, office in enumerate(OFFICE_ORDER)}


#: The states, DC and the territories (Puerto Rico's governor, the delegates' House races).
_PLACES = [*us.states.STATES, us.states.DC, *us.states.TERRITORIES]


def _state_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for state in _PLACES:
        table[fold(state.name)] = state.abbr
        if state.ap_abbr:
            table[fold(state.ap_abbr)] = state.abbr
            table[fold(state.ap_abbr).replace(" ", "")] = state.abbr
    table.update(STATE_NICKNAMES)
    return table


STATE_NAMES = _state_table()
POSTAL_CODES = frozenset(s.abbr for s in _PLACES)
STATE_FULL_NAMES = {s.abbr: s.name for s in _PLACES} | {NATIONAL: "United States"}
_MAX_STATE_WORDS = max(len(name.split()) for name in STATE_NAMES)


def state_name(code: str) -> str:
    return STATE_FULL_NAMES.get(code, code)


@dataclass
class ParsedQuery:
    """What a free-text race query asks for; unset fields were not said."""

    text: str
    state: str | None = None
    office: str | None = None
    district: str | None = None
    cycle: int | None = None
    special: bool | None = None
    seat: str | None = None  # a Senate seat's class, as stored: "Class II"
    stage: str | None = None  # a Stage value or ANY_RUNOFF (db.vocabulary)
    party: str | None = None
    said: list[str] = field(default_factory=list)  # the stage and party words, as folded
    name_words: list[str] = field(default_factory=list)
    fuzzy_state: bool = False  # the state came from a typo-tolerant match

    @property
    def is_empty(self) -> bool:
        return not (self.state or self.office or self.cycle or self.special or self.seat or self.name_words)


def _words(text: str) -> tuple[list[str], list[str]]:
    """Folded words and, in parallel, the words as typed (to see capitals)."""
    raw = re.findall(r"[A-Za-z0-9.'\u2019-]+", text)
    folded, original = [], []
    for word in raw:
        district = DISTRICT.match(word.lower())
        if district and (district.group(1).upper() in POSTAL_CODES):
            folded.append(word.lower())
            original.append(word)
            continue
        for part in fold(word).split():
            folded.append(part)
            original.append(word)  # as typed: its capitals ("IN"), a short year's apostrophe ("'20", "’20")
    return folded, original


def parse_query(text: str) -> ParsedQuery:
    query = ParsedQuery(text=text.strip())
    words, typed = _words(text)
    rest: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        consumed = _take_state(query, words, typed, i) or _take_keyword(query, words, typed, i)
        if consumed:
            i += consumed
            continue
        rest.append((words[i], typed[i]))
        i += 1
    query.name_words = [w for w, _ in rest if w not in FILLER]
    if query.said:
        query.stage, query.party = stage_of(query.said)
    return query


def _take_state(query: ParsedQuery, words: list[str], typed: list[str], i: int) -> int:
    if query.state is not None:
        return _take_own_district(query, words[i])
    for width in range(min(_MAX_STATE_WORDS, len(words) - i), 0, -1):
        phrase = " ".join(words[i : i + width])
        code = STATE_NAMES.get(phrase)
        if code is None and phrase.endswith("s") and width == len(phrase.split()):
            code = STATE_NAMES.get(phrase[:-1])  # "alabama's 2nd": folded, the possessive is "alabamas"
            code = code if code and _district_after(words, typed, i + width)[0] else None
        if code is not None:
            query.state = code
            number, taken = _district_after(words, typed, i + width)
            if number is not None:
                query.office, query.district = Office.HOUSE, number
            return width + taken
    word = words[i]
    district = DISTRICT.match(word)
    if district and district.group(1).upper() in POSTAL_CODES:
        query.state = district.group(1).upper()
        _take_district_code(query, district)
        return 1
    district_next, taken = _district_after(words, typed, i + 1)
    plainly_a_code = (
        word not in WORD_LIKE_CODES or typed[i].isupper() or len(words) == 1 or district_next is not None
    )
    if word.upper() in POSTAL_CODES and plainly_a_code:
        query.state = word.upper()
        if district_next is not None:  # "al 2", "al 2nd district", "wy at-large": a district after the code
            query.office, query.district = Office.HOUSE, district_next
            return 1 + taken
        return 1
    return 0


def _take_own_district(query: ParsedQuery, word: str) -> int:
    """A district code of the state already named ("alabama al-02", "wyoming wy-al"); another state's is
    left as words, and so is a word merely spelt like a code ("nebraska neal": a name, not NE-AL)."""
    district = DISTRICT.match(word)
    if district is None or query.district is not None or district.group(1).upper() != query.state:
        return 0
    if "-" not in word and not word[2:].isdigit():
        return 0
    if district.group(2) != "al" and int(district.group(2)) == 0:
        return 0
    _take_district_code(query, district)
    return 1


def _take_district_code(query: ParsedQuery, code: re.Match[str]) -> None:
    query.office = Office.HOUSE
    query.district = "AL" if code.group(2) == "al" else str(int(code.group(2)))


def _district_after(words: list[str], typed: list[str], j: int) -> tuple[str | None, int]:
    """A House district said right after a state ("2", "02", "2nd", "at-large"): ("2", 1), ("AL", 2), or (None, 0)."""
    if j >= len(words):
        return None, 0
    for phrase in AT_LARGE:
        if tuple(words[j : j + len(phrase)]) == phrase:
            return "AL", len(phrase)
    number = DISTRICT_NUMBER.match(words[j])
    if number is None or typed[j].startswith(("'", "\u2019")) or int(number.group(1)) == 0:
        return None, 0
    return str(int(number.group(1))), 1


def _take_keyword(query: ParsedQuery, words: list[str], typed: list[str], i: int) -> int:
    word = words[i]
    if YEAR.match(word):
        query.cycle = int(word)
        return 1
    short = SHORT_YEAR.match(typed[i])
    if short:
        query.cycle = 2000 + int(short.group(1))
        return 1
    if word in ("special", "regular"):
        query.special = word == "special"
        return 1
    seat_class = SEAT_CLASSES.get(words[i + 1]) if word == "class" and i + 1 < len(words) else None
    if seat_class is not None:
        query.seat = seat_class  # "class 2", "class ii": a Senate seat
        return 2
    if word in ("district", "cd"):
        number, taken = _district_after(words, typed, i + 1)
        if number is not None:  # "district 2", "cd at-large"
            query.office, query.district = Office.HOUSE, number
            return 1 + taken
    if word in OFFICE_WORDS:
        query.office = OFFICE_WORDS[word]
        return 1
    if i + 1 < len(words) and (word, words[i + 1]) in STAGE_PHRASES:
        query.said += [word, words[i + 1]]
        return 2
    if word in STAGE_WORDS or word in PARTY_WORDS:
        query.said.append(word)
        return 1
    return 0


def fuzzy_state(word: str) -> str | None:
    """ "alabma" -> "AL"; only for words long enough that a typo is likelier than a coincidence."""
    if len(word) < 4:
        return None
    best = process.extractOne(word, STATE_NAMES.keys(), scorer=fuzz.ratio, score_cutoff=MIN_FUZZY_STATE)
    return STATE_NAMES[best[0]] if best else None


def nearest_states(text: str, among: list[str], limit: int = 3) -> list[str]:
    """Postal codes of the states in `among` whose names look most like `text`."""
    names = {STATE_FULL_NAMES.get(code, code).lower(): code for code in among}
    found = process.extract(fold(text), list(names), scorer=fuzz.ratio, limit=limit)
    return [names[name] for name, score, _ in found if score >= MIN_SUGGESTION]


@dataclass
class RaceMatches:
    """The races a query found, best first, and whether the best is clearly the one meant."""

    query: ParsedQuery
    races: list[Race]
    chosen: Race | None
    suggestions: list[Race] = field(default_factory=list)  # after a miss: races to offer instead
    hints: dict[int, str] = field(default_factory=dict)  # race id -> words that find exactly that race
    more: list[Race] = field(default_factory=list)  # found too, but set aside by the pick rule (`_pick`)

    @property
    def found(self) -> list[Race]:
        """Every race the words found, the picked ones first: what autocomplete offers."""
        return [*self.races, *self.more]

    def hint(self, race: Race) -> str:
        return self.hints.get(race.id) or race_hint(race)


def race_hint(race: RaceLike, *, has_special_twin: bool = False, outranked: bool = False) -> str:
    """The words that find exactly this race again: `alabama 2017 special`, `al-2 2020`, `georgia 2020
    regular` for a regular seat whose state also held a special for the same office that year, and the
    office (`pennsylvania senate 2016`) where the pick rule would take an office ranked above it."""
    if race.office == Office.HOUSE and race.seat:
        words = [f"{race.state}-{race.seat}", str(race.cycle)]
    else:
        office = "" if race.office == Office.SENATE and not outranked else race.office
        words = [state_name(race.state).lower(), office, str(race.cycle)]
    if race.special:
        words.append("special")
    elif has_special_twin:
        words.append("regular")
    return " ".join(w for w in words if w)


async def exact_hints(session: AsyncSession, races: list[Race]) -> dict[int, str]:
    """The words for each race that find exactly it, in one query: a regular seat says `regular` where the
    same state held a special for the same office in the same year; a Senate race names its office where
    the state also has a race of an office the pick rule ranks first (`OFFICE_ORDER`) that cycle."""
    if not races:
        return {}
    hints = _prebuilt("hints", _hints_statement)
    flags = {row.id: row for row in await session.execute(hints, {"ids": [r.id for r in races]})}
    return {r.id: _hint(r, flags[r.id]) for r in races}


def _hint(race: Race, flags: Any) -> str:
    """`race_hint` with the flags `hint_flags()` read beside the race."""
    return race_hint(
        race, has_special_twin=not race.special and bool(flags.twin), outranked=bool(flags.outranked)
    )


def hint_flags(races: FromClause) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """What `exact_hints` needs to know of each race of `races`, read beside it: whether its state held a
    special for the same office that year (`twin`), and whether it has a race of an office ranked above the
    Senate that cycle (`outranked`; a special of such an office counts for the cycle after its own)."""
    twin = RACES.alias("twin")
    has_twin = exists().where(
        twin.c.state == races.c.state,
        twin.c.office == races.c.office,
        twin.c.cycle == races.c.cycle,
        twin.c.special.is_(True),
    )
    above = OFFICE_ORDER[: OFFICE_RANK[Office.SENATE]]
    if not above:  # the Senate comes first: nothing outranks it
        return has_twin.label("twin"), false().label("outranked")
    top = RACES.alias("above")
    outranked = exists().where(
        top.c.state == races.c.state,
        top.c.office.in_(above),
        or_(top.c.cycle == races.c.cycle, and_(top.c.special.is_(True), top.c.cycle + 1 == races.c.cycle)),
    )
    return has_twin.label("twin"), outranked.label("outranked")


def _order(
    races: FromClause, *, cycle_asked: bool = False, by_state: bool = True
) -> list[ColumnElement[Any]]:
    """Races found, best first: the newest cycle, then the office most asked about (`OFFICE_ORDER`), or the
    office first where a cycle was asked; then the regular seat before a special, the state, and districts
    in number order (1, 2, ... 10, not 1, 10, 2)."""
    c = races.c
    rank = case(*((c.office == office, rank) for office, rank in OFFICE_RANK.items()), else_=len(OFFICE_RANK))
    newest = [rank, c.cycle.desc()] if cycle_asked else [c.cycle.desc(), rank]
    return [*newest, c.special, *([c.state] if by_state else []), func.length(c.seat), c.seat]


def _flagged(found: Select[Any], **order: bool) -> Select[Any]:
    """The races of `found` (RACE_COLUMNS, in `_order(**order)`, limited) with the flags of their hints,
    worked out for the rows kept only."""
    kept = found.subquery("found")
    return select(*kept.c, *hint_flags(kept)).order_by(*_order(kept, **order))


def _detached(row: Any) -> Race:
    """The Race of a row of `RACE_COLUMNS` as a query would have loaded it, once its session closed: its
    columns set as loaded (no change to flush) and its identity key set, relationships not loaded. Built
    without the ORM's per-row loading, which costs more than the query (the answers are only read)."""
    race = RACE_MAPPER.class_manager.new_instance()
    race.__dict__.update(zip(RACE_KEYS, row, strict=False))
    inspect(race).key = RACE_MAPPER.identity_key_from_primary_key((race.id,))
    return race


RACE_MAPPER = Race.__mapper__
RACE_KEYS = tuple(prop.key for prop in RACE_MAPPER.column_attrs)  # (configures the mappers)
RACE_COLUMNS = tuple(RACES.c[prop.columns[0].name] for prop in RACE_MAPPER.column_attrs)
_STATES_WITH_RACES = select(RACES.c.state).distinct()


def _prebuilt(key: Hashable, build: Callable[[], Select[Any]]) -> Select[Any]:
    """A statement built once per process (its values bound at execution), so that SQLAlchemy reuses its
    compiled form: building and compiling it costs more than running it. Tests that change what builds
    them empty `STATEMENTS` (`forget_statements`)."""
    found = STATEMENTS.get(key)
    if found is None:
        found = STATEMENTS.setdefault(key, prebuilt(build()))
    return found


def _hints_statement() -> Select[Any]:
    return select(RACES.c.id, *hint_flags(RACES)).where(RACES.c.id.in_(bindparam("ids", expanding=True)))


def _newest_of_states() -> Select[Any]:
    """The newest races of some states (`codes`), with the flags of their hints."""
    found = (
        select(*RACE_COLUMNS)
        .where(RACES.c.state.in_(bindparam("codes", expanding=True)))
        .order_by(*_order(RACES, by_state=False))
        .limit(bindparam("limit", type_=Integer))
    )
    return _flagged(found, by_state=False)


STATEMENTS: dict[Hashable, Select[Any]] = {}


def forget_statements() -> None:
    """Drop the statements built so far, and their marks to run on the driver: the next lookups build
    them anew (for tests that change what builds them)."""
    for statement in STATEMENTS.values():
        forget(statement)
    STATEMENTS.clear()


async def _candidate_ids(session: AsyncSession, words: list[str]) -> set[int] | None:
    """People whose names hold every word (as a word prefix, or a close typo). None: no word to match."""
    words = [w for w in words if len(w) >= 3]
    if not words:
        return None
    matched: set[int] | None = None
    for word in words:
        found = select(NameToken.candidate_id).where(NameToken.token >= word, NameToken.token < word + "~")
        if len(words) == 1:  # a short word may begin thousands of names: the lowest ids, the same each time
            found = found.order_by(NameToken.candidate_id).limit(PEOPLE_OF_ONE_WORD)
        # (a word among others finds everyone it begins a name of: a common first name must not hide the
        # one person the surname names)
        ids = set(await session.scalars(found))
        if not ids:
            ids = await typo_candidate_ids(session, word)
        matched = ids if matched is None else matched & ids
        if not matched:
            return set()
    return matched


async def typo_candidate_ids(session: AsyncSession, word: str) -> set[int]:
    # Typos rarely touch the first letter: compare only with tokens that share it (an indexed range).
    tokens = list(
        await session.scalars(
            select(NameToken.token)
            .where(NameToken.token >= word[0], NameToken.token < word[0] + "~")
            .distinct()
            .limit(5000)
        )
    )
    close = [
        t
        for t, score, _ in process.extract(word, tokens, scorer=fuzz.ratio, limit=5)
        if score >= MIN_FUZZY_NAME
    ]
    if not close:
        return set()
    return set(await session.scalars(select(NameToken.candidate_id).where(NameToken.token.in_(close))))


async def _party_words_as_names(session: AsyncSession, query: ParsedQuery) -> None:
    """A party word that is someone's name ("mark green") is read as the name."""
    for word in [w for w in query.said if w in PARTY_WORDS]:
        if await session.scalar(select(NameToken.id).where(NameToken.token == word).limit(1)) is not None:
            query.said.remove(word)
            query.name_words.append(word)
            query.stage, query.party = stage_of(query.said) if query.said else (None, None)


def asks_for_presidency(text: str) -> str | None:
    """The year said, when a query asks for the presidency of the whole country: an office word for the
    president and nothing else (`president 2020`, `us potus`): "2020", or "" for the newest."""
    query = parse_query(text)
    if query.office != Office.PRESIDENT or query.state or query.district or query.name_words:
        return None
    if query.special is not None or query.seat or query.said:
        return None
    return str(query.cycle) if query.cycle else ""


async def find_races(
    session: AsyncSession, text: str, limit: int = 10, directory: RaceDirectory | None = None
) -> RaceMatches:
    """The races a query finds; `directory`: this process's copy of the races, which answers a query of
    places and years without a statement when it is as new as the store (db/directory.py)."""
    query = parse_query(text)
    await _party_words_as_names(session, query)
    people = await _candidate_ids(session, query.name_words)
    if people == set() and query.state is None:
        # An unknown word may be a misspelt state ("gerogia") rather than a name.
        for word in list(query.name_words):
            code = fuzzy_state(word)
            if code:
                query.state, query.fuzzy_state = code, True
                query.name_words.remove(word)
                people = await _candidate_ids(session, query.name_words)
                break
    if query.is_empty or people == set() or (people is None and not _constrained(query)):
        # (the last: only words too short to look a name up by, "xx" or "99": not every race)
        return await _missed(session, query)
    races, hints = await _query_races(session, query, people, limit, directory)
    if not races:
        return await _missed(session, query)
    picked = _pick(query, races)
    more = [r for r in races if r not in picked]
    return RaceMatches(query, picked, _choose(query, picked), hints=hints, more=more)


def _constrained(query: ParsedQuery) -> bool:
    """Whether a query says something of the race besides names: a place, an office, a year, a seat."""
    return bool(query.state or query.office or query.cycle or query.special or query.seat)


async def _missed(session: AsyncSession, query: ParsedQuery) -> RaceMatches:
    suggestions, hints = await _suggest(session, query)
    return RaceMatches(query, [], None, suggestions, hints)


@dataclass(frozen=True)
class QueryShape:
    """Which conditions a query puts on the races: one prebuilt statement for each shape (`_statement`)."""

    state: bool
    office: bool
    national: bool  # the president, no state named: the national race
    district: bool
    seat: bool
    cycle: bool
    special: bool | None
    people: bool


def _statement(shape: QueryShape) -> Select[Any]:
    """The races of a query of this shape, newest first (or the cycle asked first), with the flags of their
    hints; values as bound parameters (`_prebuilt`: one statement per shape)."""
    c = RACES.c
    conditions: list[ColumnElement[bool]] = []
    if shape.state:
        conditions.append(c.state == bindparam("state", type_=c.state.type))
    if shape.office:
        conditions.append(c.office == bindparam("office", type_=c.office.type))
    if shape.national:
        conditions.append(c.state == NATIONAL)
    if shape.district:
        conditions.append(c.seat == bindparam("district", type_=c.seat.type))
    if shape.seat:
        conditions.append(c.seat == bindparam("seat", type_=c.seat.type))
    if shape.cycle:
        # The cycle asked, or a special held the year before (Dec 2017 for 2018): an IN the index can seek.
        cycle, year_before = bindparam("cycle", type_=Integer), bindparam("year_before", type_=Integer)
        conditions += [c.cycle.in_([cycle, year_before]), or_(c.cycle == cycle, c.special)]
    if shape.special is not None:
        conditions.append(c.special.is_(shape.special))
    if shape.people:
        in_race = (
            select(Contest.race_id)
            .join(Candidacy, Candidacy.contest_id == Contest.id)
            .where(Candidacy.candidate_id.in_(bindparam("people", expanding=True)))
        )
        conditions.append(or_(c.id.in_(in_race), c.incumbent_id.in_(bindparam("incumbents", expanding=True))))
    found = (
        select(*RACE_COLUMNS)
        .where(*conditions)
        .order_by(*_order(RACES, cycle_asked=shape.cycle))
        .limit(bindparam("limit", type_=Integer))
    )
    statement = _flagged(found, cycle_asked=shape.cycle)
    return statement


async def _query_races(
    session: AsyncSession,
    query: ParsedQuery,
    people: set[int] | None,
    limit: int,
    directory: RaceDirectory | None = None,
) -> tuple[list[Race], dict[int, str]]:
    """The races found, best first, and the words that find each exactly: one statement, or none where the
    directory's copy of the races answers (no people named)."""
    national = query.office == Office.PRESIDENT and not query.state and people is None
    shape = QueryShape(
        state=bool(query.state),
        office=bool(query.office),
        national=national,
        district=bool(query.district),
        seat=bool(query.seat),
        cycle=bool(query.cycle),
        special=query.special,
        people=people is not None,
    )
    values: dict[str, Any] = {"limit": limit + 1}
    values.update(state=query.state, office=query.office, district=query.district, seat=query.seat)
    if query.cycle:
        values.update(cycle=query.cycle, year_before=query.cycle - 1)
    if people is not None:
        values.update(people=sorted(people), incumbents=sorted(people))
    races = None if directory is None or people is not None else await directory.current(session)
    if races is not None:
        rows = races.find(shape, values)
    else:
        rows = list(await session.execute(_prebuilt(shape, lambda: _statement(shape)), values))
    if query.cycle:
        # A special held the year before a cycle (Dec 2017 for 2018) only counts when nothing else of its
        # office matches.
        exact = {row.office for row in rows if row.cycle == query.cycle}
        rows = [row for row in rows if row.cycle == query.cycle or row.office not in exact]
    found = [(_detached(row), row) for row in rows[:limit]]
    return [race for race, _ in found], {race.id: _hint(race, row) for race, row in found}


def _pick(query: ParsedQuery, races: list[Race]) -> list[Race]:
    """The pick rule, where a query names one state but no office, district or seat class: of the races
    found (newest cycle first, or all of the cycle asked), those of the newest cycle and of the office most
    asked about (`OFFICE_ORDER`: senate, president, governor, house). `!race pennsylvania` is the state's
    newest statewide race; `!race georgia 2020` lists the two Senate races of 2020."""
    if query.office or query.district or query.seat or len({r.state for r in races}) != 1:
        return races
    top = races[0]
    return [r for r in races if r.office == top.office and (query.cycle or r.cycle == top.cycle)]


def _choose(query: ParsedQuery, races: list[Race]) -> Race | None:
    """The race meant, when one stands out: the newest race of the one state and office asked about.

    Two races of the same newest cycle in one state and office (Georgia 2020: the regular seat and the
    special) are a real choice, so the member gets the list, with the words that reach each one exactly
    (`georgia 2020 regular`, `georgia 2020 special`): a desk write never lands on a race it only guessed.
    """
    groups = {(r.state, r.office, r.seat if r.office == Office.HOUSE else "") for r in races}
    if len(groups) != 1:
        return None
    newest = [r for r in races if r.cycle == races[0].cycle]
    return newest[0] if len(newest) == 1 else None


async def _suggest(
    session: AsyncSession, query: ParsedQuery, limit: int = 3
) -> tuple[list[Race], dict[int, str]]:
    """Races worth offering after a miss (the state's newest, or those of states named like the words),
    and the words that find each exactly."""
    if query.state:
        codes = [query.state]
    else:
        words = " ".join(query.name_words) or query.text
        if not words.strip():
            return [], {}
        with_races = list(await session.scalars(_STATES_WITH_RACES))
        codes = nearest_states(words, with_races, limit)
    if not codes:
        return [], {}
    newest = _prebuilt("newest of states", _newest_of_states)
    rows = list(await session.execute(newest, {"codes": codes, "limit": limit}))
    races = [_detached(row) for row in rows]
    return races, {race.id: _hint(race, row) for race, row in zip(races, rows, strict=True)}


async def race_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Race.id))) or 0)

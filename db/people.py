"""Finding and creating people, so one person stays one candidate across sources.

Sources spell people differently: "Gordon Douglas Jones" (FiveThirtyEight's later files),
"DOUG JONES" (MEDSL), "Doug Jones". Within one state, a name matches a known person when:

1. its normalised key (`db.names.name_key`: case, accents, punctuation and suffixes dropped) is
   one of that person's aliases ("DOUG JONES" = "Doug Jones"), unless the suffixes conflict
   (Jr. and Sr., II and III); or
2. the surnames are the same and the given names agree (`name_match`): the first names are equal or
   nicknames of each other (`NICKNAMES`: Doug/Douglas, Tom/Tommy/Thomas, Bob/Robert, ...), or one
   name's first name is the other's middle name ("Gordon Douglas Jones" goes by Doug; "A. Wayne
   Johnson" by Wayne); quoted or bracketed nicknames count ('PATRICK "PAT" THOMAS', "JAMES T. (JIM)
   BROYHILL"); middle initials, when both names have one, must agree ("John A. Smith" is not
   "John B. Smith"); and the parties agree (or one of them is unknown, or neither is DEM or REP:
   sources label one independent IND, OTH or by the name of a ballot line).

3. (a last resort) the name is a misspelling of a known person's of the same (known) party, all
   else equal: one letter off in the surname ("Kevin J. O'Connor", "KEVIN J. O'CONNER"), or one
   letter missing or doubled in the first name ("MICH MCCONNELL"); see `_misspelt`.

Two people with one surname in one state stay two when their first names differ (Doug Jones and
Jim Jones) or, for a match of the second kind, when their parties differ. When more than one known
person matches, nobody is picked: a new person is created and the ambiguity reported. Names
that look alike without matching (same surname and similar given names, or a near-identical
spelling) are reported as possible duplicates, not merged. Every match of the second kind is
recorded in `PeopleIndex.merges` (so is every match of the third), every refusal in `PeopleIndex.ambiguities`.

Cycle is not used: a person is stable across cycles, and a Jr./Sr. pair is kept apart by suffix.

The index reads a state's stored spellings once per transaction as keys only (`_StoredKeys`: one
query, a person's id and each of its spellings' keys), and from them finds which stored people a
name can match, or look like; only those people are read whole (their row, aliases and name tokens,
`PeopleIndex._read_people`), so resolving a name costs the same whatever else the state holds. It
resolves names in memory and writes aliases and tokens without reading them back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, Levenshtein
from sqlalchemy import ColumnElement, and_, case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.bulk import Staged, insert_rows, update_rows
from db.models import Candidate, CandidateAlias, NameToken
from db.names import fold, name_key, name_tokens
from db.validation import check_row

_NICKNAME_GROUPS = [
    "abigail abby abbie gail",
    "albert al bert",
    "alan allan allen al",
    "alexander alex alec sandy",
    "alexandra alex sandra sandy",
    "andrew andy drew",
    "angela angie",
    "ann anne annie",
    "anthony tony",
    "barbara barb barbie",
    "benjamin ben benny",
    "bernard bernie",
    "bradley brad",
    "catherine katherine kathryn kathy cathy kate katie kat",
    "charles chuck charlie chas",
    "christopher chris kit",
    "christine christina chris tina",
    "cynthia cindy",
    "daniel dan danny",
    "david dave davey",
    "deborah debra debbie deb",
    "donald don donnie",
    "douglas doug",
    "edward ed eddie ted ned",
    "elizabeth liz beth betsy betty liza",
    "eugene gene",
    "frederick fred freddie",
    "gerald jerry",
    "gregory greg",
    "harold harry hal",
    "henry hank harry",
    "james jim jimmy jamie",
    "jeffrey jeff geoffrey",
    "jefferson jeff",
    "jennifer jen jenny",
    "jacqueline jackie",
    "jerome jerry",
    "john jack johnny",
    "jonathan jon",
    "joseph joe joey",
    "joshua josh",
    "kenneth ken kenny",
    "kimberly kim",
    "lawrence larry",
    "leonard len lenny",
    "louis lou",
    "lewis lou",
    "margaret maggie peggy meg",
    "matthew matt",
    "michael mike mick mickey",
    "mitchell mitch",
    "nathaniel nathan nate",
    "nicholas nick",
    "patricia pat patty trish",
    "patrick pat",
    "peter pete",
    "philip phillip phil",
    "raymond ray",
    "rebecca becky",
    "richard rick ricky dick rich",
    "robert bob bobby rob robbie bert",
    "ronald ron ronnie",
    "russell russ",
    "samuel sam sammy",
    "sara sarah",
    "stephen steven stephan steve",
    "susan sue suzanne susie",
    "theodore ted teddy",
    "thomas tom tommy",
    "timothy tim",
    "valerie val",
    "victoria vicky vickie tori",
    "vincent vince",
    "walter walt",
    "william bill billy will willie",
    "zachary zach zack",
]
#: Each first name to the groups of names it is a spelling or nickname of.
NICKNAMES: dict[str, frozenset[int]] = {}
for _index, _group in enumerate(_NICKNAME_GROUPS):
    for _name in _group.split():
        NICKNAMES[_name] = NICKNAMES.get(_name, frozenset()) | {_index}

MAJOR = frozenset({"DEM", "REP"})
_SUFFIXES = {"jr": "jr", "sr": "sr", "ii": "ii", "iii": "iii", "iv": "iv", "2nd": "ii", "3rd": "iii"}
_NICK = re.compile(r"[\"\u201c\u201d(]([^\"\u201c\u201d()]+)[\"\u201c\u201d)]")
#: A spelling without quotes, brackets, digits or accents: when no word of it is a suffix, its `parse_name`
#: parts are its key's words (`_stored_parts`), so a stored person is indexed without parsing its names.
#: `name_key`, remembered: an import asks for each of its names' key several times.
_key = functools.lru_cache(maxsize=1 << 16)(name_key)
_PLAIN = re.compile(r"[A-Za-z][A-Za-z ,.'-]*")
_NOT_LETTER = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class NameParts:
    given: tuple[str, ...]  # first and middle names or initials
    surname: str
    suffix: str | None
    nicknames: frozenset[str]


@functools.lru_cache(maxsize=1 << 16)  # an import asks for each of its names' parts several times
def parse_name(name: str) -> NameParts:
    """The parts of a name: 'JAMES T. (JIM) BROYHILL, JR.' -> given (james, t), surname broyhill, jr, {jim}."""
    nicknames = frozenset(w for found in _NICK.findall(name) for w in fold(found).split())
    words = fold(_NICK.sub(" ", name)).split()
    suffix = None
    while len(words) > 1 and words[-1] in {*_SUFFIXES, "md", "phd"}:
        suffix = _SUFFIXES.get(words.pop(), suffix)
    if not words:
        return NameParts((), "", suffix, nicknames)
    return NameParts(tuple(words[:-1]), words[-1], suffix, nicknames)


def _stored_parts(spelling: str, key: str) -> tuple[tuple[str, ...], str]:
    """`parse_name(spelling)`'s given names and surname, from its stored key (`name_key`) when that gives the
    same: for a plain spelling (letters, spaces and . , ' -) none of whose words is a suffix, the key's words
    are the name's."""
    if _PLAIN.fullmatch(spelling):
        words = key.split()
        if words and _NOT_LETTER.sub(" ", spelling.lower().replace("'", "")).split() == words:
            return tuple(words[:-1]), words[-1]
    parts = parse_name(spelling)
    return parts.given, parts.surname


def same_first_name(a: str, b: str) -> bool:
    """Equal, or nicknames of one name (doug/douglas, bill/william)."""
    return a == b or bool(NICKNAMES.get(a, frozenset()) & NICKNAMES.get(b, frozenset()))


def _middles_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the shorter list of middle names/initials fits into the longer, in order, by initial.

    ("l", "davis") takes ("davis",); ("y", "johnson") takes ("johnson",); ("a",) does not take ("b",).
    """
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    position = 0
    for word in short:
        while position < len(long) and not _same_middle(word, long[position]):
            position += 1
        if position == len(long):
            return False
        position += 1
    return True


def _same_middle(a: str, b: str) -> bool:
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return same_first_name(a, b)


def name_match(a: str, b: str) -> str | None:
    """How two spellings name one person, or None.

    The rules: "same name" (same key), "nickname", "middle name or initial" (one has a middle name
    or initial the other leaves out), "goes by middle name".
    """
    pa, pb = parse_name(a), parse_name(b)
    if not pa.surname or pa.surname != pb.surname:
        return None
    if pa.suffix and pb.suffix and pa.suffix != pb.suffix:
        return None
    if _key(a) == _key(b):
        return "same name"
    if not pa.given or not pb.given:
        return None
    for x, y in ((pa, pb), (pb, pa)):
        firsts_x = {x.given[0], *x.nicknames}
        firsts_y = {y.given[0], *y.nicknames}
        full_x = [w for w in firsts_x if len(w) > 1]
        full_y = [w for w in firsts_y if len(w) > 1]
        if any(same_first_name(p, q) for p in full_x for q in full_y):
            if not _middles_agree(x.given[1:], y.given[1:]):
                return None
            plain = x.given[0] == y.given[0] and not x.nicknames and not y.nicknames
            return "middle name or initial" if plain else "nickname"
        # y goes by x's middle name: "Gordon Douglas Jones" / "Doug Jones", "A. Wayne Johnson" / "Wayne Johnson"
        called_y = [w for w in (*firsts_y, *y.given) if len(w) > 1][:1] + [
            w for w in y.nicknames if len(w) > 1
        ]
        middles = [w for w in x.given[1:] if len(w) > 1]
        if any(same_first_name(c, m) for c in called_y for m in middles) and (
            len(y.given[0]) > 1 or y.given[0][0] == x.given[0][0]
        ):
            return "goes by middle name"
    return None


def _misspelt(name: str, known: _Known, party: str) -> bool:
    """A misspelling of a known person's name (same known party, all else equal).

    One letter off in a surname of five letters or more ("Kevin J. O'Connor" / "KEVIN J.
    O'CONNER"), or one letter missing or doubled in a first name of five letters or more
    ("MICH MCCONNELL" / "Mitch McConnell", "WILLDEY J. MOORE" / "Wildey J. Moore"). A first name
    with a letter changed is another name (Dan and Don), so it does not count.
    """
    if known.person.party != party:
        return False
    parts = parse_name(name)
    if not parts.given or len(parts.given[0]) < 2:
        return False
    for spelling in known.spellings:
        other = parse_name(spelling)
        if other.suffix != parts.suffix or len(other.given) != len(parts.given) or not other.given:
            continue
        if other.given == parts.given:
            if len(parts.surname) >= 5 and Levenshtein.distance(other.surname, parts.surname) == 1:
                return True
        elif other.surname == parts.surname and other.given[1:] == parts.given[1:]:
            a, b = other.given[0], parts.given[0]
            if max(len(a), len(b)) >= 5 and abs(len(a) - len(b)) == 1 and Levenshtein.distance(a, b) == 1:
                return True
    return False


def _one_left_out(word: str) -> set[str]:
    """A word and every spelling of it with one letter left out."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def parties_agree(a: str | None, b: str | None) -> bool:
    """Equal, unknown, or both minor: sources label the same independent IND, OTH or their party's name."""
    if not a or not b or a == b:
        return True
    return a not in MAJOR and b not in MAJOR


@dataclass(frozen=True)
class Merge:
    """A spelling matched to a known person by rule 2 (see the module docstring)."""

    name: str
    state: str | None
    person: str
    person_id: int
    rule: str

    def describe(self) -> str:
        return f"{self.name!r} = {self.person!r} ({self.state or 'no state'}; {self.rule})"


@dataclass(frozen=True)
class Ambiguity:
    """A name left unmatched because several people match, or possibly the same person as another."""

    name: str
    state: str | None
    candidates: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        others = ", ".join(repr(c) for c in self.candidates)
        return f"{self.name!r} ({self.state or 'no state'}): {self.reason}: {others}"


@dataclass
class _Known:
    person: Candidate
    spellings: list[str]
    keys: set[str]
    tokens: set[str]


def _odd(spelling: Any, key: Any) -> ColumnElement[Any]:
    """In SQL: NULL for a spelling whose `parse_name` words are its stored key's words (the spelling
    lowered, without . , and ', hyphens as spaces, is the key, and the key does not end in 2nd or 3rd,
    which `parse_name` drops as suffixes), else the spelling itself, to be parsed.

    Why that suffices: the spelling is then ASCII letters, digits and . , ' - (any other character
    would be left in it, and a key holds none), so no quotes or brackets of a nickname; and its words,
    split at those marks, are the key's words: the lowered spelling and the key are as long as each
    other, so the key dropped no suffix word, and then no two words were joined where a mark was
    taken out (the key would have one word more). tests/db/importers/test_fast_writer.py checks it."""
    plain = func.lower(spelling)
    for mark, becomes in ((".", ""), (",", ""), ("'", ""), ("-", " ")):
        plain = func.replace(plain, mark, becomes)
    return case((and_(plain == key, key.not_like("% 2nd"), key.not_like("% 3rd")), None), else_=spelling)


@dataclass
class _StoredKeys:
    """A state's stored spellings (live people's names and aliases) as keys, read in one query: whom a
    name can match (`matching`), be a misspelling of (`near`) or look like (`look_alike`), by id, so that
    only those people are read whole. A spelling's `parse_name` given names and surname are its key's
    words for most (see `_odd`); the others are parsed."""

    keys: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    by_key: dict[str, list[int]] = field(default_factory=dict)
    by_surname: dict[str, list[int]] = field(default_factory=dict)
    #: Given names (joined) -> the surnames spelt with them, and whose each is.
    by_given: dict[str, tuple[list[str], list[int]]] = field(default_factory=dict)
    #: `near` and `look_alike` as worked out, by name and by key (a name is asked again as it is resolved).
    _near: dict[str, set[int]] = field(default_factory=dict)
    _alike: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    async def read(cls, session: AsyncSession, state: str | None) -> _StoredKeys:
        where = Candidate.state.is_(None) if state is None else Candidate.state == state
        live = (where, Candidate.merged_into_id.is_(None))
        names = select(Candidate.id, Candidate.name_key, _odd(Candidate.name, Candidate.name_key)).where(
            *live
        )
        aliases = (
            select(
                CandidateAlias.candidate_id,
                CandidateAlias.alias_key,
                _odd(CandidateAlias.alias, CandidateAlias.alias_key),
            )
            .join(Candidate, Candidate.id == CandidateAlias.candidate_id)
            .where(*live, CandidateAlias.alias != Candidate.name)  # (a name is most often an alias too)
        )
        rows = (await session.execute(union_all(names, aliases))).all()
        stored = cls([key for _, key, _ in rows], [person_id for person_id, _, _ in rows])
        by_key, by_surname, by_given = stored.by_key, stored.by_surname, stored.by_given
        for person_id, key, odd in rows:
            if odd is None:
                given, _, surname = key.rpartition(" ")
            else:
                parsed = parse_name(odd)
                given, surname = " ".join(parsed.given), parsed.surname
            if key:
                by_key.setdefault(key, []).append(person_id)
            if surname:
                by_surname.setdefault(surname, []).append(person_id)
            surnames, owners = by_given.setdefault(given, ([], []))
            surnames.append(surname)
            owners.append(person_id)
        return stored

    def matching(self, name: str) -> set[int]:
        """The people with a spelling of this key or this surname (`PeopleIndex._find`'s first two rules)."""
        return {*self.by_key.get(_key(name), ()), *self.by_surname.get(parse_name(name).surname, ())}

    def near(self, name: str) -> set[int]:
        """Everyone `_StateIndex.near` can give: the same surname, or the same given names and a surname
        sharing a spelling with one letter left out, so at most two letters apart (`Indel`)."""
        if name in self._near:
            return self._near[name]
        parts = parse_name(name)
        found = set(self.by_surname.get(parts.surname, ()))
        surnames, owners = self.by_given.get(" ".join(parts.given), ([], []))
        close = process.extract(parts.surname, surnames, scorer=Indel.distance, score_cutoff=2, limit=None)
        found.update(owners[i] for _, _, i in close)
        self._near[name] = found
        return found

    def look_alike(self, key: str) -> set[int]:
        """The people with a spelling whose key is `_look_alikes`' near-identical one."""
        if key not in self._alike:
            found = process.extract(key, self.keys, scorer=fuzz.ratio, score_cutoff=90, limit=None)
            self._alike[key] = {self.owners[i] for _, _, i in found}
        return self._alike[key]


@dataclass
class _StateIndex:
    stored: _StoredKeys
    #: The stored people read whole (`PeopleIndex._read_people`), by id.
    read: set[int] = field(default_factory=set)
    people: dict[int, _Known] = field(default_factory=dict)
    # A key or a surname -> the people spelt so, by id (in the order they were noted).
    by_key: dict[str, dict[int, _Known]] = field(default_factory=dict)
    by_surname: dict[str, dict[int, _Known]] = field(default_factory=dict)
    # Given names and a surname with at most one letter left out -> the people spelt so, by id.
    by_given: dict[tuple[tuple[str, ...], str], dict[int, _Known]] = field(default_factory=dict)
    # Every spelling's key and whose it is, in one list: a new name is compared with all of them at once.
    spelling_keys: list[str] = field(default_factory=list)
    spelling_of: list[_Known] = field(default_factory=list)

    def live(self, known: _Known) -> bool:
        """Whether this is the index's own record of a live person (not a merged-away one's alias)."""
        return self.people.get(known.person.id) is known

    def near(self, name: str) -> list[_Known]:
        """The live people who could be a misspelling of `name` (`_misspelt`): the same surname, or the same
        given names and a surname one letter off (two surnames one edit apart share a spelling with one letter
        left out), so that not every person of the state is tried."""
        parts = parse_name(name)
        found = dict(self.by_surname.get(parts.surname, {}))
        for variant in _one_left_out(parts.surname):
            found.update(self.by_given.get((parts.given, variant), {}))
        return [k for k in found.values() if self.live(k)]

    def add(self, known: _Known) -> None:
        self.people[known.person.id] = known
        for spelling in known.spellings:
            self.note(known, spelling)

    def load(self, known: _Known, keys: list[str]) -> None:
        """A stored person, with its spellings' keys as stored: `note` without working the keys out again,
        and a plain spelling's parts read from its key (`_stored_parts`)."""
        self.people[known.person.id] = known
        seen: set[str] = set()
        for spelling, key in zip(known.spellings, keys, strict=True):
            if spelling in seen:  # (a person's name is most often an alias too)
                continue
            seen.add(spelling)
            given, surname = _stored_parts(spelling, key)
            self._note(known, key, given, surname)

    def note(self, known: _Known, spelling: str) -> None:
        parts = parse_name(spelling)
        self._note(known, _key(spelling), parts.given, parts.surname)

    def _note(self, known: _Known, key: str, given: tuple[str, ...], surname: str) -> None:
        number = id(known)
        if key:
            self.by_key.setdefault(key, {})[number] = known
        if surname:
            self.by_surname.setdefault(surname, {})[number] = known
        for variant in _one_left_out(surname):
            self.by_given.setdefault((given, variant), {})[number] = known
        self.spelling_keys.append(key)
        self.spelling_of.append(known)


@dataclass
class PeopleIndex:
    """Resolves names to candidates within one transaction, caching what it has seen."""

    session: AsyncSession
    #: Gives a new person's key without a flush (`db.dataset.load.NewId`); else each is flushed.
    new_id: Callable[[type[Any]], Awaitable[int]] | None = None
    #: When given, new aliases and name tokens are kept here as rows until `write_later` (an import's many).
    later: dict[type[Any], list[dict[str, Any]]] | None = None
    created: list[Candidate] = field(default_factory=list)
    #: People found (not created here) whose party or office held was filled in here, by `id()`: a change of
    #: every race they are in.
    filled_in: set[int] = field(default_factory=set)
    _created_objects: set[int] = field(default_factory=set)  # `id()` of each person in `created`
    #: Other spellings added here for people found (not created here): new words to find them by.
    spellings_added: int = 0
    merges: list[Merge] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    _states: dict[str | None, _StateIndex] = field(default_factory=dict)
    _reported: set[Ambiguity] = field(default_factory=set)
    #: With `later`, stored people are read as plain rows (`Staged`), and what `get_or_create` fills in
    #: for them (party, office held) is kept here, by id, until `write_later` updates them.
    _stored: set[int] = field(default_factory=set)
    _updates: dict[int, dict[str, Any]] = field(default_factory=dict)

    async def _index(self, state: str | None) -> _StateIndex:
        index = self._states.get(state)
        if index is None:
            index = self._states[state] = _StateIndex(await _StoredKeys.read(self.session, state))
        return index

    async def prepare(self, people: Iterable[tuple[list[str], str | None, str | None]]) -> None:
        """Read at once the stored people these (spellings, state, party) can match, be a misspelling of or
        (the first spelling, a new person's name) look like: a few queries per 500 people, rather than a
        few for each name as it is resolved."""
        wanted: dict[str | None, set[int]] = {}
        for spellings, state, party in people:
            stored = (await self._index(state)).stored
            ids = wanted.setdefault(state, set())
            for spelling in spellings:
                ids.update(stored.matching(spelling))
                if party:
                    ids.update(stored.near(spelling))
            if spellings:
                ids.update(stored.look_alike(_key(spellings[0])))
        await self._read_people(wanted)

    async def _read_people(self, wanted: dict[str | None, set[int]]) -> None:
        """Read whole, into their states' indexes, the stored people of these ids (by state) not read yet:
        their rows, aliases and name tokens, 500 people a query."""
        missing: list[int] = []
        for state, ids in wanted.items():
            index = self._states[state]
            missing += ids - index.read
            index.read.update(ids)
        missing.sort()
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            live = (Candidate.id.in_(chunk), Candidate.merged_into_id.is_(None))
            people: list[Candidate]
            if self.later is None:
                people = list((await self.session.scalars(select(Candidate).where(*live))).all())
            else:  # an import's: plain rows, not an ORM object per person
                rows = await self.session.execute(
                    select(
                        Candidate.id,
                        Candidate.name,
                        Candidate.name_key,
                        Candidate.party,
                        Candidate.office_held,
                        Candidate.state,
                    ).where(*live)
                )
                people = [
                    cast(
                        Candidate,
                        Staged(Candidate, id=i, name=n, name_key=k, party=p, office_held=o, state=st),
                    )
                    for i, n, k, p, o, st in rows
                ]
                self._stored.update(p.id for p in people)
            spellings: dict[int, list[str]] = {p.id: [p.name] for p in people}
            stored_keys: dict[int, list[str]] = {p.id: [p.name_key] for p in people}
            keys: dict[int, set[str]] = {p.id: set() for p in people}
            aliases = await self.session.execute(
                select(CandidateAlias.candidate_id, CandidateAlias.alias, CandidateAlias.alias_key)
                .where(CandidateAlias.candidate_id.in_(spellings))
                .order_by(CandidateAlias.id)
            )
            for person_id, alias, key in aliases:
                spellings[person_id].append(alias)
                stored_keys[person_id].append(key)
                keys[person_id].add(key)
            tokens: dict[int, set[str]] = {p.id: set() for p in people}
            for person_id, token in await self.session.execute(
                select(NameToken.candidate_id, NameToken.token).where(NameToken.candidate_id.in_(spellings))
            ):
                tokens[person_id].add(token)
            for person in sorted(people, key=lambda p: p.id):
                known = _Known(person, spellings[person.id], keys[person.id], tokens[person.id])
                self._states[person.state].load(known, stored_keys[person.id])

    async def find(self, name: str, state: str | None, party: str | None = None) -> Candidate | None:
        """The one live person this name means in this state, or None (unknown or ambiguous)."""
        known = await self._find(name, state, party, report=True)
        return known.person if known else None

    async def _find(self, name: str, state: str | None, party: str | None, report: bool) -> _Known | None:
        index = await self._index(state)
        key = _key(name)
        if not key:
            return None
        await self._read_people({state: index.stored.matching(name)})
        suffix = parse_name(name).suffix
        exact = [
            k
            for k in index.by_key.get(key, {}).values()
            if not suffix or all(not s or s == suffix for s in (parse_name(x).suffix for x in k.spellings))
        ]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            if report:
                self._ambiguous(name, state, [k.person.name for k in exact], "several people have this name")
            return None
        matches: list[tuple[_Known, str]] = []
        for known in index.by_surname.get(parse_name(name).surname, {}).values():
            if not parties_agree(party, known.person.party):
                continue
            rule = next((r for s in known.spellings if (r := name_match(name, s))), None)
            if rule:
                matches.append((known, rule))
        if not matches and party:
            await self._read_people({state: index.stored.near(name)})
            matches = [(k, "spelling") for k in index.near(name) if _misspelt(name, k, party)]
        if len(matches) == 1:
            known, rule = matches[0]
            if report:
                self.merges.append(Merge(name, state, known.person.name, known.person.id, rule))
            return known
        if len(matches) > 1 and report:
            self._ambiguous(name, state, [k.person.name for k, _ in matches], "several people match")
        return None

    def _ambiguous(self, name: str, state: str | None, candidates: list[str], reason: str) -> None:
        entry = Ambiguity(name, state, tuple(sorted(set(candidates))), reason)
        if entry not in self._reported:
            self._reported.add(entry)
            self.ambiguities.append(entry)

    async def get_or_create(
        self,
        name: str,
        state: str | None,
        party: str | None = None,
        aliases: tuple[str, ...] | list[str] = (),
        office_held: str | None = None,
        source: str | None = None,
    ) -> Candidate:
        spellings = [name, *aliases]
        known: _Known | None = None
        for spelling in spellings:
            known = await self._find(spelling, state, party, report=True)
            if known is not None:
                break
        if known is None:
            known = await self._create(name, state, party, office_held)
        person = known.person
        filled = False
        if office_held and not person.office_held:
            person.office_held = office_held
            self._update(person, office_held=office_held)
            filled = True
        if party and not person.party:
            person.party = party
            self._update(person, party=party)
            filled = True
        if filled and id(person) not in self._created_objects:
            self.filled_in.add(id(person))
        for spelling in spellings:
            await self.add_alias(person, spelling, source)
        return person

    async def _create(
        self, name: str, state: str | None, party: str | None, office_held: str | None
    ) -> _Known:
        index = await self._index(state)
        await self._look_alikes(name, state, index)
        values = {"name": name, "name_key": _key(name), "party": party, "state": state}
        values["office_held"] = office_held
        if self.new_id is not None and self.later is not None:  # a row inserted by `write_people`
            check_row(Candidate, values)
            staged = Staged(Candidate, **values)
            staged.id = await self.new_id(Candidate)
            self.later.setdefault(Candidate, []).append(staged.values)
            person = cast(Candidate, staged)
        else:
            person = Candidate(**values)
            self.session.add(person)
            if self.new_id is not None:
                person.id = await self.new_id(Candidate)
            else:
                await self.session.flush()
        self.created.append(person)
        self._created_objects.add(id(person))
        known = _Known(person, [name], set(), set())
        index.add(known)
        return known

    async def _look_alikes(self, name: str, state: str | None, index: _StateIndex) -> None:
        """Report known people this new name resembles without matching (typos, initials only)."""
        parts, key = parse_name(name), _key(name)
        await self._read_people({state: index.stored.matching(name) | index.stored.look_alike(key)})
        similar = {}
        for known in index.by_surname.get(parts.surname, {}).values() if parts.given else []:
            for spelling in known.spellings:
                other = parse_name(spelling)
                if (
                    other.surname == parts.surname
                    and other.given
                    and fuzz.ratio(" ".join(parts.given), " ".join(other.given)) >= 80
                ):
                    similar[id(known)] = known
                    break
        for _, _, i in process.extract(
            key, index.spelling_keys, scorer=fuzz.ratio, score_cutoff=90, limit=None
        ):
            similar[id(index.spelling_of[i])] = index.spelling_of[i]
        similar = {k: known for k, known in similar.items() if index.live(known)}
        if similar:
            self._ambiguous(
                name, state, [k.person.name for k in similar.values()], "kept apart, but looks like"
            )

    def _write(self, model: type[Any], **row: Any) -> None:
        if self.later is None:
            self.session.add(model(**row))
        else:
            check_row(model, row)
            self.later.setdefault(model, []).append(row)

    def _update(self, person: Candidate, **values: Any) -> None:
        if person.id in self._stored:
            self._updates.setdefault(person.id, {}).update(values)

    async def write_people(self) -> None:
        """Insert the new people kept back (with `later` and `new_id`), in one INSERT."""
        if self.later:
            await insert_rows(self.session, Candidate, self.later.pop(Candidate, []))

    async def write_later(self) -> None:
        """Insert the people, aliases and tokens kept back (with `later`), one INSERT per table, after a
        flush of the people they name; then update the stored people `get_or_create` filled in."""
        if self.later:
            await self.write_people()
            await self.session.flush()
            for model, rows in self.later.items():
                await insert_rows(self.session, model, rows)
            self.later.clear()
        if self._updates:  # also when nothing new was kept back: a party filled in for a stored person
            await update_rows(self.session, Candidate, self._updates)
            self._updates.clear()

    async def add_alias(self, person: Candidate, spelling: str, source: str | None = None) -> None:
        key = _key(spelling)
        if not key:
            return
        index = await self._index(person.state)
        known = index.people.get(person.id)
        if known is None:  # not live in this state (merged away): record without the index
            known = _Known(person, [person.name], set(), set())
        if key in known.keys:
            return
        self._write(CandidateAlias, candidate_id=person.id, alias=spelling, alias_key=key, source=source)
        if id(person) not in self._created_objects:
            self.spellings_added += 1
        known.keys.add(key)
        for token in name_tokens(spelling) - known.tokens:
            self._write(NameToken, candidate_id=person.id, token=token)
            known.tokens.add(token)
        if spelling not in known.spellings:
            known.spellings.append(spelling)
        index.note(known, spelling)

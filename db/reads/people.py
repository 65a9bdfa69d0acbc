"""Reads for `candidate` and `endorsements`: finding people by any part of a name, and a person's card.

A name matches by any of its words, in any case, as a word prefix ("sess" finds
Sessions) or, for words of four letters or more, a close typo ("tubervile").
State and party words narrow the people found ("jones alabama", "jones dem");
when narrowing leaves nobody, they are read as parts of the name instead
("Al Gross" is not a person from Alabama).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.direct import Together, execute_together, prebuilt
from db.lookup import ParsedQuery, parse_query, typo_candidate_ids
from db.names import fold, name_key
from db.polling import MatchupAverage
from db.reads.polls import PollFilter, filtered_averages, newest_poll_end, race_contests
from db.reads.races import (
    PERSON_BALLOTS,
    PERSON_STANDINGS,
    ContestView,
    Standing,
    columns_of,
    endorsements_statement,
    person_row,
    race_columns,
    race_row,
    read_endorsements,
    read_views,
    stage_sort_key,
)
from db.reads.rows import ContestRow, EndorsementRow, Person, RaceRow
from db.reads.tables import ALIASES, ANSWERS, CANDIDACIES, CANDIDATES, CONTESTS, NAME_TOKENS, RACES

MIN_TYPO_SCORE = 80
TOKEN_HITS = 500
RACES_SHOWN = 40
ENDORSEMENTS_READ = 200
INCUMBENT_IN = 10

_incumbents = CANDIDATES.alias("incumbent")

# The people a word finds (a name word begins with it). A query of one word finds the TOKEN_HITS lowest ids (a
# short word may begin thousands of names); a word among others finds every one, so that a common first name
# does not hide the one person the other words name.
WORD_IDS = select(NAME_TOKENS.c.candidate_id).where(
    NAME_TOKENS.c.token >= bindparam("word"), NAME_TOKENS.c.token < bindparam("past")
)
TOKEN_IDS = WORD_IDS.order_by(NAME_TOKENS.c.candidate_id).limit(TOKEN_HITS)
# A person found, whom a merged-away record points to, and how many races they ran in.
_FOUND = (
    *columns_of(CANDIDATES, Person),
    CANDIDATES.c.merged_into_id,
    select(func.count(func.distinct(CONTESTS.c.race_id)))
    .select_from(CANDIDACIES.join(CONTESTS, CONTESTS.c.id == CANDIDACIES.c.contest_id))
    .where(CANDIDACIES.c.candidate_id == CANDIDATES.c.id)
    .scalar_subquery(),
)
PEOPLE_OF_WORD = select(*_FOUND).where(CANDIDATES.c.id.in_(TOKEN_IDS)).order_by(CANDIDATES.c.id)
EVERY_PERSON = select(*_FOUND).order_by(CANDIDATES.c.id)
EVERY_NAME_WORD = select(NAME_TOKENS.c.token, NAME_TOKENS.c.candidate_id).order_by(
    NAME_TOKENS.c.token, NAME_TOKENS.c.candidate_id
)
PEOPLE = (
    select(*_FOUND).where(CANDIDATES.c.id.in_(bindparam("ids", expanding=True))).order_by(CANDIDATES.c.id)
)
UNMERGED_PEOPLE = PEOPLE.where(CANDIDATES.c.merged_into_id.is_(None))
# The person, each spelling of their name (one row each), and how many poll answers name them.
PERSON = (
    select(
        *columns_of(CANDIDATES, Person),
        ALIASES.c.alias,
        select(func.count(ANSWERS.c.id))
        .where(ANSWERS.c.candidate_id == bindparam("person_id"))
        .scalar_subquery(),
    )
    .select_from(CANDIDATES.outerjoin(ALIASES, ALIASES.c.candidate_id == CANDIDATES.c.id))
    .where(CANDIDATES.c.id == bindparam("person_id"))
)
INCUMBENT_IN_RACES = (
    select(*race_columns(RACES, _incumbents))
    .select_from(RACES.outerjoin(_incumbents, _incumbents.c.id == RACES.c.incumbent_id))
    .where(RACES.c.incumbent_id == bindparam("person_id"))
    .order_by(RACES.c.cycle.desc())
    .limit(INCUMBENT_IN)
)
PERSON_ENDORSEMENTS = endorsements_statement(lambda t: t.c.candidate_id == bindparam("person_id"))
RACE_ENDORSEMENTS = endorsements_statement(lambda t: t.c.race_id == bindparam("race_id"))
for _statement in (
    TOKEN_IDS,
    WORD_IDS,
    PEOPLE_OF_WORD,
    PEOPLE,
    UNMERGED_PEOPLE,
    PERSON,
    INCUMBENT_IN_RACES,
    PERSON_ENDORSEMENTS,
    RACE_ENDORSEMENTS,
    EVERY_PERSON,
    EVERY_NAME_WORD,
):
    prebuilt(_statement)  # run straight on the driver (db/direct.py)
# A person's card, in one round trip: the person, the races they hold, their endorsements, and their stages.
PERSON_CARD = Together(PERSON, INCUMBENT_IN_RACES, PERSON_ENDORSEMENTS, PERSON_BALLOTS, PERSON_STANDINGS)


@dataclass
class PeopleMatches:
    """The people a query found, best first, and the one meant when one stands out."""

    query: ParsedQuery
    people: list[Person]
    chosen: Person | None
    runs: dict[int, int] = field(default_factory=dict)  # person id -> races run, for the list


class KnownPeople:
    """Every person as `find_people` reads them (the rows of `_FOUND`), and their name words, in memory: what
    `_found_by` and `_live_people` would read, for words the copy can answer (db/shelf.py keeps it current).

    A word answers from here when some name word begins with it; a long word none begins with may be a typo,
    and the typo search asks the store."""

    __slots__ = ("ids", "people", "words")

    def __init__(self, people: Sequence[Sequence[Any]], words: Sequence[Sequence[Any]]) -> None:
        self.people = {int(row[0]): tuple(row) for row in people}
        self.words = [str(row[0]) for row in words]  # sorted as the store sorts them (by code point)
        self.ids = [int(row[1]) for row in words]

    def ids_for(self, word: str, every: bool = False) -> set[int] | None:
        """The people `TOKEN_IDS` (`every`: `WORD_IDS`) finds for the word; None: ask the store."""
        start = bisect.bisect_left(self.words, word)
        end = bisect.bisect_left(self.words, word + "~", start)
        if start == end:
            return set() if len(word) < 4 else None  # a long word may be a typo: the store searches
        ids = self.ids[start:end]
        if not every and len(ids) > TOKEN_HITS:
            ids = sorted(ids)[:TOKEN_HITS]
        return set(ids)

    def found_by(self, words: list[str]) -> list[tuple[Any, ...]] | None:
        """The rows `_found_by` reads for these words, or None: ask the store."""
        if len(words) == 1:
            hits = self.ids_for(words[0])
            return None if hits is None else self.rows_of(hits)
        matched: set[int] | None = None
        for word in words:
            hits = self.ids_for(word, every=True)
            if hits is None:
                return None
            matched = hits if matched is None else matched & hits
            if not matched:
                return []
        return self.rows_of(matched or set())

    def rows_of(self, ids: set[int]) -> list[tuple[Any, ...]]:
        return [self.people[i] for i in sorted(ids) if i in self.people]

    def unmerged(self, ids: set[int]) -> list[tuple[Any, ...]]:
        """The rows `UNMERGED_PEOPLE` reads for these ids."""
        return [row for row in self.rows_of(ids) if row[-2] is None]


async def read_known_people(session: AsyncSession) -> KnownPeople:
    people = await session.execute(EVERY_PERSON)
    words = await session.execute(EVERY_NAME_WORD)
    return KnownPeople(list(people), list(words))


async def _ids_for_word(session: AsyncSession, word: str) -> set[int]:
    ids = set((await session.execute(WORD_IDS, {"word": word, "past": word + "~"})).scalars())
    if ids or len(word) < 4:
        return ids
    return await typo_candidate_ids(session, word)


async def _found_by(session: AsyncSession, words: list[str]) -> list[Sequence[Any]]:
    """The `_FOUND` rows of the people whose names have every word (as a word's prefix, or a close typo
    of a long word): one statement for one word."""
    if len(words) == 1:
        word = words[0]
        rows: list[Sequence[Any]] = list(
            await session.execute(PEOPLE_OF_WORD, {"word": word, "past": word + "~"})
        )
        if rows or len(word) < 4:
            return rows
        ids = await typo_candidate_ids(session, word)
    else:
        matched: set[int] | None = None
        for word in words:
            hits = await _ids_for_word(session, word)
            matched = hits if matched is None else matched & hits
            if not matched:
                return []
        ids = matched or set()
    return list(await session.execute(PEOPLE, {"ids": sorted(ids)})) if ids else []


async def _live_people(
    session: AsyncSession, words: list[str], runs: dict[int, int], known: KnownPeople | None
) -> list[Person]:
    """The people found by these words, a merged-away record standing for the person it was merged into;
    each one's count of races run goes into `runs`. From `known` where it can answer."""
    from_memory = known.found_by(words) if known is not None else None
    rows = from_memory if from_memory is not None else await _found_by(session, words)
    merged = {row[-2] for row in rows if row[-2] is not None}
    live: list[Sequence[Any]] = [row for row in rows if row[-2] is None]
    if merged:
        seen = {row[0] for row in live}
        if known is not None:
            live += known.unmerged(merged - seen)
        else:
            live += list(await session.execute(UNMERGED_PEOPLE, {"ids": sorted(merged - seen)}))
    runs.update((row[0], int(row[-1])) for row in live)
    return [Person(*row[:-2]) for row in live]


async def find_people(
    session: AsyncSession, text: str, limit: int = 10, known: KnownPeople | None = None
) -> PeopleMatches:
    """The people a query names, best first; `known`: the people in memory, which answer where they can."""
    query = parse_query(text)
    words = [w for w in query.name_words if len(w) >= 2]
    ran: dict[int, int] = {}
    found = await _live_people(session, words, ran, known) if words else []
    people = [
        p
        for p in found
        if (not query.state or p.state == query.state) and (not query.party or p.party == query.party)
    ]
    loose = not people  # nobody fits every word as said: the choice is the member's
    if not people:
        # Every word as part of the name: "Al Gross", "Virginia Foxx".
        all_words = _all_words(text)
        if all_words and all_words != words:
            people = await _live_people(session, all_words, ran, known)
            loose = not people
    if not people:
        people = found  # the name fits, the state or party does not: offer them
    runs = {p.id: ran[p.id] for p in people if ran[p.id]}
    typed = name_key(" ".join(query.name_words)) or name_key(text)
    people.sort(key=lambda p: (p.name_key != typed, -runs.get(p.id, 0), p.name))
    exact = [p for p in people if p.name_key == typed]
    chosen = None
    if not loose or not found:
        chosen = people[0] if len(people) == 1 else (exact[0] if len(exact) == 1 else None)
    return PeopleMatches(query, people[:limit], chosen, runs)


def _all_words(text: str) -> list[str]:
    return [w for w in fold(text).split() if len(w) >= 2 and not w.isdigit()]


@dataclass
class Run:
    """One stage a person ran in."""

    race: RaceRow
    view: ContestView
    standing: Standing


@dataclass
class PollLine:
    race: RaceRow
    average: MatchupAverage
    contests: dict[int, ContestRow]  # the race's stages, to name the match-up


@dataclass
class PersonCard:
    person: Person
    aliases: list[str]
    runs: list[Run]  # newest race first, stages in order
    races_total: int
    incumbent_in: list[RaceRow]
    endorsements: list[EndorsementRow]
    endorsement_count: int
    polls: list[PollLine]
    poll_mentions: int  # answers naming this person, across all polls


# A race's current poll averages and its stages, as a person's card reads them (`_poll_lines`).
RacePolls = tuple[list[MatchupAverage], dict[int, ContestRow]]


async def person_card(
    session: AsyncSession, person_id: int, held_polls: Callable[[int], RacePolls | None] | None = None
) -> PersonCard | None:
    """A person's card: five statements asked at once (and the polls' when a poll names the person, unless
    `held_polls` holds them: the shelf of races in memory, db/shelf.py)."""
    params = {"person_id": person_id, "limit": ENDORSEMENTS_READ}
    found, incumbent_of, endorsed, ballots, standings = await execute_together(session, PERSON_CARD, params)
    rows = list(found)
    if not rows:
        return None
    person = person_row(rows[0], 0)
    assert person is not None
    at = len(columns_of(CANDIDATES, Person))
    spellings = {row[at] for row in rows if row[at] is not None}
    aliases = sorted(a for a in spellings if name_key(a) != person.name_key)
    mentions = int(rows[0][at + 1] or 0)
    races, views = read_views(ballots, standings)
    race_ids = sorted(races, key=lambda r: (-races[r].cycle, -r))[:RACES_SHOWN]
    order = {race_id: i for i, race_id in enumerate(race_ids)}
    shown = [v for v in views if v.contest.race_id in order]
    shown.sort(key=lambda v: (order[v.contest.race_id], stage_sort_key(v.contest)))
    runs = []
    for view in shown:
        standing = next(s for s in view.standings if s.candidacy.candidate_id == person_id)
        runs.append(Run(races[view.contest.race_id], view, standing))
    incumbent_in = [race_row(row) for row in incumbent_of]
    endorsements, endorsement_count = read_endorsements(endorsed)
    polls = await _poll_lines(session, person_id, runs, held_polls) if mentions else []
    return PersonCard(
        person,
        aliases,
        runs,
        len(races),
        [r for r in incumbent_in if r is not None],
        endorsements,
        endorsement_count,
        polls,
        mentions,
    )


async def _poll_lines(
    session: AsyncSession,
    person_id: int,
    runs: list[Run],
    held_polls: Callable[[int], RacePolls | None] | None,
) -> list[PollLine]:
    """The current average of each match-up naming this person, in their newest race with polls."""
    seen: list[int] = []
    for run in runs:
        if run.race.id not in seen:
            seen.append(run.race.id)
    for race_id in seen[:3]:
        held = held_polls(race_id) if held_polls is not None else None
        if held is not None:
            found, contests = held  # (a race without polls has no averages: no lines, as below)
        else:
            newest = await newest_poll_end(session, race_id)
            if newest is None:
                continue
            contests = await race_contests(session, race_id)
            found = await filtered_averages(session, race_id, PollFilter(), newest)
        race = next(run.race for run in runs if run.race.id == race_id)
        lines = [
            PollLine(race, a, contests) for a in found if any(s.candidate_id == person_id for s in a.shares)
        ]
        if lines:
            return lines[:3]
    return []


async def person_endorsements(
    session: AsyncSession, person_id: int, limit: int = ENDORSEMENTS_READ
) -> tuple[list[EndorsementRow], int]:
    """A person's endorsements (and refusals) in every race, the weightiest first, and how many in all."""
    return read_endorsements(
        await session.execute(PERSON_ENDORSEMENTS, {"person_id": person_id, "limit": limit})
    )


async def race_endorsements(
    session: AsyncSession, race_id: int, limit: int = ENDORSEMENTS_READ
) -> tuple[list[EndorsementRow], int]:
    """A race's endorsements, the weightiest first, and how many in all."""
    return read_endorsements(await session.execute(RACE_ENDORSEMENTS, {"race_id": race_id, "limit": limit}))

"""Reads for `candidate` and `endorsements`: finding people by any part of a name, and a person's card.

A name matches by any of its words, in any case, as a word prefix ("sess" finds
Sessions) or, for words of four letters or more, a close typo ("tubervile").
State and party words narrow the people found ("jones alabama", "jones dem");
when narrowing leaves nobody, they are read as parts of the name instead
("Al Gross" is not a person from Alabama).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.lookup import ParsedQuery, parse_query, typo_candidate_ids
from db.models import Answer, Candidacy, Candidate, Contest, Endorsement, NameToken, Poll, Race, Stance
from db.names import fold, name_key
from db.polling import MatchupAverage
from db.reads.polls import PollFilter, filtered_averages, race_contests
from db.reads.races import ENDORSER_WEIGHT, ContestView, Standing, stage_sort_key, views_of, with_ballots

MIN_TYPO_SCORE = 80
TOKEN_HITS = 500
RACES_SHOWN = 40
ENDORSEMENTS_READ = 200


@dataclass
class PeopleMatches:
    """The people a query found, best first, and the one meant when one stands out."""

    query: ParsedQuery
    people: list[Candidate]
    chosen: Candidate | None
    runs: dict[int, int] = field(default_factory=dict)  # person id -> races run, for the list


async def _ids_for_word(session: AsyncSession, word: str) -> set[int]:
    ids = set(
        await session.scalars(
            select(NameToken.candidate_id)
            .where(NameToken.token >= word, NameToken.token < word + "~")
            .limit(TOKEN_HITS)
        )
    )
    if ids or len(word) < 4:
        return ids
    return await typo_candidate_ids(session, word)


async def _ids_for_words(session: AsyncSession, words: list[str]) -> set[int]:
    matched: set[int] | None = None
    for word in words:
        ids = await _ids_for_word(session, word)
        matched = ids if matched is None else matched & ids
        if not matched:
            return set()
    return matched or set()


async def _live_people(session: AsyncSession, ids: set[int]) -> list[Candidate]:
    """The people with these ids, a merged-away record standing for the person it was merged into."""
    if not ids:
        return []
    people = list(await session.scalars(select(Candidate).where(Candidate.id.in_(ids))))
    merged = {p.merged_into_id for p in people if p.merged_into_id is not None}
    if merged:
        people = [p for p in people if p.merged_into_id is None]
        known = {p.id for p in people}
        people += list(
            await session.scalars(
                select(Candidate).where(Candidate.id.in_(merged - known), Candidate.merged_into_id.is_(None))
            )
        )
    return people


async def find_people(session: AsyncSession, text: str, limit: int = 10) -> PeopleMatches:
    query = parse_query(text)
    words = [w for w in query.name_words if len(w) >= 2]
    found = await _live_people(session, await _ids_for_words(session, words)) if words else []
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
            people = await _live_people(session, await _ids_for_words(session, all_words))
            loose = not people
    if not people:
        people = found  # the name fits, the state or party does not: offer them
    runs = await _run_counts(session, [p.id for p in people])
    typed = name_key(" ".join(query.name_words)) or name_key(text)
    people.sort(key=lambda p: (p.name_key != typed, -runs.get(p.id, 0), p.name))
    exact = [p for p in people if p.name_key == typed]
    chosen = None
    if not loose or not found:
        chosen = people[0] if len(people) == 1 else (exact[0] if len(exact) == 1 else None)
    return PeopleMatches(query, people[:limit], chosen, runs)


def _all_words(text: str) -> list[str]:
    return [w for w in fold(text).split() if len(w) >= 2 and not w.isdigit()]


async def _run_counts(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Candidacy.candidate_id, func.count(func.distinct(Contest.race_id)))
        .join(Contest, Contest.id == Candidacy.contest_id)
        .where(Candidacy.candidate_id.in_(ids))
        .group_by(Candidacy.candidate_id)
    )
    return {person_id: int(n) for person_id, n in rows}


@dataclass
class Run:
    """One stage a person ran in."""

    race: Race
    view: ContestView
    standing: Standing


@dataclass
class PollLine:
    race: Race
    average: MatchupAverage
    contests: dict[int, Contest]  # the race's stages, to name the match-up


@dataclass
class PersonCard:
    person: Candidate
    aliases: list[str]
    runs: list[Run]  # newest race first, stages in order
    races_total: int
    incumbent_in: list[Race]
    endorsements: list[Endorsement]
    endorsement_count: int
    polls: list[PollLine]
    poll_mentions: int  # answers naming this person, across all polls


async def person_card(session: AsyncSession, person_id: int) -> PersonCard | None:
    person = await session.scalar(
        select(Candidate).where(Candidate.id == person_id).options(joinedload(Candidate.aliases))
    )
    if person is None:
        return None
    aliases = sorted({a.alias for a in person.aliases if name_key(a.alias) != person.name_key})
    race_ids_stmt = (
        select(Contest.race_id, func.max(Race.cycle))
        .join(Candidacy, Candidacy.contest_id == Contest.id)
        .join(Race, Race.id == Contest.race_id)
        .where(Candidacy.candidate_id == person_id)
        .group_by(Contest.race_id)
    )
    cycles = {race_id: cycle for race_id, cycle in await session.execute(race_ids_stmt)}
    race_ids = sorted(cycles, key=lambda r: (-cycles[r], -r))[:RACES_SHOWN]
    runs = await _runs(session, person_id, race_ids)
    incumbent_in = list(
        await session.scalars(
            select(Race).where(Race.incumbent_id == person_id).order_by(Race.cycle.desc()).limit(10)
        )
    )
    endorsements, endorsement_count = await person_endorsements(session, person_id)
    mentions = int(
        await session.scalar(select(func.count(Answer.id)).where(Answer.candidate_id == person_id)) or 0
    )
    polls = await _poll_lines(session, person_id, runs) if mentions else []
    return PersonCard(
        person, aliases, runs, len(cycles), incumbent_in, endorsements, endorsement_count, polls, mentions
    )


async def _runs(session: AsyncSession, person_id: int, race_ids: list[int]) -> list[Run]:
    if not race_ids:
        return []
    result = await session.scalars(
        select(Contest)
        .where(
            Contest.race_id.in_(race_ids),
            Contest.id.in_(select(Candidacy.contest_id).where(Candidacy.candidate_id == person_id)),
        )
        .options(joinedload(Contest.race), with_ballots())
    )
    contests = list(result.unique())
    order = {race_id: i for i, race_id in enumerate(race_ids)}
    contests.sort(key=lambda c: (order[c.race_id], stage_sort_key(c)))
    runs = []
    for view in await views_of(session, contests):
        standing = next(s for s in view.standings if s.candidacy.candidate_id == person_id)
        runs.append(Run(view.contest.race, view, standing))
    return runs


async def _poll_lines(session: AsyncSession, person_id: int, runs: list[Run]) -> list[PollLine]:
    """The current average of each match-up naming this person, in their newest race with polls."""
    seen: list[int] = []
    for run in runs:
        if run.race.id not in seen:
            seen.append(run.race.id)
    for race_id in seen[:3]:
        newest = await session.scalar(select(func.max(Poll.end_date)).where(Poll.race_id == race_id))
        if newest is None:
            continue
        race = next(run.race for run in runs if run.race.id == race_id)
        contests = await race_contests(session, race_id)
        found = await filtered_averages(session, race_id, PollFilter(), newest)
        lines = [
            PollLine(race, a, contests) for a in found if any(s.candidate_id == person_id for s in a.shares)
        ]
        if lines:
            return lines[:3]
    return []


def _weightiest_first() -> tuple[Any, ...]:
    """SQL ordering for endorsements: the endorser's weight (`db.reads.ENDORSER_WEIGHT`), endorsements
    before other stances, then the newest."""
    weight = case(ENDORSER_WEIGHT, value=Endorsement.endorser_kind, else_=len(ENDORSER_WEIGHT))
    stance = case((Endorsement.stance == Stance.ENDORSE, 0), else_=1)
    return (weight, stance, Endorsement.date.desc().nulls_last(), Endorsement.id.desc())


async def _endorsements(session: AsyncSession, where: Any, limit: int) -> tuple[list[Endorsement], int]:
    rows = list(
        await session.scalars(
            select(Endorsement)
            .where(where)
            .options(joinedload(Endorsement.race), joinedload(Endorsement.candidate))
            .order_by(*_weightiest_first())
            .limit(limit)
        )
    )
    count = int(await session.scalar(select(func.count(Endorsement.id)).where(where)) or 0)
    return rows, count


async def person_endorsements(
    session: AsyncSession, person_id: int, limit: int = ENDORSEMENTS_READ
) -> tuple[list[Endorsement], int]:
    """A person's endorsements (and refusals) in every race, the weightiest first, and how many in all."""
    return await _endorsements(session, Endorsement.candidate_id == person_id, limit)


async def race_endorsements(
    session: AsyncSession, race_id: int, limit: int = ENDORSEMENTS_READ
) -> tuple[list[Endorsement], int]:
    """A race's endorsements, the weightiest first, and how many in all."""
    return await _endorsements(session, Endorsement.race_id == race_id, limit)

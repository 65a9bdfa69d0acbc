"""What members' `race`, `polls` and `results` first read about a race, all from one round trip: the card's
statement (db/reads/races.py `CARD`) with a page of polls listed rather than one. Each is what its own read
gives (`race_card`, `poll_page` of the first page with no filter, `race_results`); the shelf of cards keeps
them for every race (db/shelf.py). With them come the people whose cards show something of the race (the shelf
drops those cards when the race changes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import BindParameter, bindparam, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from db.direct import Together, execute_together
from db.reads.people import RacePolls
from db.reads.polls import PAGE_SIZE, PollPage, page_of
from db.reads.races import CARD, RaceCard, card_from, card_params
from db.reads.results import RaceResults
from db.reads.rows import ContestRow
from db.reads.tables import ANSWERS, CANDIDACIES, CONTESTS, ENDORSEMENTS, POLLS, QUESTIONS, RACES

_RACE: BindParameter[int] = bindparam("race_id")
# Everyone whose card (db/reads/people.py `person_card`) shows something of the race: who ran in one of its
# stages, who holds it, whom one of its polls names (a hypothetical match-up names people not on its ballot;
# the card counts every answer naming them) and whom an endorsement in it is of.
RELATED_PEOPLE = union(
    select(CANDIDACIES.c.candidate_id.label("person_id"))
    .select_from(CANDIDACIES.join(CONTESTS, CONTESTS.c.id == CANDIDACIES.c.contest_id))
    .where(CONTESTS.c.race_id == _RACE),
    select(RACES.c.incumbent_id).where(RACES.c.id == _RACE, RACES.c.incumbent_id.is_not(None)),
    select(ANSWERS.c.candidate_id)
    .select_from(
        ANSWERS.join(QUESTIONS, QUESTIONS.c.id == ANSWERS.c.question_id).join(
            POLLS, POLLS.c.id == QUESTIONS.c.poll_id
        )
    )
    .where(POLLS.c.race_id == _RACE, ANSWERS.c.candidate_id.is_not(None)),
    select(ENDORSEMENTS.c.candidate_id).where(ENDORSEMENTS.c.race_id == _RACE),
)
ANSWER_READS = Together(*CARD.statements, RELATED_PEOPLE)


@dataclass(frozen=True)
class RaceAnswers:
    card: RaceCard
    first_polls: PollPage  # the first page of the race's polls, unfiltered
    results: RaceResults
    people: frozenset[int] = frozenset()  # whose cards show something of this race (`RELATED_PEOPLE`)


async def race_answers(session: AsyncSession, race_id: int) -> RaceAnswers | None:
    found = await execute_together(session, ANSWER_READS, card_params(race_id, PAGE_SIZE))
    read = card_from(race_id, found, PAGE_SIZE)
    if read is None:
        return None
    card, polls = read
    people = frozenset(int(row[0]) for row in found[-1])
    return RaceAnswers(card, page_of(polls), RaceResults(card.race, card.contests), people)


def race_polls(card: RaceCard, first_polls: PollPage) -> RacePolls:
    """What a person's card reads of a race's polls (db/reads/people.py `_poll_lines`): the averages of its
    unfiltered polls' last window, which the first page carries, and its stages."""
    return first_polls.averages, {view.contest.id: cast(ContestRow, view.contest) for view in card.contests}

"""What members' `race`, `polls` and `results` first read about a race, all from one round trip: the card's
statement (db/reads/races.py `CARD`) with a page of polls listed rather than one. Each is what its own read
gives (`race_card`, `poll_page` of the first page with no filter, `race_results`); the shelf of cards keeps
them for every race (db/shelf.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from db.reads.people import RacePolls
from db.reads.polls import PAGE_SIZE, PollPage, page_of
from db.reads.races import RaceCard, card_reads
from db.reads.results import RaceResults
from db.reads.rows import ContestRow


@dataclass(frozen=True)
class RaceAnswers:
    card: RaceCard
    first_polls: PollPage  # the first page of the race's polls, unfiltered
    results: RaceResults


async def race_answers(session: AsyncSession, race_id: int) -> RaceAnswers | None:
    found = await card_reads(session, race_id, polls_listed=PAGE_SIZE)
    if found is None:
        return None
    card, polls = found
    return RaceAnswers(card, page_of(polls), RaceResults(card.race, card.contests))


def race_polls(card: RaceCard, first_polls: PollPage) -> RacePolls:
    """What a person's card reads of a race's polls (db/reads/people.py `_poll_lines`): the averages of its
    unfiltered polls' last window, which the first page carries, and its stages."""
    return first_polls.averages, {view.contest.id: cast(ContestRow, view.contest) for view in card.contests}

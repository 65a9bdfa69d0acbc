"""Reads for `polls`: a race's polls a page at a time, their averages, and the chart's data.

Filters (population, a start date, a stage) narrow the polls and, within each
poll, the questions shown. Every query is indexed by (race_id, end_date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.models import Answer, Contest, Poll, Question
from db.polling import WINDOW_DAYS, MatchupAverage, averages

PAGE_SIZE = 5
S = TypeVar("S", bound=Select)  # any select of polls
CHART_MAX_POLLS = 2000  # the newest this many are drawn; older ones add nothing readable


@dataclass(frozen=True)
class PollFilter:
    """What a member narrowed the polls to; None means any."""

    population: str | None = None  # Population: lv, rv, a, v
    since: dt.date | None = None
    stage: str | None = None  # Stage of the contest a question asks about
    party: str | None = None  # with stage: a party's primary

    @property
    def active(self) -> bool:
        return any((self.population, self.since, self.stage, self.party))

    def keeps(self, poll: Poll, question: Question, contests: dict[int, Contest]) -> bool:
        """Whether a question of a poll passes the filter (the poll itself is filtered in SQL)."""
        if self.population and (question.population or poll.population) != self.population:
            return False
        if self.stage or self.party:
            contest = contests.get(question.contest_id) if question.contest_id else None
            if contest is None:
                return False
            if self.stage and contest.stage != self.stage:
                return False
            if self.party and contest.party != self.party:
                return False
        return True


@dataclass
class ShownPoll:
    """A poll with the questions a filter keeps (a `db.polling.PollLike`, so it can be averaged)."""

    poll: Poll
    questions: list[Question]

    @property
    def id(self) -> int:
        return self.poll.id

    @property
    def pollster(self) -> str:
        return self.poll.pollster

    @property
    def end_date(self) -> dt.date:
        return self.poll.end_date

    @property
    def sample_size(self) -> int | None:
        return self.poll.sample_size


@dataclass
class PollPage:
    """One page of a race's polls, newest first, with what the member needs around it."""

    polls: list[ShownPoll]
    page: int  # 1-based
    pages: int
    total: int  # polls passing the filter
    all_polls: int  # polls of the race, unfiltered
    averages: list[MatchupAverage]
    contests: dict[int, Contest] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0


def _asked_of(population: str) -> ColumnElement[bool]:
    """A question asked of this population: its own, else its poll's."""
    return or_(
        Question.population == population,
        and_(Question.population.is_(None), Poll.population == population),
    )


def _about(flt: PollFilter) -> list[ColumnElement[bool]]:
    """What the filter asks of a question's contest: its stage, its party."""
    conditions = []
    if flt.stage:
        conditions.append(Contest.stage == flt.stage)
    if flt.party:
        conditions.append(Contest.party == flt.party)
    return conditions


def _filtered(stmt: S, race_id: int, flt: PollFilter) -> S:
    stmt = stmt.where(Poll.race_id == race_id)
    if flt.since:
        stmt = stmt.where(Poll.end_date >= flt.since)
    question_conditions = [Question.poll_id == Poll.id]
    if flt.population:
        question_conditions.append(_asked_of(flt.population))
    if flt.stage or flt.party:
        question_conditions.append(exists().where(Contest.id == Question.contest_id, *_about(flt)))
    if len(question_conditions) > 1:
        stmt = stmt.where(exists().where(*question_conditions))
    return stmt


async def poll_sources(session: AsyncSession, race_id: int) -> set[str]:
    """Where a race's polls come from ("FiveThirtyEight", ...), for attribution."""
    found = await session.scalars(
        select(Poll.source).where(Poll.race_id == race_id, Poll.source.is_not(None)).distinct()
    )
    return {s for s in found if s}


async def race_contests(session: AsyncSession, race_id: int) -> dict[int, Contest]:
    return {c.id: c for c in await session.scalars(select(Contest).where(Contest.race_id == race_id))}


def _shown(polls: list[Poll], flt: PollFilter, contests: dict[int, Contest]) -> list[ShownPoll]:
    return [ShownPoll(p, [q for q in p.questions if flt.keeps(p, q, contests)]) for p in polls]


async def count_polls(session: AsyncSession, race_id: int, flt: PollFilter = PollFilter()) -> int:
    stmt = _filtered(select(func.count(Poll.id)), race_id, flt)
    return int(await session.scalar(stmt) or 0)


async def poll_page(
    session: AsyncSession,
    race_id: int,
    flt: PollFilter = PollFilter(),
    page: int = 1,
    contests: dict[int, Contest] | None = None,
) -> PollPage:
    """Page `page` (1-based) of the polls passing `flt`; a page past the end gives the last page.

    Four queries at most: the count and newest date, the page (joined eagerly), the averages' window
    (plain columns) and, with a filter, the unfiltered count."""
    if contests is None:
        contests = await race_contests(session, race_id)
    counted = await session.execute(
        _filtered(select(func.count(Poll.id), func.max(Poll.end_date)), race_id, flt)
    )
    total, newest = counted.one()
    all_polls = total if not flt.active else await count_polls(session, race_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    polls: list[ShownPoll] = []
    found_averages: list[MatchupAverage] = []
    if total:
        result = await session.scalars(
            _filtered(select(Poll), race_id, flt)
            .order_by(Poll.end_date.desc(), Poll.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
            .options(joinedload(Poll.questions).joinedload(Question.answers))
        )
        polls = _shown(list(result.unique()), flt, contests)
        found_averages = await filtered_averages(session, race_id, flt, newest)
    return PollPage(polls, page, pages, total, all_polls, found_averages, contests)


async def filtered_averages(
    session: AsyncSession, race_id: int, flt: PollFilter, newest: dt.date | None = None
) -> list[MatchupAverage]:
    """`db.polling.averages` over the last window of the polls passing `flt` (as the race card does)."""
    if newest is None:
        newest = await session.scalar(_filtered(select(func.max(Poll.end_date)), race_id, flt))
        if newest is None:
            return []
    window = build_polls(
        await poll_rows(session, race_id, flt, ended_since=newest - dt.timedelta(days=WINDOW_DAYS))
    )
    window.reverse()  # newest first, as the race card averages them (a choice is named as its newest poll names it)
    return averages(window)


# ---------------------------------------------------------------- the chart's data: plain and picklable


@dataclass(frozen=True)
class ChartAnswer:
    candidate_id: int | None
    choice: str
    party: str | None
    pct: float


@dataclass(frozen=True)
class ChartQuestion:
    contest_id: int | None
    hypothetical: bool
    sample_size: int | None
    answers: tuple[ChartAnswer, ...]


@dataclass(frozen=True)
class ChartPoll:
    id: int
    pollster: str
    end_date: dt.date
    sample_size: int | None
    questions: tuple[ChartQuestion, ...]


# One answer of one question of one poll: poll id, pollster, end date, poll sample, question id, contest id,
# hypothetical, question sample, candidate id, choice, party, share.
PollRow = tuple[
    int, str, dt.date, int | None, int, int | None, bool, int | None, int | None, str, str | None, float
]


async def chart_rows(
    session: AsyncSession, race_id: int, flt: PollFilter = PollFilter(), limit: int = CHART_MAX_POLLS
) -> list[PollRow]:
    """The newest `limit` polls passing `flt`, as plain rows (for the chart worker to build and draw)."""
    return await poll_rows(session, race_id, flt, limit=limit)


async def chart_polls(
    session: AsyncSession, race_id: int, flt: PollFilter = PollFilter(), limit: int = CHART_MAX_POLLS
) -> list[ChartPoll]:
    """The newest `limit` polls passing `flt`, oldest first."""
    return build_polls(await chart_rows(session, race_id, flt, limit))


async def poll_rows(
    session: AsyncSession,
    race_id: int,
    flt: PollFilter,
    *,
    limit: int | None = None,
    ended_since: dt.date | None = None,
) -> list[PollRow]:
    """The answers of the polls passing `flt` (the newest `limit`, or those ended since `ended_since`),
    of the questions the filter keeps, oldest poll first: one query of plain columns, no objects built."""
    chosen = _filtered(select(Poll.id), race_id, flt)
    if ended_since is not None:
        chosen = chosen.where(Poll.end_date >= ended_since)
    if limit is not None:
        chosen = chosen.order_by(Poll.end_date.desc(), Poll.id.desc()).limit(limit)
    stmt = (
        select(
            Poll.id,
            Poll.pollster,
            Poll.end_date,
            Poll.sample_size,
            Question.id,
            Question.contest_id,
            Question.hypothetical,
            Question.sample_size,
            Answer.candidate_id,
            Answer.choice,
            Answer.party,
            Answer.pct,
        )
        .join(Question, Question.poll_id == Poll.id)
        .join(Answer, Answer.question_id == Question.id)
        .where(Poll.id.in_(chosen.scalar_subquery()))
        .order_by(Poll.end_date, Poll.id, Question.id, Answer.id)
    )
    if flt.population:
        stmt = stmt.where(_asked_of(flt.population))
    if flt.stage or flt.party:
        stmt = stmt.join(Contest, Contest.id == Question.contest_id).where(*_about(flt))
    return [tuple(row) for row in await session.execute(stmt)]


def build_polls(rows: list[PollRow] | tuple[PollRow, ...]) -> list[ChartPoll]:
    """Plain polls from `poll_rows`' rows (pure: the chart worker process runs it)."""
    polls: dict[
        int, tuple[tuple[str, dt.date, int | None], dict[int, tuple[ChartQuestion, list[ChartAnswer]]]]
    ] = {}
    for (
        poll_id, pollster, end_date, poll_n, qid, contest_id, hypothetical, q_n, candidate_id, choice, party, share,
    ) in rows:  # fmt: skip
        _, questions = polls.setdefault(poll_id, ((pollster, end_date, poll_n), {}))
        if qid not in questions:
            questions[qid] = (ChartQuestion(contest_id, bool(hypothetical), q_n, ()), [])
        questions[qid][1].append(ChartAnswer(candidate_id, choice, party, float(share)))
    return [
        ChartPoll(
            poll_id,
            head[0],
            head[1],
            head[2],
            tuple(
                ChartQuestion(q.contest_id, q.hypothetical, q.sample_size, tuple(answers))
                for q, answers in questions.values()
            ),
        )
        for poll_id, (head, questions) in polls.items()
    ]

"""Reads for `polls`: a race's polls a page at a time, their averages, and the chart's data.

Filters (population, a start date, a stage) narrow the polls and, within each
poll, the questions shown. Every query is indexed by (race_id, end_date).

The member-facing reads (a page of polls, the race card's newest poll and average) run one prebuilt
Core statement (the counts, the page's and the averages' window's answers) and build plain objects:
the ORM's per-object cost was most of a card's time. Statements are built once per filter shape
(which of its parts are set); the filter's values are bound at each call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    FromClause,
    FunctionElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles

from db.direct import prebuilt
from db.models import Poll
from db.polling import WINDOW_DAYS, MatchupAverage, PollLike, QuestionLike, averages
from db.reads.rows import ContestRow, pickled_by_fields
from db.reads.tables import ANSWERS, CONTESTS, POLLS, QUESTIONS

PAGE_SIZE = 5
CHART_MAX_POLLS = 2000  # the newest this many are drawn; older ones add nothing readable


class StageLike(Protocol):
    """What the polls reply names a match-up by: its contest's stage and, for a primary, party."""

    @property
    def stage(self) -> str: ...
    @property
    def party(self) -> str: ...


class ListedQuestionLike(QuestionLike, Protocol):
    """A question as listed: what `db.polling` averages, and the population it was asked of."""

    @property
    def population(self) -> str | None: ...


class ListedPollLike(PollLike, Protocol):
    """A poll as listed (a plain `ListedPoll`, or an ORM `Poll` with its questions loaded)."""

    @property
    def sponsor(self) -> str | None: ...
    @property
    def partisan(self) -> str | None: ...
    @property
    def internal(self) -> bool: ...
    @property
    def start_date(self) -> dt.date | None: ...
    @property
    def population(self) -> str | None: ...
    @property
    def methodology(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def questions(self) -> Sequence[ListedQuestionLike]: ...


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

    @property
    def shape(self) -> Shape:
        """Which parts are set: one prebuilt statement serves every filter of the same shape."""
        return (bool(self.population), bool(self.since), bool(self.stage), bool(self.party))

    def params(self, race_id: int) -> dict[str, Any]:
        """The values the shape's statements bind."""
        values: dict[str, Any] = {"race_id": race_id}
        for name in ("population", "since", "stage", "party"):
            if getattr(self, name):
                values[name] = getattr(self, name)
        return values

    def keeps(
        self, poll: ListedPollLike, question: ListedQuestionLike, contests: Mapping[int, StageLike]
    ) -> bool:
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


Shape = tuple[bool, bool, bool, bool]  # population, since, stage, party set


@dataclass
class ShownPoll:
    """A poll with the questions a filter keeps (a `db.polling.PollLike`, so it can be averaged)."""

    poll: ListedPollLike
    questions: Sequence[ListedQuestionLike]

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
    contests: Mapping[int, StageLike] = field(default_factory=dict)  # those the polls and averages name

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0


# ---------------------------------------------------------------- the filter in SQL, built once per shape


def _asked(shape: Shape, polls: FromClause, questions: FromClause) -> list[ColumnElement[bool]]:
    """What the filter asks of a question (asked of its population, about its stage), or nothing."""
    population, _, stage, party = shape
    conditions: list[ColumnElement[bool]] = []
    if population:
        wanted: BindParameter[str] = bindparam("population")
        conditions.append(
            or_(
                questions.c.population == wanted,
                and_(questions.c.population.is_(None), polls.c.population == wanted),
            )
        )
    if stage or party:
        about = CONTESTS.alias("about")
        stage_party = [about.c.id == questions.c.contest_id]
        if stage:
            stage_party.append(about.c.stage == bindparam("stage"))
        if party:
            stage_party.append(about.c.party == bindparam("party"))
        conditions.append(exists().where(*stage_party))
    return conditions


def _passing(shape: Shape, polls: FromClause = POLLS) -> list[ColumnElement[bool]]:
    """A race's polls passing the filter: the race first, then the filter's own conditions."""
    conditions: list[ColumnElement[bool]] = [polls.c.race_id == bindparam("race_id")]
    if shape[1]:
        conditions.append(polls.c.end_date >= bindparam("since"))
    asked = QUESTIONS.alias("asked")
    of_question = _asked(shape, polls, asked)
    if of_question:
        conditions.append(exists().where(asked.c.poll_id == polls.c.id, *of_question))
    return conditions


def _newest_first(polls: FromClause) -> tuple[Any, ...]:
    return polls.c.end_date.desc(), polls.c.id.desc()


class _WindowStart(FunctionElement[dt.date]):
    """The first day of the averages' window that ends on a date (`WINDOW_DAYS` before it)."""

    type = Date()
    name = "window_start"
    inherit_cache = True


@compiles(_WindowStart)
def _window_start(element: _WindowStart, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - {WINDOW_DAYS})"  # PostgreSQL: date - days


@compiles(_WindowStart, "sqlite")
def _window_start_sqlite(element: _WindowStart, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '-{WINDOW_DAYS} days')"  # ISO text dates


# One answer of one question of one poll (`poll_rows`): poll id, pollster, end date, poll sample, question id,
# contest id, hypothetical, question sample, candidate id, choice, party, share.
PollRow = tuple[
    int, str, dt.date, int | None, int, int | None, bool, int | None, int | None, str, str | None, float
]
_ANSWER_COLUMNS = (
    POLLS.c.id,
    POLLS.c.pollster,
    POLLS.c.end_date,
    POLLS.c.sample_size,
    QUESTIONS.c.id,
    QUESTIONS.c.contest_id,
    QUESTIONS.c.hypothetical,
    QUESTIONS.c.sample_size,
    ANSWERS.c.candidate_id,
    ANSWERS.c.choice,
    ANSWERS.c.party,
    ANSWERS.c.pct,
)
# A listed poll's row (`_listing`): the answer's (0-11, as `PollRow`; its question's and answer's parts NULL
# where a poll has no question or a question no answer), what the listing shows beyond (12-22), then whether
# the poll is on the page (23) and the counts (24-26: passing, the newest's end date, all the race's).
_LISTED_COLUMNS = (
    *_ANSWER_COLUMNS,
    POLLS.c.sponsor,
    POLLS.c.partisan,
    POLLS.c.internal,
    POLLS.c.start_date,
    POLLS.c.population,
    POLLS.c.methodology,
    POLLS.c.url,
    POLLS.c.source,
    QUESTIONS.c.population,
    CONTESTS.c.stage,
    CONTESTS.c.party,
)


@cache
def _listing(shape: Shape) -> Select[Any]:
    """In one statement: how many polls pass, the newest's end date and how many the race has in all, and
    the answers of the page's polls (`size` from `skip`, newest first) and of the polls passing the filter in
    the averages' window, every question and answer, newest poll first. Always a row: with no poll, the
    counts alone."""
    race, *filters = _passing(shape)
    passing = select(POLLS.c.id, POLLS.c.end_date).where(race, *filters).cte("passing")
    page = (
        select(passing.c.id)
        .order_by(passing.c.end_date.desc(), passing.c.id.desc())
        .limit(bindparam("size", type_=Integer))
        .offset(bindparam("skip", type_=Integer))
        .cte("page")
    )
    in_race = select(func.count()).select_from(POLLS).where(race).scalar_subquery()
    counts = select(
        func.count().label("total"),
        func.max(passing.c.end_date).label("newest"),
        (in_race if filters else func.count()).label("all_polls"),
    ).subquery("counts")
    on_page = POLLS.c.id.in_(select(page.c.id))
    shown = [race, or_(on_page, POLLS.c.end_date >= _WindowStart(counts.c.newest))]
    if filters:
        shown.append(POLLS.c.id.in_(select(passing.c.id)))
    joined = (
        counts.outerjoin(POLLS, and_(*shown))
        .outerjoin(QUESTIONS, QUESTIONS.c.poll_id == POLLS.c.id)
        .outerjoin(ANSWERS, ANSWERS.c.question_id == QUESTIONS.c.id)
        .outerjoin(CONTESTS, CONTESTS.c.id == QUESTIONS.c.contest_id)
    )
    return prebuilt(
        select(*_LISTED_COLUMNS, on_page, counts.c.total, counts.c.newest, counts.c.all_polls)
        .select_from(joined)
        .order_by(*_newest_first(POLLS), QUESTIONS.c.id, ANSWERS.c.id)
    )


# ---------------------------------------------------------------- plain polls as listed


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PollStage:
    """A contest as the polls reply names it."""

    id: int
    stage: str
    party: str


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ListedQuestion:
    contest_id: int | None
    hypothetical: bool
    sample_size: int | None
    population: str | None
    answers: tuple[ChartAnswer, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ListedPoll:
    """A poll with all its questions and what the card and the polls reply show of it."""

    id: int
    pollster: str
    sponsor: str | None
    partisan: str | None
    internal: bool
    start_date: dt.date | None
    end_date: dt.date
    sample_size: int | None
    population: str | None
    methodology: str | None
    url: str | None
    source: str | None
    questions: tuple[ListedQuestion, ...]


def build_listed(rows: Iterable[Sequence[Any]]) -> tuple[list[tuple[ListedPoll, bool]], dict[int, PollStage]]:
    """Plain polls from `_listing`'s rows, in their order, each with whether it is on the page; and the
    contests their questions ask about."""
    polls: dict[int, tuple[Sequence[Any], dict[int, tuple[Sequence[Any], list[ChartAnswer]]]]] = {}
    stages: dict[int, PollStage] = {}
    for row in rows:
        poll_id, _, _, _, qid, contest_id, _, _, candidate_id, choice, party, share = row[:12]
        if poll_id is None:  # the counts alone: no poll
            continue
        _, questions = polls.setdefault(poll_id, (row, {}))
        if qid is None:
            continue
        _, answers = questions.setdefault(qid, (row, []))
        if choice is not None:
            answers.append(ChartAnswer(candidate_id, choice, party, float(share)))
        if contest_id is not None and row[21] is not None and contest_id not in stages:
            stages[contest_id] = PollStage(contest_id, row[21], row[22])
    return [
        (
            _listed_poll(head, [_listed_question(q, answers) for q, answers in questions.values()]),
            bool(head[23]),
        )
        for head, questions in polls.values()
    ], stages


def _listed_question(row: Sequence[Any], answers: list[ChartAnswer]) -> ListedQuestion:
    return ListedQuestion(row[5], bool(row[6]), row[7], row[20], tuple(answers))


def _listed_poll(row: Sequence[Any], questions: list[ListedQuestion]) -> ListedPoll:
    poll_id, pollster, end_date, sample_size = row[0:4]
    sponsor, partisan, internal, start_date, population, methodology, url, source = row[12:20]
    return ListedPoll(
        poll_id, pollster, sponsor, partisan, bool(internal), start_date, end_date, sample_size,
        population, methodology, url, source, tuple(questions),
    )  # fmt: skip


@dataclass(frozen=True)
class PollListing:
    """A page of a race's polls passing a filter (`size` a page), each with all its questions, and the
    averages of the polls passing it in the last window."""

    polls: list[ListedPoll]
    page: int
    pages: int
    total: int
    all_polls: int
    averages: list[MatchupAverage]
    shown: list[ShownPoll]  # the page's polls with the questions the filter keeps
    stages: dict[int, PollStage]


async def listed_polls(
    session: AsyncSession, race_id: int, flt: PollFilter = PollFilter(), page: int = 1, size: int = PAGE_SIZE
) -> PollListing:
    """Page `page` (1-based; past the end, the last) of the polls passing `flt`: one statement (two for a
    page past the end)."""
    params = listing_params(race_id, flt, page, size)
    rows = (await session.execute(_listing(flt.shape), params)).all()
    pages = _pages(rows, size)
    if page > pages and rows[0][24]:
        page = pages
        rows = (await session.execute(_listing(flt.shape), listing_params(race_id, flt, page, size))).all()
    return listing_from(rows, flt, page, size)


def _pages(rows: Sequence[Any], size: int) -> int:
    """How many pages of `size` the polls a listing's rows count fill (at least one)."""
    return max(1, -(-rows[0][24] // size))


def listing_statement(flt: PollFilter = PollFilter()) -> Select[Any]:
    """The statement `listed_polls` runs for this filter (bind `listing_params`)."""
    return _listing(flt.shape)


def listing_params(race_id: int, flt: PollFilter, page: int, size: int) -> dict[str, Any]:
    return {**flt.params(race_id), "size": size, "skip": (max(1, page) - 1) * size}


def listing_from(rows: Sequence[Any], flt: PollFilter, page: int, size: int) -> PollListing:
    """The listing from the rows of `listing_statement` for page `page`, which is not past the end."""
    total, newest, all_polls = rows[0][24:27]
    pages = _pages(rows, size)
    page = min(max(1, page), pages)
    listed, stages = build_listed(rows)
    if flt.active:
        kept = [(poll, on_page, _kept(poll, flt, stages)) for poll, on_page in listed]
    else:
        kept = [(poll, on_page, poll.questions) for poll, on_page in listed]
    # The window's polls, newest first, as the averages have always been taken (a choice is named as its
    # newest poll names it); the page's polls that ended before the window are not in it.
    window_start = newest - dt.timedelta(days=WINDOW_DAYS) if newest is not None else None
    window = [
        ShownPoll(poll, questions)
        for poll, _, questions in kept
        if window_start and poll.end_date >= window_start
    ]
    return PollListing(
        [poll for poll, on_page, _ in kept if on_page],
        page,
        pages,
        total,
        all_polls,
        averages(window),
        [ShownPoll(poll, questions) for poll, on_page, questions in kept if on_page],
        stages,
    )


def _kept(poll: ListedPoll, flt: PollFilter, stages: Mapping[int, StageLike]) -> tuple[ListedQuestion, ...]:
    return tuple(q for q in poll.questions if flt.keeps(poll, q, stages))


async def poll_page(
    session: AsyncSession, race_id: int, flt: PollFilter = PollFilter(), page: int = 1
) -> PollPage:
    """Page `page` (1-based) of the polls passing `flt`; a page past the end gives the last page."""
    return page_of(await listed_polls(session, race_id, flt, page))


def page_of(found: PollListing) -> PollPage:
    """The page a member is shown of a listing."""
    return PollPage(
        found.shown, found.page, found.pages, found.total, found.all_polls, found.averages, found.stages
    )


async def poll_sources(session: AsyncSession, race_id: int) -> set[str]:
    """Where a race's polls come from ("FiveThirtyEight", ...), for attribution."""
    found = await session.scalars(
        select(Poll.source).where(Poll.race_id == race_id, Poll.source.is_not(None)).distinct()
    )
    return {s for s in found if s}


RACE_CONTESTS = prebuilt(
    select(*(CONTESTS.c[f.name] for f in fields(ContestRow))).where(
        CONTESTS.c.race_id == bindparam("race_id")
    )
)
NEWEST_POLL_END = prebuilt(select(func.max(POLLS.c.end_date)).where(POLLS.c.race_id == bindparam("race_id")))


async def race_contests(session: AsyncSession, race_id: int) -> dict[int, ContestRow]:
    """A race's stages by id, to name its match-ups."""
    rows = await session.execute(RACE_CONTESTS, {"race_id": race_id})
    return {row[0]: ContestRow(*row) for row in rows}


async def newest_poll_end(session: AsyncSession, race_id: int) -> dt.date | None:
    """The end date of a race's newest poll, if it has any."""
    return cast(dt.date | None, await session.scalar(NEWEST_POLL_END, {"race_id": race_id}))


async def filtered_averages(
    session: AsyncSession, race_id: int, flt: PollFilter, newest: dt.date | None = None
) -> list[MatchupAverage]:
    """`db.polling.averages` over the last window of the polls passing `flt` (as the race card does)."""
    if newest is None:
        newest = await session.scalar(
            select(func.max(POLLS.c.end_date)).where(*_passing(flt.shape)), flt.params(race_id)
        )
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
    params = flt.params(race_id)
    if limit is not None:
        params["limit"] = limit
    if ended_since is not None:
        params["ended_since"] = ended_since
    stmt = _answers_of(flt.shape, limit is not None, ended_since is not None)
    return [tuple(row) for row in await session.execute(stmt, params)]


@cache
def _answers_of(shape: Shape, limited: bool, ended_since: bool) -> Select[Any]:
    chosen = select(POLLS.c.id).where(*_passing(shape))
    if ended_since:
        chosen = chosen.where(POLLS.c.end_date >= bindparam("ended_since"))
    if limited:
        chosen = chosen.order_by(*_newest_first(POLLS)).limit(bindparam("limit", type_=Integer))
    return prebuilt(
        select(*_ANSWER_COLUMNS)
        .select_from(
            POLLS.join(QUESTIONS, QUESTIONS.c.poll_id == POLLS.c.id).join(
                ANSWERS, ANSWERS.c.question_id == QUESTIONS.c.id
            )
        )
        .where(POLLS.c.id.in_(chosen.scalar_subquery()), *_asked(shape, POLLS, QUESTIONS))
        .order_by(POLLS.c.end_date, POLLS.c.id, QUESTIONS.c.id, ANSWERS.c.id)
    )


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

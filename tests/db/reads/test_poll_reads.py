"""The polls page and the race card's poll summary, read in one Core statement into plain polls, give what
the same polls loaded independently as ORM objects give: the same polls, questions and answers in the same
order, the same counts and pages, and the same averages (db/polling's, over the same window), for every
filter, on SQLite and PostgreSQL.

The race is made to hit every case the statement handles: several pollsters (one spelt in two cases, two
polls by one in the window), populations on polls and on questions, primaries and the general, hypothetical
match-ups, answers without a person, a question without answers, polls without questions, end dates shared
by several polls, polls long before the window, and polls of other races that must not leak in.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from db.audit import SYSTEM
from db.dataset import load_document
from db.models import Contest, Poll, Question, Race
from db.polling import WINDOW_DAYS, averages
from db.reads.polls import PAGE_SIZE, PollFilter, ShownPoll, listed_polls, poll_page
from db.reads.races import race_card

Sessions = async_sessionmaker[AsyncSession]
POLLSTERS = [
    "Emerson",
    "emerson",
    "Quinnipiac",
    "Siena",
    "Marist",
    "Trafalgar",
    "YouGov",
    "Data for Progress",
]
PEOPLE = ["ann", "bob", "cal", "dee"]
POPULATIONS = ["lv", "rv", "a", None]
STAGES: list[tuple[str | None, str]] = [("general", ""), ("primary", "DEM"), ("primary", "REP"), (None, "")]


def polled_race(seed: int, state: str) -> dict[str, Any]:
    """A race with 73 polls drawn from every case above (see the module's docstring)."""
    rng = random.Random(seed)
    start = dt.date(2022, 3, 1)
    polls = []
    for n in range(70):
        questions = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            stage, party = rng.choice(STAGES)
            question: dict[str, Any] = {"hypothetical": rng.random() < 0.25}
            if stage:
                question.update(stage=stage, party=party)
            if rng.random() < 0.3:
                question["population"] = rng.choice(POPULATIONS[:3])
            if rng.random() < 0.3:
                question["n"] = rng.randint(200, 5000)
            if rng.random() < 0.9:  # else a question without answers
                named = rng.sample(PEOPLE, rng.randint(2, 4))
                question["answers"] = [
                    {"candidate": f"{state}-{key}", "pct": round(rng.uniform(5, 22), 1)} for key in named
                ]
                if rng.random() < 0.3:
                    question["answers"].append({"choice": "Undecided", "pct": round(rng.uniform(1, 10), 1)})
            questions.append(question)
        end = start + dt.timedelta(days=rng.choice([0, 0, 3, 10, 20, 40, 90, 150]) + n // 3)
        poll: dict[str, Any] = {
            "key": f"test:{state}:{n}",
            "pollster": rng.choice(POLLSTERS),
            "start": (end - dt.timedelta(days=rng.randint(0, 6))).isoformat(),
            "end": end.isoformat(),
            "questions": questions,
        }
        if rng.random() < 0.8:
            poll["n"] = rng.randint(300, 4000)
        if population := rng.choice(POPULATIONS):
            poll["population"] = population
        if rng.random() < 0.3:
            poll.update(sponsor="A Sponsor", partisan=rng.choice(["DEM", "REP"]), internal=rng.random() < 0.5)
        if rng.random() < 0.3:
            poll.update(methodology="Online", url=f"https://example.org/{n}", source="FiveThirtyEight")
        polls.append(poll)
    # The window's edges: a poll ended on the newest day, one ended exactly WINDOW_DAYS before it (in), one a day earlier (out).
    newest = max(dt.date.fromisoformat(poll["end"]) for poll in polls)
    for n, days in enumerate((0, WINDOW_DAYS, WINDOW_DAYS + 1)):
        answers = [{"candidate": f"{state}-ann", "pct": 40.0 + n}, {"candidate": f"{state}-bob", "pct": 38.0}]
        polls.append(
            {
                "key": f"test:{state}:edge{n}",
                "pollster": f"Edge {n}",
                "end": (newest - dt.timedelta(days=days)).isoformat(),
                "questions": [{"stage": "general", "answers": answers}],
            }
        )
    candidates = [
        {"key": f"{state}-{key}", "name": f"{key.title()} {state}", "party": "DEM" if i % 2 else "REP"}
        for i, key in enumerate(PEOPLE)
    ]
    ballot = [{"candidate": c["key"], "party": c["party"]} for c in candidates]
    return {
        "format": "racedesk/1",
        "candidates": candidates,
        "races": [
            {
                "cycle": 2022,
                "state": state,
                "office": "governor",
                "contests": [
                    {"stage": "primary", "party": "DEM", "date": "2022-06-07", "candidates": ballot[1::2]},
                    {"stage": "primary", "party": "REP", "date": "2022-06-07", "candidates": ballot[0::2]},
                    {"stage": "general", "date": "2022-11-08", "candidates": ballot},
                ],
                "polls": polls,
            }
        ],
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def races(shared_sample: Sessions) -> tuple[Sessions, list[int]]:
    """The sample, and two such races (each the other's neighbour, whose polls must not leak in)."""
    ids = []
    for seed, state in ((3, "NV"), (4, "AZ")):
        async with shared_sample.begin() as session:
            await load_document(session, polled_race(seed, state), SYSTEM)
        async with shared_sample() as session:
            ids.append(
                await session.scalar(select(Race.id).where(Race.state == state, Race.office == "governor"))
            )
    return shared_sample, ids


# ---------------------------------------------------------------- the independent reading: ORM objects, Python
# (ShownPoll only pairs an ORM poll with the questions the filter keeps, as db/polling averages them)


async def orm_polls(session: AsyncSession, race_id: int) -> tuple[list[Poll], dict[int, Contest]]:
    """Every poll of the race with its questions and answers, newest first (as the card loaded them)."""
    polls = list(
        await session.scalars(
            select(Poll)
            .where(Poll.race_id == race_id)
            .order_by(Poll.end_date.desc(), Poll.id.desc())
            .options(selectinload(Poll.questions).selectinload(Question.answers))
        )
    )
    contests = {c.id: c for c in await session.scalars(select(Contest))}
    return polls, contests


def kept_questions(poll: Poll, flt: PollFilter, contests: dict[int, Contest]) -> list[Question]:
    def keeps(q: Question) -> bool:
        if flt.population and (q.population or poll.population) != flt.population:
            return False
        if flt.stage or flt.party:
            contest = contests.get(q.contest_id) if q.contest_id is not None else None
            if contest is None or (flt.stage and contest.stage != flt.stage):
                return False
            if flt.party and contest.party != flt.party:
                return False
        return True

    return [q for q in poll.questions if keeps(q)]


def expected(
    polls: list[Poll], contests: dict[int, Contest], flt: PollFilter, page: int, size: int
) -> dict[str, Any]:
    asks_questions = bool(flt.population or flt.stage or flt.party)
    passing = [
        ShownPoll(p, kept_questions(p, flt, contests))
        for p in polls
        if (flt.since is None or p.end_date >= flt.since)
        and (not asks_questions or kept_questions(p, flt, contests))
    ]
    pages = max(1, -(-len(passing) // size))
    page = min(max(1, page), pages)
    window = []
    if passing:
        newest = max(k.end_date for k in passing)
        window = [k for k in passing if k.end_date >= newest - dt.timedelta(days=WINDOW_DAYS)]
    return {
        "total": len(passing),
        "all_polls": len(polls),
        "pages": pages,
        "page": page,
        "polls": [(poll_fields(k.poll), [question_fields(q) for q in k.questions]) for k in passing][
            (page - 1) * size : page * size
        ],
        "whole": [(poll_fields(k.poll), [question_fields(q) for q in k.poll.questions]) for k in passing][
            (page - 1) * size : page * size
        ],
        "averages": averages(window),
    }


def poll_fields(p: Any) -> tuple[Any, ...]:
    return (
        p.id, p.pollster, p.sponsor, p.partisan, p.internal, p.start_date, p.end_date, p.sample_size,
        p.population, p.methodology, p.url, p.source,
    )  # fmt: skip


def question_fields(q: Any) -> tuple[Any, ...]:
    answers = tuple((a.candidate_id, a.choice, a.party, a.pct) for a in q.answers)
    return (q.contest_id, q.hypothetical, q.sample_size, q.population, answers)


FILTERS = [
    PollFilter(),
    PollFilter(population="lv"),
    PollFilter(population="rv"),
    PollFilter(since=dt.date(2022, 5, 1)),
    PollFilter(stage="general"),
    PollFilter(stage="primary", party="REP"),
    PollFilter(population="lv", since=dt.date(2022, 4, 1), stage="primary", party="DEM"),
    PollFilter(population="v"),  # no poll asked of voters: nothing passes
]


# ---------------------------------------------------------------- the comparisons


@pytest.mark.asyncio(loop_scope="module")
async def test_the_race_cards_poll_summary_is_the_orm_reading(races: tuple[Sessions, list[int]]) -> None:
    sessions, ids = races
    async with sessions() as session:
        sample = await session.scalar(select(Poll.race_id).where(Poll.race_id.not_in(ids)).limit(1))
        empty = await session.scalar(select(Race.id).where(Race.id.not_in(select(Poll.race_id))))
        assert sample is not None and empty is not None
        matchups = []
        for race_id in [*ids, sample, empty]:
            card = await race_card(session, race_id)
            assert card is not None
            latest, count, found = card.latest_poll, card.poll_count, card.averages
            polls, contests = await orm_polls(session, race_id)
            want = expected(polls, contests, PollFilter(), 1, 1)
            assert count == len(polls)
            if not polls:
                assert latest is None and found == []
                continue
            assert latest is not None
            assert (poll_fields(latest), [question_fields(q) for q in latest.questions]) == want["whole"][0]
            assert found == want["averages"]
            matchups.append(len(found))
    assert matchups[0] >= 2 and matchups[2] >= 1  # something to compare: several match-ups; the sample's race


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: repr(f).removeprefix("PollFilter"))
async def test_every_page_of_polls_is_the_orm_reading(
    races: tuple[Sessions, list[int]], flt: PollFilter
) -> None:
    sessions, ids = races
    async with sessions() as session:
        for race_id in ids:
            polls, contests = await orm_polls(session, race_id)
            pages = max(1, -(-len(polls) // PAGE_SIZE))
            for page in [0, 1, 2, pages // 2, pages, pages + 5]:
                found = await poll_page(session, race_id, flt, page)
                want = expected(polls, contests, flt, page, PAGE_SIZE)
                got = [(poll_fields(s.poll), [question_fields(q) for q in s.questions]) for s in found.polls]
                assert (found.total, found.all_polls, found.pages, found.page) == (
                    want["total"],
                    want["all_polls"],
                    want["pages"],
                    want["page"],
                ), (flt, page)
                assert got == want["polls"], (flt, page)
                assert found.averages == want["averages"], (flt, page)
                named = {q.contest_id for s in found.polls for q in s.questions} | {
                    a.contest_id for a in found.averages
                }
                for contest_id in named - {None}:
                    assert contest_id is not None
                    shown, stored = found.contests[contest_id], contests[contest_id]
                    assert (shown.stage, shown.party) == (stored.stage, stored.party)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_filters_cut_the_race_down_and_the_window_counts_each_pollster_once(
    races: tuple[Sessions, list[int]],
) -> None:
    """The data the comparisons run on is not trivial: filters keep fewer polls and questions, a page past
    the end is the last, and the window's average has several pollsters, one of them polled twice."""
    sessions, ids = races
    async with sessions() as session:
        everything = await listed_polls(session, ids[0])
        lv = await listed_polls(session, ids[0], PollFilter(population="lv"))
        rep = await listed_polls(session, ids[0], PollFilter(stage="primary", party="REP"), page=99)
        polls, _ = await orm_polls(session, ids[0])
    assert everything.total == everything.all_polls == 73 and len(everything.polls) == PAGE_SIZE
    assert 0 < lv.total < everything.total and lv.all_polls == 73
    assert 0 < rep.total < everything.total and rep.page == rep.pages and rep.polls
    newest = polls[0].end_date
    window = [p for p in polls if p.end_date >= newest - dt.timedelta(days=WINDOW_DAYS)]
    assert len({p.pollster.lower() for p in window}) < len(window)  # a pollster polled twice in the window
    assert max(a.poll_count for a in everything.averages) >= 2

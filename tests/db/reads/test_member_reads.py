"""The member commands' reads and the follows store, on SQLite and PostgreSQL, over the sample and synthetic races."""

from __future__ import annotations

import datetime as dt

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM, Actor
from db.balance import SeatState, chamber_balance
from db.dataset import load_document
from db.follows import FOLLOW_LIMIT, Followed, follow, followed_races, unfollow
from db.lookup import find_races
from db.models import AuditEntry, Follow, Race, Stage
from db.polling import matchups, trend
from db.reads.calendar import contests_between
from db.reads.people import find_people, person_card, race_endorsements
from db.reads.polls import PollFilter, chart_polls, poll_page
from db.reads.races import contest_views
from db.reads.results import choose_contests, count_history
from tests.support import RUNOFF_NIGHT, special_document

Sessions = async_sessionmaker[AsyncSession]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def store(shared_sample: Sessions) -> Sessions:
    """The sample and the synthetic special, one store for the module's tests that only read it."""
    async with shared_sample.begin() as session:
        await load_document(session, special_document(), SYSTEM)
    return shared_sample


async def race_id(session: AsyncSession, text: str) -> int:
    matches = await find_races(session, text)
    assert matches.chosen is not None, text
    return matches.chosen.id


# ---------------------------------------------------------------- polls


@pytest.mark.asyncio(loop_scope="module")
async def test_poll_page_newest_first_with_the_average(store: Sessions) -> None:
    async with store() as session:
        page = await poll_page(session, await race_id(session, "georgia special"), page=1)
    assert (page.total, page.pages, page.page, len(page.polls)) == (15, 3, 1, 5)
    ends = [p.end_date for p in page.polls]
    assert ends == sorted(ends, reverse=True)
    runoff, *_ = page.averages  # the jungle polls ended more than 30 days before the newest
    # Each pollster's latest poll within 30 days of the newest, weighted by sample size.
    assert len(page.averages) == 1 and runoff.poll_count == 4 and runoff.shares[0].choice == "Warnick"


@pytest.mark.asyncio(loop_scope="module")
async def test_poll_filters_population_since_and_stage(store: Sessions) -> None:
    async with store() as session:
        rid = await race_id(session, "georgia special")
        lv = await poll_page(session, rid, PollFilter(population="lv"))
        since = await poll_page(session, rid, PollFilter(since=dt.date(2020, 12, 1)))
        runoff = await poll_page(session, rid, PollFilter(stage=Stage.GENERAL_RUNOFF))
        general = await poll_page(session, rid, PollFilter(stage=Stage.GENERAL))
        past_end = await poll_page(session, rid, page=99)
    assert lv.total == 9 and lv.all_polls == 15 and all(s.poll.population == "lv" for s in lv.polls)
    assert since.total and all(s.poll.end_date >= dt.date(2020, 12, 1) for s in since.polls)
    assert runoff.total == 12 and general.total == 3
    assert len(general.averages) == 1 and len(general.averages[0].shares) == 20
    assert past_end.page == 3  # clamped to the last page


async def test_a_question_level_population_counts_for_the_filter(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        rid = await race_id(session, "alabama")
        rv = await poll_page(session, rid, PollFilter(population="rv"))
        lv = await poll_page(session, rid, PollFilter(population="lv"))
    assert rv.total == 1 and lv.total == 0
    assert [q.hypothetical for q in rv.polls[0].questions] == [False, True]


@pytest.mark.asyncio(loop_scope="module")
async def test_chart_data_and_the_trend_line(store: Sessions) -> None:
    async with store() as session:
        polls = await chart_polls(
            session, await race_id(session, "georgia special"), PollFilter(stage=Stage.GENERAL_RUNOFF)
        )
        everything = await chart_polls(session, await race_id(session, "georgia special"))
    assert len(everything) == 15 and len(matchups(everything)) == 2
    assert len(polls) == 12 and polls[0].end_date < polls[-1].end_date
    ((key, members),) = matchups(polls).items()
    line = trend(key, members)
    assert len(line) == 12  # one point per end date
    assert line[0].poll_count == 1 and line[-1].poll_count == 4  # four pollsters in the window at the end
    assert [a.newest for a in line] == sorted(a.newest for a in line)


def test_trend_samples_long_histories() -> None:
    from db.reads.polls import ChartAnswer, ChartPoll, ChartQuestion

    polls = [
        ChartPoll(
            n,
            f"P{n % 7}",
            dt.date(2020, 1, 1) + dt.timedelta(days=n),
            600,
            (
                ChartQuestion(
                    1, False, None, (ChartAnswer(1, "A", "DEM", 50.0), ChartAnswer(2, "B", "REP", 45.0))
                ),
            ),
        )
        for n in range(400)
    ]
    ((key, members),) = matchups(polls).items()
    line = trend(key, members, points=100)
    assert len(line) == 100 and line[-1].newest == dt.date(2020, 1, 1) + dt.timedelta(days=399)
    assert line[-1].shares[0].pct == 50.0


# ---------------------------------------------------------------- people and endorsements


@pytest.mark.parametrize(
    "typed", ["sessions", "Jeff Sessions", "SESSIONS", "sesions", "jeff sessions alabama"]
)
async def test_a_person_is_found_by_any_part_case_or_typo(sample_sessions: Sessions, typed: str) -> None:
    async with sample_sessions() as session:
        matches = await find_people(session, typed)
    assert matches.chosen is not None and matches.chosen.name == "Jeff Sessions"


@pytest.mark.asyncio(loop_scope="module")
async def test_several_people_match_gives_a_list(store: Sessions) -> None:
    async with store() as session:
        matches = await find_people(session, "doug")
        nobody = await find_people(session, "zzzzzz")
        elsewhere = await find_people(session, "sessions georgia")
    assert matches.chosen is None and {p.name for p in matches.people} == {"Doug Jones", "Doug Collier"}
    assert nobody.people == [] and nobody.chosen is None
    assert [p.name for p in elsewhere.people] == ["Jeff Sessions"] and elsewhere.chosen is None


async def test_person_card_has_every_stage_with_votes_and_share(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        sessions = (await find_people(session, "sessions")).chosen
        assert sessions is not None
        card = await person_card(session, sessions.id)
    assert card is not None
    stages = [(r.view.contest.stage, r.standing.votes) for r in card.runs]
    assert stages == [(Stage.PRIMARY, 227_082), (Stage.PRIMARY_RUNOFF, 215_831)]
    assert card.runs[1].standing.share == pytest.approx(39.26, abs=0.01)
    assert [e.stance for e in card.endorsements] == ["withhold"]
    assert card.polls and card.polls[0].average.hypothetical  # only the hypothetical match-up names him


@pytest.mark.asyncio(loop_scope="module")
async def test_race_endorsements_weightiest_first(store: Sessions) -> None:
    async with store() as session:
        rows, count = await race_endorsements(session, await race_id(session, "georgia special"))
        al_rows, _ = await race_endorsements(session, await race_id(session, "alabama"))
    assert count == 2 and [e.endorser_kind for e in rows] == ["newspaper", "representative"]
    assert [(e.endorser, e.stance, e.candidate.name) for e in al_rows] == [
        ("Donald Trump", "endorse", "Tommy Tuberville"),
        ("Donald Trump", "withhold", "Jeff Sessions"),
    ]


# ---------------------------------------------------------------- results


@pytest.mark.asyncio(loop_scope="module")
async def test_choose_contests_latest_and_runoff_meaning_whichever_the_race_has(store: Sessions) -> None:
    async with store() as session:
        alabama = await contest_views(session, await race_id(session, "alabama"))
        georgia = await contest_views(session, await race_id(session, "georgia special"))
    either = (Stage.PRIMARY_RUNOFF, Stage.GENERAL_RUNOFF)
    assert [v.contest.stage for v in choose_contests(alabama)] == [Stage.GENERAL]
    assert [v.contest.stage for v in choose_contests(alabama, either)] == [Stage.PRIMARY_RUNOFF]
    assert [v.contest.stage for v in choose_contests(georgia, either)] == [Stage.GENERAL_RUNOFF]
    assert [v.contest.stage for v in choose_contests(georgia)] == [Stage.GENERAL_RUNOFF]
    assert choose_contests(alabama, (Stage.GENERAL_RUNOFF,)) == []
    assert [v.contest.party for v in choose_contests(alabama, (Stage.PRIMARY,), "REP")] == ["REP"]
    assert choose_contests(alabama, (Stage.PRIMARY,), "DEM") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_count_history_splits_each_update(store: Sessions) -> None:
    async with store() as session:
        views = await contest_views(session, await race_id(session, "georgia special"))
        runoff = choose_contests(views, (Stage.GENERAL_RUNOFF,))[0]
        history = await count_history(session, runoff)
        short = await count_history(session, runoff, limit=2)
    assert history.count == 4 and len(history.steps) == 4
    totals = [w + lo for _, _, w, lo in RUNOFF_NIGHT]
    assert [s.total for s in history.steps] == totals
    assert history.steps[0].added == totals[0]
    assert history.steps[1].added == totals[1] - totals[0]
    assert sorted(history.steps[1].added_by.values()) == [880_000, 890_000]
    # The newest two, each measured against the update before it.
    assert [s.added for s in short.steps] == [totals[2] - totals[1], totals[3] - totals[2]]


# ---------------------------------------------------------------- calendar


@pytest.mark.asyncio(loop_scope="module")
async def test_contests_between_a_day_and_a_range(store: Sessions) -> None:
    async with store() as session:
        runoff_day = await contests_between(session, dt.date(2020, 7, 14), dt.date(2020, 7, 14))
        november = await contests_between(session, dt.date(2020, 11, 1), dt.date(2020, 11, 30))
        empty = await contests_between(session, dt.date(2020, 8, 1), dt.date(2020, 8, 31))
    assert [(e.race.state, e.contest.stage, e.contest.party) for e in runoff_day.entries] == [
        ("AL", Stage.PRIMARY_RUNOFF, "REP")
    ]
    assert november.total == 2 and {e.race.state for e in november.entries} == {"AL", "GA"}
    assert empty.total == 0 and empty.earlier == dt.date(2020, 7, 14) and empty.later == dt.date(2020, 11, 3)


# ---------------------------------------------------------------- balance of power


@pytest.mark.asyncio(loop_scope="module")
async def test_senate_2020_from_the_sample(store: Sessions) -> None:
    async with store() as session:
        balance = await chamber_balance(session, "senate", 2020)
        nothing = await chamber_balance(session, "senate", 1990)
    assert balance is not None and nothing is None
    assert balance.not_up == {"REP": 30, "DEM": 35}
    assert balance.vice_president == ("Kamala Harris", "DEM")
    states = {(s.race.state, s.race.special): (s.state, s.side) for s in balance.seats}
    assert states[("AL", False)] == (SeatState.WON, "REP")  # Tuberville
    assert states[("GA", True)] == (SeatState.WON, "DEM")  # the general runoff decided it
    assert balance.missing == 33 and balance.seats_up == 35
    assert balance.total("REP") == 31 and balance.total("DEM") == 36
    assert balance.needed("DEM") == 50 and balance.needed("REP") == 51  # the VP breaks ties for Democrats
    assert balance.net == {"REP": 0, "DEM": 0}  # AL: R gain from D; GA special: D gain from R


async def test_senate_2018_vice_president_is_a_republican(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        balance = await chamber_balance(session, "senate", 2018)
    assert balance is not None
    assert balance.vice_president == ("Mike Pence", "REP") and balance.needed("REP") == 50
    assert balance.not_up == {"REP": 42, "DEM": 23} and balance.missing == 35


async def test_a_counting_seat_leads_and_a_general_sent_to_runoff_waits(sample_sessions: Sessions) -> None:
    doc = special_document()
    race = doc["races"][0]
    race["contests"][1]["results"] = race["contests"][1]["results"][:2]  # the night is not over
    del race["contests"][1]["call"]
    async with sample_sessions.begin() as session:
        await load_document(session, doc, SYSTEM)
    async with sample_sessions() as session:
        balance = await chamber_balance(session, "senate", 2020)
    assert balance is not None
    seat = next(s for s in balance.seats if s.race.state == "GA")
    assert (seat.state, seat.side) == (SeatState.LEADING, "REP")  # Lofton leads 1,050,000 to 1,000,000


# ---------------------------------------------------------------- follows


async def test_follow_unfollow_and_the_limit(sample_sessions: Sessions) -> None:
    member = Actor(42, "member", guild_id=7)
    async with sample_sessions.begin() as session:
        extra = [Race(cycle=1990 + i, state="TX", office="house", seat=str(i)) for i in range(FOLLOW_LIMIT)]
        session.add_all(extra)
        await session.flush()
        ids = [r.id for r in extra]
    async with sample_sessions.begin() as session:
        first = await follow(session, member, 42, ids[0])
        again = await follow(session, member, 42, ids[0])
    assert (first.result, first.count) == (Followed.ADDED, 1) and again.result == Followed.ALREADY
    async with sample_sessions.begin() as session:
        for rid in ids[1:]:
            await follow(session, member, 42, rid)
        alabama = await race_id(session, "alabama")
        full = await follow(session, member, 42, alabama)
    assert full.result == Followed.FULL and full.count == FOLLOW_LIMIT
    async with sample_sessions.begin() as session:
        assert len(await followed_races(session, 42)) == FOLLOW_LIMIT
        assert await unfollow(session, member, 42, ids[0]) == 1
        assert await unfollow(session, member, 42, ids[0]) == 0
        assert (await follow(session, member, 42, alabama)).result == Followed.ADDED
        assert await unfollow(session, member, 42, None) == FOLLOW_LIMIT
    async with sample_sessions() as session:
        assert await session.scalar(select(func.count(Follow.id))) == 0
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == 42)))
    assert actions.count("follow.add") == FOLLOW_LIMIT + 1 and actions.count("follow.remove") == 2

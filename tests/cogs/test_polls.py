"""`polls` through the real command machinery against the loopback Discord: list, filters, pages, chart."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support import World, assert_fits, assert_inert, member_world, new_messages

PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot for the module's tests, which only read."""
    async with member_world(tmp_path_factory.mktemp("polls")) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module")
async def own_world(tmp_path: Path) -> AsyncIterator[World]:
    """A bot over a store of its own, for a test that writes."""
    async with member_world(tmp_path) as started:
        yield started


async def test_polls_alabama_shows_the_aum_poll_and_marks_the_sessions_matchup_hypothetical(
    world: World,
) -> None:
    exchange = await world.say("!polls alabama")
    assert exchange.ok is True and len(exchange.messages) == 1
    text = exchange.text
    assert "Polls · 2020 Alabama U.S. Senate (Class II)" in text
    assert "Auburn University at Montgomery · Jul 2–9, 2020" in text
    assert "558 RV" in text
    assert "General: Tuberville 43.9, Jones 35.5 · Tuberville +8.4" in text
    assert "Hypothetical general: Sessions 48.9, Jones 43.3 · Sessions +5.6" in text
    assert "**Average**" in text and "(1 poll, to Jul 9, 2020)" in text
    assert "weighted by sample size" in text  # the method is stated
    assert "FiveThirtyEight polls (CC BY 4.0)" in text
    assert exchange.messages[0].button_labels() == ["📈 Chart"]  # one page: no paging buttons
    assert_fits(exchange.messages[0])


async def test_polls_chart_attaches_a_png(world: World) -> None:
    exchange = await world.say("!polls alabama chart")
    assert exchange.ok is True
    message = exchange.messages[0]
    (name, data), *_ = message.attachments
    assert name == "polls-alabama-2020.png" and data.startswith(PNG) and len(data) > 10_000
    assert message.embeds[0]["image"]["url"] == f"attachment://{name}"
    assert "General: Tuberville vs Jones · 1 poll" in exchange.text


async def test_the_chart_button_posts_the_chart(world: World) -> None:
    exchange = await world.say("!polls alabama")
    before = len(world.standin.messages)
    message = exchange.messages[0]
    await world.standin.click_button(message, message.button_id("Chart"), world.member)
    got = await new_messages(world, before, lambda ms: any(m.attachments for m in ms))
    chart = next(m for m in got if m.attachments)
    assert chart.attachments[0][1].startswith(PNG)


async def test_pages_turn_with_buttons_only_for_the_member_who_asked(world: World) -> None:
    exchange = await world.say("!polls georgia special")
    first = exchange.messages[0]
    assert "Polls 1–5 of 15, newest first · page 1/3" in exchange.text
    assert first.button_labels() == ["◀ Prev", "Next ▶", "📈 Chart"]
    assert first.button_disabled("Prev") and not first.button_disabled("Next")
    assert_fits(first)

    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.moderator)
    (refusal,) = await new_messages(world, before)
    assert refusal.ephemeral and "belong to the member who asked" in refusal.text()
    assert "`!polls georgia 2020 special`" in refusal.text()

    current = first
    for label, shown in (("Next", 2), ("Next", 3), ("Prev", 2)):
        before = len(world.standin.messages)
        await world.standin.click_button(first, current.button_id(label), world.member)
        (turned,) = await new_messages(world, before)
        assert turned.response_type == 7  # the same message, edited
        assert f"Polls {5 * shown - 4}–{5 * shown} of 15, newest first · page {shown}/3" in turned.text()
        assert turned.button_labels() == ["◀ Prev", "Next ▶", "📈 Chart"]  # the chart button stays
        assert turned.button_disabled("Next") is (shown == 3)
        assert_fits(turned)
        current = turned


async def test_the_chart_button_of_a_filtered_reply_keeps_its_filter(world: World) -> None:
    exchange = await world.say("!polls georgia special lv")
    message = exchange.messages[0]
    before = len(world.standin.messages)
    await world.standin.click_button(message, message.button_id("Chart"), world.member)
    got = await new_messages(world, before, lambda ms: any(m.attachments for m in ms))
    chart = next(m for m in got if m.attachments)
    assert "likely voters" in chart.text()


async def test_page_two_in_prefix_form(world: World) -> None:
    text = await world.text("!polls georgia special page 3")
    assert "Polls 11–15 of 15, newest first · page 3/3" in text


async def test_filters_narrow_the_polls(world: World) -> None:
    text = await world.text("!polls georgia special lv")
    assert "Showing: likely voters" in text and "of 9," in text and "15 polls without filters" in text
    text = await world.text("!polls georgia special rv since dec 1")
    assert "Showing: registered voters · since Dec 1, 2020" in text
    assert "Polls 1–" in text and "Nov 1" not in text.split("Showing")[1]


async def test_partisan_and_internal_polls_are_flagged(world: World) -> None:
    text = await world.text("!polls georgia special page 2")
    assert "for Lofton for Senate · ⚑ partisan (R) · ⚑ internal" in text


async def test_a_500_poll_30_candidate_race_fits_on_every_page(world: World) -> None:
    exchange = await world.say("!polls texas")
    message = exchange.messages[0]
    assert "page 1/100" in exchange.text and "more match-ups" in exchange.text
    assert_fits(message)
    assert_inert(exchange.messages[0])
    last = await world.say("!polls texas page 100")
    assert "Polls 496–500 of 500" in last.text
    assert_fits(last.messages[0])
    chart = await world.say("!polls texas chart")
    assert chart.messages[0].attachments[0][1].startswith(PNG)


async def test_a_twenty_candidate_question_lists_six_and_counts_the_rest(world: World) -> None:
    exchange = await world.say("!polls georgia special general")
    assert "Showing: general polls" in exchange.text and "+14 more" in exchange.text
    assert_fits(exchange.messages[0])
    chart = await world.say("!polls georgia special general chart")
    assert "The top 6 of 20 candidates are drawn." in chart.text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!polls", "Which race? Name a state, a candidate or a year.\nExample: `!polls alabama`"),
        (
            "!polls alabama since julyy",
            "I can't read 'julyy' as a date.\nExample: `!polls alabama 2020 since june 2020`",
        ),
        ("!polls alabama page 9", "There is only 1 page of polls.\nExample: `!polls alabama 2020 page 1`"),
        ("!polls alabama page two", "Give the page as a number, e.g. `page 2`."),
        ("!polls alabama since", "Since when? Give a date after `since`"),
        ("!polls atlantis", "No race found for 'atlantis'."),
    ],
)
async def test_wrong_input_gets_a_usage_reply(world: World, typed: str, expected: str) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False
    assert expected in exchange.text


async def test_no_polls_and_filters_that_match_nothing_say_so(world: World) -> None:
    assert "No polls of the 2017 Alabama U.S. Senate special (Class II) yet." in await world.text(
        "!polls alabama 2017 special"
    )
    text = await world.text("!polls alabama lv")
    assert "match (likely voters); it has 1 poll in all: `!polls alabama 2020`" in text


async def test_slash_polls_with_options(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.member,
        "polls",
        {"query": "georgia special", "population": "lv", "page": 2},
    )
    assert exchange.ok is True
    response = exchange.messages[0]
    assert response.kind == "interaction_response"
    assert "Showing: likely voters" in response.text() and "page 2/2" in response.text()


async def test_slash_polls_chart_is_deferred_then_sent(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "polls", {"query": "alabama", "chart": True}
    )
    assert exchange.ok is True
    assert exchange.messages[0].response_type == 5  # deferred while the chart is drawn
    assert any(m.attachments and m.attachments[0][1].startswith(PNG) for m in exchange.messages)


async def test_charts_are_drawn_off_the_event_loop() -> None:
    """While a 500-poll, 30-candidate chart is drawn (and its worker process starts), the loop keeps ticking."""
    from cogs.support.chart_worker import ChartWorker
    from db.reads.polls import ChartAnswer, ChartPoll, ChartQuestion
    from render.chart import ChartRequest

    answers = tuple(ChartAnswer(i, f"Candidate {i}", None, 3.3) for i in range(30))
    polls = tuple(
        ChartPoll(
            n,
            f"P{n % 37}",
            dt.date(2020, 1, 1) + dt.timedelta(days=n % 280),
            500,
            (ChartQuestion(1, False, None, answers),),
        )
        for n in range(500)
    )
    worker = ChartWorker()
    turns = 0
    drawing = asyncio.create_task(worker.draw(ChartRequest("Big", polls, ((1, "General"),))))
    while not drawing.done():  # every turn of the loop another task gets while the chart is drawn
        await asyncio.sleep(0)
        turns += 1
    try:
        result = drawing.result()
    finally:
        worker.close()
    assert result is not None and result.png.startswith(PNG)
    # Drawn elsewhere: the loop kept turning (drawn in this thread it would turn a handful of times).
    assert turns > 1000, turns


async def test_a_new_poll_redraws_the_chart(own_world: World) -> None:
    from db.audit import SYSTEM
    from db.dataset import load_document
    from tests.support import special_document

    assert "General runoff: Warnick vs Lofton · 12 polls" in await own_world.text(
        "!polls georgia special chart"
    )
    doc = special_document()
    race = doc["races"][0]
    newest = dict(race["polls"][11], key="syn:ga:new", start="2021-01-01", end="2021-01-03")
    race["polls"] = [newest]
    race["endorsements"] = []
    async with own_world.bot.sessions.begin() as session:
        await load_document(session, doc, SYSTEM)
    assert "· 13 polls" in await own_world.text("!polls georgia special chart")


async def test_a_database_in_memory_is_charted_in_this_process() -> None:
    from cogs.support.chart_worker import ChartJob, ChartWorker, in_this_process
    from db.bootstrap import load_sample
    from db.engine import make_engine, make_sessionmaker, upgrade
    from db.lookup import find_races
    from db.reads.polls import PollFilter

    assert in_this_process("sqlite+aiosqlite://") and in_this_process("sqlite+aiosqlite:///:memory:")
    assert not in_this_process("sqlite+aiosqlite:///racedesk.db")
    assert not in_this_process("postgresql+asyncpg://u:p@db/racedesk")
    engine = make_engine("sqlite+aiosqlite://")
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            await load_sample(session)
            race = (await find_races(session, "alabama")).chosen
            assert race is not None
        job = ChartJob("sqlite+aiosqlite://", race.id, PollFilter(), "Alabama", ((1, "General"),))
        worker = ChartWorker()
        result = await worker.chart(job, sessions)
        worker.close()
    finally:
        await engine.dispose()
    assert result is not None and result.png.startswith(PNG) and result.polls == 1

"""`president` and `race … president …` through the real command machinery, on the shipped store with the
president polls imported; every figure shown is checked against sums computed here from the shipped files."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from db.audit import SYSTEM
from db.engine import make_engine, make_sessionmaker
from db.importers.run import import_file
from tests.support import PRESIDENT_POLLS, Built, World, assert_fits, new_messages, running_bot, sqlite_url
from tests.support.electoral import cast, district_rows, file_states, pledged, popular_total, popular_vote

pytestmark = pytest.mark.asyncio(loop_scope="module")
LETTER = {"D": "DEM", "R": "REP"}
PRESIDENT_POLLS_2024 = PRESIDENT_POLLS.parent / "fivethirtyeight-2024" / "president_polls.csv"
ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}
PAGES_2020 = -(-len(file_states(2020)) // 13)  # 13 states a page


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(built: Built, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot on a copy of the shipped store, with FiveThirtyEight's 2020 president polls imported."""
    engine = make_engine(sqlite_url(built.copy_to(tmp_path_factory.mktemp("president") / "store.db")))
    async with make_sessionmaker(engine).begin() as session:
        await import_file(
            session, PRESIDENT_POLLS, "fivethirtyeight-polls", actor=SYSTEM, options={"cycles": [2020]}
        )
    try:
        async with running_bot(engine) as started:
            yield started
    finally:
        await engine.dispose()


def poll_ids(state: str) -> set[str]:
    """The file's polls of one state ("" for the national ones)."""
    with open(PRESIDENT_POLLS, encoding="utf-8", newline="") as handle:
        return {r["poll_id"] for r in csv.DictReader(handle) if r["state"] == state}


def votes_by_party(line: str) -> dict[str, int]:
    """ "Electoral votes: Biden (D) **306** · Trump (R) **232**" -> {"DEM": 306, "REP": 232}."""
    return {LETTER[letter]: int(n) for letter, n in re.findall(r"\((D|R)\) \**(\d+)\**", line)}


def line_starting(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


async def test_president_2020_shows_the_electoral_votes_270_to_win_and_the_popular_vote(world: World) -> None:
    exchange = await world.say("!president 2020")
    assert exchange.ok is True
    embed = exchange.messages[0].embeds[0]
    assert embed["title"] == "2020 presidential election"
    description = embed["description"]
    assert votes_by_party(line_starting(description, "Electoral votes:")) == dict(pledged(2020))
    assert "**270 to win** of 538." in description
    assert "✅ Joseph R. Biden Jr. won the presidency." in description
    assert f"total {popular_total(2020):,} (blank, over and void ballots not counted)" in description
    for name, who in (("BIDEN, JOSEPH R. JR", "Biden (D)"), ("TRUMP, DONALD J.", "Trump (R)")):
        assert f"{who} {popular_vote(2020, name):,} (" in line_starting(description, "Popular vote:")
    assert_fits(exchange.messages[0])


async def test_president_2016_counts_the_faithless_electors(world: World) -> None:
    description = (await world.say("!president 2016")).messages[0].embeds[0]["description"]
    assert votes_by_party(line_starting(description, "Electoral votes cast:")) == dict(cast(2016))
    assert votes_by_party(line_starting(description, "Won at the polls (pledged):")) == dict(pledged(2016))
    others = sum(pledged(2016).values()) - sum(cast(2016).values())
    assert f"· others {others}" in description
    assert f"{others} faithless electors voted for others:" in description


@pytest.mark.parametrize("year", [2016, 2020])
async def test_maine_and_nebraska_are_shown_split_by_district(world: World, year: int) -> None:
    embed = (await world.say(f"!president {year}")).messages[0].embeds[0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    for state, name in (("ME", "Maine"), ("NE", "Nebraska")):
        districts = district_rows(year, state)
        found = file_states(year)[state]
        statewide = found.party_of[found.ranked[0][0]][0]
        won = Counter({found.party_of[found.ranked[0][0]]: 2}) + Counter(districts.values())
        shown = ", ".join(f"{ORDINAL[d]} {p[0]}" for d, p in sorted(districts.items()))
        split = " · ".join(f"{p[0]} {n}" for p, n in won.most_common())
        assert (
            f"{name} {2 + len(districts)}: at-large 2 {statewide}; districts {shown} ({split})"
            in fields["Split by district"]
        )


async def test_race_president_and_potus_show_the_same_national_picture(world: World) -> None:
    expected = (await world.say("!president 2020")).messages[0].embeds[0]
    for typed in ("!race president 2020", "!potus 2020", "!race us potus 2020"):
        exchange = await world.say(typed)
        assert exchange.ok is True, typed
        assert exchange.messages[0].embeds[0] == expected, typed


async def test_the_states_come_by_margin_a_page_at_a_time(world: World) -> None:
    exchange = await world.say("!president 2020")
    first = exchange.messages[0]
    states = file_states(2020)
    margins = sorted(
        (100 * (s.ranked[0][1] - s.ranked[1][1]) / (s.total - s.not_votes), code)
        for code, s in states.items()
    )
    field = next(f for f in first.embeds[0]["fields"] if f["name"].startswith("States by margin"))
    pages = PAGES_2020
    assert field["name"] == f"States by margin, closest first (1/{pages})"
    closest, code = margins[0]
    ranked = states[code].ranked
    assert field["value"].splitlines()[0].startswith(f"{code} ")
    assert f"+{closest:.2f} ({ranked[0][1] - ranked[1][1]:,})" in field["value"].splitlines()[0]

    before = len(world.standin.messages)
    await world.standin.click_button(first, first.button_id("Next"), world.member)
    (turned,) = await new_messages(world, before)
    assert f"States by margin, closest first (2/{pages})" in turned.text()
    assert f"(2/{pages})" in await world.text("!president 2020 page 2")


async def test_a_state_s_result_and_its_polls(world: World) -> None:
    card = await world.text("!race pennsylvania president 2020")
    assert card.startswith("2020 Pennsylvania President\n")
    pa = file_states(2020)["PA"]
    share = 100 * pa.ranked[0][1] / (pa.total - pa.not_votes)
    assert f"✅ Biden won: Biden {share:.1f}%" in card  # the surname, not the "Jr." after it
    pa_polls = poll_ids("Pennsylvania")
    assert f"Latest poll (of {len(pa_polls)})" in card
    results = await world.text("!results pennsylvania president 2020")
    for name, n in file_states(2020)["PA"].ranked:
        assert f"{n:,}" in results, name


async def test_national_polls_attach_to_the_national_race(world: World) -> None:
    national = poll_ids("")
    description = (await world.say("!president 2020")).messages[0].embeds[0]["description"]
    assert "National polls: `!polls united states president 2020`" in description
    shown = await world.text("!polls united states president 2020")
    assert shown == await world.text("!polls us president 2020") == await world.text("!polls president 2020")
    text = await world.text("!polls president 2020")
    assert text.startswith("Polls · 2020 United States President")
    assert f"of {len(national)}, newest first" in text


def national_poll_ids_2024() -> set[str]:
    with open(PRESIDENT_POLLS_2024, encoding="utf-8", newline="") as handle:
        return {r["poll_id"] for r in csv.DictReader(handle) if r["state"] == ""}


@pytest.mark.parametrize("typed", ["!president 2024", "!race president 2024", "!potus '24"])
async def test_a_year_of_polls_alone_gives_the_national_races_card(world: World, typed: str) -> None:
    """2024 has no count by state, only the national race its polls made: its card, not a refusal."""
    exchange = await world.say(typed)
    assert exchange.ok is True
    text = exchange.text
    assert text.startswith("2024 United States President\n")
    assert "General · Nov 5, 2024: no results stored" in text
    assert f"Latest poll (of {len(national_poll_ids_2024())}):" in text
    assert_fits(exchange.messages[0])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!president 2024 page 2", "There is only 1 page.\nExample: `!president 2024`"),
        (
            "!president 2019",
            "racedesk has no presidential election in 2019. It has: 2020, 2016.\nExample: `!president 2020`",
        ),
        ("!president abc", "'abc' is not an election year.\nExample: `!president 2020`"),
        (
            "!race president 2019",
            "racedesk has no presidential election in 2019. It has: 2020, 2016.\nExample: `!president 2020`",
        ),
        (
            "!president 2020 page 9",
            f"There are only {PAGES_2020} pages.\nExample: `!president 2020 page {PAGES_2020}`",
        ),
        (
            "!president 2020 page x",
            "Give the page as a number, e.g. `page 2`.\nExample: `!president 2020 page 2`",
        ),
    ],
)
async def test_wrong_input_gets_a_usage_reply_with_an_example(
    world: World, typed: str, expected: str
) -> None:
    exchange = await world.say(typed)
    assert exchange.ok is False and exchange.text == expected


async def test_slash_president(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id, world.desk_channel, world.member, "president", {"query": "2016"}
    )
    assert exchange.ok is True
    response = exchange.messages[0]
    assert response.kind == "interaction_response"
    assert votes_by_party(line_starting(response.embeds[0]["description"], "Electoral votes cast:")) == dict(
        cast(2016)
    )

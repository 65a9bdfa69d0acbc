"""The House and the Senate's 2022 races on the shipped store, through the real command machinery: every
figure the bot shows is checked against sums made here from the shipped files."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from db.engine import make_engine
from tests.support import MEDSL_2022, MEDSL_HOUSE, Built, World, assert_fits, running_bot, sqlite_url

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(built: Built, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One bot on a copy of the shipped store, for the module's tests, which only read."""
    engine = make_engine(sqlite_url(built.copy_to(tmp_path_factory.mktemp("federal") / "store.db")))
    async with running_bot(engine) as started:
        yield started
    await engine.dispose()


def house_votes(year: str) -> dict[tuple[str, str], dict[str, tuple[int, set[str]]]]:
    """(state, district) -> candidate -> (votes over all of their lines, the lines' parties), from the file."""
    races: dict[tuple[str, str], dict[str, tuple[int, set[str]]]] = defaultdict(dict)
    with open(MEDSL_HOUSE, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["year"] != year or row["writein"] == "TRUE":
                continue
            votes, parties = races[(row["state_po"], row["district"])].get(row["candidate"], (0, set()))
            races[(row["state_po"], row["district"])][row["candidate"]] = (
                votes + int(row["candidatevotes"]),
                parties | {row["party"]},
            )
    return races


def side(parties: set[str]) -> str:
    if any(p.startswith("DEMOCRAT") for p in parties):  # DEMOCRATIC-FARMER-LABOR too
        return "D"
    return "R" if "REPUBLICAN" in parties else "other"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


async def test_house_2022_seats_by_party_are_the_files(world: World) -> None:
    seats: Counter[str] = Counter()
    for (state, _), candidates in house_votes("2022").items():
        if state != "DC":
            seats[side(max(candidates.values(), key=lambda entry: entry[0])[1])] += 1
    assert sum(seats.values()) == 435 and seats["other"] == 0
    exchange = await world.say("!house 2022")
    assert exchange.ok is True
    embed = exchange.messages[0].embeds[0]
    assert embed["title"] == "2022 U.S. House: balance of power"
    assert embed["description"].startswith(f"**D {seats['D']} · R {seats['R']}** on seats decided")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Up in 2022"] == f"435 up · won: D {seats['D']} · R {seats['R']}"
    assert fields["Seats"].index("AL-2:") < fields["Seats"].index("AL-7:")  # districts in their order
    assert_fits(exchange.messages[0])


async def test_house_2018_counts_the_uncertified_seat_as_undecided(world: World) -> None:
    races = house_votes("2018")
    seats: Counter[str] = Counter()
    for key, candidates in races.items():
        if key != ("NC", "009"):
            seats[side(max(candidates.values(), key=lambda entry: entry[0])[1])] += 1
    text = await world.text("!house 2018")
    assert f"**D {seats['D']} · R {seats['R']}**" in text
    harris = max(races[("NC", "009")].items(), key=lambda entry: entry[1][0])
    assert harris[0] == "MARK HARRIS" and side(harris[1][1]) == "R"
    assert f"won: D {seats['D']} · R {seats['R']} · leading: R 1" in text  # NC-9: counted, never certified


async def test_a_chamber_without_a_year_is_its_newest_counted_cycle(world: World) -> None:
    """The shipped store has races of 2024 and later made by polls alone: nothing counted, so `!house` and
    `!senate` mean the newest cycle with counts (2022), and that is the example a wrong year gets."""
    assert (await world.text("!house")).startswith("2022 U.S. House: balance of power")
    assert (await world.text("!senate")).startswith("2022 U.S. Senate: balance of power")
    refused = await world.say("!house 2019")
    assert refused.ok is False and refused.text.endswith("Example: `!house 2022`")
    assert (await world.text("!house 2024")).startswith("2024 U.S. House: balance of power")  # asked: shown


async def test_race_al_02_2022_is_the_2022_district(world: World) -> None:
    candidates = house_votes("2022")[("AL", "002")]
    total = sum(votes for votes, _ in candidates.values())
    winner = max(candidates, key=lambda name: candidates[name][0])
    exchange = await world.say("!race al-02 2022")
    assert exchange.ok is True
    assert exchange.messages[0].embeds[0]["title"] == "2022 Alabama U.S. House AL-02"
    surname = winner.split()[-1].title()
    assert f"✅ {surname} won: {surname} {pct(candidates[winner][0], total)}" in exchange.text
    results = await world.text("!results al-02 2022")
    for votes, _ in candidates.values():
        assert f"{votes:,}" in results
    earlier = await world.text("!race al 2nd district 2020")  # the same district number, another race
    assert earlier.startswith("2020 Alabama U.S. House AL-02")


async def test_a_fusion_candidates_total_is_the_sum_of_the_lines(world: World) -> None:
    candidates = house_votes("2022")[("NY", "003")]
    votes, parties = candidates["GEORGE A D SANTOS"]
    assert parties == {"REPUBLICAN", "CONSERVATIVE"}
    results = await world.text("!results ny-3 2022")
    assert f"George A D Santos (R)**: {votes:,}" in results
    card = await world.text("!race ny-3 2022")
    lines = santos_lines()
    assert sum(lines) == votes and all(f"{line:,}" in card for line in lines)  # the lines stay visible


def santos_lines() -> list[int]:
    with open(MEDSL_HOUSE, encoding="utf-8", newline="") as handle:
        return [
            int(r["candidatevotes"])
            for r in csv.DictReader(handle)
            if (r["year"], r["state_po"], r["district"], r["candidate"])
            == ("2022", "NY", "003", "GEORGE A D SANTOS")
        ]


def georgia_2022() -> list[dict[str, str]]:
    with open(MEDSL_2022, encoding="latin-1", newline="") as handle:
        return [r for r in csv.DictReader(handle) if (r["year"], r["state_po"]) == ("2022", "GA")]


async def test_georgia_2022_runoff_is_the_files(world: World) -> None:
    rows = georgia_2022()
    by_total: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_total[row["totalvotes"]][row["candidate"]] = int(row["candidatevotes"])
    runoff = next(group for group in by_total.values() if len(group) == 2)  # a run-off has two candidates
    first, second = sorted(runoff, key=lambda name: -runoff[name])
    total = sum(runoff.values())
    exchange = await world.say("!race georgia 2022 runoff")
    assert exchange.ok is True
    one, two = first.split()[-1].title(), second.split()[-1].title()
    shown = f"General runoff · Dec 6, 2022: ✅ {one} defeated {two}, {pct(runoff[first], total)}–{pct(runoff[second], total)}"
    assert shown in exchange.text
    results = await world.text("!results georgia 2022 runoff")
    assert f"{runoff[first]:,}" in results and f"{runoff[second]:,}" in results
    # The file gives 2022's counts no version date: they are dated by their election day, not the import.
    assert "(Dec 6, 2022 00:00 UTC)" in results and "minute" not in results
    assert (
        f"won by {runoff[first] - runoff[second]:,} votes" in results
        or f"({runoff[first] - runoff[second]:,} votes)" in results
    )


async def test_the_pick_rule_takes_the_newest_race_of_the_office_most_asked_about(world: World) -> None:
    assert (await world.text("!race pennsylvania")).startswith("2024 Pennsylvania U.S. Senate")
    assert (await world.text("!race pennsylvania 2022")).startswith("2022 Pennsylvania U.S. Senate")
    assert (await world.text("!race alabama 2020")).startswith("2020 Alabama U.S. Senate")
    assert (await world.text("!race alabama 2018")).startswith("2017 Alabama U.S. Senate special")
    listed = await world.text("!race georgia 2020")
    assert "`!race georgia 2020 regular`" in listed and "`!race georgia 2020 special`" in listed
    assert (await world.text("!race wyoming at-large 2018")).startswith("2018 Wyoming U.S. House WY-AL")


async def test_autocomplete_offers_the_races_the_pick_rule_set_aside(world: World) -> None:
    choices = await world.standin.send_autocomplete(
        world.desk.id, world.desk_channel, world.member, "race", {"query": "alabama"}, focused="query"
    )
    values = [choice["value"] for choice in choices]
    assert values[0] == "alabama president 2024" and "AL-2 2022" in values and "alabama 2020" in values


@pytest.mark.parametrize("typed", ["!senate 2024", "!house 2024"])
async def test_a_chamber_the_store_holds_only_part_of_claims_nothing_of_the_rest(
    world: World, typed: str
) -> None:
    """2024 has only the races polls made and no seats-not-up data: no side "cannot reach" control."""
    text = await world.text(typed)
    up = re.search(r"Up in 2024: (\d+) up", text)
    size = 100 if "senate" in typed else 435
    assert up is not None and int(up.group(1)) < size
    assert f"racedesk holds {up.group(1)} of the {size} seats: what each side needs is not known." in text
    assert "cannot reach" not in text and "more of the" not in text

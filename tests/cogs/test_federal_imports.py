"""The 2024-cycle polls and an FEC candidate, imported, then asked for through the real command machinery.

The figures each reply must show are read here from the shipped files, independently of the importers.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from db.engine import make_sessionmaker
from db.importers.default import PUBLIC
from db.importers.run import import_file
from tests.support import World, assert_fits, new_store, running_bot

SENATE_2024 = PUBLIC / "fivethirtyeight-2024" / "senate_polls.csv"
FEC = PUBLIC / "fec" / "cn.txt"

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """A bot over a store holding the 2024 Senate polls and the FEC's candidates, both imported."""
    engine = await new_store(tmp_path_factory.mktemp("federal") / "store.db")
    try:
        async with make_sessionmaker(engine).begin() as session:
            await import_file(session, SENATE_2024)
            await import_file(session, FEC)
        async with running_bot(engine) as started:
            yield started
    finally:
        await engine.dispose()


def newest_pennsylvania_poll() -> tuple[str, dt.date, dict[str, float]]:
    """The newest 2024 Pennsylvania Senate poll in the file: pollster, end date, each answer's share."""
    polls: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(SENATE_2024, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["state"] == "Pennsylvania" and row["cycle"] == "2024":
                polls[row["poll_id"]].append(row)
    end = {pid: dt.datetime.strptime(rows[0]["end_date"], "%m/%d/%y").date() for pid, rows in polls.items()}
    newest = max(polls, key=lambda pid: (end[pid], int(pid)))
    rows = polls[newest]
    return rows[0]["pollster"], end[newest], {row["answer"]: float(row["pct"]) for row in rows}


def pennsylvania_election_days() -> set[str]:
    with open(SENATE_2024, encoding="utf-8-sig", newline="") as handle:
        return {r["election_date"] for r in csv.DictReader(handle) if r["state"] == "Pennsylvania"}


def fec_lines() -> list[list[str]]:
    with open(FEC, encoding="latin-1") as handle:
        return [line.rstrip("\n").split("|") for line in handle]


async def test_polls_pennsylvania_2024_shows_the_newest_poll_as_the_file_gives_it(world: World) -> None:
    exchange = await world.say("!polls pennsylvania 2024")
    assert exchange.ok is True
    text = exchange.text
    assert "2024 Pennsylvania U.S. Senate" in text
    pollster, end, shares = newest_pennsylvania_poll()
    lines = text.split("\n")
    first = lines[next(i for i, line in enumerate(lines) if line.startswith(f"{pollster} · ")) :]
    assert f"{end:%b}" in first[0] and f"{end.day}, {end.year}:" in first[0]  # "Dec 8–12, 2023:"
    line = next(line for line in first if line.strip().startswith("General:"))
    for answer, pct in shares.items():
        assert f"{answer} {pct:g}" in line
    top, second = sorted(shares.values(), reverse=True)[:2]
    assert f"+{top - second:.1f}" in line
    assert_fits(exchange.messages[0])


async def test_the_2024_race_takes_its_election_day_and_source_from_the_polls(world: World) -> None:
    text = await world.text("!race pennsylvania 2024")
    (day,) = {dt.datetime.strptime(d, "%m/%d/%y").date() for d in pennsylvania_election_days()}
    assert f"General · {day:%b} {day.day}, {day.year}" in text
    assert "no results stored" in text  # the day has passed; the store holds no count
    assert "Source: FiveThirtyEight senate polls" in text and "racedesk desk" not in text


async def test_an_fec_candidate_on_the_card(world: World) -> None:
    lines = fec_lines()
    roby = next(f for f in lines if f[0] == "H0AL02087")  # an incumbent's line, by FEC id
    last, first = (part.title() for part in roby[1].split(", "))
    district = int(roby[6])
    text = await world.text(f"!race {roby[4].lower()}-{district} {roby[3]}")
    letter = {"REP": "R", "DEM": "D"}[roby[2]]
    assert f"{roby[3]} Alabama U.S. House {roby[4]}-{district:02d}" in text
    assert f"Incumbent: {first} {last} ({letter})" in text
    assert f"{first} {last} ({letter}) · incumbent" in text
    # Everyone the file lists for the district that cycle is on the card, except those not statutory (status C).
    same = [f for f in lines if f[3] == roby[3] and f[4] == roby[4] and f[5] == "H" and f[6] == roby[6]]
    off = [f for f in same if f[8] != "C"]
    for fields in same:
        surname = fields[1].split(",")[0].title()
        assert (surname in text) is (fields not in off), fields[1]

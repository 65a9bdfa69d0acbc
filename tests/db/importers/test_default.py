"""The default store (the sample, then the shipped public files), built once for these tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from db.dataset import export_document
from db.engine import make_sessionmaker
from db.importers.default import PUBLIC
from db.importers.run import import_file
from db.models import (
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Poll,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
)
from tests.support import (
    MEDSL,
    MEDSL_2022,
    MEDSL_HOUSE,
    POLLS,
    PRESIDENT,
    Built,
    csv_distinct,
    csv_sum,
    new_store,
    row_counts,
)

GOVERNORS = PUBLIC / "governor_polls.csv"
POLLS_2024 = PUBLIC / "fivethirtyeight-2024"


def csv_rows(
    path: Path, keep: Callable[[dict[str, str]], bool], columns: tuple[str, ...], encoding: str = "utf-8"
) -> set[tuple[str, ...]]:
    """The distinct values of `columns` over the rows `keep` keeps: counted from the file itself."""
    with open(path, encoding=encoding, newline="") as handle:
        return {tuple(row[c] for c in columns) for row in csv.DictReader(handle) if keep(row)}


async def the_race(session: AsyncSession, cycle: int, state: str, special: bool = False) -> Race:
    races = (
        await session.scalars(
            select(Race)
            .where(Race.cycle == cycle, Race.state == state, Race.office == "senate", Race.special == special)
            .options(selectinload(Race.contests))
        )
    ).all()
    assert len(races) == 1, [(r.seat, r.special) for r in races]
    return races[0]


def contest(race: Race, stage: str, party: str = "") -> Contest:
    found = [c for c in race.contests if (c.stage, c.party) == (stage, party)]
    assert len(found) == 1, [(c.stage, c.party) for c in race.contests]
    return found[0]


async def ballot(session: AsyncSession, contest_id: int) -> dict[str, tuple[int | None, str]]:
    rows = await session.execute(
        select(Candidate.name, Candidacy.votes, Candidacy.outcome)
        .join(Candidacy, Candidacy.candidate_id == Candidate.id)
        .where(Candidacy.contest_id == contest_id)
    )
    return {name: (votes, outcome) for name, votes, outcome in rows}


async def newest_counts(session: AsyncSession, contest_id: int) -> dict[str, int]:
    snapshot = await session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.contest_id == contest_id)
        .order_by(ResultSnapshot.id.desc())
        .limit(1)
    )
    assert snapshot is not None
    rows = await session.execute(
        select(ResultCount.kind, Candidate.name, ResultCount.votes)
        .outerjoin(Candidacy, Candidacy.id == ResultCount.candidacy_id)
        .outerjoin(Candidate, Candidate.id == Candidacy.candidate_id)
        .where(ResultCount.snapshot_id == snapshot.id)
    )
    return {name or kind: votes for kind, name, votes in rows}


async def standing_call(session: AsyncSession, contest_id: int) -> Call:
    call = await session.scalar(
        select(Call).where(Call.contest_id == contest_id).order_by(Call.id.desc()).limit(1)
    )
    assert call is not None
    return call


def test_the_build_reports_and_the_second_changes_nothing(built: Built) -> None:
    first, second = built.first, built.second
    assert [p.name for p in first.parts] == [
        "1976-2022-senate.csv",
        "2018-2022-house.csv",
        "senate-2022-baselines.json",
        "2016-2020-president.csv",
        "20171212__al__special__general__precinct.csv",
        "al-2020-primary-totals.json",
        "senate_polls.csv",
        "governor_polls.csv",
        "senate_polls.csv",
        "house_district_polls.csv",
        "president_polls.csv",
    ]
    # The polls that make races of their own (no results are shipped for them): one poll per 538
    # (poll_id, state, seat), one race per (cycle, state, seat) (House: and election day, a special's own).
    for part, path, race_columns in zip(
        first.parts[7:],
        (GOVERNORS, POLLS_2024 / "senate_polls.csv", POLLS_2024 / "house_district_polls.csv",
         POLLS_2024 / "president_polls.csv"),
        (("cycle", "state"), ("cycle", "state", "seat_name"), ("cycle", "state", "seat_number", "election_date"),
         ("cycle", "state")),
        strict=True,
    ):  # fmt: skip
        assert part.added["polls"] == len(csv_rows(path, lambda r: True, ("poll_id", "state", "seat_name")))
        assert part.added["races"] == len(csv_rows(path, lambda r: True, race_columns)), part.name
        assert part.added["contests"] >= part.added["races"]  # each race's stages, from its poll rows
    # Counted from the files: one poll per 538 (poll_id, state, seat) of 2018 and 2020, but the sample's
    # Auburn poll (Jul 2-9, 2020) is already stored; one race per MEDSL Senate (year, state, special) of
    # 2018, 2020 and 2022, but the sample's 2020 Alabama race is already stored, and one per MEDSL House
    # (year, state, district); one race per MEDSL president
    # (year, state) of 2016 and 2020.
    polls = csv_rows(POLLS, lambda r: r["cycle"] in ("2018", "2020"), ("poll_id", "state", "seat_name"))
    auburn = ("Auburn University at Montgomery", "7/9/20")
    sample_polls = csv_rows(
        POLLS, lambda r: (r["pollster"], r["end_date"]) == auburn, ("poll_id", "state", "seat_name")
    )
    years = ("2018", "2020", "2022")
    races = csv_rows(MEDSL_2022, lambda r: r["year"] in years, ("year", "state_po", "special"), "latin-1")
    house = csv_rows(MEDSL_HOUSE, lambda r: r["year"] in years, ("year", "state_po", "district"))
    old = csv_rows(MEDSL, lambda r: r["year"] in years[:2], ("year", "state_po", "special"), "latin-1")
    president = csv_rows(PRESIDENT, lambda r: r["year"] in ("2016", "2020"), ("year", "state_po"))
    assert old == {race for race in races if race[0] != "2022"}  # the 2018 and 2020 races are as before
    assert len(sample_polls) == 1 and ("2020", "AL", "FALSE") in races and len(house) == 435 * 3 + 1
    assert first.parts[6].added["polls"] == len(polls) - 1
    assert sum(part.added["races"] for part in first.parts[:7]) == len(races) - 1 + len(house) + len(
        president
    )
    assert any("Gordon" not in m and "Lou Barletta" in m for m in first.merges)
    assert second.already_imported and not second.changed
    assert "already imported" in second.describe()
    text = first.describe()
    assert "spellings matched to known people" in text and "added" in text
    print(f"first build (sample + default store): {built.seconds:.1f} s")


async def test_alabama_2020_is_one_race_from_every_source(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        race = await the_race(session, 2020, "AL")
        assert (race.seat, race.special) == ("Class II", False)
        assert {(c.stage, c.party) for c in race.contests} == {
            ("primary", "REP"),
            ("primary runoff", "REP"),
            ("general", ""),
        }
        general = contest(race, "general")
        expected = {
            name: csv_sum(
                MEDSL,
                {"year": "2020", "state_po": "AL", "candidate": name.upper()},
                "candidatevotes",
                encoding="latin-1",
            )
            for name in ("Tommy Tuberville", "Doug Jones")
        }
        assert expected == {"Tommy Tuberville": 1_392_076, "Doug Jones": 920_478}
        assert await ballot(session, general.id) == {
            "Tommy Tuberville": (1_392_076, "won"),
            "Doug Jones": (920_478, "lost"),
        }
        assert await newest_counts(session, general.id) == {**expected, "writein": 3_891}
        # the sample's snapshot and MEDSL's are the same counts: stored once
        assert await session.scalar(select(func.count()).where(ResultSnapshot.contest_id == general.id)) == 1
        primary = contest(race, "primary", "REP")
        assert {n: v for n, (v, _) in (await ballot(session, primary.id)).items()} == {
            "Tommy Tuberville": 239_604,
            "Jeff Sessions": 227_082,
            "Bradley Byrne": 178_626,
            "Roy S. Moore": 51_382,
            "Ruth Page Nelson": 7_200,
            "Arnold Mooney": 7_140,
            "Stanley Adair": 6_608,
        }
        assert (await standing_call(session, primary.id)).kind == "runoff"
        assert "MEDSL" in (race.source or "") and "News article" in (race.source or "")


async def test_one_doug_jones(default_store: async_sessionmaker[AsyncSession]) -> None:
    async with default_store() as session:
        people = (await session.scalars(select(Candidate).where(Candidate.state == "AL"))).all()
        names = sorted(p.name for p in people)
        assert len(names) == len(set(names))
        jones = [p for p in people if p.name.endswith("Jones")]
        assert [p.name for p in jones] == ["Doug Jones"]
        keys = set(
            await session.scalars(
                select(CandidateAlias.alias_key).where(CandidateAlias.candidate_id == jones[0].id)
            )
        )
        assert keys == {"doug jones", "gordon douglas jones"}  # "DOUG JONES" (MEDSL) shares the first
        moores = [p.name for p in people if p.name.endswith("Moore")]
        # "Roy Moore" in the SOS sheets is the same man; Barry Moore is Alabama's 2nd district's (the House file)
        assert sorted(moores) == ["Barry Moore", "Roy S. Moore"]


async def test_alabama_2020_polls(default_store: async_sessionmaker[AsyncSession]) -> None:
    async with default_store() as session:
        race = await the_race(session, 2020, "AL")
        polls = (await session.scalars(select(Poll).where(Poll.race_id == race.id))).all()
        assert len(polls) == 18
        questions = {
            q.source_key: q
            for q in await session.scalars(
                select(Question).where(Question.poll_id.in_([p.id for p in polls]))
            )
        }
        assert len(questions) == 27
        general = contest(race, "general")
        assert questions["538q:125275"].hypothetical and questions["538q:125275"].contest_id == general.id
        assert not questions["538q:125276"].hypothetical and questions["538q:125276"].contest_id == general.id
        # Sessions (4), Byrne (2), Moore and Mooney (1 each) against Jones, before the run-off
        assert sum(q.hypothetical for q in questions.values()) == 9


async def test_the_2017_special(default_store: async_sessionmaker[AsyncSession]) -> None:
    async with default_store() as session:
        race = await the_race(session, 2017, "AL", special=True)
        assert race.seat == "Class II"
        general = contest(race, "general")
        assert await ballot(session, general.id) == {
            "Doug Jones": (673_352, "won"),
            "Roy S. Moore": (650_940, "lost"),
        }
        counts = await newest_counts(session, general.id)
        assert (counts["Doug Jones"], counts["Roy S. Moore"], counts["writein"]) == (673_352, 650_940, 21_464)
        assert (counts["under"], counts["over"]) == (1_459, 251)


async def test_georgia_2020_races_and_their_runoffs(default_store: async_sessionmaker[AsyncSession]) -> None:
    async with default_store() as session:
        for special, seat, winner, loser in (
            (False, "Class II", "Jon Ossoff", "David A. Perdue"),
            (True, "Class III", "Raphael Warnock", "Kelly Loeffler"),
        ):
            race = await the_race(session, 2020, "GA", special)
            assert race.seat == seat
            general, runoff = contest(race, "general"), contest(race, "general runoff")
            assert str(runoff.date) == "2021-01-05" and str(general.date) == "2020-11-03"
            first_round = await ballot(session, general.id)
            assert first_round[winner][1] == first_round[loser][1] == "advanced"
            assert (await standing_call(session, general.id)).kind == "runoff"
            second = await ballot(session, runoff.id)
            assert (second[winner][1], second[loser][1]) == ("won", "lost")
            expected = csv_sum(
                MEDSL,
                {"year": "2021", "state_po": "GA", "candidate": winner.upper()},
                "candidatevotes",
                encoding="latin-1",
            )
            assert second[winner][0] == expected
            snapshot = await session.scalar(
                select(ResultSnapshot).where(ResultSnapshot.contest_id == runoff.id)
            )
            assert snapshot is not None and snapshot.unofficial
            linked = await session.scalar(select(func.count()).where(Question.contest_id == runoff.id))
            wanted = ("Georgia", "2020", seat, "runoff")
            runoff_questions = csv_rows(
                POLLS,
                lambda r, wanted=wanted: (r["state"], r["cycle"], r["seat_name"], r["stage"]) == wanted,
                ("question_id",),
            )
            assert linked == len(runoff_questions)


async def test_maine_2020(default_store: async_sessionmaker[AsyncSession]) -> None:
    async with default_store() as session:
        race = await the_race(session, 2020, "ME")
        general = contest(race, "general")
        results = await ballot(session, general.id)
        me = {"year": "2020", "state_po": "ME"}
        for name in ("Susan Margaret Collins", "Sara I. Gideon", "Lisa Savage", "Max Patrick Linn"):
            assert results[name][0] == csv_sum(
                MEDSL, {**me, "candidate": name.upper()}, "candidatevotes", encoding="latin-1"
            )
        assert results["Susan Margaret Collins"][1] == "won"
        counts = await newest_counts(session, general.id)
        assert (counts["under"], counts["writein"]) == (9_122, 228)
        polls = await session.scalar(select(func.count()).select_from(Poll).where(Poll.race_id == race.id))
        expected = csv_distinct(POLLS, {"state": "Maine", "cycle": "2020"}, ("poll_id",))
        assert polls == len(expected)


async def test_export_round_trips(built: Built, tmp_path: Path) -> None:
    engine = await new_store(built.copy_to(tmp_path / "copy.db"))
    async with make_sessionmaker(engine)() as session:
        first = await export_document(session)
        before = await row_counts(session)
    await engine.dispose()
    path = tmp_path / "export.json"
    path.write_text(json.dumps(first, indent=1))
    empty = await new_store(tmp_path / "empty.db")
    sessions = make_sessionmaker(empty)
    async with sessions.begin() as session:
        report = await import_file(session, path)
    async with sessions() as session:
        second = await export_document(session)
        after = await row_counts(session)
    await empty.dispose()
    assert report.format == "racedesk" and report.changed
    assert second == first
    for table in (
        "races",
        "contests",
        "candidates",
        "candidacies",
        "polls",
        "questions",
        "answers",
        "endorsements",
    ):
        assert after[table] == before[table], table
    assert first["candidates"][0]["key"] < first["candidates"][-1]["key"]

"""import_file: idempotent, transactional, dry runs, skipped lines, reports; on SQLite (and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.importers.run import ImportFailed, import_file
from db.models import Candidacy, Candidate, Contest, ImportRun, Poll, Question, Race
from tests.support import HISTORICAL_AL, MEDSL, POLLS, SPECIAL_2017, csv_distinct, row_counts


async def votes_in(
    session: AsyncSession, cycle: int, state: str, stage: str, special: bool = False
) -> dict[str, int]:
    rows = await session.execute(
        select(Candidate.name, Candidacy.votes)
        .join(Candidacy, Candidacy.candidate_id == Candidate.id)
        .join(Contest, Contest.id == Candidacy.contest_id)
        .join(Race, Race.id == Contest.race_id)
        .where(Race.cycle == cycle, Race.state == state, Race.special == special, Contest.stage == stage)
    )
    return {name: int(votes or 0) for name, votes in rows}


async def test_import_is_idempotent(store: async_sessionmaker[AsyncSession], tiny_medsl: Path) -> None:
    async with store.begin() as session:
        first = await import_file(session, tiny_medsl)
    assert first.format == "medsl" and first.changed and not first.already_imported
    assert first.added["races"] == 4 and first.added["contests"] == 6
    async with store() as session:
        before = await row_counts(session)
        assert (await votes_in(session, 2020, "AL", "general")) == {
            "Tommy Tuberville": 1_392_076,
            "Doug Jones": 920_478,
        }
    async with store.begin() as session:
        second = await import_file(session, tiny_medsl)
    assert second.already_imported and not second.changed
    assert second.describe() == "medsl-small.csv: already imported; nothing changed"
    async with store.begin() as session:
        forced = await import_file(session, tiny_medsl, force=True)
    assert not forced.changed and "nothing new" in forced.describe()
    async with store() as session:
        after = await row_counts(session)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"
    }
    assert after["import_runs"] == 2  # the first import and the forced one


async def test_other_options_are_another_import(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        only_2018 = await import_file(session, MEDSL, options={"years": [2018]})
        again = await import_file(session, MEDSL, options={"years": [2018]})
        with_2020 = await import_file(session, MEDSL, options={"years": [2020]})
    assert only_2018.changed and again.already_imported and with_2020.changed
    assert {r for r in with_2020.added} >= {"races", "contests"}


async def test_a_bad_line_fails_the_whole_import(
    store: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    lines = MEDSL.read_text(encoding="latin-1").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("2020,") and '"GA"' in line)
    lines[at] = lines[at].replace(',"total",', ',"total",12x', 1)
    broken = tmp_path / "broken-medsl.csv"
    broken.write_text("".join(lines), encoding="latin-1")
    async with store() as session:
        empty = await row_counts(session)
        with pytest.raises(ImportFailed) as failure:
            await import_file(session, broken)
        assert failure.value.line == at + 1
        assert f"line {at + 1}" in str(failure.value) and "nothing was imported" in str(failure.value)
        await session.commit()  # the caller carries on: nothing of the file is there
        assert await row_counts(session) == empty
    async with store.begin() as session:
        report = await import_file(session, broken, skip_bad=True, options={"years": [2020]})
    assert [bad.line for bad in report.skipped] == [at + 1]
    assert f"1 bad lines skipped: line {at + 1}" in report.describe()
    assert report.changed


async def test_a_document_error_also_writes_nothing(
    store: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"format": "racedesk/1", "candidates": [{"key": "a", "name": "Ann Example", "state": "AL"}],'
        ' "races": [{"cycle": 2020, "state": "AL", "office": "senate", "seat": "Class II",'
        ' "contests": [{"stage": "final four"}]}]}'
    )
    async with store() as session:
        with pytest.raises(ImportFailed) as failure:
            await import_file(session, bad)
        assert "final four" in str(failure.value)
        await session.commit()
        assert not (await session.scalars(select(Candidate))).all()
        assert not (await session.scalars(select(ImportRun))).all()


async def test_dry_run_reports_and_rolls_back(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        report = await import_file(session, SPECIAL_2017, dry_run=True)
    assert report.dry_run and report.added["races"] == 1 and report.added["candidates"] == 2
    assert report.describe().startswith("20171212__al__special__general__precinct.csv (dry run): would add")
    async with store() as session:
        assert set((await row_counts(session)).values()) == {0}
    async with store.begin() as session:
        real = await import_file(session, SPECIAL_2017)
    assert real.added == report.added  # what the dry run said is what happened


async def test_progress_is_told(store: async_sessionmaker[AsyncSession]) -> None:
    heard: list[str] = []

    async def tell(message: str) -> None:
        heard.append(message)

    async with store.begin() as session:
        await import_file(session, SPECIAL_2017, progress=tell)
    assert heard[0].startswith("reading") and "added" in heard[-1]


async def test_polls_alone_use_the_files_own_guess(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        report = await import_file(session, HISTORICAL_AL)
    assert report.added["polls"] == 18 and report.added["races"] == 1
    async with store() as session:
        rows = await session.execute(select(Question.source_key, Question.hypothetical, Question.contest_id))
        questions = {key: (hypothetical, contest) for key, hypothetical, contest in rows}
    assert len(questions) == 27
    # The store knows no ballot, so the file's own guess stands; the polls made the race, so its general
    # is made from the poll rows: stage and election day as the file gives them.
    assert questions["538q:125275"][0] is True
    assert questions["538q:125276"][0] is False
    ((asked,),) = csv_distinct(HISTORICAL_AL, {"question_id": "125276"}, ("election_date",))
    month, day, year = (int(part) for part in asked.split("/"))
    async with store() as session:
        general = await session.get(Contest, questions["538q:125276"][1])
        assert general is not None and questions["538q:125275"][1] == general.id
        assert (general.stage, general.date) == ("general", dt.date(2000 + year, month, day))
        race = await session.get(Race, general.race_id)
        assert race is not None and race.source and "FiveThirtyEight" in race.source


async def test_polls_judged_against_the_ballot(
    store: async_sessionmaker[AsyncSession], tiny_medsl: Path
) -> None:
    async with store.begin() as session:
        await import_file(session, tiny_medsl)
        report = await import_file(session, HISTORICAL_AL)
    assert any("judged against the ballots" in note for note in report.notes)
    assert (
        report.added["candidates"] == 5
    )  # Sessions, Byrne, Moore, Mooney, Parrish: not on the general ballot
    async with store() as session:
        jones = (await session.scalars(select(Candidate).where(Candidate.name == "Doug Jones"))).all()
        assert len(jones) == 1  # "Gordon Douglas Jones" is MEDSL's DOUG JONES
        rows = await session.execute(select(Question.source_key, Question.hypothetical, Question.contest_id))
        questions = {key: (hypothetical, contest) for key, hypothetical, contest in rows}
    assert questions["538q:125275"][0] is True and questions["538q:125275"][1] is not None
    assert questions["538q:125276"][0] is False
    assert questions["538q:124797"][0] is False  # Tuberville, Jones and Parrish (IND, not on the ballot)


async def test_import_on_both_databases(sessions: async_sessionmaker[AsyncSession], tiny_medsl: Path) -> None:
    """The same import, idempotent, on SQLite and on PostgreSQL (skipped when no server answers)."""
    async with sessions.begin() as session:
        first = await import_file(session, tiny_medsl)
        polls = await import_file(session, POLLS, options={"cycles": [2020]})
    async with sessions.begin() as session:
        again = await import_file(session, tiny_medsl, force=True)
        polls_again = await import_file(session, POLLS, options={"cycles": [2020]}, force=True)
    # one poll per poll_id and seat (538's race_id is per stage)
    expected = csv_distinct(POLLS, {"cycle": "2020"}, ("poll_id", "state", "seat_name"))
    assert first.changed and polls.added["polls"] == len(expected)
    assert not again.changed and not polls_again.changed
    async with sessions() as session:
        assert len((await session.scalars(select(Poll.id))).all()) == polls.added["polls"]
        assert (await votes_in(session, 2020, "GA", "general runoff", special=True)) == {
            "Raphael Warnock": 2_288_446,
            "Kelly Loeffler": 2_194_848,
        }

"""Desk input the writes refuse (issue 12, item 7), on SQLite and PostgreSQL: a poll fielded after its
election (unless forced), and another spelling that names someone else on the same stage."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.writes import WriteError, run_write
from db.writes.polls import PollInput, add_poll
from db.writes.races import CandidateEdit, edit_candidate
from tests.support import MODERATOR, al2020, row_counts

Sessions = async_sessionmaker[AsyncSession]


async def race_id(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await al2020(session)).id


def late_poll(race: int, force: bool = False) -> PollInput:
    return PollInput(
        race,
        "Late Polling",
        dt.date(2021, 7, 9),
        [("Tuberville", 43.0), ("Jones", 35.0)],
        start=dt.date(2020, 7, 2),
        force=force,
    )


async def test_a_poll_fielded_after_its_election_is_refused_unless_forced(sample_sessions: Sessions) -> None:
    race = await race_id(sample_sessions)
    before = await row_counts(sample_sessions)
    with pytest.raises(
        WriteError, match=r"ended Jul 9, 2021, after the general it asks about \(Nov 3, 2020\)"
    ):
        await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, late_poll(race)))
    assert await row_counts(sample_sessions) == before
    forced = await run_write(sample_sessions, lambda s: add_poll(s, MODERATOR, late_poll(race, force=True)))
    assert forced.poll.end_date == dt.date(2021, 7, 9)


@pytest.mark.parametrize(
    ("who", "alias", "named"),
    [
        ("Jones", "Tuberville", "Tommy Tuberville"),
        ("Jones", "Tommy Tuberville", "Tommy Tuberville"),
        ("Tuberville", "Doug", "Doug Jones"),
        ("Tuberville", "Doug Jones Tuberville", "Doug Jones"),
    ],
)
async def test_another_spelling_that_names_an_opponent_is_refused(
    sample_sessions: Sessions, who: str, alias: str, named: str
) -> None:
    race = await race_id(sample_sessions)
    before = await row_counts(sample_sessions)
    edit = CandidateEdit(race_id=race, candidate=who, alias=alias)
    with pytest.raises(WriteError, match=f"'{alias}' names {named}, who is also on the general"):
        await run_write(sample_sessions, lambda s: edit_candidate(s, MODERATOR, edit))
    assert await row_counts(sample_sessions) == before

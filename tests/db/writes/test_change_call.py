"""One call write: a call and its withdrawal differ only by their kind."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import Actor
from db.models import AuditEntry, Candidacy, Contest
from db.writes import StageRef, WriteError, run_write
from db.writes.results import CallInput, change_call
from db.writes.undo import undo
from tests.support import al2020

DESK = Actor(id=1, name="desk")
GENERAL = StageRef("general")


async def al2020_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (await al2020(session)).id


async def test_a_call_and_its_withdrawal_through_one_write(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    race_id = await al2020_id(sample_sessions)

    withdrawn = await run_write(
        sample_sessions, lambda s: change_call(s, DESK, CallInput(race_id, GENERAL, "uncalled", [], "AP"))
    )
    assert withdrawn.previous is not None and withdrawn.previous.kind == "winner"
    assert [c.candidate.name for c in withdrawn.named] == ["Tommy Tuberville"] and not withdrawn.confirms
    async with sample_sessions() as session:
        entry = await session.get(AuditEntry, withdrawn.audit.id)
        contest = await session.get(Contest, withdrawn.contest.id)
        ballot = select(Candidacy).where(Candidacy.contest_id == withdrawn.contest.id)
        outcomes = {c.outcome for c in await session.scalars(ballot)}
    assert entry is not None and entry.action == "call.uncall" and entry.after is not None
    assert entry.after["withdrawn_call_id"] == withdrawn.previous.id and "names" not in entry.after
    # Nobody has won or lost now; a certified stage stays certified.
    assert contest is not None and contest.status == "certified" and outcomes == {"pending"}

    called = await run_write(
        sample_sessions, lambda s: change_call(s, DESK, CallInput(race_id, GENERAL, "winner", ["Tuberville"]))
    )
    assert called.audit.action == "call.add" and called.audit.after is not None
    assert called.audit.after["names"] == ["Tommy Tuberville"] and called.contest.status == "certified"
    assert not called.confirms  # what stood before was the withdrawal
    uncall = CallInput(race_id, GENERAL, "uncalled")
    await run_write(sample_sessions, lambda s: change_call(s, DESK, uncall))
    with pytest.raises(WriteError, match="no call to withdraw"):
        await run_write(sample_sessions, lambda s: change_call(s, DESK, uncall))


async def test_undoing_a_confirmation_corrects_nothing_and_undoing_a_change_does(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    race_id = await al2020_id(sample_sessions)
    tuberville = CallInput(race_id, GENERAL, "winner", ["Tuberville"], "AP")
    confirmed = await run_write(sample_sessions, lambda s: change_call(s, DESK, tuberville))
    assert confirmed.confirms
    undone = await run_write(sample_sessions, lambda s: undo(s, DESK, confirmed.audit.id))
    assert undone.correction is None and "nothing is announced" in undone.description
    close = await run_write(
        sample_sessions, lambda s: change_call(s, DESK, CallInput(race_id, GENERAL, "too close"))
    )
    assert not close.confirms
    undone = await run_write(sample_sessions, lambda s: undo(s, DESK, close.audit.id))
    assert undone.correction == "call" and undone.details["changed"]

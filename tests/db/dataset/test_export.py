"""The export, the loader's inverse: merged people under the person they became, the standing call only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import export_document, load_document
from db.models import Call, Candidate, Contest, Race

Sessions = async_sessionmaker[AsyncSession]


def contest(doc: dict[str, Any], cycle: int, stage: str) -> dict[str, Any]:
    race = next(r for r in doc["races"] if r["cycle"] == cycle)
    return next(c for c in race["contests"] if c["stage"] == stage)


async def test_merged_people_are_exported_as_the_one_they_were_merged_into(sample_sessions: Sessions) -> None:
    async with sample_sessions.begin() as session:
        ids = {p.name: p.id for p in await session.scalars(select(Candidate))}
        # A chain: Bradley Byrne into Roy S. Moore, Roy S. Moore into Jeff Sessions.
        for merged, into in (("Bradley Byrne", "Roy S. Moore"), ("Roy S. Moore", "Jeff Sessions")):
            await session.execute(
                update(Candidate).where(Candidate.id == ids[merged]).values(merged_into_id=ids[into])
            )
    async with sample_sessions() as session:
        doc = await export_document(session)
    people = {c["name"]: c for c in doc["candidates"]}
    assert "Bradley Byrne" not in people and "Roy S. Moore" not in people
    sessions_key = people["Jeff Sessions"]["key"]
    assert {"Bradley Byrne", "Roy S. Moore"} <= set(people["Jeff Sessions"]["aliases"])
    on_ballot = [c["candidate"] for c in contest(doc, 2020, "primary")["candidates"]]
    assert on_ballot.count(sessions_key) == 3 and len(on_ballot) == 7
    assert contest(doc, 2017, "general")["candidates"][1]["candidate"] == sessions_key


async def test_only_the_standing_call_is_exported_and_the_export_loads_back(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions.begin() as session:
        general = await session.scalar(
            select(Contest).join(Race).where(Race.cycle == 2020, Contest.stage == "general")
        )
        assert general is not None
        session.add(Call(contest_id=general.id, kind="too close", candidacy_ids=[]))
    async with sample_sessions() as session:
        doc = await export_document(session)
    assert contest(doc, 2020, "general")["call"]["kind"] == "too close"
    # Loading the export back into the same store finds everything there already.
    async with sample_sessions.begin() as session:
        summary = await load_document(session, doc, SYSTEM)
    assert not summary.changed

"""db/dataset/load.py: a document stored again with only some fields changed counts them as updated and is
audited, so the processes that keep answers in memory hear of it (db/shelf.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.bootstrap import SAMPLE
from db.dataset import load_document
from db.models import AuditEntry, Candidate, Contest, Race
from db.reads.people import find_people
from db.shelf import races_written


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return doc


async def stored_again(sessions: async_sessionmaker[AsyncSession], doc: dict[str, Any]) -> Any:
    async with sessions.begin() as session:
        return await load_document(session, doc, SYSTEM, source_name="test")


async def audit_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_a_race_or_stage_changed_in_place_is_counted_and_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    doc = sample()
    await stored_again(sessions, doc)
    changed = copy.deepcopy(doc)
    race = next(r for r in changed["races"] if r["cycle"] == 2020)
    race["notes"] = "Changed by a second file"
    general = next(c for c in race["contests"] if c["stage"] == "general")
    general["source"] = "A newer source"
    audited = await audit_count(sessions)
    summary = await stored_again(sessions, changed)
    assert summary.changed and summary.describe() == "1 contests updated, 1 races updated"
    assert await audit_count(sessions) == audited + 1
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None and entry.action == "import" and races_written([entry]) is None
        stored = await session.scalar(select(Race).where(Race.cycle == 2020))
        assert stored is not None and stored.notes == "Changed by a second file"
        general = select(Contest.source).where(Contest.race_id == stored.id, Contest.stage == "general")
        assert await session.scalar(general) == "A newer source"
    assert not (await stored_again(sessions, changed)).changed  # the same again changes nothing


async def test_a_known_persons_party_filled_in_is_counted(sessions: async_sessionmaker[AsyncSession]) -> None:
    doc = sample()
    partyless = copy.deepcopy(doc)
    for person in partyless["candidates"]:
        if person["key"] == "jones":
            person.pop("party")
    await stored_again(sessions, partyless)
    summary = await stored_again(sessions, doc)
    assert summary.changed and summary.describe() == "1 candidates updated"
    async with sessions() as session:
        assert await session.scalar(select(Candidate.party).where(Candidate.name == "Doug Jones")) == "DEM"


async def test_another_spelling_of_a_known_person_is_counted_and_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    doc = sample()
    await stored_again(sessions, doc)
    spelled = copy.deepcopy(doc)
    jones = next(p for p in spelled["candidates"] if p["key"] == "jones")
    jones["aliases"].append("Gordon D. Jones Sr.")
    audited = await audit_count(sessions)
    summary = await stored_again(sessions, spelled)
    assert summary.changed and summary.describe() == "1 other spellings added"
    assert (
        await audit_count(sessions) == audited + 1
    )  # a new word to find them by: other processes hear of it
    async with sessions() as session:
        found = await find_people(session, "gordon jones")
    assert found.chosen is not None and found.chosen.name == "Doug Jones"

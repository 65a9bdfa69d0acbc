"""What the import's fast paths must keep: people read as plain rows still get what a file fills in,
their names are indexed as `parse_name` reads them, and the garbage collector runs again afterwards."""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_sessionmaker
from db.importers.report import ImportFailed
from db.importers.run import import_file
from db.models import Candidate, CandidateAlias
from db.names import name_key
from db.people import _stored_parts, _StoredKeys, parse_name


def document(path: Path, *people: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"format": "racedesk/1", "candidates": list(people)}), encoding="utf-8")
    return path


async def test_an_import_fills_in_a_stored_persons_party_and_office(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = make_sessionmaker(engine)
    first = document(tmp_path / "first.json", {"key": "a", "name": "Ann Example", "state": "AL"})
    second = document(
        tmp_path / "second.json",
        {"key": "x", "name": "ANN EXAMPLE", "state": "AL", "party": "DEM", "office_held": "Mayor"},
        {"key": "y", "name": "Bob Other", "state": "AL", "party": "REP"},
    )
    async with sessions.begin() as session:
        await import_file(session, first)
    async with sessions.begin() as session:
        report = await import_file(session, second)
    assert report.added["candidates"] == 1  # Bob; Ann is the stored person
    async with sessions() as session:
        people = {p.name: (p.party, p.office_held) for p in await session.scalars(select(Candidate))}
        aliases = set(await session.scalars(select(CandidateAlias.alias)))
    assert people == {"Ann Example": ("DEM", "Mayor"), "Bob Other": ("REP", None)}
    assert aliases == {"Ann Example", "Bob Other"}  # "ANN EXAMPLE" has Ann's key: no alias of its own
    async with sessions.begin() as session:  # a party once given is not replaced by another file's
        await import_file(
            session,
            document(
                tmp_path / "third.json", {"key": "z", "name": "Ann Example", "state": "AL", "party": "REP"}
            ),
        )
    async with sessions() as session:
        stored = await session.scalar(select(Candidate.party).where(Candidate.name == "Ann Example"))
    assert stored == "DEM"


@given(st.text(alphabet=list("abcdeJjrsiIvmdhpPT .,'-\"()é2n"), min_size=1, max_size=24))
def test_a_stored_names_parts_are_those_parse_name_reads(spelling: str) -> None:
    parts = parse_name(spelling)
    assert _stored_parts(spelling, name_key(spelling)) == (parts.given, parts.surname)


@pytest.mark.parametrize(
    "spelling",
    [
        "Ann Smith",
        "Smith Jr.",
        "John Jr Smith",
        "O'Connor-Smith, Kate",
        "Dr. J. Smith MD",
        "Jr",
        "Ann Smith 2nd",
    ],
)
def test_stored_parts_of_names_with_suffixes_and_punctuation(spelling: str) -> None:
    parts = parse_name(spelling)
    assert _stored_parts(spelling, name_key(spelling)) == (parts.given, parts.surname)


async def test_the_garbage_collector_runs_again_after_an_import(engine: AsyncEngine, tmp_path: Path) -> None:
    sessions = make_sessionmaker(engine)
    assert gc.isenabled()
    async with sessions.begin() as session:
        await import_file(session, document(tmp_path / "good.json", {"key": "a", "name": "Ann Example"}))
    assert gc.isenabled()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "racedesk/1", "candidates": [{"key": "a"}]}', encoding="utf-8")
    with pytest.raises(ImportFailed):
        async with sessions.begin() as session:
            await import_file(session, bad)
    assert gc.isenabled()
    gc.disable()  # paused by its caller: an import leaves it paused
    try:
        async with sessions.begin() as session:
            await import_file(session, document(tmp_path / "other.json", {"key": "b", "name": "Bob Other"}))
        assert not gc.isenabled()
    finally:
        gc.enable()


ODD_SPELLINGS = [
    "Ann Smith",
    "Roy S. Moore",
    "Roy S.Moore",
    "J.R. Smith",
    "Smith,John",
    "O'Connor-Smith, Kate",
    "Ann  Smith",
    " Ann Smith",
    "Smith Jr.",
    "John Jr Smith",
    "Jr",
    "Ann Smith 2nd",
    "Ann Smith 3rd",
    "Ann 2nd Smith",
    'PATRICK "PAT" THOMAS',
    "JAMES T. (JIM) BROYHILL, JR.",
    "Smith\u201cJim\u201dson",
    "Ann O\u2019Brien",
    "José Núñez",
    "\u212aevin Smith",  # the Kelvin sign, which PostgreSQL lowers to a k
    "Dr. J. Smith MD",
    'Pat O"Brien"',
]


async def test_the_stored_spellings_are_indexed_as_parse_name_reads_them(engine: AsyncEngine) -> None:
    """`_StoredKeys` reads most spellings' given names and surname from their keys, as SQL judges them plain
    (`db.people._odd`); whichever way, they are those `parse_name` reads, and the key is the stored one."""
    alphabet = list("abcdeJjrsiIvmdhpPT .,'-\"()é2n\u201c\u201d")
    chance = random.Random(8)
    spellings = ODD_SPELLINGS + [
        "".join(chance.choice(alphabet) for _ in range(chance.randint(1, 16))) for _ in range(300)
    ]
    sessions = make_sessionmaker(engine)
    whose: dict[int, list[str]] = {}
    async with sessions.begin() as session:
        for name, alias in zip(spellings[::2], spellings[1::2], strict=True):
            person = Candidate(name=name, name_key=name_key(name), state="AL")
            session.add(person)
            await session.flush()
            session.add(CandidateAlias(candidate_id=person.id, alias=alias, alias_key=name_key(alias)))
            whose[person.id] = [name] if alias == name else [name, alias]
    async with sessions() as session:
        stored = await _StoredKeys.read(session, "AL")
    assert sorted(stored.owners) == sorted(i for i, names in whose.items() for _ in names)
    for person_id, names in whose.items():
        for spelling in names:
            parts, key = parse_name(spelling), name_key(spelling)
            assert key in stored.keys
            if key:
                assert person_id in stored.by_key[key], spelling
            if parts.surname:
                assert person_id in stored.by_surname[parts.surname], spelling
            surnames, owners = stored.by_given[" ".join(parts.given)]
            assert (parts.surname, person_id) in zip(surnames, owners, strict=True), spelling

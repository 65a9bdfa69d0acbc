"""Reconciling people across sources (db/people.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Candidate, CandidateAlias, NameToken
from db.people import PeopleIndex, name_match, parse_name


@pytest.mark.parametrize(
    ("a", "b", "rule"),
    [
        ("Gordon Douglas Jones", "Doug Jones", "goes by middle name"),
        ("DOUG JONES", "Doug Jones", "same name"),
        ("Tommy Tuberville", "Thomas Tuberville", "nickname"),
        ("Roy S. Moore", "Roy Moore", "middle name or initial"),
        ("David A. Perdue", "DAVID PERDUE", "middle name or initial"),
        ("A. Wayne Johnson", "Wayne Johnson", "goes by middle name"),
        ('PATRICK "PAT" THOMAS', "Pat Thomas", "nickname"),
        ("JAMES T. (JIM) BROYHILL", "Jim Broyhill", "nickname"),
        ("Bob Casey", "Robert P. Casey Jr.", "nickname"),
        ("Annette L. Davis Jackson", "Annette Davis Jackson", "middle name or initial"),
        ("Joe Manchin, III", "JOE MANCHIN", "same name"),
    ],
)
def test_spellings_of_one_person(a: str, b: str, rule: str) -> None:
    assert name_match(a, b) == rule
    assert name_match(b, a) is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Doug Jones", "Jim Jones"),
        ("John A. Smith", "John B. Smith"),
        ("Harry F. Byrd Jr.", "Harry F. Byrd Sr."),
        ("Deborah Jackson", "Annette Davis Jackson"),
        ("J. Smith", "John Smith"),  # an initial alone is too little
        ("Doug Jones", "Doug Johnson"),
    ],
)
def test_different_people(a: str, b: str) -> None:
    assert name_match(a, b) is None


def test_parse_name() -> None:
    parts = parse_name("JAMES T. (JIM) BROYHILL, JR.")
    assert (parts.given, parts.surname, parts.suffix, parts.nicknames) == (
        ("james", "t"),
        "broyhill",
        "jr",
        {"jim"},
    )


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Candidate)) or 0)


async def test_gordon_douglas_jones_is_doug_jones(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        doug = await people.get_or_create("DOUG JONES", "AL", party="DEM", source="MEDSL")
        again = await people.get_or_create("Doug Jones", "AL", party="DEM")
        gordon = await people.get_or_create("Gordon Douglas Jones", "AL", party="DEM")
        assert doug is again is gordon
        assert [m.rule for m in people.merges] == ["goes by middle name"]
        assert (
            people.merges[0].describe() == "'Gordon Douglas Jones' = 'DOUG JONES' (AL; goes by middle name)"
        )
    async with store() as session:
        assert await count(session) == 1
        aliases = set(await session.scalars(select(CandidateAlias.alias)))
        assert aliases == {"DOUG JONES", "Gordon Douglas Jones"}  # one alias per normalised key
        tokens = set(await session.scalars(select(NameToken.token)))
        assert tokens == {"doug", "jones", "gordon", "douglas"}
    async with store.begin() as session:  # a new transaction reads what the last one stored
        people = PeopleIndex(session)
        assert (await people.find("Douglas Jones", "AL")) is not None
        assert (await people.find("Doug Jones", "GA")) is None  # another state, another person


async def test_two_joneses_stay_two(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        doug = await people.get_or_create("Doug Jones", "AL", party="DEM")
        jim = await people.get_or_create("Jim Jones", "AL", party="DEM")
        douglas_rep = await people.get_or_create("Douglas Jones", "AL", party="REP")
        assert len({doug.id, jim.id, douglas_rep.id}) == 3
        assert not people.merges
    async with store() as session:
        assert await count(session) == 3


async def test_several_matches_are_ambiguous_and_reported(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        first = await people.get_or_create("Robert A. Smith", "TX", party="REP")
        second = await people.get_or_create("Robert B. Smith", "TX", party="REP")
        assert first is not second
        bob = await people.get_or_create("Bob Smith", "TX", party="REP")
        assert bob not in (first, second)
        assert [a.reason for a in people.ambiguities if a.name == "Bob Smith"] == ["several people match"]
        assert "Robert A. Smith" in people.ambiguities[-1].describe()


async def test_party_is_filled_when_a_source_knew_none(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        lummis = await people.get_or_create("CYNTHIA M. LUMMIS", "WY", party=None)
        assert lummis.party is None
        same = await people.get_or_create("Cynthia M. Lummis", "WY", party="REP")
        assert same is lummis and lummis.party == "REP"


async def test_a_misspelt_surname_of_the_same_party(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        conner = await people.get_or_create("KEVIN J. O'CONNER", "MA", party="REP")
        connor = await people.get_or_create("Kevin J. O'Connor", "MA", party="REP")
        other = await people.get_or_create("Kevin J. O'Connor", "MA", party=None)
        assert conner is connor is other
        assert people.merges[0].rule == "spelling"
        democrat = await people.get_or_create("Kevin J. O'Connar", "MA", party="DEM")
        assert democrat is not conner


async def test_a_misspelt_first_name_but_not_another_name(store: async_sessionmaker[AsyncSession]) -> None:
    async with store.begin() as session:
        people = PeopleIndex(session)
        mitch = await people.get_or_create("Mitch McConnell", "KY", party="REP")
        assert await people.get_or_create("MICH MCCONNELL", "KY", party="REP") is mitch
        dan = await people.get_or_create("Dan Example", "KY", party="REP")
        assert await people.get_or_create("Don Example", "KY", party="REP") is not dan
        assert (
            await people.get_or_create("Mitch McConnell", "KY", party="DEM") is mitch
        )  # same name: party aside


async def test_a_new_name_is_tried_against_the_people_it_could_be_not_the_whole_state(
    store: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding and creating a person costs the same in a state of 300 people as in one of 3 (an import's
    cost must not grow with the people already stored), and still finds the misspellings and look-alikes."""
    import db.people

    tried: list[str] = []
    misspelt = db.people._misspelt

    def counted(name: str, known: object, party: str) -> bool:
        tried.append(known.person.name)  # type: ignore[attr-defined]
        return misspelt(name, known, party)  # type: ignore[arg-type]

    monkeypatch.setattr(db.people, "_misspelt", counted)
    async with store.begin() as session:
        people = PeopleIndex(session)
        first = None
        for i in range(300):
            word = "".join(chr(ord("a") + int(d)) for d in f"{i:03d}")
            made = await people.get_or_create(f"Ann {word}{word}field", "MT", party="DEM")  # 2+ letters apart
            first = first or made
        tried.clear()
        kevin = await people.get_or_create("Kevin Oconnor", "MT", party="REP")
        assert tried == []  # nobody near: nobody tried
        assert await people.get_or_create("Kevin Oconner", "MT", party="REP") is kevin
        assert set(tried) == {"Kevin Oconnor"}
        await people.get_or_create("Kevin Oconnar", "MT", party="DEM")  # another party: a look-alike
        assert any(a.name == "Kevin Oconnar" and "looks like" in a.reason for a in people.ambiguities)
        assert len(people.created) == 302
        assert await people.get_or_create("Ann Aaaaaafeld", "MT", party="DEM") is first  # one letter off
        assert len(tried) < 10

"""db/validation.py: every row written, by any write, is held to its columns' lengths and refused with the
field named when it holds a control character, on SQLite (which ignores VARCHAR lengths) as on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.limits import OutOfRange
from db.models import Candidate, Race
from db.validation import TooLong

Sessions = async_sessionmaker[AsyncSession]
NAME_LENGTH = Candidate.__table__.c.name.type.length  # type: ignore[attr-defined]


def person(name: str, **fields: object) -> Candidate:
    return Candidate(name=name, name_key=name.lower()[:NAME_LENGTH], **fields)


async def stored_names(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Candidate.name).order_by(Candidate.id)))


async def test_a_name_as_long_as_its_column_is_stored_and_one_character_more_is_refused(
    sessions: Sessions,
) -> None:
    assert NAME_LENGTH == 128
    fits = "F" * NAME_LENGTH
    async with sessions.begin() as session:
        session.add(person(fits))
    over = "Tommy Tuberville of Auburn, Alabama, who " + "o" * (NAME_LENGTH + 1 - 41)
    assert len(over) == NAME_LENGTH + 1
    with pytest.raises(TooLong) as caught:
        async with sessions.begin() as session:
            session.add(person(over))
    # The message names the row's kind and field, the limit, and shows the value's first 40 characters.
    assert str(caught.value) == (
        f"candidate name is longer than {NAME_LENGTH} characters: 'Tommy Tuberville of Auburn, Alabama, who…'"
    )
    assert (caught.value.entity, caught.value.field, caught.value.limit) == ("candidate", "name", NAME_LENGTH)
    assert await stored_names(sessions) == [fits]


async def test_a_short_value_is_shown_whole_in_the_refusal(sessions: Sessions) -> None:
    with pytest.raises(TooLong) as caught:
        async with sessions.begin() as session:
            session.add(Race(cycle=2020, state="ALA", office="senate"))
    assert str(caught.value) == "race state is longer than 2 characters: 'ALA'"
    async with sessions() as session:
        assert await session.scalar(select(Race.id)) is None


async def test_a_value_of_exactly_forty_characters_is_shown_without_an_ellipsis(sessions: Sessions) -> None:
    forty = "S" * 40
    with pytest.raises(TooLong, match=f"'{forty}'$"):
        async with sessions.begin() as session:
            session.add(
                Race(cycle=2020, state="AL", office="senate", seat="Class II", source=None, notes=None)
            )
            session.add(person("Jones", party=forty))


async def test_a_value_of_forty_one_characters_is_cut_at_forty(sessions: Sessions) -> None:
    seat = "Class II, the seat Jeff Sessions held, AL"
    assert len(seat) == 41
    with pytest.raises(TooLong) as caught:
        async with sessions.begin() as session:
            session.add(Race(cycle=2020, state="AL", office="senate", seat=seat))
    assert str(caught.value) == f"race seat is longer than 32 characters: '{seat[:40]}…'"


async def test_a_row_edited_to_be_too_long_or_to_hold_a_control_character_is_refused(
    sessions: Sessions,
) -> None:
    """Edits (the session's dirty rows) are checked as new rows are."""
    async with sessions.begin() as session:
        session.add(person("Doug Jones", party="DEM"))
    with pytest.raises(TooLong, match="candidate party is longer than 16 characters"):
        async with sessions.begin() as session:
            jones = await session.scalar(select(Candidate))
            assert jones is not None
            jones.party = "DEMOCRATIC-FARMER-LABOR"
    with pytest.raises(
        OutOfRange, match=r"candidate notes holds a control character \(U\+0000\) at position 5"
    ):
        async with sessions.begin() as session:
            jones = await session.scalar(select(Candidate))
            assert jones is not None
            jones.notes = "Good\x00news"  # a text column of no length is still checked for control characters
    async with sessions() as session:
        jones = await session.scalar(select(Candidate))
        assert jones is not None and (jones.party, jones.notes) == ("DEM", None)


async def test_every_text_column_is_checked_not_only_the_first(sessions: Sessions) -> None:
    """Numbers, empty values and fields left unset are passed over; each text after them is still checked."""
    with pytest.raises(OutOfRange, match="race notes holds a control character"):
        async with sessions.begin() as session:
            session.add(Race(cycle=2020, state="AL", office="senate", notes="bell\x07"))
    with pytest.raises(TooLong, match="candidate office_held is longer than 128"):
        async with sessions.begin() as session:
            session.add(person("Jones", party=None, office_held="U" * 129))
    async with sessions.begin() as session:
        session.add(Race(cycle=2020, state="AL", office="senate", notes="Line one\nLine two\tand a tab"))
        session.add(person("Jones", party=None, state="AL"))
    assert await stored_names(sessions) == ["Jones"]

"""db/reads/people.py's people in memory (`KnownPeople`): `find_people` gives the same matches with them as
without, and asks the store nothing for a word some name begins with."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Answer, Candidate, NameToken, Race
from db.names import fold
from db.reads.answers import race_answers, race_polls
from db.reads.people import (
    PERSON_CARD,
    TOKEN_HITS,
    KnownPeople,
    RacePolls,
    find_people,
    person_card,
    read_known_people,
)
from tests.support import pat_example_among_namesakes

Sessions = async_sessionmaker[AsyncSession]


class CountingSession:
    """A session that counts the statements a read sends."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.statements = 0

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return await self.session.execute(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return await self.session.scalars(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return await self.session.scalar(statement, *args, **kwargs)


def typed_for(names: list[str]) -> list[str]:
    """Each name, each of its words and their beginnings, with a state or party after, and typos."""
    typed = {"", "zz", "zzzzzz", "jones alabama", "doug dem", "sessions georgia", "al gross", "sesions"}
    for name in names:
        words = fold(name).split()
        typed |= {name, name.upper(), " ".join(words[-2:])}
        for word in words:
            typed |= {word[:n] for n in range(2, len(word) + 1)}
            typed |= {f"{word} alabama", f"{word} rep", word[:-1] + "x" if len(word) > 4 else word}
    return sorted(typed)


async def assert_same_matches(sessions: Sessions, typed: list[str]) -> tuple[int, int]:
    """Every query matched alike with and without the people in memory; returns how many queries the copy
    answered without a statement, and how many there were."""
    async with sessions() as session:
        known = await read_known_people(session)
        without_statements = 0
        for text in typed:
            counting = CountingSession(session)
            remembered = await find_people(counting, text, known=known)  # type: ignore[arg-type]
            read = await find_people(session, text)
            assert remembered == read, text
            without_statements += counting.statements == 0
    return without_statements, len(typed)


async def test_the_people_in_memory_match_alike_on_each_database(sample_sessions: Sessions) -> None:
    async with sample_sessions() as session:
        names = list(await session.scalars(select(Candidate.name)))
    answered, asked = await assert_same_matches(sample_sessions, typed_for(names))
    assert answered > asked * 3 // 4  # the typos, and words no name begins with, ask the store


async def test_the_people_in_memory_match_alike_for_the_shipped_people(default_store: Sessions) -> None:
    async with default_store() as session:
        names = list(await session.scalars(select(Candidate.name).order_by(Candidate.id).limit(400)))
    answered, asked = await assert_same_matches(default_store, typed_for(names))
    assert answered > asked // 2


async def test_a_merged_away_record_stands_for_its_person_in_memory_too(sample_sessions: Sessions) -> None:
    async with sample_sessions.begin() as session:
        jones = await session.scalar(select(Candidate.id).where(Candidate.name == "Doug Jones"))
        await session.execute(
            update(Candidate).where(Candidate.name == "Jeff Sessions").values(merged_into_id=jones)
        )
    await assert_same_matches(
        sample_sessions, ["sessions", "jeff", "jeff sessions", "doug", "jones sessions"]
    )
    async with sample_sessions() as session:
        found = await find_people(session, "sessions", known=await read_known_people(session))
    assert found.chosen is not None and found.chosen.name == "Doug Jones"
    # A record pointing at one merged away too (which writes never leave) stands for nobody, here as there.
    async with sample_sessions.begin() as session:
        tuberville = await session.scalar(select(Candidate.id).where(Candidate.name == "Tommy Tuberville"))
        await session.execute(
            update(Candidate).where(Candidate.id == jones).values(merged_into_id=tuberville)
        )
    await assert_same_matches(sample_sessions, ["sessions", "jeff sessions", "jones"])


def test_a_word_many_names_begin_with_finds_the_lowest_ids_alone_and_every_one_with_others() -> None:
    people = [(i, f"Person {i}", None, 0) for i in range(TOKEN_HITS + 10)]
    words = sorted((f"person{i:04d}", i) for i in range(TOKEN_HITS + 10))
    known = KnownPeople(people, words)
    assert known.ids_for("person") == set(range(TOKEN_HITS))  # as the statement's ORDER BY and LIMIT keep
    assert known.ids_for("person", every=True) == set(range(TOKEN_HITS + 10))
    assert [row[0] for row in known.found_by(["person", "person0505"]) or []] == [505]
    assert known.ids_for("person0001") == {1}
    assert known.ids_for("zz") == set()  # too short to be a typo: nobody
    assert known.ids_for("zzzz") is None  # may be a typo: the store searches


async def test_a_common_first_name_does_not_hide_the_person_the_surname_names(
    sample_sessions: Sessions,
) -> None:
    """More people named Pat than one word finds: `pat example` still finds the one Example, in the store
    and in memory alike."""
    async with sample_sessions.begin() as session:
        await pat_example_among_namesakes(session, TOKEN_HITS)
    async with sample_sessions() as session:
        found = await find_people(session, "pat example")
    assert found.chosen is not None and found.chosen.name == "Pat Example"
    await assert_same_matches(sample_sessions, ["pat", "pat example", "pat number7", "example", "pa"])


async def test_the_name_words_in_memory_are_sorted_as_the_store_compares_them(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions() as session:
        known = await read_known_people(session)
        stored = list(await session.scalars(select(NameToken.token)))
    assert known.words == sorted(stored) and len(known.words) == len(stored)


async def assert_same_person_cards(sessions: Sessions, limit: int) -> int:
    """Each person named in a poll gets the same card with the races' polls held as read; returns how many."""
    async with sessions() as session:
        named = list(
            await session.scalars(
                select(Answer.candidate_id).where(Answer.candidate_id.is_not(None)).distinct().limit(limit)
            )
        )
        answers = {
            race_id: await race_answers(session, race_id)
            for race_id in await session.scalars(select(Race.id))
        }

        def held(race_id: int) -> RacePolls | None:
            found = answers.get(race_id)
            return race_polls(found.card, found.first_polls) if found is not None else None

        for person_id in named:
            card = await person_card(session, person_id)
            assert card is not None and card.poll_mentions > 0
            assert await person_card(session, person_id, held_polls=held) == card, person_id
            counting = CountingSession(session)
            await person_card(counting, person_id, held_polls=held)  # type: ignore[arg-type]
            assert counting.statements == len(PERSON_CARD.statements)  # the card's own: no poll is read
    return len(named)


async def test_a_persons_card_is_the_same_with_the_races_polls_held(sample_sessions: Sessions) -> None:
    assert await assert_same_person_cards(sample_sessions, 50) >= 2


async def test_a_persons_card_is_the_same_with_the_races_polls_held_for_the_shipped_people(
    default_store: Sessions,
) -> None:
    assert await assert_same_person_cards(default_store, 150) >= 100


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_the_stored_name_words_compare_by_code_point_whatever_the_databases_collation(
    engine: AsyncEngine,
) -> None:
    """A word's range (`token >= 'sess' AND token < 'sess~'`) holds `sessions` only in code point order: under
    a language's collation `~` sorts before letters. Migration 0012 gives the column its own order."""
    async with engine.connect() as conn:
        collation = await conn.scalar(
            text(
                "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'name_tokens' AND column_name = 'token'"
            )
        )
        in_range = "SELECT 'sessions' >= 'sess' COLLATE {0} AND 'sessions' < 'sess~' COLLATE {0}"
        linguistic = await conn.scalar(text(in_range.format('"en-US-x-icu"')))
        by_code_point = await conn.scalar(text(in_range.format('"C"')))
    assert collation == "C"
    assert linguistic is False and by_code_point is True

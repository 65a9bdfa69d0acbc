"""Small formatting helpers (render/format.py)."""

from __future__ import annotations

import datetime as dt
import string

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Candidate, Endorsement, Poll
from render.format import TWO_WORD_SURNAMES, display_surname, escape, short_date


def escaped_by_discord(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


SAMPLES = [
    "@everyone",
    "@here",
    "@123456789012345678",
    "<@123456789012345678>",
    "[a link](https://example.com)",
    "https://example.com/a_b*c",
    "# heading",
    "### small heading",
    "- a list",
    "  - indented",
    "> quoted",
    ">>> quoted block",
    "Beto O'Rourke",
    "Alexandria Ocasio-Cortez",
    'Jesús "Chuy" García',
    "line one\n- line two",
]


def test_escape_is_discords_escape_for_every_character_wherever_it_stands() -> None:
    texts = list(SAMPLES)
    for c in string.printable + "ÁéßœЖ中—“”‘’\u200b":
        texts += [c, f"a{c}b", f"{c} x", f"x\n{c} y", f"[a{c}](b)", f"{c}{c}{c} z", f"w {c}\n"]
    for text in texts:
        assert escape(text) == escaped_by_discord(text), repr(text)
    assert escape("@everyone") != "@everyone" and escape("a*b") == "a\\*b"  # the fast path is not everything


async def test_escape_is_discords_escape_for_every_name_in_the_shipped_store(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        names = list(await session.scalars(select(Candidate.name)))
        names += list(await session.scalars(select(Poll.pollster).distinct()))
        names += [n for n in await session.scalars(select(Endorsement.endorser).distinct()) if n]
    assert len(names) > 1000
    for name in names:
        assert escape(name) == escaped_by_discord(name), repr(name)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Tommy Tuberville", "Tuberville"),
        ("Angus S. King, Jr.", "King"),
        ("Joseph R. Biden Jr.", "Biden"),
        ("Chris Van Hollen", "Van Hollen"),
        ("CHRIS VAN HOLLEN", "VAN HOLLEN"),
        ("Monica De La Cruz", "De La Cruz"),
        ("Cindy Hyde-Smith", "Hyde-Smith"),
        ("Van Taylor", "Taylor"),  # a first name spelt like a particle stays the first name
        ("Del Van Dyke", "Van Dyke"),
        ("Cher", "Cher"),
        ("Jr.", "Jr."),
        ("Catherine Cortez Masto", "Cortez Masto"),  # two words, no particle: as the FEC writes it
        ("LISA BLUNT ROCHESTER", "BLUNT ROCHESTER"),
        ("Diane E Mitsch Bush", "Mitsch Bush"),
        ("George W. Bush", "Bush"),
        ("Masto", "Masto"),
        ("None Of The Above", "None Of The Above"),  # a line on Nevada's ballot, not a person
        ("None of these candidates", "None of these candidates"),
    ],
)
def test_display_surname_keeps_a_surname_of_several_words(name: str, shown: str) -> None:
    assert display_surname(name) == shown


async def test_each_two_word_surname_is_someone_s_in_the_shipped_store(
    default_store: async_sessionmaker[AsyncSession],
) -> None:
    async with default_store() as session:
        names = list(await session.scalars(select(Candidate.name)))
    shown = {display_surname(name).lower() for name in names}
    assert shown >= TWO_WORD_SURNAMES
    assert "none of the above" in shown


@pytest.mark.parametrize("month", range(1, 13))
def test_a_short_date_names_the_month_as_strftime_does_in_the_c_locale(month: int) -> None:
    day = dt.date(2020, month, 9)
    assert short_date(day) == day.strftime("%b 9, 2020")

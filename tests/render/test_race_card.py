"""The race card: what it says for the sample race, and that it fits Discord's limits for any race."""

from __future__ import annotations

import datetime as dt

import discord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.dataset import load_document
from db.models import Race
from db.reads.races import race_card
from render import limits
from render.format import date_range
from render.race import race_embed
from tests.support import big_race_document


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= limits.TITLE
    assert len(embed.description or "") <= limits.DESCRIPTION
    assert len(embed.fields) <= limits.FIELDS
    for field in embed.fields:
        assert 0 < len(field.name or "") <= limits.FIELD_NAME
        assert 0 < len(field.value or "") <= limits.FIELD_VALUE
    assert len(embed.footer.text or "") <= limits.FOOTER
    assert len(embed) <= limits.EMBED_TOTAL


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)


async def card_for(sessions: async_sessionmaker[AsyncSession], cycle: int, state: str = "AL"):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        race_id = await session.scalar(select(Race.id).where(Race.cycle == cycle, Race.state == state))
        assert race_id is not None
        return await race_card(session, race_id)


async def test_the_alabama_card_tells_the_story(sample_sessions: async_sessionmaker[AsyncSession]) -> None:
    embed = race_embed(await card_for(sample_sessions, 2020))
    text = text_of(embed)
    assert embed.title == "2020 Alabama U.S. Senate (Class II)"
    assert "Incumbent: Doug Jones (D)" in text
    assert "Republican primary · Mar 3, 2020: Tuberville 33.4%, Sessions 31.6%" in text
    assert "→ runoff: Tuberville and Sessions" in text
    assert "✅ Tuberville defeated Sessions, 60.7%–39.3% (unofficial)" in text
    assert "General · Nov 3, 2020: ✅ Tuberville defeated Jones, 60.1%–39.7%" in text
    assert "Tommy Tuberville (R)" in text and "Doug Jones (D) · incumbent" in text
    assert (
        "Auburn University at Montgomery, Jul 2–9, 2020, 558 RV: Tuberville 43.9, Jones 35.5 (Tuberville +8.4)"
        in text
    )
    assert "+1 more match-up" in text
    assert "hypothetical: Sessions 48.9, Jones 43.3" in text
    assert "Donald Trump (president) endorsed Tommy Tuberville" in text
    assert "Donald Trump (president) refused to endorse Jeff Sessions" in text
    assert embed.footer.text and embed.footer.text.startswith("Source:")
    assert_within_limits(embed)


async def test_an_upcoming_general_shows_when_polls_close(
    sample_sessions: async_sessionmaker[AsyncSession],
) -> None:
    card = await card_for(sample_sessions, 2020)
    general = card.contests[-1]
    general.call, general.snapshot, general.total_votes = None, None, None
    for standing in general.standings:
        standing.votes = standing.share = None
    before = dt.datetime(2020, 7, 15, tzinfo=dt.UTC)
    line = next(f.value for f in race_embed(card, now=before).fields if f.name.startswith("General"))
    assert line.startswith("polls close <t:1604451600:R>")
    assert "Tuberville (R) vs Jones (D)" in line


async def test_a_huge_race_still_fits(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await load_document(session, big_race_document(candidates=30, polls=500), SYSTEM)
    embed = race_embed(await card_for(sessions, 2020, state="TX"))
    assert_within_limits(embed)
    text = text_of(embed)
    assert "Latest poll (of 500)" in text
    assert "@everyone" not in text.replace("@\u200beveryone", "")  # escaped, so it can never ping
    assert "+" in text  # long lists say how many more there are


def test_date_ranges_read_naturally() -> None:
    assert date_range(dt.date(2020, 7, 2), dt.date(2020, 7, 9)) == "Jul 2–9, 2020"
    assert date_range(dt.date(2020, 6, 28), dt.date(2020, 7, 9)) == "Jun 28–Jul 9, 2020"
    assert date_range(dt.date(2019, 12, 30), dt.date(2020, 1, 4)) == "Dec 30, 2019–Jan 4, 2020"
    assert date_range(None, dt.date(2020, 7, 9)) == "Jul 9, 2020"


def test_fit_embed_clips_every_part() -> None:
    embed = discord.Embed(title="t" * 400, description="d" * 5000)
    for _ in range(40):
        embed.add_field(name="n" * 300, value="v" * 2000)
    embed.set_footer(text="f" * 3000)
    assert_within_limits(limits.fit_embed(embed))


async def test_a_race_without_results_says_so(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A race with no stage says no results are stored; a stage whose day passed without a count says so."""
    doc = {
        "format": "racedesk/1",
        "source": "test",
        "candidates": [],
        "races": [
            {
                "cycle": 2019,
                "state": "KY",
                "office": "governor",
                "seat": "",
                "special": False,
                "contests": [],
            },
            {
                "cycle": 2019,
                "state": "MS",
                "office": "governor",
                "seat": "",
                "special": False,
                "source": "FiveThirtyEight governor polls (CC BY 4.0)",
                "contests": [{"stage": "general", "date": "2019-11-05", "status": "upcoming"}],
            },
        ],
    }
    async with sessions.begin() as session:
        await load_document(session, doc, SYSTEM)
    bare = text_of(race_embed(await card_for(sessions, 2019, state="KY")))
    assert "Results: No results are stored for this race." in bare
    held = race_embed(await card_for(sessions, 2019, state="MS"), now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert "General · Nov 5, 2019: no results stored" in text_of(held)
    assert held.footer.text == "Source: FiveThirtyEight governor polls (CC BY 4.0)"
    ahead = race_embed(
        await card_for(sessions, 2019, state="MS"), now=dt.datetime(2019, 10, 1, tzinfo=dt.UTC)
    )
    assert "General · Nov 5, 2019: upcoming" in text_of(ahead)

"""`candidate` (a person card) and `endorsements` (of a race or a person)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.common import (
    UsageError,
    UserFacingError,
    hybrid_command,
    race_autocomplete,
    reply,
    resolve_race,
)
from cogs.support.context import RaceContext
from cogs.support.paging import Paged, Shown, enable_paging, page_buttons, page_source
from cogs.support.parsing import split_page
from db.lookup import parse_query, race_hint
from db.reads.rows import EndorsementRow, Person, RaceLike
from render.format import escape
from render.limits import clip
from render.people import (
    endorsement_pages,
    no_endorsements_text,
    no_person_text,
    people_embed,
    person_embed,
    person_hint,
    person_label,
)
from render.race import race_title


async def resolve_person(ctx: RaceContext, text: str | None, command: str) -> Person:
    """The one person a name means, or a UserFacingError with the people it could mean."""
    prefix = ctx.shown_prefix
    if not text or not text.strip():
        raise UsageError("Who? Give a name, or part of one.", f"{prefix}{command} sessions")
    matches = await ctx.bot.store.find_people(text)
    if matches.chosen is not None:
        return matches.chosen
    if matches.people:
        raise UserFacingError(
            f"Several people match '{escape(clip(text, 80))}'.", embed=people_embed(matches, prefix, command)
        )
    raise UserFacingError(no_person_text(text, prefix, command))


async def candidate_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    bot: RaceBot = interaction.client
    if len(current.strip()) < 2:
        return []
    matches = await bot.store.find_people(current, limit=25)
    return [
        app_commands.Choice(name=clip(person_label(p), 100), value=clip(person_hint(p, matches.people), 100))
        for p in matches.people[:25]
    ]


async def candidate_or_race_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    people = await candidate_autocomplete(interaction, current)
    races = await race_autocomplete(interaction, current)
    return (races + people)[:25]


class CandidatesCog(commands.Cog, name="Candidates"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        name="candidate",
        aliases=["person", "who"],
        usage="<name>",
        description="A candidate: party, office, every race and stage with outcome and votes",
    )
    @app_commands.describe(name="Any part of the name, in any case, e.g. sessions, Jeff Sessions, TUBERVILLE")
    @app_commands.autocomplete(name=candidate_autocomplete)
    async def candidate(self, ctx: RaceContext, *, name: str | None = None) -> None:
        """A person: party, office held, every race and stage they ran in with outcome, votes and share,
        endorsements received and their polling average. Example: !candidate sessions"""
        person = await resolve_person(ctx, name, "candidate")
        card = await self.bot.store.person_card(person.id)
        if card is None:
            raise UserFacingError("That person was just removed. Try again.")
        await reply(ctx, embed=person_embed(card, ctx.shown_prefix))

    @hybrid_command(
        name="endorsements",
        aliases=["endorsed"],
        usage="<race or candidate> [page <n>]",
        description="Who endorsed whom in a race, or a candidate's endorsements, the weightiest first",
    )
    @app_commands.describe(
        query="A race (alabama, georgia special) or a candidate (tuberville)",
        page="Which page (12 endorsements a page)",
    )
    @app_commands.autocomplete(query=candidate_or_race_autocomplete)
    async def endorsements(
        self,
        ctx: RaceContext,
        *,
        query: str | None = None,
        page: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        """Who endorsed whom, when, the endorser's kind, the stance (endorse, oppose, refused to endorse,
        withdrew) and the source, the weightiest first. Name a race or a candidate. Example: !endorsements alabama"""
        prefix = ctx.shown_prefix
        try:
            text, typed_page = split_page(query or "")
        except UsageError as problem:
            raise problem.with_example(f"{prefix}endorsements alabama page 2") from None
        if not text.strip():
            raise UsageError("Which race or candidate?", f"{prefix}endorsements alabama")
        wanted = page or typed_page or 1
        person: Person | None = None
        parsed = parse_query(text)
        if parsed.name_words:
            matches = await self.bot.store.find_people(text)
            if matches.chosen is not None:
                person = matches.chosen
            elif len(matches.people) > 1 and not parsed.state:
                raise UserFacingError(
                    f"Several people match '{escape(clip(text, 80))}'.",
                    embed=people_embed(matches, prefix, "endorsements"),
                )
        if person is not None:
            listing = await person_endorsements(self.bot, person, prefix)
        else:
            listing = await race_endorsements(self.bot, await resolve_race(ctx, text, "endorsements"), prefix)
        if not listing.rows:
            await reply(ctx, no_endorsements_text(listing.title))
            return
        pages = listing.pages()
        if wanted > len(pages):
            raise UsageError(
                f"There {'is' if len(pages) == 1 else 'are'} only {len(pages)} page{'s' if len(pages) > 1 else ''}.",
                f"{listing.again} page {len(pages)}",
            )
        paged = Paged.asked(ctx, "endorsements", listing.key)
        shown = listing.shown(pages, wanted)
        await reply(ctx, embed=shown.embed, view=page_buttons(paged, shown))


@dataclass(frozen=True)
class EndorsementListing:
    """A race's or a person's endorsements, with what pages them."""

    key: str  # `r12` (a race) or `p34` (a person)
    title: str
    again: str
    with_race: bool
    rows: list[EndorsementRow]
    count: int

    def pages(self) -> list[discord.Embed]:
        return endorsement_pages(escape(self.title), self.rows, self.count, self.with_race)

    def shown(self, pages: list[discord.Embed], page: int) -> Shown:
        return Shown.of_pages(pages, page, again=self.again)


async def person_endorsements(bot: RaceBot, person: Person, prefix: str) -> EndorsementListing:
    rows, count = await bot.store.person_endorsements(person.id)
    again = f"{prefix}endorsements {clip(person.name, 60)}"
    return EndorsementListing(f"p{person.id}", person.name, again, True, rows, count)


async def race_endorsements(bot: RaceBot, race: RaceLike, prefix: str) -> EndorsementListing:
    rows, count = await bot.store.race_endorsements(race.id)
    again = f"{prefix}endorsements {race_hint(race)}"
    return EndorsementListing(f"r{race.id}", race_title(race), again, False, rows, count)


@page_source("endorsements")
async def endorsements_page(bot: RaceBot, paged: Paged, page: int) -> Shown | None:
    kind, number = paged.key[:1], int(paged.key[1:])
    listing: EndorsementListing | None = None
    if kind == "p" and (card := await bot.store.person_card(number)) is not None:
        listing = await person_endorsements(bot, card.person, paged.prefix)
    elif kind == "r" and (race := await bot.store.race_card(number)) is not None:
        listing = await race_endorsements(bot, race.race, paged.prefix)
    if listing is None or not listing.rows:
        return None
    return listing.shown(listing.pages(), page)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(CandidatesCog(bot))
    enable_paging(bot)

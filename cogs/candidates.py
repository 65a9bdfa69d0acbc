"""`candidate` (a person card) and `endorsements` (of a race or a person)."""

from __future__ import annotations

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
from cogs.support.paging import Pager
from cogs.support.parsing import split_page
from db.lookup import parse_query, race_hint
from db.reads.rows import Person
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
            title, again, with_race = person.name, f"{prefix}endorsements {clip(person.name, 60)}", True
            rows, count = await self.bot.store.person_endorsements(person.id)
        else:
            race = await resolve_race(ctx, text, "endorsements")
            title, again, with_race = race_title(race), f"{prefix}endorsements {race_hint(race)}", False
            rows, count = await self.bot.store.race_endorsements(race.id)
        if not rows:
            await reply(ctx, no_endorsements_text(title))
            return
        pages = endorsement_pages(escape(title), rows, count, with_race)
        if wanted > len(pages):
            raise UsageError(
                f"There {'is' if len(pages) == 1 else 'are'} only {len(pages)} page{'s' if len(pages) > 1 else ''}.",
                f"{again} page {len(pages)}",
            )

        async def render(n: int) -> discord.Embed:
            return pages[n - 1]

        view = Pager(ctx.author.id, wanted, len(pages), render, again=again)
        if view.useful:
            view.message = await reply(ctx, embed=pages[wanted - 1], view=view)
        else:
            await reply(ctx, embed=pages[wanted - 1])


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(CandidatesCog(bot))

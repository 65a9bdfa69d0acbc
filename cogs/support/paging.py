"""Paging long replies: Prev/Next buttons only the member who asked can use, and `page N` in prefix form.

Nothing is kept per reply. A button's custom_id says what it shows: the page source (a cog's function
that builds a page from a short key), the key, the page it turns to, who asked and the prefix they used.
A click builds that page afresh from the store (cached), so a button works for as long as its message
stays, after a restart, and on whichever process gets the click; no view waits in memory to time out,
and no edit is spent taking buttons off old replies.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot import RaceBot
    from cogs.support.context import RaceContext

log = logging.getLogger(__name__)

# A key never holds ':', so that the prefix (which may) can close the id.
KEY_AND_PREFIX = r"(?P<key>[^:]{0,48}):(?P<prefix>\S{1,8})"
PAGE_ID = re.compile(
    r"rd:pg:(?P<source>[a-z]+):(?P<turn>[pn]):(?P<page>\d{1,6}):(?P<owner>\d{1,20}):" + KEY_AND_PREFIX
)
CUSTOM_ID_LIMIT = 100  # Discord's
# Paged replies' buttons before they carried their page (racedesk 0.x): nothing answers them but this.
OLD_BUTTON_ID = re.compile(r"racedesk:(?:page:prev|page:next|polls:chart)")


def checked_id(template: re.Pattern[str], custom_id: str, **expected: str) -> str:
    """`custom_id` if it reads back through `template` to the values it was made of and fits Discord."""
    read = template.fullmatch(custom_id)
    if read is None or len(custom_id) > CUSTOM_ID_LIMIT or any(read[k] != v for k, v in expected.items()):
        raise ValueError(f"not a button id of {template.pattern!r}: {custom_id!r}")
    return custom_id


def carried_prefix(ctx: RaceContext) -> str:
    """The prefix a button's id carries for the pages it builds: the one shown, unless it cannot fit an
    id (a mention, `@racedesk `), when the server's own prefix stands in."""
    shown = ctx.shown_prefix
    if re.fullmatch(r"\S{1,8}", shown):
        return shown
    own = ctx.bot.settings.prefix
    return ctx.bot.guild_prefixes.get(ctx.guild.id, own) if ctx.guild is not None else own


@dataclass(frozen=True)
class Shown:
    """A page as its source built it."""

    embed: discord.Embed
    page: int  # the page shown: the one asked for, or the last if the list has shrunk since
    pages: int
    again: str  # the command that shows this reply, for others to run themselves
    extra: Sequence[discord.ui.Item[Any]] = field(default=())  # buttons after Prev/Next (the chart)

    @classmethod
    def of_pages(cls, pages: Sequence[discord.Embed], page: int, again: str) -> Shown:
        """Page `page` of pages built at once (the last, if there are fewer now)."""
        shown = min(page, len(pages))
        return cls(pages[shown - 1], shown, len(pages), again=again)


# (bot, the reply's buttons' data, page) → that page, or None when what its key named is gone.
PageSource = Callable[["RaceBot", "Paged", int], Awaitable[Shown | None]]
_SOURCES: dict[str, PageSource] = {}


def page_source(name: str) -> Callable[[PageSource], PageSource]:
    """Registers a cog's page builder under `name` (lowercase letters: it is part of each button's id)."""
    if not re.fullmatch(r"[a-z]+", name):
        raise ValueError(f"a page source's name is lowercase letters: {name!r}")

    def register(build: PageSource) -> PageSource:
        _SOURCES[name] = build
        return build

    return register


def page_sources() -> Mapping[str, PageSource]:
    """Every registered page source by name."""
    return MappingProxyType(_SOURCES)


@dataclass(frozen=True)
class Paged:
    """What a paged reply's buttons carry: enough to build any of its pages again."""

    source: str
    key: str
    owner_id: int
    prefix: str

    @classmethod
    def asked(cls, ctx: RaceContext, source: str, key: str) -> Paged:
        """The buttons of a reply to the member who ran `ctx`."""
        return cls(source, key, ctx.author.id, carried_prefix(ctx))

    def button_id(self, turn: str, page: int) -> str:
        custom_id = f"rd:pg:{self.source}:{turn}:{page}:{self.owner_id}:{self.key}:{self.prefix}"
        return checked_id(PAGE_ID, custom_id, key=self.key, prefix=self.prefix)


def page_buttons(paged: Paged, shown: Shown) -> discord.ui.View | None:
    """The reply's buttons (None when it needs none). The view is finished before it is sent, so
    discord.py keeps nothing of it: a click is read from its custom_id by `PageTurn`."""
    items: list[discord.ui.Item[Any]] = []
    if shown.pages > 1:
        items.append(_turn_button("◀ Prev", paged.button_id("p", shown.page - 1), shown.page <= 1))
        items.append(_turn_button("Next ▶", paged.button_id("n", shown.page + 1), shown.page >= shown.pages))
    items.extend(shown.extra)
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


def _turn_button(label: str, custom_id: str, disabled: bool) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id, disabled=disabled
    )


async def say_privately(interaction: discord.Interaction[Any], text: str) -> None:
    """A short reply only the clicker sees."""
    send = interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
    with contextlib.suppress(discord.HTTPException):
        await send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


def not_yours(again: str) -> str:
    return f"These buttons belong to the member who asked. Run `{again}` to get your own."


GONE = "What this reply listed is no longer there. Ask again."
OLD = "These buttons are from before racedesk restarted. Ask again for buttons that work."


class PageTurn(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_ID):
    """A click on Prev or Next of any paged reply, rebuilt from its custom_id."""

    def __init__(self, paged: Paged, turn: str, page: int) -> None:
        super().__init__(discord.ui.Button(custom_id=paged.button_id(turn, page)))
        self.paged = paged
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PageTurn:
        paged = Paged(match["source"], match["key"], int(match["owner"]), match["prefix"])
        return cls(paged, match["turn"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await turn_page(interaction, self.paged, self.page)
        except Exception:
            log.exception("turning to page %d of %s failed", self.page, self.paged)
            await say_privately(interaction, "Something went wrong turning the page. Ask again.")


async def turn_page(interaction: discord.Interaction[Any], paged: Paged, page: int) -> None:
    build = _SOURCES.get(paged.source)
    shown = await build(interaction.client, paged, max(1, page)) if build else None
    if shown is None:
        await gone(interaction, paged.owner_id)
    elif interaction.user.id != paged.owner_id:
        await say_privately(interaction, not_yours(shown.again))
    else:
        await interaction.response.edit_message(embed=shown.embed, view=page_buttons(paged, shown))


async def gone(interaction: discord.Interaction[Any], owner_id: int | None) -> None:
    """What a button showed is gone: the clicker is told; the asker's click also takes the buttons off."""
    if interaction.user.id == owner_id and not interaction.response.is_done():
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.edit_message(view=None)
    await say_privately(interaction, GONE)


class OldButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=OLD_BUTTON_ID):
    """A button of a paged reply sent before buttons carried their page: it can only say so."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OldButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await say_privately(interaction, OLD)


def enable_paging(bot: RaceBot) -> None:
    """Lets the bot answer page buttons (any cog that pages calls it; once is enough)."""
    bot.add_dynamic_items(PageTurn, OldButton)

"""Paging long replies: Prev/Next buttons only the member who asked can use, and `page N` in prefix form."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

log = logging.getLogger(__name__)

PAGE_TIMEOUT = 300.0  # seconds of no clicks before the buttons go
PREV_ID, NEXT_ID, CHART_ID = "racedesk:page:prev", "racedesk:page:next", "racedesk:polls:chart"

RenderPage = Callable[[int], Awaitable[discord.Embed]]
OnChart = Callable[[discord.Interaction[Any]], Awaitable[None]]


class Pager(discord.ui.View):
    """Pages of one reply. `render(page)` builds page `page` (1-based) when it is asked for."""

    def __init__(
        self,
        owner_id: int,
        page: int,
        pages: int,
        render: RenderPage,
        *,
        again: str,
        on_chart: OnChart | None = None,
        timeout: float = PAGE_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.page = page
        self.pages = pages
        self.render = render
        self.again = again  # the command that shows this reply, for others to run themselves
        self.on_chart = on_chart
        self.message: discord.Message | None = None
        if pages <= 1:
            self.remove_item(self.prev_button)
            self.remove_item(self.next_button)
        if on_chart is None:
            self.remove_item(self.chart_button)
        self._sync()

    @property
    def useful(self) -> bool:
        return bool(self.children)

    def _sync(self) -> None:
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= self.pages

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            f"These buttons belong to the member who asked. Run `{self.again}` to get your own.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return False

    async def _turn(self, interaction: discord.Interaction[Any], page: int) -> None:
        self.page = min(max(1, page), self.pages)
        self._sync()
        embed = await self.render(self.page)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="◀ Prev", style=discord.ButtonStyle.secondary, custom_id=PREV_ID)
    async def prev_button(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await self._turn(interaction, self.page - 1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary, custom_id=NEXT_ID)
    async def next_button(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await self._turn(interaction, self.page + 1)

    @discord.ui.button(label="📈 Chart", style=discord.ButtonStyle.primary, custom_id=CHART_ID)
    async def chart_button(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        assert self.on_chart is not None
        await self.on_chart(interaction)

    async def on_timeout(self) -> None:
        if self.message is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.message.edit(view=None)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("paging failed for %s", self.again, exc_info=error)
        send = (
            interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
        )
        with contextlib.suppress(discord.HTTPException):
            await send("Something went wrong turning the page. Ask again.", ephemeral=True)

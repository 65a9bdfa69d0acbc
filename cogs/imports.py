"""`import`: the desk attaches a data file; a dry run shows what would change, a button stores it."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.checks import desk_writer, write_refusal
from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError
from db import limits
from db.audit import Actor
from db.importers import FORMATS, UnknownFormat
from db.importers.run import ImportFailed, ImportReport
from render.imports import (
    CANCELLED,
    NOT_CONFIRMED,
    ONLY_THE_MODERATOR,
    dry_run_text,
    failed_text,
    imported_text,
    no_longer_allowed_text,
    nothing_to_import_text,
    refused_text,
    too_big_text,
)
from render.limits import clip

log = logging.getLogger(__name__)

MAX_BYTES = limits.MAX_UPLOAD_BYTES
CONFIRM_SECONDS = 600.0
EXAMPLE = "!import (with senate_polls.csv attached)"
#: Where an attachment is saved in its own temporary folder: its name is never a path.
SAVED_AS = "upload"
URL_SAFE = ":/?&=%#@+,;~!$'()*[]"


async def download(attachment: discord.Attachment, folder: Path) -> Path:
    """Save the attachment in `folder` a chunk at a time, stopping at the upload limit whatever its
    declared size said. Its name is only shown, never used as a path."""
    path = folder / SAVED_AS
    received = 0
    # The address as given, its name's unsafe characters escaped (a name like ".." is not resolved away).
    url = yarl.URL(quote(attachment.url, safe=URL_SAFE), encoded=True)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise UsageError(f"The attachment could not be downloaded (HTTP {response.status}).", EXAMPLE)
            with path.open("wb") as out:
                async for chunk in response.content.iter_chunked(1 << 16):
                    received += len(chunk)
                    if received > MAX_BYTES:
                        raise UsageError(too_big_text(received), EXAMPLE)
                    out.write(chunk)
    except (aiohttp.ClientError, TimeoutError, ValueError) as problem:
        raise UsageError(
            f"The attachment could not be downloaded ({type(problem).__name__}).", EXAMPLE
        ) from None
    return path


def shown_name(filename: str) -> str:
    """The attachment's name as messages show it: printable, at most 100 characters."""
    text = "".join(ch if ch.isprintable() else "?" for ch in filename).strip()
    return text[:100] or "the attachment"


async def run_import(
    bot: RaceBot, path: Path, fmt: str, actor: Actor, *, dry_run: bool, name: str
) -> ImportReport:
    return await bot.store.import_file(path, fmt, actor, dry_run=dry_run, name=name)


class ConfirmImport(discord.ui.View):
    """Store what the dry run showed, when the moderator who asked says so."""

    def __init__(
        self,
        bot: RaceBot,
        folder: tempfile.TemporaryDirectory[str],
        path: Path,
        fmt: str,
        actor: Actor,
        name: str,
    ):
        super().__init__(timeout=CONFIRM_SECONDS)
        self.bot, self.folder, self.path, self.fmt, self.actor = bot, folder, path, fmt, actor
        self.name = name
        self.message: discord.Message | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.actor.id:
            return True
        await interaction.response.send_message(ONLY_THE_MODERATOR, ephemeral=True)
        return False

    @discord.ui.button(label="Import", style=discord.ButtonStyle.success, custom_id="racedesk:import:confirm")
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        # Whether they may write is asked again now: a moderator demoted since the dry run may not.
        try:
            refusal = await write_refusal(self.bot, interaction.guild, interaction.user)
        except commands.CheckFailure as unchecked:  # the store too slow to say (cogs/support/checks.py)
            await interaction.response.send_message(str(unchecked), ephemeral=True)
            return
        if refusal is not None:
            await interaction.response.send_message(no_longer_allowed_text(refusal), ephemeral=True)
            return
        await interaction.response.defer()
        try:
            report = await run_import(
                self.bot, self.path, self.fmt, self.actor, dry_run=False, name=self.name
            )
            text = imported_text(report)
        except (ImportFailed, UnknownFormat) as problem:
            text = failed_text(problem)
        await self._finish(interaction, text)

    @discord.ui.button(
        label="Cancel", style=discord.ButtonStyle.secondary, custom_id="racedesk:import:cancel"
    )
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await self._finish(interaction, CANCELLED)

    async def _finish(self, interaction: discord.Interaction[Any], text: str) -> None:
        self.stop()
        self.folder.cleanup()
        await interaction.edit_original_response(content=clip(text, 2000), view=None)

    async def on_timeout(self) -> None:
        self.folder.cleanup()
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content=NOT_CONFIRMED, view=None)


class ImportCog(commands.Cog, name="Desk imports"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        name="import",
        usage="[format] (attach the file)",
        description="Import an attached data file (desk): a dry run first, then a button stores it",
    )
    @desk_writer()
    @app_commands.describe(file="The data file: FiveThirtyEight polls, MEDSL, OpenElections, FEC cn.txt, or racedesk JSON",
                           format="The file's format, when it cannot be told from its header")  # fmt: skip
    async def import_(
        self, ctx: RaceContext, file: discord.Attachment | None = None, format: str = "auto"
    ) -> None:
        """Import an attached data file: a dry run first, then a button stores it (desk). Example: !import (with senate_polls.csv attached)"""
        if file is None:
            raise UsageError(
                "Attach the data file to the message.", EXAMPLE.replace("!", ctx.shown_prefix, 1)
            )
        if format != "auto" and format not in FORMATS:
            raise UsageError(
                f"The format is auto or one of: {', '.join(FORMATS)}.", f"{ctx.shown_prefix}import medsl"
            )
        if file.size > MAX_BYTES:
            raise UsageError(too_big_text(file.size), EXAMPLE)
        await ctx.defer()
        name = shown_name(file.filename)
        folder = tempfile.TemporaryDirectory(prefix="racedesk-import-")
        try:
            path = await download(file, Path(folder.name))
            report = await run_import(self.bot, path, format, ctx.actor, dry_run=True, name=name)
        except (ImportFailed, UnknownFormat) as problem:
            folder.cleanup()
            raise UsageError(refused_text(problem), EXAMPLE) from problem
        except BaseException:
            folder.cleanup()
            raise
        if report.already_imported or not report.changed:
            folder.cleanup()
            await reply(ctx, nothing_to_import_text(report))
            return
        fmt = report.format
        view = ConfirmImport(self.bot, folder, path, fmt, ctx.actor, name)
        view.message = await reply(ctx, dry_run_text(name, report), view=view)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ImportCog(bot))

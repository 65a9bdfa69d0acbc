"""`import`: the desk attaches a data file; a dry run shows what would change, a button stores it."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.checks import desk_writer
from cogs.support.common import hybrid_command, reply
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError
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
    nothing_to_import_text,
    refused_text,
)
from render.limits import clip

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024  # Discord's own upload limit for most servers
CONFIRM_SECONDS = 600.0
EXAMPLE = "!import (with senate_polls.csv attached)"


async def download(attachment: discord.Attachment, folder: Path) -> Path:
    # Only the name's last part, so a crafted filename cannot leave the folder.
    path = folder / (Path(attachment.filename).name or "upload")
    await attachment.save(path)
    return path


async def run_import(bot: RaceBot, path: Path, fmt: str, actor: Actor, *, dry_run: bool) -> ImportReport:
    return await bot.store.import_file(path, fmt, actor, dry_run=dry_run)


class ConfirmImport(discord.ui.View):
    """Store what the dry run showed, when the moderator who asked says so."""

    def __init__(
        self, bot: RaceBot, folder: tempfile.TemporaryDirectory[str], path: Path, fmt: str, actor: Actor
    ):
        super().__init__(timeout=CONFIRM_SECONDS)
        self.bot, self.folder, self.path, self.fmt, self.actor = bot, folder, path, fmt, actor
        self.message: discord.Message | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.actor.id:
            return True
        await interaction.response.send_message(ONLY_THE_MODERATOR, ephemeral=True)
        return False

    @discord.ui.button(label="Import", style=discord.ButtonStyle.success, custom_id="racedesk:import:confirm")
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        try:
            report = await run_import(self.bot, self.path, self.fmt, self.actor, dry_run=False)
            text = imported_text(report)
        except ImportFailed as problem:
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
    @app_commands.describe(file="The data file: FiveThirtyEight polls, MEDSL, OpenElections, or racedesk JSON",
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
            raise UsageError(f"That file is {file.size // 1_048_576} MB; the limit is 25 MB.", EXAMPLE)
        await ctx.defer()
        folder = tempfile.TemporaryDirectory(prefix="racedesk-import-")
        try:
            path = await download(file, Path(folder.name))
            report = await run_import(self.bot, path, format, ctx.actor, dry_run=True)
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
        view = ConfirmImport(self.bot, folder, path, fmt, ctx.actor)
        view.message = await reply(ctx, dry_run_text(file.filename, report), view=view)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(ImportCog(bot))

"""`audit` and `undo`: every write is recorded (who, when, from which server, before and after); the desk
can list them and revert one. Undoing an announced write announces the correction where the original
arrived, and withdraws what had not gone out yet."""

from __future__ import annotations

from typing import Any

from discord import app_commands
from discord.ext import commands

from bot import RaceBot
from cogs.support.checks import can_configure, can_write_shared, desk_writer
from cogs.support.common import hybrid_command, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError, UserFacingError
from cogs.support.writing import commit_write
from db import outbox
from db.models import LARGEST_ID
from db.reads.races import ContestView, contest_views
from db.writes.undo import UndoOutcome, undo
from render import announce
from render.audit import entry_embed, no_writes_text, undone_text, writes_embed
from render.desk import correction_past_keeping, correction_reach
from render.format import escape
from render.limits import clip

PAGE = 15


def _entry_id(text: str) -> int | None:
    """An audit entry's id as typed (`57`, `#57`); None when it is none (no entry's id is past LARGEST_ID)."""
    stripped = text.strip().lstrip("#")
    ok = stripped.isascii() and stripped.isdigit() and len(stripped) < 12 and int(stripped) <= LARGEST_ID
    return int(stripped) if ok else None


class AuditCog(commands.Cog, name="Audit"):
    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    @hybrid_command(
        brief="The desk's recent writes with their ids (for undo); one id shows its before and after.",
        name="audit",
        usage="[race] [before=<id>] | <id>",
    )
    @desk_writer()
    @app_commands.describe(details="A race (e.g. alabama), an entry id (e.g. 57), or nothing for the newest")
    async def audit(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """The desk's recent writes with their ids (for undo); one id shows its before and after. Example: !audit alabama"""
        words = (details or "").split()
        before: int | None = None
        rest = []
        for word in words:
            if word.lower().startswith("before="):
                before = _entry_id(word.split("=", 1)[1])
                if before is None:
                    raise UsageError(
                        "`before=` takes an entry id.", f"{ctx.shown_prefix}audit alabama before=40"
                    )
            else:
                rest.append(word)
        if len(rest) == 1 and _entry_id(rest[0]) is not None:
            await self._one(ctx, _entry_id(rest[0]) or 0)
            return
        race = await resolve_race(ctx, " ".join(rest), "audit") if rest else None
        page = await self.bot.store.audit_page(
            race_id=race.id if race is not None else None,
            before=before,
            guild_id=ctx.guild.id if ctx.guild else None,
            limit=PAGE,
        )
        if not page.entries:
            await reply(ctx, no_writes_text(race, before))
            return
        more = len(page.entries) == PAGE
        embed = writes_embed(page.entries, page.races, race, " ".join(rest), ctx.shown_prefix, more=more)
        await reply(ctx, embed=embed)

    async def _one(self, ctx: RaceContext, entry_id: int) -> None:
        entry, race = await self.bot.store.audit_entry(entry_id)
        here = ctx.guild.id if ctx.guild else None
        if entry is None or (entry.entity == "guild_settings" and entry.guild_id != here):
            raise UserFacingError(f"There is no audit entry #{entry_id}.")
        await reply(ctx, embed=entry_embed(entry, race))

    @hybrid_command(
        brief="Revert one write by its audit id; if it was announced, the correction is announced.",
        name="undo",
        usage="<audit id>",
    )
    @app_commands.describe(entry="The audit entry's id, as the write's reply or `audit` shows it")
    async def undo(self, ctx: RaceContext, entry: str) -> None:
        """Revert one write by its audit id; if it was announced, the correction is announced. Example: !undo 57"""
        entry_id = _entry_id(entry)
        if entry_id is None:
            raise UsageError(f"'{escape(clip(entry, 40))}' is not an audit id.", f"{ctx.shown_prefix}undo 57")
        original, _race = await self.bot.store.audit_entry(entry_id)
        if original is not None and original.entity == "guild_settings":
            guild_id = int((original.after or {}).get("guild_id") or 0)
            if ctx.guild is None or ctx.guild.id != guild_id:
                raise UserFacingError(f"#{entry_id} is another server's setting.")
            await can_configure(ctx, roles="mod_role_id" in (original.after or {}))
        else:
            await can_write_shared(ctx)
        actor = ctx.actor

        async def work(session: Any) -> tuple[UndoOutcome, outbox.Correction | None]:
            outcome = await undo(session, actor, entry_id)
            correction = None
            if outcome.correction is not None:
                body, ping = announce.undo_correction(
                    outcome, await self._view_now(session, outcome), self.bot.settings.prefix
                )
                correction = await outbox.correct(
                    session,
                    original_audit_id=outcome.original.id,
                    audit_id=outcome.audit.id,
                    race_id=outcome.race.id if outcome.race else None,
                    body=body,
                    ping=ping,
                )
            return outcome, correction

        outcome, correction = await commit_write(ctx, work)
        if outcome.original.entity == "guild_settings" and ctx.guild is not None:
            await self._reload_prefix(ctx.guild.id)
        reach = None
        if correction is not None and (correction.announced or correction.withdrawn):
            reach = correction_reach(correction)
        elif correction is not None and self._past_keeping(outcome):
            reach = correction_past_keeping(self.bot.settings.outbox_keep_days)
        await reply(ctx, undone_text(outcome, reach))

    def _past_keeping(self, outcome: UndoOutcome) -> bool:
        """Whether the undone write is older than the outbox keeps announcements (they may be cleared)."""
        return outcome.original.at < outbox.kept_since(self.bot.settings.outbox_keep_days)

    async def _reload_prefix(self, guild_id: int) -> None:
        row = await self.bot.store.guild_settings(guild_id)
        if row is not None and row.prefix:
            self.bot.guild_prefixes[guild_id] = row.prefix
        else:
            self.bot.guild_prefixes.pop(guild_id, None)

    @staticmethod
    async def _view_now(session: Any, outcome: UndoOutcome) -> ContestView | None:
        """How the undone write's stage stands now, for the correction."""
        if outcome.race is None or outcome.contest is None:
            return None
        views = await contest_views(session, outcome.race.id)
        return next((v for v in views if v.contest.id == outcome.contest.id), None)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(AuditCog(bot))

"""`audit` and `undo`: every write is recorded (who, when, from which server, before and after); the desk
can list them and revert one. Undoing an announced write announces the correction where the original
arrived, and withdraws what had not gone out yet."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import or_, select

from bot import RaceBot
from cogs.support.checks import can_configure, can_write_shared, desk_writer
from cogs.support.common import UsageError, UserFacingError, hybrid_command, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.writing import store
from db import outbox
from db.models import AuditEntry, CallKind, GuildSettings, Race
from db.reads.races import ContestView, contest_views
from db.writes.undo import UndoOutcome, undo
from render import announce
from render.desk import correction_reach
from render.format import escape, timestamp
from render.limits import clip, clip_lines, fit_embed
from render.race import race_title

PAGE = 15
COLOUR = discord.Colour.from_rgb(90, 90, 90)


def _count(n: Any, noun: str) -> str:
    n = len(n) if isinstance(n, list | dict) else int(n or 0)
    return f"{n} {noun}{'s' if n != 1 else ''}"


def describe(entry: AuditEntry) -> str:
    """What a write did, in a few words."""
    after, before = entry.after or {}, entry.before or {}
    action = entry.action
    if action == "result.add":
        reporting = (
            f", {after['reporting_pct']:g}% reporting" if after.get("reporting_pct") is not None else ""
        )
        source = f", source {after['source']}" if after.get("source") else ""
        return f"result #{entry.entity_id}: {_count(after.get('counts'), 'count')}{reporting}{source}"
    if action == "call.add":
        names = " and ".join(after.get("names") or []) or "—"
        source = f" (source {after['source']})" if after.get("source") else ""
        return f"call #{entry.entity_id}: {after.get('kind')} {names}{source}".replace(
            "too close —", "too close"
        )
    if action == "call.uncall":
        return f"withdrew call #{after.get('withdrawn_call_id')}"
    if action == "poll.add":
        return f"poll #{entry.entity_id}: {after.get('pollster')}, ended {after.get('end_date')}"
    if action == "poll.remove":
        return f"removed poll #{entry.entity_id}: {before.get('pollster')}, ended {before.get('end_date')}"
    if action == "endorsement.add":
        return f"endorsement #{entry.entity_id}: {after.get('endorser')} ({after.get('stance')})"
    if action == "endorsement.remove":
        return f"removed endorsement #{entry.entity_id}: {before.get('endorser')} ({before.get('stance')})"
    if action == "race.add":
        return f"race #{entry.entity_id} added, {_count(after.get('contest_ids'), 'stage')}"
    if action == "race.edit":
        fields = [k for k in after if k not in ("contest_dates", "contest_ids")]
        fields += ["stage dates"] if after.get("contest_dates") else []
        fields += ["stages added"] if after.get("contest_ids") else []
        return f"race #{entry.entity_id} changed: {', '.join(fields) or 'nothing'}"
    if action == "candidate.add":
        return f"{after.get('name')} put on a ballot (candidate #{after.get('candidate_id')})"
    if action == "candidate.edit":
        fields = list((after.get("person") or {}).keys())
        fields += sorted({k for values in (after.get("candidacies") or {}).values() for k in values})
        fields += ["other spelling"] if after.get("aliases") else []
        return f"candidate #{entry.entity_id} changed: {', '.join(fields) or 'nothing'}"
    if action == "candidate.merge":
        return f"merged {after.get('merged_name')} into {after.get('into_name')}"
    if action == "config.set":
        field = next((k for k in after if k != "guild_id"), "setting")
        return f"server setting {field.removesuffix('_id').replace('_', ' ')} changed"
    if action == "undo":
        return f"undid #{entry.undoes_id}: {after.get('description', '')}"
    if action == "import":
        return f"import of {after.get('source')}: {after.get('summary')}"
    return action


def entry_line(entry: AuditEntry, titles: dict[int, str]) -> str:
    where = f" · {escape(titles[entry.race_id])}" if entry.race_id in titles else ""
    undone = f" · ↩ undone by #{entry.undone_by_id}" if entry.undone_by_id else ""
    return (
        f"`#{entry.id}` {timestamp(entry.at, 'R')} **{escape(entry.actor_name)}**: "
        f"{escape(clip(describe(entry), 200))}{where}{undone}"
    )


def _json_block(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1, default=str).replace("```", "ʼʼʼ")
    return f"```json\n{clip(text, 990)}\n```"


def entry_embed(entry: AuditEntry, title: str | None) -> discord.Embed:
    embed = discord.Embed(title=f"Audit #{entry.id} · {entry.action}", colour=COLOUR, timestamp=entry.at)
    lines = [
        f"By **{escape(entry.actor_name)}**" + (f" (user {entry.actor_id})" if entry.actor_id else ""),
        f"From server {entry.guild_id}" if entry.guild_id else "Not from a server",
        escape(describe(entry)),
    ]
    if title:
        lines.append(f"Race: {escape(title)}")
    if entry.undoes_id:
        lines.append(f"Undoes #{entry.undoes_id}")
    if entry.undone_by_id:
        lines.append(f"Undone by #{entry.undone_by_id}")
    embed.description = "\n".join(lines)
    if entry.before:
        embed.add_field(name="Before", value=_json_block(entry.before), inline=False)
    if entry.after:
        embed.add_field(name="After", value=_json_block(entry.after), inline=False)
    return fit_embed(embed)


def _entry_id(text: str) -> int | None:
    stripped = text.strip().lstrip("#")
    return int(stripped) if stripped.isdigit() and len(stripped) < 12 else None


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
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE)
        if race is not None:
            query = query.where(AuditEntry.race_id == race.id)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        here = ctx.guild.id if ctx.guild else -1
        query = query.where(or_(AuditEntry.entity != "guild_settings", AuditEntry.guild_id == here))
        async with self.bot.sessions() as session:
            entries = list(await session.scalars(query))
            race_ids = {e.race_id for e in entries if e.race_id is not None}
            races = list(await session.scalars(select(Race).where(Race.id.in_(race_ids)))) if race_ids else []
        titles = {r.id: race_title(r) for r in races}
        if race is not None:
            titles = {}
        heading = f"Writes to {race_title(race)}" if race is not None else "Recent writes"
        if not entries:
            await reply(ctx, f"{escape(heading)}: none" + (f" before #{before}." if before else "."))
            return
        lines = [entry_line(e, titles) for e in entries]
        embed = discord.Embed(title=heading, description=clip_lines(lines, 4000), colour=COLOUR)
        prefix = ctx.shown_prefix
        more = (
            f" · older: {prefix}audit {' '.join(rest)} before={entries[-1].id}".replace("  ", " ")
            if len(entries) == PAGE
            else ""
        )
        embed.set_footer(text=f"Details: {prefix}audit <id> · revert: {prefix}undo <id>{more}")
        await reply(ctx, embed=fit_embed(embed))

    async def _one(self, ctx: RaceContext, entry_id: int) -> None:
        async with self.bot.sessions() as session:
            entry = await session.get(AuditEntry, entry_id)
            race = await session.get(Race, entry.race_id) if entry is not None and entry.race_id else None
        here = ctx.guild.id if ctx.guild else None
        if entry is None or (entry.entity == "guild_settings" and entry.guild_id != here):
            raise UserFacingError(f"There is no audit entry #{entry_id}.")
        await reply(ctx, embed=entry_embed(entry, race_title(race) if race else None))

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
        async with self.bot.sessions() as session:
            original = await session.get(AuditEntry, entry_id)
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
                body, ping = await self._correction(session, outcome)
                correction = await outbox.correct(
                    session,
                    original_audit_id=outcome.original.id,
                    audit_id=outcome.audit.id,
                    race_id=outcome.race.id if outcome.race else None,
                    body=body,
                    ping=ping,
                )
            return outcome, correction

        outcome, correction = await store(ctx, work)
        if outcome.original.entity == "guild_settings" and ctx.guild is not None:
            await self._reload_prefix(ctx.guild.id)
        text = (
            f"Undid #{outcome.original.id} ({outcome.original.action}): {escape(outcome.description)}. "
            f"Recorded as #{outcome.audit.id}."
        )
        if correction is not None and (correction.announced or correction.withdrawn):
            text += "\n" + correction_reach(correction)
        await reply(ctx, text)

    async def _reload_prefix(self, guild_id: int) -> None:
        async with self.bot.sessions() as session:
            row = await session.get(GuildSettings, guild_id)
        if row is not None and row.prefix:
            self.bot.guild_prefixes[guild_id] = row.prefix
        else:
            self.bot.guild_prefixes.pop(guild_id, None)

    async def _correction(self, session: Any, outcome: UndoOutcome) -> tuple[dict[str, Any], bool]:
        """The correction's message body, and whether it may ping (calls do)."""
        details, original = outcome.details, outcome.original
        view: ContestView | None = None
        if outcome.race is not None and outcome.contest is not None:
            views = await contest_views(session, outcome.race.id)
            view = next((v for v in views if v.contest.id == outcome.contest.id), None)
        after = original.after or {}
        if outcome.correction == "result":
            taken = dt.datetime.fromisoformat(details["removed"]["taken_at"])
            text = announce.withdrawn_result_text(taken, original.entity_id)
        elif outcome.correction == "call":
            names = " and ".join(f"**{escape(n)}**" for n in after.get("names") or [])
            text = {
                CallKind.WINNER: f"The call of {names} as the winner was withdrawn.",
                CallKind.RUNOFF: f"The call sending {names} to a runoff was withdrawn.",
            }.get(after.get("kind", ""), "The too-close call was withdrawn.")
        elif outcome.correction == "uncall":
            text = "The withdrawal of the earlier call was itself withdrawn: that call stands again."
        else:
            text = announce.withdrawn_poll_text(
                details.get("pollster", ""), dt.date.fromisoformat(details["end_date"])
            )
            view = None
        embed = announce.correction_embed(outcome.race, outcome.contest, text, view)
        note = announce.follower_note(outcome.race, self.bot.settings.prefix)
        return announce.body(embed, dm_content=note), outcome.correction in ("call", "uncall")


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(AuditCog(bot))

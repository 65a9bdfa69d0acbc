"""The replies of `audit` and `undo`: what each write did, one entry's before and after, a page of the
newest writes, and what an undo put back.

Pure: data in, text or an embed out, within Discord's limits. Names typed by people are escaped.
"""

from __future__ import annotations

import json
from typing import Any

import discord

from db.models import AuditEntry, Race
from db.writes.undo import UndoOutcome
from render.format import escape, timestamp
from render.limits import clip, clip_lines, fit_embed
from render.race import race_title

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
    if action in ("poll.add", "poll.remove", "endorsement.add", "endorsement.remove"):
        thing, change = action.split(".")
        values = before if change == "remove" else after
        what = (
            f"{values.get('pollster')}, ended {values.get('end_date')}"
            if thing == "poll"
            else f"{values.get('endorser')} ({values.get('stance')})"
        )
        return f"{'removed ' if change == 'remove' else ''}{thing} #{entry.entity_id}: {what}"
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
    """One write in a list: id, when, who, what, and the race (from `titles`, when given)."""
    where = f" · {escape(titles[entry.race_id])}" if entry.race_id in titles else ""
    undone = f" · ↩ undone by #{entry.undone_by_id}" if entry.undone_by_id else ""
    return (
        f"`#{entry.id}` {timestamp(entry.at, 'R')} **{escape(entry.actor_name)}**: "
        f"{escape(clip(describe(entry), 200))}{where}{undone}"
    )


def _json_block(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1, default=str).replace("```", "ʼʼʼ")
    return f"```json\n{clip(text, 990)}\n```"


def entry_embed(entry: AuditEntry, race: Race | None) -> discord.Embed:
    """One write in full: who, from where, what, its race, and the before and after."""
    embed = discord.Embed(title=f"Audit #{entry.id} · {entry.action}", colour=COLOUR, timestamp=entry.at)
    lines = [
        f"By **{escape(entry.actor_name)}**" + (f" (user {entry.actor_id})" if entry.actor_id else ""),
        f"From server {entry.guild_id}" if entry.guild_id else "Not from a server",
        escape(describe(entry)),
    ]
    if race is not None:
        lines.append(f"Race: {escape(race_title(race))}")
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


def heading(race: Race | None) -> str:
    return f"Writes to {race_title(race)}" if race is not None else "Recent writes"


def no_writes_text(race: Race | None, before: int | None) -> str:
    return f"{escape(heading(race))}: none" + (f" before #{before}." if before else ".")


def writes_embed(
    entries: list[AuditEntry],
    races: dict[int, Race],
    race: Race | None,
    asked: str,
    prefix: str,
    *,
    more: bool,
) -> discord.Embed:
    """A page of writes, newest first: of one `race`, or of any (each then names its race from `races`).
    `asked` is what the member typed, for the link to the older ones when there are `more`."""
    titles = {} if race is not None else {r.id: race_title(r) for r in races.values()}
    embed = discord.Embed(
        title=heading(race),
        description=clip_lines([entry_line(e, titles) for e in entries], 4000),
        colour=COLOUR,
    )
    older = f" · older: {prefix}audit {asked} before={entries[-1].id}".replace("  ", " ") if more else ""
    embed.set_footer(text=f"Details: {prefix}audit <id> · revert: {prefix}undo <id>{older}")
    return fit_embed(embed)


def undone_text(outcome: UndoOutcome, reach: str | None = None) -> str:
    """What an undo put back, its own audit id, and (`reach`) where a correction went."""
    text = (
        f"Undid #{outcome.original.id} ({outcome.original.action}): {escape(outcome.description)}. "
        f"Recorded as #{outcome.audit.id}."
    )
    return text + ("\n" + reach if reach else "")

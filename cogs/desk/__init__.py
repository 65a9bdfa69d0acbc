"""The desk: moderators post results, calls, polls and endorsements, and correct races and candidates.

Every command here changes shared data, so each is guarded by `desk_writer()` (cogs/support/checks.py). Each is
one `DeskAction` below: its example, its parse (`_parsing`, straight to the write's input), its write
(db/writes), its announcement and its reply (render/desk.py). One runner (`_action.run`) executes them all: it
finds the race with the same lookup as `!race`, runs the write in one transaction together with its
announcements (db/outbox), and replies with what was stored, its id and how to undo it. Wrong input writes
nothing and says exactly what is wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot import RaceBot
from cogs.desk._action import DeskAction, News, Steps, desk_command, write_by_id
from cogs.desk._parsing import (
    parse_call,
    parse_candidate_add,
    parse_candidate_edit,
    parse_candidate_merge,
    parse_endorse,
    parse_poll,
    parse_race_add,
    parse_race_edit,
    parse_result,
    parse_uncall,
)
from cogs.support.checks import desk_writer
from cogs.support.common import hybrid_group, hybrid_subcommand
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError
from db.audit import Actor
from db.models import CallKind
from db.reads.races import contest_views
from db.writes.polls import (
    PollOutcome,
    RemovedPoll,
    add_endorsement,
    add_poll,
    remove_endorsement,
    remove_poll,
)
from db.writes.races import MergeOutcome, add_candidate, add_race, edit_candidate, edit_race, merge_candidates
from db.writes.results import CallOutcome, ResultOutcome, change_call, post_result
from render import announce
from render import desk as replies

# ------------------------------------------------------------------ writes and what they announce


async def _merge(session: AsyncSession, actor: Actor, merge: tuple[int, str, str]) -> MergeOutcome:
    return await merge_candidates(session, actor, *merge)


async def _result_news(_session: AsyncSession, outcome: ResultOutcome) -> News | None:
    """A new current count is announced; one sent before the current count is history only."""
    if outcome.newer is not None:
        return None
    return News(announce.result_embed(outcome), outcome.race)


async def _call_news(session: AsyncSession, outcome: CallOutcome) -> News | None:
    """A call or an uncall, with the stage's candidates as the race card shows them; nothing for a call that
    confirms the one standing (nothing changed, so nobody is told or pinged again)."""
    if outcome.confirms:
        return None
    views = await contest_views(session, outcome.race.id)
    view = next((v for v in views if v.contest.id == outcome.contest.id), None)
    embed = announce.uncall_embed if outcome.call.kind == CallKind.UNCALLED else announce.call_embed
    return News(embed(outcome, view), outcome.race)


async def _poll_news(_session: AsyncSession, outcome: PollOutcome) -> News:
    return News(
        announce.poll_embed(outcome.race, outcome.poll, outcome.contest, outcome.answers), outcome.race
    )


async def _poll_withdrawn(_session: AsyncSession, removed: RemovedPoll) -> News | None:
    """A removed poll that the desk announced is corrected where it was announced."""
    if removed.added_audit_id is None:
        return None
    end = removed.record["end_date"]
    day = dt.date.fromisoformat(end) if isinstance(end, str) else end
    text = announce.withdrawn_poll_text(removed.record["pollster"], day)
    return News(announce.correction_embed(removed.race, None, text), removed.race, removed.added_audit_id)


# ------------------------------------------------------------------ the actions

# Each desk command: its name, its other names (space-separated), what it does (help's summary and the slash
# command's description), its example (without the prefix), its usage and the slash option's description; then
# the steps the runner takes: the parse, the write, the reply, what is announced and whether that pings.
ACTIONS: dict[str, DeskAction[Any, Any]] = {
    action.name: action
    for action in (
        DeskAction(
            "result",
            "",
            "Post a new count of a stage; the reply shows the change since the previous count.",
            "result alabama general Tuberville=1392100 Jones=920500 reporting=100% source=AP",
            "<race> [stage] Name=votes (or Name votes) ... [reporting=%] [source=...]",
            "e.g. alabama general Tuberville=1392100 Jones=920500 reporting=100%",
            Steps(parse_result, post_result, replies.result_stored, announce=_result_news),
        ),
        DeskAction(
            "call",
            "",
            "Call a stage: its winner, the two who go to a runoff, or too close to call.",
            "call alabama general Tuberville source=AP",
            "<race> [stage] <winner> | [stage] runoff <A> <B> | [stage] too close",
            "e.g. alabama general Tuberville source=AP",
            Steps(parse_call, change_call, replies.call_stored, announce=_call_news, ping=True),
        ),
        DeskAction(
            "uncall",
            "",
            "Withdraw the call of a stage: it is uncalled again, and everyone is told.",
            "uncall alabama general",
            "<race> [stage] [source=...]",
            "e.g. alabama general",
            Steps(parse_uncall, change_call, replies.uncall_stored, announce=_call_news, ping=True),
        ),
        DeskAction(
            "poll add",
            "",
            "Add a poll: pollster, fielded dates, each candidate's share; the sample and population if known.",
            'poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv',
            '<race> [stage] pollster="..." dates="..." Name=share (or Name share) ... [n=] [pop=] [hypothetical]',
            'e.g. alabama pollster="AUM" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv',
            Steps(parse_poll, add_poll, replies.poll_stored, announce=_poll_news),
        ),
        DeskAction(
            "poll remove",
            "",
            "Remove a poll by its id; if it was announced, a correction follows.",
            "poll remove 12",
            "<poll id>",
            "The poll's id, as its reply or the race card shows it",
            Steps(None, remove_poll, replies.poll_removed, announce=_poll_withdrawn),
        ),
        DeskAction(
            "endorse",
            "",
            "Store an endorsement (or an opposition, a refusal, a rescinded one).",
            'endorse alabama endorser="Donald Trump" candidate=Tuberville kind=president date="March 10"',
            '<race> endorser="..." candidate=<name> [stance=] [kind=] [date=] [url=]',
            'e.g. alabama endorser="Donald Trump" candidate=Tuberville kind=president',
            Steps(parse_endorse, add_endorsement, replies.endorsement_stored),
        ),
        DeskAction(
            "endorsement remove",
            "",
            "Remove an endorsement by its id.",
            "endorsement remove 5",
            "<endorsement id>",
            "The endorsement's id, as its reply showed it",
            Steps(None, remove_endorsement, replies.endorsement_removed),
        ),
        DeskAction(
            "race-add",
            "raceadd addrace",
            "Add a race with its stages' dates.",
            'race-add alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
            "<state> <office> <year> [district] [special] [seat=] [general=date] [rep-primary=date] ...",
            'e.g. alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
            Steps(parse_race_add, add_race, replies.race_added),
        ),
        DeskAction(
            "race-edit",
            "raceedit editrace",
            "Correct a race: notes, source, seat, incumbent, or a stage's date (a new stage is added).",
            'race-edit alabama 2026 notes="Open seat" runoff="June 16"',
            "<race> [notes=] [source=] [seat=] [incumbent=] [general=date] ...",
            'e.g. alabama 2026 notes="Open seat" runoff="June 16"',
            Steps(parse_race_edit, edit_race, replies.race_changed),
        ),
        DeskAction(
            "candidate-add",
            "candidateadd",
            "Put a person on a stage's ballot (an existing person is reused).",
            'candidate-add alabama general name="Doug Jones" party=DEM',
            '<race> [stage] name="..." [party=] [incumbent]',
            'e.g. alabama general name="Doug Jones" party=DEM',
            Steps(parse_candidate_add, add_candidate, replies.candidate_stored),
        ),
        DeskAction(
            "candidate-edit",
            "candidateedit",
            "Correct a candidate: name, party, another spelling, withdrawn, incumbent.",
            'candidate-edit alabama candidate=Jones alias="Gordon Douglas Jones"',
            "<race> [stage] candidate=<who> [name=] [party=] [alias=] [withdrawn=yes|no] [incumbent=yes|no]",
            'e.g. alabama candidate=Jones alias="Gordon Douglas Jones"',
            Steps(parse_candidate_edit, edit_candidate, replies.candidate_changed),
        ),
        DeskAction(
            "candidate-merge",
            "candidatemerge",
            "Two records are one person: move everything of one into the other.",
            'candidate-merge alabama from="Roy Moore" into="Roy S. Moore"',
            '<race> from="<name or #id>" into="<name or #id>"',
            'e.g. alabama from="Roy Moore" into="Roy S. Moore"',
            Steps(parse_candidate_merge, _merge, replies.merged),
        ),
    )
}


# ------------------------------------------------------------------ the commands


def _group(action: DeskAction[Any, Any], summary: str, usage: str) -> dict[str, Any]:
    """A group of desk commands (`poll`, `endorsement`): its help shows its first subcommand's example."""
    name = action.name.split()[0]
    return {"name": name, "help": summary, "usage": usage, "extras": {"example": action.example}}


class DeskCog(commands.Cog, name="Desk"):
    """Write commands for the election desk: moderators of desk servers and the bot's owners."""

    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    result = desk_command(ACTIONS["result"])
    call = desk_command(ACTIONS["call"])
    uncall = desk_command(ACTIONS["uncall"])

    @hybrid_group(
        **_group(ACTIONS["poll add"], "Add a poll, or remove one by its id.", "add <race> ... | remove <id>"),
        invoke_without_command=True,
    )
    @desk_writer()
    async def poll(self, ctx: RaceContext) -> None:
        prefix = ctx.shown_prefix
        raise UsageError(
            "Add a poll or remove one.",
            f"{prefix}{ACTIONS['poll add'].example}` or `{prefix}{ACTIONS['poll remove'].example}",
        )

    poll_add = desk_command(ACTIONS["poll add"], poll)

    @hybrid_subcommand(poll, **ACTIONS["poll remove"].command_attrs())
    @desk_writer()
    @app_commands.describe(poll_id=ACTIONS["poll remove"].details)
    async def poll_remove(self, ctx: RaceContext, poll_id: int) -> None:
        await write_by_id(ctx, ACTIONS["poll remove"], poll_id)

    @hybrid_group(
        **_group(ACTIONS["endorsement remove"], "Remove an endorsement by its id.", "remove <id>"),
        invoke_without_command=True,
    )
    @desk_writer()
    async def endorsement(self, ctx: RaceContext) -> None:
        raise UsageError(
            "Say which endorsement to remove.", ctx.shown_prefix + ACTIONS["endorsement remove"].example
        )

    @hybrid_subcommand(endorsement, **ACTIONS["endorsement remove"].command_attrs())
    @desk_writer()
    @app_commands.describe(endorsement_id=ACTIONS["endorsement remove"].details)
    async def endorsement_remove(self, ctx: RaceContext, endorsement_id: int) -> None:
        await write_by_id(ctx, ACTIONS["endorsement remove"], endorsement_id)

    endorse = desk_command(ACTIONS["endorse"])
    race_add = desk_command(ACTIONS["race-add"])
    race_edit = desk_command(ACTIONS["race-edit"])
    candidate_add = desk_command(ACTIONS["candidate-add"])
    candidate_edit = desk_command(ACTIONS["candidate-edit"])
    candidate_merge = desk_command(ACTIONS["candidate-merge"])


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(DeskCog(bot))

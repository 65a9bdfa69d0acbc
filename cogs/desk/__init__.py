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
from cogs.desk._action import DeskAction, News, desk_command, write
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
from cogs.support.common import UsageError, hybrid_group, hybrid_subcommand
from cogs.support.context import RaceContext
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
from db.writes.results import CallInput, CallOutcome, ResultOutcome, post_call, post_result, post_uncall
from render import announce
from render import desk as replies

# ------------------------------------------------------------------ writes and what they announce


async def _uncall(session: AsyncSession, actor: Actor, data: CallInput) -> CallOutcome:
    return await post_uncall(session, actor, data.race_id, data.stage, data.source)


async def _merge(session: AsyncSession, actor: Actor, merge: tuple[int, str, str]) -> MergeOutcome:
    return await merge_candidates(session, actor, *merge)


async def _result_news(_session: AsyncSession, outcome: ResultOutcome) -> News:
    return News(announce.result_embed(outcome), outcome.race)


async def _call_news(session: AsyncSession, outcome: CallOutcome) -> News:
    """A call or an uncall, with the stage's candidates as the race card shows them."""
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

RESULT = DeskAction(
    name="result",
    aliases="",
    help="Post a new count of a stage; the reply shows the change since the previous count.",
    example="result alabama general Tuberville=1392100 Jones=920500 reporting=100% source=AP",
    usage="<race> [stage] Name=votes ... [reporting=%] [source=...]",
    details="e.g. alabama general Tuberville=1392100 Jones=920500 reporting=100%",
    parse=parse_result,
    write=post_result,
    announce=_result_news,
    ping=False,
    reply=replies.result_stored,
)
CALL = DeskAction(
    name="call",
    aliases="",
    help="Call a stage: its winner, the two who go to a runoff, or too close to call.",
    example="call alabama general Tuberville source=AP",
    usage="<race> [stage] <winner> | [stage] runoff <A> <B> | [stage] too close",
    details="e.g. alabama general Tuberville source=AP",
    parse=parse_call,
    write=post_call,
    announce=_call_news,
    ping=True,
    reply=replies.call_stored,
)
UNCALL = DeskAction(
    name="uncall",
    aliases="",
    help="Withdraw the call of a stage: it is uncalled again, and everyone is told.",
    example="uncall alabama general",
    usage="<race> [stage] [source=...]",
    details="e.g. alabama general",
    parse=parse_uncall,
    write=_uncall,
    announce=_call_news,
    ping=True,
    reply=replies.uncall_stored,
)
POLL_ADD = DeskAction(
    name="poll add",
    aliases="",
    help="Add a poll: pollster, fielded dates, each candidate's share; the sample and population if known.",
    example='poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv',
    usage='<race> [stage] pollster="..." dates="..." Name=share ... [n=] [pop=] [hypothetical]',
    details='e.g. alabama pollster="AUM" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv',
    parse=parse_poll,
    write=add_poll,
    announce=_poll_news,
    ping=False,
    reply=replies.poll_stored,
)
POLL_REMOVE = DeskAction(
    name="poll remove",
    aliases="",
    help="Remove a poll by its id; if it was announced, a correction follows.",
    example="poll remove 12",
    usage="<poll id>",
    details="The poll's id, as its reply or the race card shows it",
    parse=None,
    write=remove_poll,
    announce=_poll_withdrawn,
    ping=False,
    reply=replies.poll_removed,
)
ENDORSE = DeskAction(
    name="endorse",
    aliases="",
    help="Store an endorsement (or an opposition, a refusal, a rescinded one).",
    example='endorse alabama endorser="Donald Trump" candidate=Tuberville kind=president date="March 10"',
    usage='<race> endorser="..." candidate=<name> [stance=] [kind=] [date=] [url=]',
    details='e.g. alabama endorser="Donald Trump" candidate=Tuberville kind=president',
    parse=parse_endorse,
    write=add_endorsement,
    announce=None,
    ping=False,
    reply=replies.endorsement_stored,
)
ENDORSEMENT_REMOVE = DeskAction(
    name="endorsement remove",
    aliases="",
    help="Remove an endorsement by its id.",
    example="endorsement remove 5",
    usage="<endorsement id>",
    details="The endorsement's id, as its reply showed it",
    parse=None,
    write=remove_endorsement,
    announce=None,
    ping=False,
    reply=replies.endorsement_removed,
)
RACE_ADD = DeskAction(
    name="race-add",
    aliases="raceadd addrace",
    help="Add a race with its stages' dates.",
    example='race-add alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
    usage="<state> <office> <year> [district] [special] [seat=] [general=date] [rep-primary=date] ...",
    details='e.g. alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
    parse=parse_race_add,
    write=add_race,
    announce=None,
    ping=False,
    reply=replies.race_added,
)
RACE_EDIT = DeskAction(
    name="race-edit",
    aliases="raceedit editrace",
    help="Correct a race: notes, source, seat, incumbent, or a stage's date (a new stage is added).",
    example='race-edit alabama 2026 notes="Open seat" runoff="June 16"',
    usage="<race> [notes=] [source=] [seat=] [incumbent=] [general=date] ...",
    details='e.g. alabama 2026 notes="Open seat" runoff="June 16"',
    parse=parse_race_edit,
    write=edit_race,
    announce=None,
    ping=False,
    reply=replies.race_changed,
)
CANDIDATE_ADD = DeskAction(
    name="candidate-add",
    aliases="candidateadd",
    help="Put a person on a stage's ballot (an existing person is reused).",
    example='candidate-add alabama general name="Doug Jones" party=DEM',
    usage='<race> [stage] name="..." [party=] [incumbent]',
    details='e.g. alabama general name="Doug Jones" party=DEM',
    parse=parse_candidate_add,
    write=add_candidate,
    announce=None,
    ping=False,
    reply=replies.candidate_stored,
)
CANDIDATE_EDIT = DeskAction(
    name="candidate-edit",
    aliases="candidateedit",
    help="Correct a candidate: name, party, another spelling, withdrawn, incumbent.",
    example='candidate-edit alabama candidate=Jones alias="Gordon Douglas Jones"',
    usage="<race> [stage] candidate=<who> [name=] [party=] [alias=] [withdrawn=yes|no] [incumbent=yes|no]",
    details='e.g. alabama candidate=Jones alias="Gordon Douglas Jones"',
    parse=parse_candidate_edit,
    write=edit_candidate,
    announce=None,
    ping=False,
    reply=replies.candidate_changed,
)
CANDIDATE_MERGE = DeskAction(
    name="candidate-merge",
    aliases="candidatemerge",
    help="Two records are one person: move everything of one into the other.",
    example='candidate-merge alabama from="Roy Moore" into="Roy S. Moore"',
    usage='<race> from="<name or #id>" into="<name or #id>"',
    details='e.g. alabama from="Roy Moore" into="Roy S. Moore"',
    parse=parse_candidate_merge,
    write=_merge,
    announce=None,
    ping=False,
    reply=replies.merged,
)


# ------------------------------------------------------------------ the commands


def _group(action: DeskAction[Any, Any], summary: str, usage: str) -> dict[str, Any]:
    """A group of desk commands (`poll`, `endorsement`): its help shows its first subcommand's example."""
    name = action.name.split()[0]
    return {"name": name, "help": summary, "usage": usage, "extras": {"example": action.example}}


class DeskCog(commands.Cog, name="Desk"):
    """Write commands for the election desk: moderators of desk servers and the bot's owners."""

    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    result = desk_command(RESULT)
    call = desk_command(CALL)
    uncall = desk_command(UNCALL)

    @hybrid_group(
        **_group(POLL_ADD, "Add a poll, or remove one by its id.", "add <race> ... | remove <id>"),
        invoke_without_command=True,
    )
    @desk_writer()
    async def poll(self, ctx: RaceContext) -> None:
        prefix = ctx.shown_prefix
        raise UsageError(
            "Add a poll or remove one.", f"{prefix}{POLL_ADD.example}` or `{prefix}{POLL_REMOVE.example}"
        )

    poll_add = desk_command(POLL_ADD, poll)

    @hybrid_subcommand(poll, **POLL_REMOVE.command_attrs())
    @desk_writer()
    @app_commands.describe(poll_id=POLL_REMOVE.details)
    async def poll_remove(self, ctx: RaceContext, poll_id: int) -> None:
        await write(ctx, POLL_REMOVE, poll_id)

    @hybrid_group(
        **_group(ENDORSEMENT_REMOVE, "Remove an endorsement by its id.", "remove <id>"),
        invoke_without_command=True,
    )
    @desk_writer()
    async def endorsement(self, ctx: RaceContext) -> None:
        raise UsageError("Say which endorsement to remove.", ctx.shown_prefix + ENDORSEMENT_REMOVE.example)

    @hybrid_subcommand(endorsement, **ENDORSEMENT_REMOVE.command_attrs())
    @desk_writer()
    @app_commands.describe(endorsement_id=ENDORSEMENT_REMOVE.details)
    async def endorsement_remove(self, ctx: RaceContext, endorsement_id: int) -> None:
        await write(ctx, ENDORSEMENT_REMOVE, endorsement_id)

    endorse = desk_command(ENDORSE)
    race_add = desk_command(RACE_ADD)
    race_edit = desk_command(RACE_EDIT)
    candidate_add = desk_command(CANDIDATE_ADD)
    candidate_edit = desk_command(CANDIDATE_EDIT)
    candidate_merge = desk_command(CANDIDATE_MERGE)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(DeskCog(bot))

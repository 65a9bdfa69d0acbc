"""The desk: moderators post results, calls, polls and endorsements, and correct races and candidates.

Every command here changes shared data, so each is guarded by `desk_writer()` (cogs/support/checks.py). Each one
parses what was typed (`_parsing`), finds the race with the same lookup as `!race`, runs one write in one
transaction together with its announcements (db/writes, db/outbox), and replies with what was stored, its
id and how to undo it (`_render`). Wrong input writes nothing and says exactly what is wrong.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot import RaceBot
from cogs.desk import _parsing as parsing
from cogs.support.checks import desk_writer
from cogs.support.common import (
    UsageError,
    hybrid_command,
    hybrid_group,
    hybrid_subcommand,
    reply,
    resolve_race,
)
from cogs.support.context import RaceContext
from cogs.support.writing import store, usage
from db import outbox
from db.lookup import parse_query
from db.models import Race
from db.reads.races import ContestView, contest_views
from db.writes.polls import (
    EndorsementInput,
    PollInput,
    add_endorsement,
    add_poll,
    remove_endorsement,
    remove_poll,
)
from db.writes.races import (
    CandidateEdit,
    CandidateInput,
    ContestDate,
    RaceEdit,
    RaceInput,
    add_candidate,
    add_race,
    edit_candidate,
    edit_race,
    merge_candidates,
)
from db.writes.results import CallInput, ResultInput, post_call, post_result, post_uncall
from render import announce
from render import desk as replies

log = logging.getLogger("racedesk.desk")

EXAMPLES = {
    "result": "result alabama general Tuberville=1392100 Jones=920500 reporting=100% source=AP",
    "call": "call alabama general Tuberville source=AP",
    "uncall": "uncall alabama general",
    "poll": 'poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" '
    "Tuberville=43.9 Jones=35.5 n=558 pop=rv",
    "endorse": 'endorse alabama endorser="Donald Trump" candidate=Tuberville kind=president date="March 10"',
    "race-add": 'race-add alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
    "race-edit": 'race-edit alabama 2026 notes="Open seat" runoff="June 16"',
    "candidate-add": 'candidate-add alabama general name="Doug Jones" party=DEM',
    "candidate-edit": 'candidate-edit alabama candidate=Jones alias="Gordon Douglas Jones"',
    "candidate-merge": 'candidate-merge alabama from="Roy Moore" into="Roy S. Moore"',
}
DETAILS = "the race, the stage and key=value pairs; see help"


def _example(ctx: RaceContext, name: str) -> str:
    return ctx.shown_prefix + EXAMPLES[name]


async def _view(session: AsyncSession, race_id: int, contest_id: int) -> ContestView | None:
    views = await contest_views(session, race_id)
    return next((v for v in views if v.contest.id == contest_id), None)


class DeskCog(commands.Cog, name="Desk"):
    """Write commands for the election desk: moderators of desk servers and the bot's owners."""

    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot

    def _note(self, race: Race | None) -> str | None:
        return announce.follower_note(race, self.bot.settings.prefix)

    async def _race(self, ctx: RaceContext, query: str, command: str) -> Race:
        return await resolve_race(ctx, query, command)

    # ------------------------------------------------------------------ results and calls

    @hybrid_command(
        brief="Post a new count of a stage; the reply shows the change since the previous count.",
        name="result",
        usage="<race> [stage] Name=votes ... [reporting=%] [source=...]",
    )
    @desk_writer()
    @app_commands.describe(details="e.g. alabama general Tuberville=1392100 Jones=920500 reporting=100%")
    async def result(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Post a new count of a stage; the reply shows the change since the previous count. Example: !result alabama general Tuberville=1392100 Jones=920500 reporting=100% source=AP"""
        ex = _example(ctx, "result")
        try:
            form = parsing.parse_result(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "result")
        data = ResultInput(
            race_id=race.id,
            stage=form.stage,
            counts=form.counts,
            other=form.other,
            reporting_pct=form.reporting,
            precincts=form.precincts,
            source=form.source,
            final=form.final,
            official=form.official,
        )
        actor = ctx.actor

        async def work(session: AsyncSession) -> tuple[Any, outbox.Enqueued]:
            outcome = await post_result(session, actor, data)
            embed = announce.result_embed(outcome)
            queued = await outbox.enqueue(
                session,
                audit_id=outcome.audit.id,
                race_id=race.id,
                body=announce.body(embed, dm_content=self._note(race)),
            )
            return outcome, queued

        outcome, queued = await store(ctx, work)
        await reply(
            ctx,
            replies.result_stored(outcome, queued, ctx.shown_prefix),
            embed=announce.result_embed(outcome),
        )

    @hybrid_command(
        brief="Call a stage: its winner, the two who go to a runoff, or too close to call.",
        name="call",
        usage="<race> [stage] <winner> | [stage] runoff <A> <B> | [stage] too close",
    )
    @desk_writer()
    @app_commands.describe(details="e.g. alabama general Tuberville source=AP")
    async def call(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Call a stage: its winner, the two who go to a runoff, or too close to call. Example: !call alabama general Tuberville source=AP"""
        ex = _example(ctx, "call")
        try:
            form = parsing.parse_call(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "call")
        data = CallInput(race.id, form.stage, form.kind, form.names, form.source)
        actor = ctx.actor

        async def work(session: AsyncSession) -> tuple[Any, outbox.Enqueued, Any]:
            outcome = await post_call(session, actor, data)
            embed = announce.call_embed(outcome, await _view(session, race.id, outcome.contest.id))
            queued = await outbox.enqueue(
                session,
                audit_id=outcome.audit.id,
                race_id=race.id,
                body=announce.body(embed, dm_content=self._note(race)),
                ping=True,
            )
            return outcome, queued, embed

        outcome, queued, embed = await store(ctx, work)
        await reply(ctx, replies.call_stored(outcome, queued, ctx.shown_prefix), embed=embed)

    @hybrid_command(
        brief="Withdraw the call of a stage: it is uncalled again, and everyone is told.",
        name="uncall",
        usage="<race> [stage] [source=...]",
    )
    @desk_writer()
    @app_commands.describe(details="e.g. alabama general")
    async def uncall(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Withdraw the call of a stage: it is uncalled again, and everyone is told. Example: !uncall alabama general"""
        ex = _example(ctx, "uncall")
        try:
            form = parsing.parse_uncall(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "uncall")
        actor = ctx.actor

        async def work(session: AsyncSession) -> tuple[Any, outbox.Enqueued, Any]:
            outcome = await post_uncall(session, actor, race.id, form.stage, form.source)
            embed = announce.uncall_embed(outcome, await _view(session, race.id, outcome.contest.id))
            queued = await outbox.enqueue(
                session,
                audit_id=outcome.audit.id,
                race_id=race.id,
                body=announce.body(embed, dm_content=self._note(race)),
                ping=True,
            )
            return outcome, queued, embed

        outcome, queued, embed = await store(ctx, work)
        await reply(ctx, replies.uncall_stored(outcome, queued, ctx.shown_prefix), embed=embed)

    # ------------------------------------------------------------------ polls

    @hybrid_group(
        brief="Add a poll, or remove one by its id.",
        name="poll",
        usage="add <race> ... | remove <id>",
        invoke_without_command=True,
    )
    @desk_writer()
    async def poll(self, ctx: RaceContext) -> None:
        """Add a poll, or remove one by its id. Example: !poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv"""
        prefix = ctx.shown_prefix
        raise UsageError(
            "Add a poll or remove one.", f"{prefix}{EXAMPLES['poll']}` or `{prefix}poll remove 12"
        )

    @hybrid_subcommand(
        poll,
        brief="Add a poll: pollster, fielded dates, each candidate's share; the sample and population if known.",
        name="add",
        usage='<race> [stage] pollster="..." dates="..." Name=share ... [n=] [pop=] [hypothetical]',
    )
    @desk_writer()
    @app_commands.describe(
        details='e.g. alabama pollster="AUM" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv'
    )
    async def poll_add(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Add a poll: pollster, fielded dates, each candidate's share; the sample and population if known. Example: !poll add alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5 n=558 pop=rv"""
        ex = _example(ctx, "poll")
        try:
            form = parsing.parse_poll(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "poll add")
        try:
            start, end = form.fielded(race.cycle, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        assert form.pollster is not None
        data = PollInput(
            race_id=race.id,
            pollster=form.pollster,
            end=end,
            start=start,
            answers=form.answers,
            sample_size=form.sample_size,
            population=form.population,
            sponsor=form.sponsor,
            url=form.url,
            hypothetical=form.hypothetical,
            stage=form.stage,
            partisan=form.partisan,
            internal=form.internal,
        )
        actor = ctx.actor

        async def work(session: AsyncSession) -> tuple[Any, outbox.Enqueued, Any]:
            outcome = await add_poll(session, actor, data)
            embed = announce.poll_embed(outcome.race, outcome.poll, outcome.contest, outcome.answers)
            queued = await outbox.enqueue(
                session,
                audit_id=outcome.audit.id,
                race_id=race.id,
                body=announce.body(embed, dm_content=self._note(race)),
            )
            return outcome, queued, embed

        outcome, queued, embed = await store(ctx, work)
        await reply(ctx, replies.poll_stored(outcome, queued, ctx.shown_prefix), embed=embed)

    @hybrid_subcommand(
        poll,
        brief="Remove a poll by its id; if it was announced, a correction follows.",
        name="remove",
        usage="<poll id>",
    )
    @desk_writer()
    @app_commands.describe(poll_id="The poll's id, as its reply or the race card shows it")
    async def poll_remove(self, ctx: RaceContext, poll_id: int) -> None:
        """Remove a poll by its id; if it was announced, a correction follows. Example: !poll remove 12"""
        actor = ctx.actor

        async def work(session: AsyncSession) -> tuple[Any, outbox.Correction | None]:
            removed = await remove_poll(session, actor, poll_id)
            correction = None
            if removed.added_audit_id is not None:
                text = announce.withdrawn_poll_text(
                    removed.record["pollster"], _date(removed.record["end_date"])
                )
                embed = announce.correction_embed(removed.race, None, text)
                correction = await outbox.correct(
                    session,
                    original_audit_id=removed.added_audit_id,
                    audit_id=removed.audit.id,
                    race_id=removed.race.id if removed.race else None,
                    body=announce.body(embed, dm_content=self._note(removed.race)),
                )
            return removed, correction

        removed, correction = await store(ctx, work)
        await reply(ctx, replies.poll_removed(removed, correction, ctx.shown_prefix))

    # ------------------------------------------------------------------ endorsements

    @hybrid_command(
        brief="Store an endorsement (or an opposition, a refusal, a rescinded one).",
        name="endorse",
        usage='<race> endorser="..." candidate=<name> [stance=] [kind=] [date=] [url=]',
    )
    @desk_writer()
    @app_commands.describe(details='e.g. alabama endorser="Donald Trump" candidate=Tuberville kind=president')
    async def endorse(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Store an endorsement (or an opposition, a refusal, a rescinded one). Example: !endorse alabama endorser="Donald Trump" candidate=Tuberville kind=president date="March 10\""""
        ex = _example(ctx, "endorse")
        try:
            form = parsing.parse_endorse(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "endorse")
        try:
            when = parsing.date(form.date, race.cycle, ex) if form.date else None
        except parsing.ParseError as problem:
            raise usage(problem) from None
        data = EndorsementInput(
            race_id=race.id,
            endorser=form.endorser,
            candidate=form.candidate,
            stance=form.stance,
            kind=form.kind,
            date=when,
            url=form.url,
            source=form.source,
            quote=form.quote,
        )
        actor = ctx.actor
        outcome = await store(ctx, lambda session: add_endorsement(session, actor, data))
        await reply(ctx, replies.endorsement_stored(outcome, ctx.shown_prefix))

    @hybrid_group(
        brief="Remove an endorsement by its id.",
        name="endorsement",
        usage="remove <id>",
        invoke_without_command=True,
    )
    @desk_writer()
    async def endorsement(self, ctx: RaceContext) -> None:
        """Remove an endorsement by its id. Example: !endorsement remove 5"""
        raise UsageError("Say which endorsement to remove.", f"{ctx.shown_prefix}endorsement remove 5")

    @hybrid_subcommand(
        endorsement, brief="Remove an endorsement by its id.", name="remove", usage="<endorsement id>"
    )
    @desk_writer()
    @app_commands.describe(endorsement_id="The endorsement's id, as its reply showed it")
    async def endorsement_remove(self, ctx: RaceContext, endorsement_id: int) -> None:
        """Remove an endorsement by its id. Example: !endorsement remove 5"""
        actor = ctx.actor
        removed = await store(ctx, lambda session: remove_endorsement(session, actor, endorsement_id))
        await reply(ctx, replies.endorsement_removed(removed, ctx.shown_prefix))

    # ------------------------------------------------------------------ races and candidates

    @hybrid_command(
        brief="Add a race with its stages' dates.",
        name="race-add",
        aliases=["raceadd", "addrace"],
        usage="<state> <office> <year> [district] [special] [seat=] [general=date] [rep-primary=date] ...",
    )
    @desk_writer()
    @app_commands.describe(
        details='e.g. alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"'
    )
    async def race_add(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Add a race with its stages' dates. Example: !race-add alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19\""""
        ex = _example(ctx, "race-add")
        try:
            form = parsing.parse_race(details, ex, editing=False)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        query = parse_query(" ".join(form.words))
        missing = [
            what
            for what, value in (
                ("a state", query.state),
                ("an office", query.office),
                ("a year", query.cycle),
            )
            if not value
        ]
        if missing:
            raise UsageError(f"A new race needs {', '.join(missing)}.", ex)
        assert query.state and query.office and query.cycle
        try:
            contests = [
                ContestDate(stage, party, parsing.date(day, query.cycle, ex) if day else None)
                for stage, party, day in form.contests
            ]
        except parsing.ParseError as problem:
            raise usage(problem) from None
        data = RaceInput(
            state=query.state,
            office=query.office,
            cycle=query.cycle,
            seat=query.district or form.fields.get("seat", ""),
            special=bool(query.special),
            incumbent_party=form.fields.get("incumbent_party"),
            notes=form.fields.get("notes"),
            source=form.fields.get("source"),
            contests=contests,
        )
        actor = ctx.actor
        outcome = await store(ctx, lambda session: add_race(session, actor, data))
        await reply(ctx, replies.race_stored(outcome, ctx.shown_prefix, added=True))

    @hybrid_command(
        brief="Correct a race: notes, source, seat, incumbent, or a stage's date (a new stage is added).",
        name="race-edit",
        aliases=["raceedit", "editrace"],
        usage="<race> [notes=] [source=] [seat=] [incumbent=] [general=date] ...",
    )
    @desk_writer()
    @app_commands.describe(details='e.g. alabama 2026 notes="Open seat" runoff="June 16"')
    async def race_edit(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Correct a race: notes, source, seat, incumbent, or a stage's date (a new stage is added). Example: !race-edit alabama 2026 notes="Open seat" runoff="June 16\""""
        ex = _example(ctx, "race-edit")
        try:
            form = parsing.parse_race(details, ex, editing=True)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, " ".join(form.words), "race-edit")
        try:
            contests = [
                ContestDate(stage, party, parsing.date(day, race.cycle, ex) if day else None)
                for stage, party, day in form.contests
            ]
        except parsing.ParseError as problem:
            raise usage(problem) from None
        data = RaceEdit(race.id, dict(form.fields), contests, form.incumbent)
        actor = ctx.actor
        outcome = await store(ctx, lambda session: edit_race(session, actor, data))
        await reply(ctx, replies.race_stored(outcome, ctx.shown_prefix, added=False))

    @hybrid_command(
        brief="Put a person on a stage's ballot (an existing person is reused).",
        name="candidate-add",
        aliases=["candidateadd"],
        usage='<race> [stage] name="..." [party=] [incumbent]',
    )
    @desk_writer()
    @app_commands.describe(details='e.g. alabama general name="Doug Jones" party=DEM')
    async def candidate_add(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Put a person on a stage's ballot (an existing person is reused). Example: !candidate-add alabama general name="Doug Jones" party=DEM"""
        ex = _example(ctx, "candidate-add")
        try:
            form = parsing.parse_candidate(
                details, ex, required=("name",), allowed=("name", "party", "incumbent")
            )
            incumbent = parsing.boolean(form.values.get("incumbent", "no"), "incumbent", ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "candidate-add")
        data = CandidateInput(race.id, form.stage, form.values["name"], form.values.get("party"), incumbent)
        actor = ctx.actor
        outcome = await store(ctx, lambda session: add_candidate(session, actor, data))
        await reply(ctx, replies.candidate_stored(outcome, ctx.shown_prefix))

    @hybrid_command(
        brief="Correct a candidate: name, party, another spelling, withdrawn, incumbent.",
        name="candidate-edit",
        aliases=["candidateedit"],
        usage="<race> [stage] candidate=<who> [name=] [party=] [alias=] [withdrawn=yes|no] [incumbent=yes|no]",
    )
    @desk_writer()
    @app_commands.describe(details='e.g. alabama candidate=Jones alias="Gordon Douglas Jones"')
    async def candidate_edit(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Correct a candidate: name, party, another spelling, withdrawn, incumbent. Example: !candidate-edit alabama candidate=Jones alias="Gordon Douglas Jones\""""
        ex = _example(ctx, "candidate-edit")
        allowed = ("candidate", "name", "party", "alias", "withdrawn", "incumbent", "office_held")
        try:
            form = parsing.parse_candidate(details, ex, required=("candidate",), allowed=allowed)
            values = form.values
            withdrawn = (
                parsing.boolean(values["withdrawn"], "withdrawn", ex) if "withdrawn" in values else None
            )
            incumbent = (
                parsing.boolean(values["incumbent"], "incumbent", ex) if "incumbent" in values else None
            )
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, form.race, "candidate-edit")
        data = CandidateEdit(
            race_id=race.id,
            candidate=values["candidate"],
            stage=form.stage,
            name=values.get("name"),
            party=values.get("party"),
            alias=values.get("alias"),
            withdrawn=withdrawn,
            incumbent=incumbent,
            office_held=values.get("office_held"),
        )
        actor = ctx.actor
        outcome = await store(ctx, lambda session: edit_candidate(session, actor, data))
        await reply(ctx, replies.candidate_changed(outcome, ctx.shown_prefix))

    @hybrid_command(
        brief="Two records are one person: move everything of one into the other.",
        name="candidate-merge",
        aliases=["candidatemerge"],
        usage='<race> from="<name or #id>" into="<name or #id>"',
    )
    @desk_writer()
    @app_commands.describe(details='e.g. alabama from="Roy Moore" into="Roy S. Moore"')
    async def candidate_merge(self, ctx: RaceContext, *, details: str | None = None) -> None:
        """Two records are one person: move everything of one into the other. Example: !candidate-merge alabama from="Roy Moore" into="Roy S. Moore\""""
        ex = _example(ctx, "candidate-merge")
        try:
            race_text, merged_name, into_name = parsing.parse_merge(details, ex)
        except parsing.ParseError as problem:
            raise usage(problem) from None
        race = await self._race(ctx, race_text, "candidate-merge")
        actor = ctx.actor
        outcome = await store(
            ctx, lambda session: merge_candidates(session, actor, race.id, merged_name, into_name)
        )
        await reply(ctx, replies.merged(outcome, ctx.shown_prefix))


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _claim_names(bot: RaceBot, cog: commands.Cog) -> None:
    """The desk's command names (issue 4 names them) win over another command's alias of the same word."""
    for command in cog.get_commands():
        for name in (command.name, *command.aliases):
            taken = bot.all_commands.get(name)
            if taken is not None and taken.name != name:
                log.info("the desk's command %r replaces an alias of %r", name, taken.qualified_name)
                bot.remove_command(name)  # only the alias: the other command stays
                taken.aliases = [a for a in taken.aliases if a != name]


async def setup(bot: RaceBot) -> None:
    cog = DeskCog(bot)
    _claim_names(bot, cog)
    await bot.add_cog(cog)

"""A desk action, declared once, and the one runner that executes any of them.

An action holds what a moderator types (its example: help, usage and error replies read it there), how that
is read (the parse, straight to the write's input), the write, what is announced and whether it pings, and
the reply (render/desk.py). `run` does the rest, the same for every action: wrong input becomes a usage reply
with the example; the race is found with the same lookup as `!race`; the write and its announcement go in one
transaction; the reply says what was stored, its id, how to undo it and who is told.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.desk._parsing import Draft, record_id
from cogs.support.checks import desk_writer
from cogs.support.common import hybrid_command, hybrid_subcommand, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.writing import commit
from db import outbox
from db.audit import Actor
from db.models import AuditEntry, Race
from render import announce
from render import desk as replies

if TYPE_CHECKING:
    from bot import RaceBot


class Written(Protocol):
    """What every write hands back: at least its audit entry."""

    @property
    def audit(self) -> AuditEntry: ...


In = TypeVar("In")
Out = TypeVar("Out", bound=Written)


@dataclass(frozen=True)
class News:
    """What a write announces: the embed, the race it is about, and the write whose announcement it corrects
    (an audit id), if it is a correction."""

    embed: discord.Embed
    race: Race | None
    corrects: int | None = None


@dataclass(frozen=True)
class Sent:
    """What a write announced: the embed (the reply shows it too), where it was queued, or the correction."""

    embed: discord.Embed | None = None
    queued: outbox.Enqueued | None = None
    correction: outbox.Correction | None = None


@dataclass(frozen=True)
class Steps(Generic[In, Out]):
    """How the runner carries out a desk action."""

    parse: Callable[[str | None, str], Draft[In] | In] | None  # (typed, example); None: an id, no parse
    write: Callable[[AsyncSession, Actor, In], Awaitable[Out]]  # a db/writes function
    reply: Callable[[Out, str], str]  # (outcome, prefix shown) -> what was stored, its id, how to undo it
    announce: Callable[[AsyncSession, Out], Awaitable[News | None]] | None = None  # None: nothing is told
    ping: bool = False  # the announcement pings where a server chose a ping role


@dataclass(frozen=True)
class DeskAction(Generic[In, Out]):
    """One desk write command, declared once; `run` executes any of them."""

    name: str  # the command's full name, e.g. "poll add"
    aliases: str  # other names, space-separated
    help: str  # what it does: the summary in help and the slash command's description
    example: str  # what a moderator types, without the prefix: help, usage and error replies show it
    usage: str
    details: str  # the slash option's description
    steps: Steps[In, Out]

    def command_attrs(self) -> dict[str, Any]:
        """How Discord registers it: name, aliases, help and usage; the example goes in `extras`."""
        return {
            "name": self.name.split()[-1],
            "aliases": self.aliases.split(),
            "help": self.help,
            "usage": self.usage,
            "extras": {"example": self.example},
        }


async def run(ctx: RaceContext, action: DeskAction[In, Out], details: str | None) -> None:
    """Read what was typed, find its race, then `write` it."""
    parse = action.steps.parse
    assert parse is not None
    # Wrong input raises UsageError (with this example), which the error cog turns into the reply.
    draft = parse(details, ctx.shown_prefix + action.example)
    data = draft.make(await resolve_race(ctx, draft.race, action.name)) if isinstance(draft, Draft) else draft
    await write(ctx, action, sent_by(ctx, data))


def sent_by(ctx: RaceContext, data: In) -> In:
    """A write ordered by the message that sent it (an input with `sent_id`, e.g. a count) gets that message's
    id and time: the interaction's for a slash command. Discord's ids grow in the order sent, so a race's
    counts keep that order however the messages arrive."""
    if not (dataclasses.is_dataclass(data) and "sent_id" in {f.name for f in dataclasses.fields(data)}):
        return data
    sent_id = ctx.interaction.id if ctx.interaction is not None else ctx.message.id
    changed: In = dataclasses.replace(data, sent_id=sent_id, sent_at=discord.utils.snowflake_time(sent_id))  # type: ignore[type-var]
    return changed


async def write_by_id(ctx: RaceContext, action: DeskAction[int, Out], record: int) -> None:
    """An action on one record named by its id (`poll remove 12`): an id no record can have is refused."""
    noun = action.name.split()[0]
    await write(ctx, action, record_id(record, noun, ctx.shown_prefix + action.example))


async def write(ctx: RaceContext, action: DeskAction[In, Out], data: In) -> None:
    """The write and its announcement in one transaction, then the reply."""
    text, embed = await carry_out(ctx.bot, ctx.actor, action.steps, data, ctx.shown_prefix)
    await reply(ctx, text, embed=embed)


async def carry_out(
    bot: RaceBot, actor: Actor, steps: Steps[In, Out], data: In, shown_prefix: str
) -> tuple[str, discord.Embed | None]:
    """The write and its announcement in one transaction (a refusal raises UserFacingError); the reply's text
    and embed. A command runs it through `write`; a button that confirms a desk action calls it directly."""
    bot_prefix = bot.settings.prefix

    async def work(session: AsyncSession) -> tuple[Out, Sent]:
        outcome = await steps.write(session, actor, data)
        news = await steps.announce(session, outcome) if steps.announce else None
        return outcome, await queue_news(session, news, outcome.audit.id, steps.ping, bot_prefix)

    outcome, sent = await commit(bot, work)
    told = replies.told(sent.queued, sent.correction)
    return steps.reply(outcome, shown_prefix) + (f"\n{told}" if told else ""), sent.embed


async def queue_news(
    session: AsyncSession, news: News | None, audit_id: int, ping: bool, bot_prefix: str
) -> Sent:
    """Queue the news in every results channel and to the race's followers, or the correction where the
    original went."""
    if news is None:
        return Sent()
    body = announce.body(news.embed, dm_content=announce.follower_note(news.race, bot_prefix))
    race_id = news.race.id if news.race else None
    if news.corrects is not None:
        correction = await outbox.correct(
            session, original_audit_id=news.corrects, audit_id=audit_id, race_id=race_id, body=body
        )
        return Sent(correction=correction)
    queued = await outbox.enqueue(session, audit_id=audit_id, race_id=race_id, body=body, ping=ping)
    return Sent(news.embed, queued)


def desk_command(
    action: DeskAction[Any, Any], group: commands.HybridGroup[Any, ..., None] | None = None
) -> commands.HybridCommand[Any, ..., None]:
    """The hybrid command (prefix and slash) that runs `action` on what follows its name; desk writers only."""

    async def callback(cog: commands.Cog, ctx: RaceContext, *, details: str | None = None) -> None:
        await run(ctx, action, details)

    # discord.py passes the cog first to a callback it sees defined in a class, which it reads from the name.
    callback.__qualname__ = f"DeskCog.{action.name.replace(' ', '_').replace('-', '_')}"
    described = app_commands.describe(details=action.details)(callback)
    checked = desk_writer()(described)
    if group is None:
        return hybrid_command(**action.command_attrs())(checked)
    return hybrid_subcommand(group, **action.command_attrs())(checked)

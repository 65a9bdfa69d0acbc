"""Results feeds on election night: the desk attaches a race's stage to an official feed (`feed add`), and
the poller keeps its count current.

- `feed add <race> [stage] url=... [contest=...] [every=30s] [mode=auto|review]` fetches the URL once and
  shows what it found (the contest, each choice matched to a candidate, the count); the feed starts only
  when a desk member presses Start (the desk permission is checked again at the click).
- The poller (started in cog_load, stopped in cog_unload) polls each active feed at its interval with
  jitter, conditionally (ETag/Last-Modified), with a timeout; parses off the event loop; backs off on errors
  and tells the desk once when a feed keeps failing. A changed count is stored with the same write as
  `!result` (db/writes/feeds.py → post_result), audited and announced; a doubtful one is held for the desk
  (`feed approve` / `feed skip`). A feed never calls a race: the desk gets a nudge when it may be callable.
Parsing and judging readings live in db/feeds (no Discord there).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import re
import socket
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, cast

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot import RaceBot
from cogs.desk import ACTIONS
from cogs.desk._action import DeskAction, News, Steps, carry_out, queue_news, write_by_id
from cogs.desk._parsing import race_and_stage, split_pairs, url_value
from cogs.support.checks import can_write_shared, desk_writer
from cogs.support.common import hybrid_group, hybrid_subcommand, reply, resolve_race
from cogs.support.context import RaceContext
from cogs.support.errors import UsageError, UserFacingError
from cogs.support.writing import refusal
from db.audit import Actor
from db.feeds.fetch import FetchFailed, UrlRefused, check_url, fetch, session_for
from db.feeds.formats import FeedError, FeedReading, read_feed
from db.writes import WriteError
from db.writes.feeds import (
    FeedInput,
    Fetched,
    PolledFeed,
    Reading,
    add_feed,
    approve_held,
    call_draft,
    call_uncalled,
    claim_feeds,
    fetch_failed,
    note_fetches,
    nothing_new,
    pause_feed,
    preview_feed,
    release,
    remove_feed,
    resume_feed,
    skip_held,
    take_reading,
)
from db.writes.results import CallInput, ResultOutcome
from render import announce
from render import feeds as replies

log = logging.getLogger("racedesk.feeds")

ADD_EXAMPLE = "feed add florida 2012 general url=https://results.example.org/fl.json contest=10005 every=30s"
REPORT_AFTER = 3  # failed fetches in a row before the desk is told (once)
MAX_BACKOFF = 600.0
REREAD = 10.0  # seconds between reads of the feed list (sooner when a desk command wakes the poller)
PARALLEL = 16  # feeds fetched at once
PARSING = 2  # files parsed at once, off the event loop (more would only take the GIL from it)
PARSED_KEPT = 8  # files whose reading is kept, by hash, for other feeds fetching the same file
START = "racedesk:feed:start"
APPROVE = "racedesk:feed:approve"
SKIP = "racedesk:feed:skip"
CALL = "racedesk:feed:call"
CALL_CONFIRM = "racedesk:feed:call:confirm"
CALL_CANCEL = "racedesk:feed:call:cancel"
CONFIRM_SECONDS = 600.0
NUDGE_SECONDS = 6 * 3600.0  # the Call button under a nudge works for an election night
FETCH_TIMEOUT = 15.0
CALL_ACTION = ACTIONS["call"]


def _seconds(value: str, example: str) -> int:
    match = re.fullmatch(r"(\d{1,5})\s*(s|sec|secs|seconds?|m|min|mins|minutes?)?", value.strip().lower())
    if not match:
        raise UsageError(f"every={value}: say how often, e.g. `every=30s` or `every=2m`.", example)
    n = int(match.group(1))
    return n * 60 if (match.group(2) or "s").startswith("m") else n


@dataclass
class FeedRequest:
    race: str
    input: FeedInput


def parse_feed_add(text: str | None, example: str) -> FeedRequest:
    parsed = split_pairs(text, example)
    found = race_and_stage(parsed.words)
    if not found.race.strip():
        raise UsageError("Which race? Name it first, then `url=`.", example)
    if found.rest:
        raise UsageError(
            f"I don't know what '{' '.join(found.rest)}' means. Name values as `key=value`.", example
        )
    url, contest, interval, mode = None, None, 30, "auto"
    for key, value in parsed.pairs:
        low = key.lower()
        if low == "url":
            url = url_value(value, example)
        elif low == "contest":
            contest = value.strip() or None
        elif low in ("every", "interval"):
            interval = _seconds(value, example)
        elif low == "mode":
            mode = value.strip().lower()
            if mode not in ("auto", "review"):
                raise UsageError(f"mode={value}: a feed's mode is `auto` or `review`.", example)
        else:
            raise UsageError(f"There is no key '{key}'. Keys: `url`, `contest`, `every`, `mode`.", example)
    if url is None:
        raise UsageError("Give the feed's address with `url=`.", example)
    stub = FeedReading("", ())
    return FeedRequest(found.race, FeedInput(0, found.stage, url, stub, contest, interval, mode))


# ------------------------------------------------------------------ pause, resume, remove, skip: desk actions

FEED_ACTIONS: dict[str, DeskAction[Any, Any]] = {
    action.name: action
    for action in (
        DeskAction(
            "feed pause",
            "",
            "Pause a results feed (it is no longer polled).",
            "feed pause 3",
            "<feed id>",
            "The feed's id, as feed list shows it",
            Steps(None, pause_feed, replies.state_changed),
        ),
        DeskAction(
            "feed resume",
            "",
            "Poll a paused, failing or held feed again (a held reading is dropped).",
            "feed resume 3",
            "<feed id>",
            "The feed's id, as feed list shows it",
            Steps(None, resume_feed, replies.state_changed),
        ),
        DeskAction(
            "feed remove",
            "",
            "Detach a results feed from its race.",
            "feed remove 3",
            "<feed id>",
            "The feed's id, as feed list shows it",
            Steps(None, remove_feed, replies.state_changed),
        ),
        DeskAction(
            "feed skip",
            "",
            "Skip a held reading: nothing is stored, the feed is polled again.",
            "feed skip 3",
            "<feed id>",
            "The feed's id, as feed list shows it",
            Steps(None, skip_held, replies.state_changed),
        ),
    )
}


def by_id(group: Any, name: str) -> Any:
    """The hybrid subcommand that runs the feed action `name` on a feed's id (desk writers only)."""
    action = FEED_ACTIONS[name]

    async def callback(cog: FeedsCog, ctx: RaceContext, feed_id: int) -> None:
        await write_by_id(ctx, action, feed_id)
        cog.wake()

    # discord.py passes the cog first to a callback it sees defined in a class, which it reads from the name.
    callback.__qualname__ = f"FeedsCog.{name.replace(' ', '_')}"
    described = app_commands.describe(feed_id=action.details)(callback)
    return hybrid_subcommand(group, **action.command_attrs())(desk_writer()(described))


class ClickContext:
    """What the desk-permission check reads (bot, author, guild), for a button click."""

    def __init__(self, bot: RaceBot, interaction: discord.Interaction[Any]) -> None:
        self.bot, self.author, self.guild = bot, interaction.user, interaction.guild


class DeskButtons(discord.ui.View):
    """Buttons only the desk may press: the permission is checked again at each click."""

    def __init__(self, cog: FeedsCog, prefix: str) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.cog, self.prefix = cog, prefix

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            return await can_write_shared(cast(RaceContext, ClickContext(self.cog.bot, interaction)))
        except commands.CheckFailure as refused:
            await interaction.response.send_message(str(refused), ephemeral=True)
            return False

    @staticmethod
    def actor(interaction: discord.Interaction[Any]) -> Actor:
        return Actor(interaction.user.id, str(interaction.user), interaction.guild_id)

    async def done(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Take the buttons away and say what the click did."""
        self.stop()
        await interaction.response.edit_message(view=None)
        await interaction.followup.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        self.cog.wake()


class StartFeed(DeskButtons):
    """The Start button under a feed check: attaches the feed when a desk member presses it."""

    def __init__(self, cog: FeedsCog, data: FeedInput, prefix: str) -> None:
        super().__init__(cog, prefix)
        self.data = data

    @discord.ui.button(label="Start feed", style=discord.ButtonStyle.primary, custom_id=START)
    async def start(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        actor = self.actor(interaction)
        try:
            outcome = await self.cog.bot.store.write(lambda s: add_feed(s, actor, self.data))
        except WriteError as problem:
            await interaction.response.send_message(replies.not_started(str(refusal(problem))))
            return
        await self.done(interaction, replies.added(outcome, self.prefix))


class HeldReading(DeskButtons):
    """Approve and Skip under a held reading's notice in the desk channel."""

    def __init__(self, cog: FeedsCog, feed_id: int, prefix: str) -> None:
        super().__init__(cog, prefix)
        self.feed_id = feed_id

    @discord.ui.button(label="Approve", style=discord.ButtonStyle.success, custom_id=APPROVE)
    async def approve(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        try:
            result = await self.cog.approve(self.actor(interaction), self.feed_id)
        except UserFacingError as refused:
            await self.done(interaction, str(refused))
            return
        await self.done(interaction, replies.stored_by_feed(result, self.prefix))
        await self.cog._after(result)

    @discord.ui.button(label="Skip", style=discord.ButtonStyle.secondary, custom_id=SKIP)
    async def skip(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        actor = self.actor(interaction)
        try:
            outcome = await self.cog.bot.store.write(lambda s: skip_held(s, actor, self.feed_id))
        except WriteError as problem:
            await self.done(interaction, str(refusal(problem)))
            return
        await self.done(interaction, replies.state_changed(outcome, self.prefix))


class CallNudge(DeskButtons):
    """The Call button under a nudge: proposes the desk's `call` of the stage's leader, to confirm. A feed
    never calls a race; a desk member does, through the same write as the `call` command."""

    def __init__(self, cog: FeedsCog, feed_id: int, prefix: str) -> None:
        super().__init__(cog, prefix)
        self.timeout = NUDGE_SECONDS
        self.feed_id = feed_id

    @discord.ui.button(label="Call", style=discord.ButtonStyle.primary, custom_id=CALL)
    async def call(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        try:
            draft = await self.cog.bot.store.write(lambda s: call_draft(s, self.feed_id))
        except WriteError as problem:
            await interaction.response.send_message(str(refusal(problem)))
            return
        if draft.called:
            await interaction.response.send_message(replies.already_called(draft, self.prefix))
            return
        confirm = ConfirmCall(self.cog, draft.call(), self.prefix)
        await interaction.response.send_message(
            replies.call_preview(draft, self.prefix),
            view=confirm,
            allowed_mentions=discord.AllowedMentions.none(),
        )


class ConfirmCall(DeskButtons):
    """Confirm and Cancel under a proposed call: Confirm stores it as the desk's `call` command would."""

    def __init__(self, cog: FeedsCog, data: CallInput, prefix: str) -> None:
        super().__init__(cog, prefix)
        self.data = data

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success, custom_id=CALL_CONFIRM)
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        steps = replace(CALL_ACTION.steps, write=call_uncalled)  # the `call` action; refused if called since
        try:
            text, embed = await carry_out(
                self.cog.bot, self.actor(interaction), steps, self.data, self.prefix
            )
        except UserFacingError as refused:
            await self.done(interaction, str(refused))
            return
        self.stop()
        await interaction.response.edit_message(view=None)
        none = discord.AllowedMentions.none()
        if embed is None:
            await interaction.followup.send(text[:2000], allowed_mentions=none)
        else:
            await interaction.followup.send(text[:2000], embed=embed, allowed_mentions=none)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CALL_CANCEL)
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        await self.done(interaction, replies.call_cancelled())


class FeedsCog(commands.Cog, name="Feeds"):
    """Results feeds: the desk attaches official counts to a race, and the bot keeps them current."""

    time_scale = 1.0  # tests shrink every wait (intervals, backoff) by this factor

    def __init__(self, bot: RaceBot) -> None:
        self.bot = bot
        self.http: aiohttp.ClientSession | None = None
        self.due: dict[int, float] = {}  # feed id -> loop time of its next poll
        self.running: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.slots = asyncio.Semaphore(PARALLEL)
        self.owner = (
            f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process's leases
        )
        self.parsing = asyncio.Semaphore(PARSING)
        self.validators: dict[
            int, tuple[str | None, str | None]
        ] = {}  # feed id -> newest ETag, Last-Modified
        self.bodies: dict[int, bytes] = {}  # feed id -> hash of the file last read without a hold
        self.parsed: OrderedDict[bytes, asyncio.Task[FeedReading | FeedError]] = OrderedDict()
        self.noted: dict[int, Fetched] = {}  # fetches that brought nothing new, noted at the next tick

    async def cog_load(self) -> None:
        self.http = session_for(self.bot.settings.feed_hosts, FETCH_TIMEOUT)
        self.poller = asyncio.create_task(self._poll_forever(), name="feeds-poller")

    async def cog_unload(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.gather(
                *[t for t in (self.poller, *self.tasks) if t is not None], return_exceptions=True
            )
        if self.http is not None:
            await self.http.close()
        await self._note_fetches()
        try:
            await self.bot.store.write(lambda s: release(s, self.owner))
        except Exception:  # the leases run out by themselves
            log.warning("could not release the feeds' leases", exc_info=True)

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the poller

    async def _poll_forever(self) -> None:
        await self.bot.wait_until_ready()
        loop = asyncio.get_running_loop()
        feeds: list[PolledFeed] = []
        read_at = float("-inf")
        while True:
            if self._wake.is_set() or loop.time() - read_at >= REREAD * self.time_scale:
                self._wake.clear()
                read_at = loop.time()
                try:  # the list changes at the desk's commands (which wake the poller) or in another process
                    feeds = await self.bot.store.polled_feeds()
                except Exception:
                    log.exception("could not read the feeds")
            now = loop.time()
            live = {f.id for f in feeds}
            for gone in set(self.due) - live:
                del self.due[gone]
                self.validators.pop(gone, None)
                self.bodies.pop(gone, None)
            due = []
            for feed in feeds:
                # A new feed is polled soon (with jitter, so many feeds do not all fetch at once).
                when = self.due.setdefault(
                    feed.id, now + random.uniform(0, 0.1) * feed.interval * self.time_scale
                )
                if when <= now and feed.id not in self.running:
                    due.append(feed)
            for feed in await self._claim(due):
                self.running.add(feed.id)
                etag, last_modified = self.validators.get(feed.id, (feed.etag, feed.last_modified))
                task = asyncio.create_task(self._poll_one(feed, etag, last_modified))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            await self._note_fetches()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.01, self.time_scale))

    async def _claim(self, due: list[PolledFeed]) -> list[PolledFeed]:
        """The due feeds this process polls now: their leases taken or renewed in one write (of several bot
        processes on one database, exactly one polls each feed); the others are tried again an interval on."""
        if not due:
            return []
        by_lease: dict[float, list[int]] = {}
        for feed in due:  # to the next poll, and then some
            by_lease.setdefault(2 * feed.interval * self.time_scale + FETCH_TIMEOUT, []).append(feed.id)

        async def take(session: AsyncSession) -> set[int]:
            taken: set[int] = set()
            for seconds, ids in by_lease.items():
                taken |= await claim_feeds(session, ids, self.owner, seconds)
            return taken

        try:
            claimed = await self.bot.store.write(take)
        except Exception:
            log.exception("could not claim the feeds due")
            claimed = set()
        now = asyncio.get_running_loop().time()
        for feed in due:
            if feed.id not in claimed:  # another bot process polls it (or the database did not answer)
                self.due[feed.id] = now + feed.interval * random.uniform(0.9, 1.1) * self.time_scale
        return [feed for feed in due if feed.id in claimed]

    async def _note_fetches(self) -> None:
        """Note the fetches that brought nothing new since the last tick, in one write."""
        if not self.noted:
            return
        noted, self.noted = list(self.noted.values()), {}
        try:
            await self.bot.store.write(lambda s: note_fetches(s, noted))
        except Exception:
            log.exception("could not note %d feed fetches", len(noted))

    async def _poll_one(self, feed: PolledFeed, etag: str | None, last_modified: str | None) -> None:
        loop = asyncio.get_running_loop()
        delay = float(feed.interval)
        try:
            async with self.slots:
                delay = await self._poll(feed, etag, last_modified)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("feed #%s: the poll failed", feed.id)
        finally:
            self.running.discard(feed.id)
            jitter = random.uniform(0.9, 1.1)
            if feed.id in self.due:
                self.due[feed.id] = loop.time() + delay * jitter * self.time_scale

    async def _poll(self, feed: PolledFeed, etag: str | None, last_modified: str | None) -> float:
        """Fetch and judge one feed; the seconds until its next poll.

        What holds the event loop is kept small: a 304 or a file whose hash is the one last read is only
        noted (in one write per tick for every feed); a file is parsed once off the loop, however many
        feeds fetch it; a count already stored is recognised from a cached read before the write that
        takes a reading (locks, loads, audit) is run at all."""
        assert self.http is not None
        feed_id, interval, hosts = feed.id, feed.interval, self.bot.settings.feed_hosts
        try:
            fetched = await fetch(self.http, feed.url, hosts, etag=etag, last_modified=last_modified)
        except (FetchFailed, UrlRefused) as problem:
            why = str(problem)
            failed, tell = await self.bot.store.write(lambda s: fetch_failed(s, feed_id, why, REPORT_AFTER))
            if tell:
                await self._tell(failed.channel_id, replies.failing(failed, self.bot.settings.prefix))
            return min(MAX_BACKOFF, interval * 2 ** min(failed.failures, 6))
        if fetched.status == 304:
            self.noted[feed_id] = Fetched(feed_id, etag, last_modified)
            return interval
        self.validators[feed_id] = (fetched.etag, fetched.last_modified)
        digest = hashlib.blake2b(fetched.body, digest_size=16).digest()
        unchanged = Fetched(feed_id, fetched.etag, fetched.last_modified, read=True)
        if self.bodies.get(feed_id) == digest:  # the file last read, again (a server without validators)
            self.noted[feed_id] = unchanged
            return interval
        reading = await self._parse(fetched.body, digest)
        if isinstance(reading, FeedReading):
            basis = await self.bot.store.reading_basis(feed.race_id, feed.contest_id)
            if nothing_new(feed, reading, basis):
                self.bodies[feed_id] = digest
                self.noted[feed_id] = unchanged
                return interval
        self.noted.pop(feed_id, None)  # the reading's write notes the fetch itself
        result = await self.bot.store.write(
            lambda s: take_reading(
                s, feed_id, reading, self._announce, etag=fetched.etag, last_modified=fetched.last_modified
            )
        )
        if result.held or result.stopped:
            self.bodies.pop(feed_id, None)  # read afresh once the desk resumes it
            self.wake()  # no longer polled: read the list again before the next poll
        else:
            self.bodies[feed_id] = digest
        await self._after(result)
        return interval

    async def _parse(self, body: bytes, digest: bytes) -> FeedReading | FeedError:
        """The file read off the event loop, once: feeds fetching the same file (a national results file
        holds many races) share the reading of the few files seen last."""
        known = self.parsed.get(digest)
        if known is None:
            known = asyncio.create_task(self._parse_off_loop(body))
            self.tasks.add(known)  # type: ignore[arg-type]
            known.add_done_callback(self.tasks.discard)
            self.parsed[digest] = known
            while len(self.parsed) > PARSED_KEPT:
                self.parsed.popitem(last=False)
        else:
            self.parsed.move_to_end(digest)
        return await asyncio.shield(known)

    async def _parse_off_loop(self, body: bytes) -> FeedReading | FeedError:
        async with self.parsing:
            try:
                return await asyncio.to_thread(read_feed, body)
            except FeedError as unreadable:
                return unreadable

    async def _announce(self, session: AsyncSession, outcome: ResultOutcome) -> Any:
        news = News(announce.result_embed(outcome), outcome.race)
        sent = await queue_news(session, news, outcome.audit.id, False, self.bot.settings.prefix)
        return sent.queued

    async def _after(self, result: Reading) -> None:
        """Nudge the announcer after a stored count; tell the desk what it must know."""
        prefix, channel = self.bot.settings.prefix, result.feed.channel_id
        if result.stored is not None:
            announcer = self.bot.get_cog("Announcer")
            if announcer is not None:
                announcer.poke()  # type: ignore[attr-defined]
        if result.held:
            buttons = (
                HeldReading(self, result.feed.id, prefix)
                if result.feed.held and result.feed.held.get("counts")
                else None
            )
            await self._tell(channel, replies.held(result, prefix), buttons)
        if result.stopped:
            await self._tell(channel, replies.stopped(result, prefix))
        if result.nudge:
            await self._tell(channel, replies.nudge(result, prefix), CallNudge(self, result.feed.id, prefix))

    async def _tell(self, channel_id: int | None, text: str, view: discord.ui.View | None = None) -> None:
        if channel_id is None:
            log.warning("feed notice with no desk channel: %s", text)
            return
        try:
            channel = self.bot.get_partial_messageable(channel_id)
            none = discord.AllowedMentions.none()
            if view is None:
                await channel.send(text[:2000], allowed_mentions=none)
            else:
                await channel.send(text[:2000], allowed_mentions=none, view=view)
        except discord.HTTPException:
            log.warning("could not tell the desk in channel %s", channel_id, exc_info=True)

    # ------------------------------------------------------------------ the commands

    @hybrid_group(
        name="feed",
        help="Results feeds: attach a race to an official feed; list, pause, resume, remove, approve, skip.",
        usage="add <race> [stage] url=... | list | pause <id> | resume <id> | remove <id> | approve <id> | skip <id>",
        extras={"example": ADD_EXAMPLE},
        invoke_without_command=True,
    )
    @desk_writer()
    async def feed(self, ctx: RaceContext) -> None:
        raise UsageError(
            "Say what to do with feeds: add, list, pause, resume, remove, approve or skip.",
            ctx.shown_prefix + ADD_EXAMPLE,
        )

    @hybrid_subcommand(
        feed,
        name="add",
        help="Check a results feed for a race's stage and show what it holds; Start attaches it.",
        usage="<race> [stage] url=... [contest=...] [every=30s] [mode=auto|review]",
        extras={"example": ADD_EXAMPLE},
    )
    @desk_writer()
    @app_commands.describe(
        details="e.g. florida 2012 general url=https://results.example.org/fl.json contest=10005"
    )
    async def feed_add(self, ctx: RaceContext, *, details: str | None = None) -> None:
        example = ctx.shown_prefix + ADD_EXAMPLE
        request = parse_feed_add(details, example)
        try:
            check_url(request.input.url, self.bot.settings.feed_hosts)
        except UrlRefused as refused:
            raise UserFacingError(str(refused)) from None
        race = await resolve_race(ctx, request.race, "feed add")
        await ctx.defer()
        assert self.http is not None
        try:
            fetched = await fetch(self.http, request.input.url, self.bot.settings.feed_hosts)
            reading = await asyncio.to_thread(read_feed, fetched.body)
        except (FetchFailed, UrlRefused, FeedError) as problem:
            raise UserFacingError(f"The feed could not be read: {problem}") from None
        data = request.input
        data.race_id, data.reading, data.channel_id = race.id, reading, ctx.channel.id
        try:
            found = await self.bot.store.write(lambda s: preview_feed(s, data))
        except WriteError as problem:
            raise refusal(problem) from None
        await reply(
            ctx,
            replies.preview(found, data.url, data.interval, data.mode),
            view=StartFeed(self, data, ctx.shown_prefix),
        )

    @hybrid_subcommand(
        feed,
        name="list",
        help="Every results feed: its race, URL, state, last fetch and change, errors.",
        usage="",
        extras={"example": "feed list"},
    )
    @desk_writer()
    async def feed_list(self, ctx: RaceContext) -> None:
        await reply(ctx, replies.listing(await self.bot.store.feeds(), ctx.shown_prefix))

    @hybrid_subcommand(
        feed,
        name="approve",
        help="Store a held reading as it was read; the feed is polled again.",
        usage="<feed id>",
        extras={"example": "feed approve 3"},
    )
    @desk_writer()
    @app_commands.describe(feed_id="The feed's id, as feed list shows it")
    async def feed_approve(self, ctx: RaceContext, feed_id: int) -> None:
        result = await self.approve(ctx.actor, feed_id)
        await reply(ctx, replies.stored_by_feed(result, ctx.shown_prefix))
        await self._after(result)

    async def approve(self, actor: Actor, feed_id: int) -> Reading:
        """Store a feed's held reading (a refusal as a UserFacingError) and poll the feed again."""
        try:
            result = await self.bot.store.write(lambda s: approve_held(s, actor, feed_id, self._announce))
        except WriteError as problem:
            raise refusal(problem) from None
        self.wake()
        return result

    feed_pause = by_id(feed, "feed pause")
    feed_resume = by_id(feed, "feed resume")
    feed_remove = by_id(feed, "feed remove")
    feed_skip = by_id(feed, "feed skip")


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(FeedsCog(bot))

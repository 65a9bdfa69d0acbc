"""The announcer: a background worker that delivers the outbox (db/outbox.py) to Discord.

- Started in cog_load, stopped in cog_unload; on stop it lets the sends in flight finish (for a few
  seconds) so their delivery is recorded, and leaves the rest pending for the next start.
- Delivers each server's results-channel message and each follower's DM, oldest first, one target's
  messages in order, several targets at once.
- Paces itself below Discord's global limit (50 requests a second) so that member commands keep their
  share; discord.py handles each route's bucket and any 429 it still gets.
- Retries 5xx, 429 and network errors with a growing backoff; drops for good, with a log line, what
  Discord refuses for good (403: closed DMs, no access; 404: deleted channel; other 4xx).
- Never delivers one twice: each row is recorded as sent within a fifth of a second of Discord's answer
  (several to one statement), and each carries a nonce derived from its unique key with
  `enforce_nonce`, so a send repeated after a crash between Discord's answer and the record returns the
  first message instead of posting again.
- Resumes after a restart: whatever is still pending is due at once, also what this machine's earlier
  run of the bot had claimed and not delivered (it died: its claims are released at start).
- Shares the outbox with the bot's other processes: each round claims the rows of this process's shards
  (db/outbox.py), read from discord.py's own `shard_count` and `shard_ids` (AutoShardedBot) or `shard_id`,
  and paces itself at its part of the bot's budget: budget × its shards ÷ shard_count.
- Clears, at start and every hour, the announcements done with whose write is older than OUTBOX_KEEP_DAYS
  (`outbox.purge`), so the outbox does not grow with every election night.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import uuid
from collections import OrderedDict
from typing import Any, Protocol

import aiohttp
import discord
from discord.ext import commands
from discord.http import handle_message_parameters

from bot import RaceBot
from db import outbox
from db.models import OutboxMessage

log = logging.getLogger("racedesk.announcer")

# The offline console runs the real bot against a stand-in for Discord: it must not deliver the store's
# announcements there, or a real bot sharing the database would never send them.
OFFLINE_TOKENS = frozenset({"offline-console"})
# A bot whose global limit Discord raised may send faster; the benchmark also uses it for an unpaced run.
RATE_ENV = "RACEDESK_ANNOUNCE_RATE"


def announce_rate(raw: str | None, default: float) -> float:
    if not raw:
        return default
    try:
        rate = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number of messages a second; using %g", RATE_ENV, raw, default)
        return default
    return rate if rate > 0 else default


def process_shards(bot: discord.Client) -> outbox.Shards:
    """The shards this process runs, from discord.py: `shard_count` None means one process for every server;
    an AutoShardedBot runs `shard_ids` (None: all of them), a plain Bot its one `shard_id`."""
    count = getattr(bot, "shard_count", None)
    if not count:
        return outbox.EVERY
    if isinstance(bot, discord.AutoShardedClient):
        ids = bot.shard_ids
    else:
        ids = None if bot.shard_id is None else [bot.shard_id]
    return outbox.Shards(count, frozenset(range(count) if ids is None else ids))


def claimer_id() -> str:
    """This process in the outbox's claims: machine, process id, and a token new at each start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def outlived(claimer: str, me: str) -> bool:
    """Whether `claimer` was a process on this machine that has ended: one whose id is gone, or an earlier
    run with this process's id (a container's first process always has the same one)."""
    host, _, rest = claimer.partition(":")
    pid_text = rest.partition(":")[0]
    my_host, my_pid, _ = me.split(":")
    if host != my_host or not pid_text.isdigit() or claimer == me:
        return False
    if pid_text == my_pid:
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, though not ours to signal
        return False
    return False


class Clock(Protocol):
    """Where the pacer reads the time and waits: the event loop's clock, or a test's fake one."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's monotonic clock and asyncio.sleep."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Pacer:
    """At most `rate` sends a second across every task that waits on it (no bursts)."""

    def __init__(self, rate: float, clock: Clock | None = None) -> None:
        self.rate = rate
        self.interval = 1.0 / rate
        self.clock: Clock = clock or LoopClock()
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = self.clock.now()
            self._next = max(self._next, now)
            delay = self._next - now
            self._next += self.interval
        if delay > 0:
            await self.clock.sleep(delay)


class Retry(Exception):
    def __init__(self, reason: str, at_least: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at_least = at_least


class Drop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnnouncerCog(commands.Cog, name="Announcer"):
    """Delivers announcements in the background. It has no commands."""

    rate = 30.0  # sends a second, all targets and all the bot's processes together: Discord allows 50
    # requests a second in all, and member commands need their share of that (a global 429 would stall every
    # reply); each process sends its shards' part of it
    lease = outbox.LEASE  # seconds a round's claim holds before another process may take its rows
    concurrency = 8  # targets served at once
    batch = 30  # rows read per round (about a second of sending: small rounds keep the event loop free)
    idle_poll = 1.0  # seconds between looks at the outbox when nobody pokes
    backoff_base = 1.0  # seconds before the first retry; doubles each time
    backoff_max = 300.0
    max_attempts = 12  # then the row is dropped, with a log line
    drain_timeout = 5.0  # on stop, how long sends in flight may take to finish
    mark_interval = 0.2  # seconds between recording deliveries
    mark_batch = 50  # or sooner, once this many are waiting
    # seconds between clearing the announcements kept long enough (the first: at start)
    purge_interval = 3_600.0

    def __init__(self, bot: RaceBot, clock: Clock | None = None) -> None:
        self.bot = bot
        self.budget = announce_rate(os.environ.get(RATE_ENV), self.rate)
        self.shards = process_shards(bot)
        self.rate = self.budget * self.shards.share
        self.pacer = Pacer(self.rate, clock)
        self.owner = claimer_id()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._dm_channels: OrderedDict[int, int] = OrderedDict()
        self._delivered: list[tuple[int, int, int]] = []  # (row, message, attempts): sent, not yet recorded
        self._marking = asyncio.Lock()
        self._marker: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self.sent = self.retried = self.dropped = 0

    async def cog_load(self) -> None:
        if self.bot.http.token in OFFLINE_TOKENS:
            log.info("offline console: announcements stay in the outbox for the running bot")
            return
        await self._release_outlived()
        self._task = asyncio.create_task(self._run(), name="racedesk-announcer")
        self._marker = asyncio.create_task(self._mark_now_and_then(), name="racedesk-announcer-marks")
        self._purger = asyncio.create_task(self._purge_now_and_then(), name="racedesk-announcer-purge")

    async def cog_unload(self) -> None:
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.drain_timeout)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None
        for helper in (self._marker, self._purger):
            if helper is not None:
                helper.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await helper
        self._marker = self._purger = None
        await self.record_deliveries()
        try:
            await self.bot.store.write(lambda s: outbox.release(s, [self.owner]))
        except Exception:  # the lease runs out by itself
            log.warning("could not release the announcements this process had claimed", exc_info=True)

    async def _release_outlived(self) -> None:
        """An earlier run of the bot on this machine that died leaves its claims: they are due now."""

        async def work(session: Any) -> int:
            gone = [c for c in await outbox.claimers(session) if outlived(c, self.owner)]
            return await outbox.release(session, gone)

        try:
            released = await self.bot.store.write(work)
        except Exception:  # their leases run out by themselves
            log.warning("could not release the claims of an ended run of the bot", exc_info=True)
            return
        if released:
            log.info("%d announcements claimed by an ended run of the bot are due again", released)

    def _follow_shards(self) -> outbox.Shards:
        """The shards as discord.py now knows them (an AutoShardedBot learns its count when it connects);
        the pace follows this process's part of the budget."""
        shards = process_shards(self.bot)
        if shards != self.shards:
            self.shards = shards
            self.rate = self.budget * shards.share
            self.pacer.rate, self.pacer.interval = self.rate, 1.0 / self.rate
            log.info(
                "announcing for shards %s of %s at %.1f a second", sorted(shards.ids), shards.count, self.rate
            )
        return shards

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def poke(self) -> None:
        """A write just queued announcements: look now instead of at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the announcer failed a round; trying again shortly")
                handled = 0
                await asyncio.sleep(self.idle_poll)
            if handled or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_poll)

    async def run_once(self) -> int:
        """Deliver what is due now. Returns how many rows were handled."""
        shards = self._follow_shards()
        rows = await self.bot.store.write(
            lambda s: outbox.claim(s, dt.datetime.now(dt.UTC), self.batch, self.owner, shards, self.lease)
        )
        if not rows:
            return 0
        by_target: OrderedDict[tuple[str, int], list[OutboxMessage]] = OrderedDict()
        for row in rows:
            by_target.setdefault((row.target_kind, row.target_id), []).append(row)
        gate = asyncio.Semaphore(self.concurrency)
        try:
            await asyncio.gather(*(self._serve(target_rows, gate) for target_rows in by_target.values()))
        finally:
            await self.record_deliveries()  # before the next round reads what is still pending
        return len(rows)

    async def _serve(self, rows: list[OutboxMessage], gate: asyncio.Semaphore) -> None:
        """One target's rows, in order; a row to retry holds back the ones after it."""
        async with gate:
            for row in rows:
                if self._stopping:
                    return
                if not await self._deliver(row):
                    return

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Send one row and record what happened. Returns False when the target's later rows must wait."""
        await self.pacer.wait()
        row.attempts += 1  # counted when tried: rows held behind a retried one are not
        try:
            message_id = await self._send(row)
        except Drop as problem:
            self.dropped += 1
            reason = problem.reason
            log.warning(
                "announcement %d to %s %d dropped for good: %s",
                row.id,
                row.target_kind,
                row.target_id,
                reason,
            )
            await self.bot.store.write(lambda s: outbox.mark_dropped(s, row.id, reason, row.attempts))
            return True
        except Retry as problem:
            reason, at_least = problem.reason, problem.at_least
            if row.attempts >= self.max_attempts:
                self.dropped += 1
                reason = f"gave up after {row.attempts} attempts: {reason}"
                log.warning(
                    "announcement %d to %s %d dropped: %s", row.id, row.target_kind, row.target_id, reason
                )
                await self.bot.store.write(lambda s: outbox.mark_dropped(s, row.id, reason, row.attempts))
                return True
            self.retried += 1
            delay = min(self.backoff_max, self.backoff_base * 2 ** (row.attempts - 1)) * random.uniform(
                0.8, 1.2
            )
            delay = max(delay, at_least)
            log.info("announcement %d: %s; retrying in %.1fs", row.id, reason, delay)
            await self.bot.store.write(lambda s: outbox.reschedule(s, row, reason, delay))
            return False
        self.sent += 1
        self._delivered.append((row.id, message_id, row.attempts))
        if len(self._delivered) >= self.mark_batch:
            await self.record_deliveries()
        return True

    async def record_deliveries(self) -> None:
        """Mark delivered rows sent, several to one statement (each send's own statement and commit would
        cost the event loop more than the send). Runs every `mark_interval` seconds, at the end of each round
        and on stop."""
        async with self._marking:
            done, self._delivered = self._delivered, []
            if not done:
                return
            await self.bot.store.write(lambda s: outbox.mark_sent_many(s, done))

    async def _mark_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.mark_interval)
            try:
                await self.record_deliveries()
            except Exception:
                log.exception("could not record deliveries; trying again")

    async def purge_kept_long_enough(self) -> int:
        """Delete the announcements done with whose write is older than OUTBOX_KEEP_DAYS, a batch a
        transaction; how many."""
        days = self.bot.settings.outbox_keep_days
        written_before = outbox.kept_since(days)
        cleared = 0
        while True:
            batch = await self.bot.store.write(lambda s: outbox.purge(s, written_before))
            cleared += batch
            if batch < outbox.PURGE_BATCH:
                break
        if cleared:
            log.info("cleared %d announcements done with, of writes over %d days old", cleared, days)
        return cleared

    async def _purge_now_and_then(self) -> None:
        while True:
            try:
                await self.purge_kept_long_enough()
            except Exception:
                log.exception("could not clear old announcements; trying again later")
            await asyncio.sleep(self.purge_interval)

    async def _send(self, row: OutboxMessage) -> int:
        """Post one row; returns Discord's message id. Straight through discord.py's HTTP client (its
        buckets, 429 and 5xx handling), without building a Message object nobody reads."""
        try:
            channel_id = (
                row.target_id if row.target_kind == outbox.CHANNEL else await self._dm_channel(row.target_id)
            )
            payload = row.payload
            with handle_message_parameters(
                content=payload.get("content") or None,
                embeds=[discord.Embed.from_dict(e) for e in payload.get("embeds") or []],
                allowed_mentions=allowed_mentions(payload.get("allowed_mentions")),
                previous_allowed_mentions=self.bot.allowed_mentions,
                nonce=outbox.nonce_of(row.dedupe_key),
            ) as params:
                data = await self.bot.http.send_message(channel_id, params=params)
            return int(data["id"])
        except (discord.Forbidden, discord.NotFound) as error:
            raise Drop(f"{error.status} {error.text or error}") from None
        except discord.RateLimited as error:
            raise Retry(f"rate limited for {error.retry_after:.1f}s", error.retry_after) from None
        except discord.HTTPException as error:
            if error.status >= 500 or error.status == 429:
                raise Retry(f"Discord answered {error.status}") from None
            raise Drop(f"Discord refused it: {error.status} {error.text}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise Retry(f"network: {type(error).__name__}: {error}") from None

    async def _dm_channel(self, user_id: int) -> int:
        cached = self._dm_channels.get(user_id)
        if cached is not None:
            self._dm_channels.move_to_end(user_id)
            return cached
        try:
            data = await self.bot.http.start_private_message(user_id)
        except discord.HTTPException as error:
            if 400 <= error.status < 500 and error.status != 429:
                raise Drop(f"no DM channel: {error.status} {error.text}") from None
            raise
        channel_id = int(data["id"])
        self._dm_channels[user_id] = channel_id
        while len(self._dm_channels) > 10_000:
            self._dm_channels.popitem(last=False)
        # Opening the channel was a request of the same budget: it took the row's turn, the send waits for
        # the next one.
        await self.pacer.wait()
        return channel_id


def allowed_mentions(data: dict[str, Any] | None) -> discord.AllowedMentions:
    """Nothing pings, except the roles a server chose to have pinged (stored with the row)."""
    roles = [discord.Object(int(r)) for r in (data or {}).get("roles") or []]
    return discord.AllowedMentions(everyone=False, users=False, roles=roles or False, replied_user=False)


async def setup(bot: RaceBot) -> None:
    await bot.add_cog(AnnouncerCog(bot))

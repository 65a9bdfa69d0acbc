"""The bot: RaceBot, handed its settings, engine and sessions, and how it is built from settings.

The command line (`racedesk`, cli.py) runs it; this module knows nothing of the command line."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Sequence
from typing import Any

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cogs.support.context import RaceContext
from db.cache import ReadCache
from db.engine import make_engine, make_sessionmaker
from db.notify import WriteListener
from db.single_process import ProcessLock, bot_process_lock
from db.store import Store
from settings import Settings

log = logging.getLogger("racedesk")
LISTENER_WAIT_SECONDS = 10.0  # at start, how long the bot waits for its listener before it reads the cards

# What members ask (read-only), and what the desk and admins change.
MEMBER_EXTENSIONS = (
    "cogs.race",
    "cogs.polls",
    "cogs.results",
    "cogs.candidates",
    "cogs.calendar",
    "cogs.balance",
    "cogs.president",
    "cogs.follow",
    "cogs.help",
)
DESK_EXTENSIONS = (
    "cogs.admin",
    "cogs.config",
    "cogs.desk",
    "cogs.audit",
    "cogs.announcer",
    "cogs.imports",
    "cogs.feeds",
)
EXTENSIONS = ("cogs.errors", *MEMBER_EXTENSIONS, *DESK_EXTENSIONS)


class RaceBot(commands.Bot):
    """Handed its dependencies (settings, engine, sessions); loads an explicit tuple of extensions.

    Cogs read and write through `store` (db/store.py), which owns the sessions and the read cache."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        extensions: Sequence[str] = EXTENSIONS,
        **kwargs: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # prefix commands read message text
        super().__init__(
            command_prefix=self.prefix_for,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # data text can never ping
            case_insensitive=True,
            strip_after_prefix=True,
            # No message cache: nothing reads it (a page button's click carries its message), and discord.py's
            # default 1,000 messages, members' and the bot's own, are a heap every full collection walks.
            max_messages=None,
            **kwargs,
        )
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.initial_extensions = tuple(extensions)
        self.guild_prefixes: dict[int, str] = {}
        self.store = Store(sessions, ReadCache(sessions))  # cogs read and write through it
        self.process_lock: ProcessLock | None = None  # SQLite: this bot process's hold on the database
        self.write_listener: WriteListener | None = None  # PostgreSQL: other processes' writes, at once
        self._closing_all: asyncio.Future[None] | None = None
        # Set by `racedesk run`: a process of its own (not a test's, not the console's).
        self.settles_heap = False
        # Cleared by one-shot commands (`racedesk ask`, `sync`): filling the shelf (db/shelf.py) would cost more
        # than the one answer it could serve, which the store gives as well.
        self.keeps_shelf = True
        self._settling: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        if self.engine.dialect.name == "postgresql":
            listener = self.write_listener = WriteListener(
                self.engine,
                self.store.cache.invalidate,
                self.store.directory.invalidate,
                self.store.shelf.drop,
            )
            self.store.cache.writes_heard = lambda: listener.live
            listener.start()
        self.guild_prefixes = await self.store.guild_prefixes()
        listening = self.write_listener is not None and await self._wait_listening(self.write_listener)
        # The races for the lookup, before the first member asks; read once the listener listens, since it
        # drops the copy as it begins (a write may have gone unheard): a copy read before would be lost, and
        # the first member's lookup would read the races again on the event loop (30-80 ms).
        await self.store.directory.load()
        if self.keeps_shelf:  # (otherwise the shelf is never usable: every answer comes from the store)
            await self._start_shelf(listening)
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.settles_heap:
            settle_heap()
            # (counting walks every frozen object, some 15 ms: done here only, before any member waits)
            log.info("heap settled: %d objects kept out of full collections", gc.get_freeze_count())
            self._settling = asyncio.create_task(self._settle_when_ready(), name="racedesk-settle-heap")

    async def _wait_listening(self, listener: WriteListener) -> bool:
        """Whether the listener listens within LISTENER_WAIT_SECONDS (PostgreSQL)."""
        try:
            await listener.wait_listening(LISTENER_WAIT_SECONDS)
        except TimeoutError:
            log.warning(
                "not listening for other processes' writes yet: lookups and race cards are read from the store"
            )
            return False
        return True

    async def _start_shelf(self, listening: bool) -> None:
        if self.write_listener is not None:
            await self._fill_shelf(self.write_listener, listening)
        elif self.store.reader is not None:  # a SQLite file: the shelf reads what others wrote at each use
            self.store.shelf.usable = lambda: True
            self.store.shelf.catches_up = True
            await self.store.catch_up()
            await self._fill_shelf_now()

    async def _fill_shelf(self, listener: WriteListener, listening: bool) -> None:
        """Every race's card in memory before the first member asks (db/shelf.py), read once the listener
        listens: what is written meanwhile is heard. Without it, members' cards come from the store."""
        self.store.shelf.usable = lambda: listener.live
        if not listening:
            self.store.shelf.start()  # filled when the listener listens (it drops everything then)
            return
        await self._fill_shelf_now()

    async def _fill_shelf_now(self) -> None:
        started = time.perf_counter()
        held = await self.store.shelf.fill()
        log.info(
            "race cards in memory: %d, and %d people's cards, read in %.1f s",
            held,
            len(self.store.shelf.person_cards),
            time.perf_counter() - started,
        )

    async def _settle_when_ready(self) -> None:
        await self.wait_until_ready()  # the servers' caches are filled now
        settle_heap()
        log.info("heap settled when ready: the servers' caches kept out of full collections too")

    async def get_context(
        self, origin: discord.Message | discord.Interaction[Any], /, *, cls: type[Any] = RaceContext
    ) -> Any:
        """Every command, prefix or slash, runs with a RaceContext (the shown prefix, the actor)."""
        return await super().get_context(origin, cls=cls)

    async def prefix_for(self, bot: commands.Bot, message: discord.Message) -> list[str]:
        prefix = self.settings.prefix
        if message.guild is not None:
            prefix = self.guild_prefixes.get(message.guild.id, prefix)
        return commands.when_mentioned_or(prefix)(bot, message)

    async def is_owner(self, user: discord.abc.User) -> bool:
        """OWNER_IDS, and the application's owner (or team) as Discord reports it."""
        if user.id in self.settings.owner_ids:
            return True
        return await super().is_owner(user)

    async def close(self) -> None:
        """Close once, however many callers ask (a signal, `async with`, a test): the cogs unload (the
        announcer lets its sends finish, the chart worker stops), then the gateway and the database close."""
        if self._closing_all is None:
            self._closing_all = asyncio.ensure_future(self._close_all())
        await asyncio.shield(self._closing_all)

    async def _close_all(self) -> None:
        if self._settling is not None:
            self._settling.cancel()
        try:
            await super().close()
            await self.store.close()
            if self.write_listener is not None:
                await self.write_listener.stop()
            await self.engine.dispose()
        finally:
            if self.process_lock is not None:
                self.process_lock.release()


def settle_heap() -> None:
    """Take what the process holds from its start (modules, mapped classes, the servers' caches) out of the
    garbage collector's view: a full collection then scans only what answers make and drop, not the whole
    heap, so no reply waits the 50-200 ms of one. Frozen objects are still freed when no longer referenced;
    only a reference cycle among them would stay, so this runs at start and once connected."""
    gc.collect()
    gc.freeze()


class ShardedRaceBot(RaceBot, commands.AutoShardedBot):
    """RaceBot as discord.py's sharded client: the shards SHARD_IDS (all, if unset) of SHARD_COUNT. Several
    processes, each with its own SHARD_IDS, share one PostgreSQL (see 'Scaling' in README.md)."""

    def __init__(self, settings: Settings, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("shard_count", settings.shard_count)
        kwargs.setdefault("shard_ids", list(settings.shard_ids) if settings.shard_ids is not None else None)
        super().__init__(settings, *args, **kwargs)


def bot_class(settings: Settings) -> type[RaceBot]:
    """The sharded client when SHARD_COUNT is set, else the plain one (one gateway connection)."""
    return ShardedRaceBot if settings.shard_count is not None else RaceBot


async def build_bot(settings: Settings, *, serving: bool = True) -> RaceBot:
    """Migrate the store (and fill an empty one with the shipped data), then make the bot.

    On SQLite a bot process that will serve (`serving`: not `racedesk sync`, which only logs in) first takes
    the database's lock: a second one on the same file is refused here (StoreInUse). On PostgreSQL the
    one-time jobs run under an advisory lock (db/migrate.py)."""
    from db.bootstrap import prepare

    lock = bot_process_lock(settings.database_url) if serving else None
    if lock is not None:
        lock.acquire()
    try:
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        try:
            await prepare(engine, sessions, default_data=settings.load_default_data)
        except BaseException:
            await engine.dispose()
            raise
        bot = bot_class(settings)(settings, engine, sessions)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    bot.process_lock = lock
    return bot

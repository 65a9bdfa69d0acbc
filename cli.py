"""The command line's work: the offline console, one-shot `ask`, sync, migrations, import and export.

The offline console runs the real bot against the loopback stand-in for Discord
(`loopback/`), in this process: a typed line becomes a MESSAGE_CREATE, and what
the bot posts is printed as text. So the console answers through the same cogs
and the same discord.py machinery as Discord does, with no token and no network.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot import RaceBot, build_bot
from db.single_process import StoreInUse
from loopback.patching import point_discord_at, point_discord_from_env
from settings import Settings, SettingsError

CONSOLE_USER_ID = 100_000_000_000_000_001
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
REPLY_TIMEOUT = 60.0
log = logging.getLogger("racedesk")
README_HINT = "see 'Configuration' in README.md"


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def relative(moment: dt.datetime, now: dt.datetime) -> str:
    """ "3 hours ago", "in 2 days": what Discord shows for <t:...:R>, roughly."""
    seconds = (moment - now).total_seconds()
    amount = abs(seconds)
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if amount >= size:
            n = int(amount // size)
            span = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {span}" if seconds > 0 else f"{span} ago"
    return "just now"


def plain_timestamps(text: str, now: dt.datetime | None = None) -> str:
    """Discord shows <t:...> in the reader's time zone; a terminal gets UTC."""

    def show(match: re.Match[str]) -> str:
        moment = dt.datetime.fromtimestamp(int(match.group(1)), dt.UTC)
        style = match.group(2) or "f"
        if style == "R":
            return relative(moment, now or dt.datetime.now(dt.UTC))
        if style in "dD":
            return f"{moment:%b} {moment.day}, {moment.year}"
        return f"{moment:%b} {moment.day}, {moment.year} {moment:%H:%M} UTC"

    return TIMESTAMP.sub(show, text)


@dataclass
class Answer:
    text: str
    ok: bool  # the command completed (False: refused, wrong input, or failed)


class BotDriver:
    """Sends messages as a member through the loopback stand-in and collects what the bot posts for each."""

    def __init__(self, standin: Any, bot: RaceBot) -> None:
        self.standin = standin
        self.bot = bot
        self._done: asyncio.Queue[bool] = asyncio.Queue()
        bot.add_listener(self._completed, "on_command_completion")
        bot.add_listener(self._failed, "on_command_error")

    async def _completed(self, _ctx: Any) -> None:
        await self._done.put(True)

    async def _failed(self, _ctx: Any, _error: Any) -> None:
        await self._done.put(False)

    async def send(
        self,
        channel_id: int,
        author_id: int,
        text: str,
        timeout: float = REPLY_TIMEOUT,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> Exchange:
        """Post `text` (with `files` attached) and wait until the command it starts has finished."""
        return await self._run(
            lambda: self.standin.send_message(channel_id, author_id, text, files=files), timeout
        )

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
        timeout: float = REPLY_TIMEOUT,
    ) -> Exchange:
        """Run a slash command as `user_id` and wait until it has finished."""
        return await self._run(
            lambda: self.standin.send_slash(guild_id, channel_id, user_id, name, options or {}), timeout
        )

    async def _run(self, start: Callable[[], Awaitable[Any]], timeout: float) -> Exchange:
        while not self._done.empty():
            self._done.get_nowait()
        before = len(self.standin.messages)
        await start()
        try:
            ok: bool | None = await asyncio.wait_for(self._done.get(), timeout)
        except TimeoutError:
            ok = None
        else:
            # The error handler replies after on_command_error fires; wait until it has posted.
            await self._settle()
        return Exchange(list(self.standin.messages[before:]), ok)

    async def _settle(self, quiet: float = 0.15, limit: float = 5.0) -> None:
        """Until the bot has posted nothing new for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        count = len(self.standin.messages)
        while loop.time() < deadline:
            await asyncio.sleep(quiet)
            if len(self.standin.messages) == count:
                return
            count = len(self.standin.messages)


@dataclass
class Exchange:
    """What the bot posted for one message, and whether the command completed (None: no command ran)."""

    messages: list[Any]
    ok: bool | None

    @property
    def text(self) -> str:
        return render_messages(self.messages)


class OfflineConsole:
    """The real bot, connected to an in-process loopback Discord, with one member typing."""

    def __init__(self, driver: BotDriver, channel_id: int) -> None:
        self.driver = driver
        self.channel_id = channel_id

    async def ask(self, text: str) -> Answer:
        prefix = self.driver.bot.settings.prefix
        if not text.startswith(prefix):
            return Answer(f"(not a command: commands start with {prefix}, e.g. {prefix}race alabama)", False)
        exchange = await self.driver.send(self.channel_id, CONSOLE_USER_ID, text)
        if exchange.ok is None and not exchange.messages:
            return Answer("(no reply: commands start with the prefix, e.g. !race alabama)", False)
        return Answer(exchange.text, bool(exchange.ok))


def render_messages(messages: list[Any]) -> str:
    parts = []
    for message in messages:
        text = plain_timestamps(message.text())
        for filename, data in getattr(message, "attachments", []) or []:
            text += f"\n[attachment: {filename}, {len(data) // 1024 or 1} KB]"
        buttons = [
            c.get("label")
            for row in (message.components or [])
            for c in row.get("components", [])
            if c.get("label")
        ]
        if buttons:
            text += "\n[buttons: " + " | ".join(buttons) + "]"
        parts.append(text.strip())
    return "\n\n".join(p for p in parts if p)


@contextlib.asynccontextmanager
async def offline(settings: Settings, *, keep_shelf: bool = True) -> AsyncIterator[OfflineConsole]:
    """The bot, started against an in-process loopback Discord. Raises OfflineStartFailed. `keep_shelf`: False
    for one question (see RaceBot.keeps_shelf)."""
    from loopback import StandIn

    async with StandIn() as standin:
        guild = standin.add_guild(name="racedesk console", owner_id=CONSOLE_USER_ID)
        channel = standin.add_channel(guild.id, name="console")
        standin.add_member(guild.id, name="you", user_id=CONSOLE_USER_ID)
        # The person at the console runs this install: they are its owner, and this server is a desk. The
        # console is one connection: the shards of a deployment (SHARD_COUNT, SHARD_IDS) are not its business.
        settings = replace(
            settings,
            owner_ids=settings.owner_ids | {CONSOLE_USER_ID},
            desk_guild_ids=settings.desk_guild_ids | {guild.id},
            shard_count=None,
            shard_ids=None,
        )
        with point_discord_at(standin.api_base, standin.gateway_url):
            try:
                bot = await build_bot(settings)
            except Exception as problem:  # the database, or its migrations
                where = safe_url(settings.database_url)
                raise OfflineStartFailed(f"cannot open the database at {where}: {problem}") from problem
            bot.keeps_shelf = keep_shelf
            runner = asyncio.create_task(bot.start("offline-console"))
            try:
                await _until_ready(standin, runner)
                yield OfflineConsole(BotDriver(standin, bot), channel.id)
            finally:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(runner, 10)


class OfflineStartFailed(Exception):
    """The offline console could not start; the message says why."""


async def _until_ready(standin: Any, runner: asyncio.Task[None], timeout: float = 60) -> None:
    """Until the bot has connected, or has stopped trying (then say why)."""
    ready = asyncio.create_task(standin.wait_until_ready(timeout=timeout))
    done, _ = await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        ready.cancel()
        problem = runner.exception()
        raise OfflineStartFailed(f"the bot stopped while starting: {problem!r}") from problem
    try:
        ready.result()
    except TimeoutError:
        raise OfflineStartFailed(f"the bot did not connect within {timeout:.0f}s") from None


async def ask_command(settings: Settings, text: str) -> int:
    try:
        async with offline(settings, keep_shelf=False) as console:
            answer = await console.ask(text)
    except (OfflineStartFailed, OSError) as problem:
        print(f"racedesk: {problem}", file=sys.stderr)
        return 2
    print(answer.text)
    return 0 if answer.ok else 1


async def console_command(settings: Settings) -> int:
    interactive = sys.stdin.isatty()
    try:
        async with offline(settings) as console:
            if interactive:
                print("racedesk offline console. Type a command (e.g. !race alabama, !help); Ctrl-D to quit.")
            while True:
                line = await asyncio.to_thread(_read_line, "> " if interactive else "")
                if line is None:
                    return 0
                if not line.strip():
                    continue
                answer = await console.ask(line.strip())
                print(answer.text + "\n", flush=True)
    except (OfflineStartFailed, OSError) as problem:
        print(f"racedesk: {problem}", file=sys.stderr)
        return 2


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


async def sync_command(settings: Settings, guild_id: int | None) -> int:
    import discord

    if settings.token is None:
        print("racedesk: sync needs DISCORD_TOKEN (see 'Configuration' in README.md)", file=sys.stderr)
        return 2
    point_discord_from_env()
    bot = await build_bot(replace(settings, load_default_data=False), serving=False)  # migrations only
    bot.keeps_shelf = False
    async with bot:
        try:
            await bot.login(settings.token)
        except discord.LoginFailure:
            print("racedesk: Discord refused the token in DISCORD_TOKEN", file=sys.stderr)
            return 2
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
    where = f"server {guild_id}" if guild_id else "all servers (may take up to an hour to show)"
    print(f"Synced {len(synced)} slash commands to {where}.")
    return 0


async def db_command(settings: Settings, action: str) -> int:
    from sqlalchemy.exc import IntegrityError

    from db.bootstrap import add_shipped
    from db.engine import make_engine, make_sessionmaker, upgrade
    from db.importers.run import ImportFailed

    engine = make_engine(settings.database_url)
    try:
        if action == "add-shipped":
            added = await add_shipped(engine, make_sessionmaker(engine))
            print(f"Database at {safe_url(settings.database_url)}: {added}")
            return 0
        await upgrade(engine)
    except (ImportFailed, IntegrityError) as problem:  # e.g. an import beside it wrote the same races first
        print(
            f"racedesk: {action} failed, nothing was written: {_first_line(problem)}; run it again",
            file=sys.stderr,
        )
        return 2
    finally:
        await engine.dispose()
    print(f"Database at {safe_url(settings.database_url)} is up to date.")
    return 0


def _first_line(problem: Exception) -> str:
    """A database error's own first line (the driver's, without SQLAlchemy's statement and parameters)."""
    text = str(getattr(problem, "orig", None) or problem)
    return text.splitlines()[0] if text else type(problem).__name__


async def import_command(settings: Settings, args: argparse.Namespace) -> int:
    from db.engine import for_writing, make_engine, make_sessionmaker, refresh_statistics, upgrade
    from db.importers import FORMATS, UnknownFormat
    from db.importers.run import ImportFailed, import_file

    if args.format != "auto" and args.format not in FORMATS:
        print(f"racedesk: --format must be auto or one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        progress = _progress_printer() if sys.stderr.isatty() else None
        async with (
            sessions.begin() as session
        ):  # commits unless the import raised (a dry run rolls back itself)
            report = await import_file(
                await for_writing(session),
                args.path,
                args.format,
                dry_run=args.dry_run,
                skip_bad=args.skip_bad,
                progress=progress,
            )
        if not args.dry_run:
            await refresh_statistics(engine)
    except ImportFailed as problem:
        print(f"racedesk: import failed, nothing was written: {problem}", file=sys.stderr)
        return 2
    except FileNotFoundError:
        print(f"racedesk: no such file: {args.path}", file=sys.stderr)
        return 2
    except OSError as problem:  # a folder, a file it may not read
        print(f"racedesk: cannot read {args.path}: {problem.strerror or problem}", file=sys.stderr)
        return 2
    except UnknownFormat as problem:
        print(f"racedesk: {problem} (name one with --format)", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(report.describe())
    return 0


def _progress_printer() -> Any:
    """Each step of the import on one terminal line, overwritten by the next."""

    def show(message: str) -> None:
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    return show


async def export_command(settings: Settings, path: str) -> int:
    from db.dataset import export_document
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            doc = await export_document(session)
    finally:
        await engine.dispose()
    text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False)
    if path == "-":
        print(text)
    else:
        await asyncio.to_thread(Path(path).write_text, text + "\n", encoding="utf-8")
        print(f"Wrote {path}.", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- the command line


async def run_bot(settings: Settings) -> None:
    assert settings.token is not None
    point_discord_from_env()  # the loopback stand-in (tests, benchmarks) moves discord.py's two addresses
    bot = await build_bot(settings)
    bot.settles_heap = True
    stop_on_signals(bot)
    async with bot:
        await bot.start(settings.token)
    await bot.close()  # a signal may have begun the close (start() returns early then): wait for all of it
    log.info("stopped")


def stop_on_signals(bot: RaceBot) -> None:
    """SIGTERM (systemd, docker) and SIGINT close the bot cleanly: no new commands, the announcer lets
    its sends in flight finish, cogs unload (the chart worker stops), the gateway and the database close."""
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def close(name: str) -> None:
        if not closing:
            log.info("%s: stopping", name)
            closing.append(loop.create_task(bot.close(), name="racedesk-shutdown"))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, close, sig.name)


def configure_logging(level: str, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not quiet:
        logging.getLogger("discord").setLevel(logging.INFO)
    # racedesk has no voice features; discord.py's warning about voice libraries is noise.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="racedesk",
        description="A Discord bot for election races. With no command: run the bot "
        "(or, with no DISCORD_TOKEN, the offline console).",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the default); without DISCORD_TOKEN, the offline console")
    sub.add_parser("console", help="answer commands typed here, offline, through the real command machinery")
    ask = sub.add_parser("ask", help='answer one command offline and exit, e.g. racedesk ask "!race alabama"')
    ask.add_argument("message", nargs="+", help="the message, as a member would type it")
    sync = sub.add_parser("sync", help="publish the slash commands to Discord (needs DISCORD_TOKEN)")
    sync.add_argument("--guild", type=int, help="sync to one server at once instead of globally")
    database = sub.add_parser("db", help="database tasks")
    database.add_argument(
        "action",
        choices=["upgrade", "add-shipped"],
        help="upgrade: apply migrations; add-shipped: add the data racedesk ships that the store lacks "
        "(a store built by an earlier version; what it holds is kept)",
    )
    imp = sub.add_parser(
        "import", help="import a data file (FiveThirtyEight, MEDSL, OpenElections, FEC cn.txt, racedesk)"
    )
    imp.add_argument("path")
    imp.add_argument("--format", default="auto")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    imp.add_argument(
        "--skip-bad", action="store_true", help="skip bad lines (each is reported) instead of failing"
    )
    exp = sub.add_parser("export", help="write the whole store in racedesk's own format")
    exp.add_argument("path", nargs="?", default="-", help="file to write (default: standard output)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as problem:
        print(f"racedesk: {problem} ({README_HINT})", file=sys.stderr)
        return 2
    command = args.command or "run"
    offline = command in ("ask", "console") or (command == "run" and settings.token is None)
    configure_logging(settings.log_level, quiet=offline or command in ("import", "export", "db"))
    try:
        return asyncio.run(dispatch(command, args, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (`| head`) stopped early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def dispatch(command: str, args: argparse.Namespace, settings: Settings) -> int:
    if command == "run":
        if settings.token is None:
            print(
                f"DISCORD_TOKEN is not set, so racedesk runs offline: type commands like !race alabama ({README_HINT}).",
                file=sys.stderr,
            )
            return await console_command(settings)
        try:
            await run_bot(settings)
        except StoreInUse as problem:
            print(f"racedesk: {problem}", file=sys.stderr)
            return 2
        return 0
    handlers = {
        "console": lambda: console_command(settings),
        "ask": lambda: ask_command(settings, " ".join(args.message)),
        "sync": lambda: sync_command(settings, args.guild),
        "db": lambda: db_command(settings, args.action),
        "import": lambda: import_command(settings, args),
        "export": lambda: export_command(settings, args.path),
    }
    return int(await handlers[command]())


if __name__ == "__main__":
    sys.exit(main())

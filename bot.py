"""racedesk: the bot, and the `racedesk` command line (run, console, ask, sync, db, import, export)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import discord
from discord.ext import commands
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.cache import ReadCache
from db.engine import make_engine, make_sessionmaker
from db.models import GuildSettings
from loopback.patching import point_discord_from_env
from settings import Settings, SettingsError

log = logging.getLogger("racedesk")

# What members ask (read-only), and what the desk and admins change.
MEMBER_EXTENSIONS = (
    "cogs.race",
    "cogs.polls",
    "cogs.results",
    "cogs.candidates",
    "cogs.calendar",
    "cogs.balance",
    "cogs.follow",
    "cogs.help",
)
DESK_EXTENSIONS = ("cogs.admin", "cogs.config", "cogs.desk", "cogs.audit", "cogs.announcer", "cogs.imports")
EXTENSIONS = ("cogs.errors", *MEMBER_EXTENSIONS, *DESK_EXTENSIONS)
README_HINT = "see 'Configuration' in README.md"


class RaceBot(commands.Bot):
    """Handed its dependencies (settings, engine, sessions); loads an explicit tuple of extensions."""

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
            **kwargs,
        )
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.initial_extensions = tuple(extensions)
        self.guild_prefixes: dict[int, str] = {}
        self.cache = ReadCache(sessions)

    async def setup_hook(self) -> None:
        async with self.sessions() as session:
            rows = await session.execute(
                select(GuildSettings.guild_id, GuildSettings.prefix).where(GuildSettings.prefix.is_not(None))
            )
            self.guild_prefixes = {guild_id: prefix for guild_id, prefix in rows if prefix}
        for extension in self.initial_extensions:
            await self.load_extension(extension)

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
        await super().close()
        await self.engine.dispose()


async def build_bot(settings: Settings) -> RaceBot:
    """Migrate the store (and fill an empty one with the shipped data), then make the bot."""
    from db.bootstrap import prepare

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    await prepare(engine, sessions, default_data=settings.load_default_data)
    return RaceBot(settings, engine, sessions)


async def run_bot(settings: Settings) -> None:
    assert settings.token is not None
    point_discord_from_env()  # the loopback stand-in (tests, benchmarks) moves discord.py's two addresses
    bot = await build_bot(settings)
    async with bot:
        await bot.start(settings.token)


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
    database.add_argument("action", choices=["upgrade"], help="upgrade: apply migrations")
    imp = sub.add_parser(
        "import", help="import a data file (FiveThirtyEight, MEDSL, OpenElections, racedesk)"
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
    from cli import ask_command, console_command, db_command, export_command, import_command, sync_command

    if command == "run":
        if settings.token is None:
            print(
                f"DISCORD_TOKEN is not set, so racedesk runs offline: type commands like !race alabama ({README_HINT}).",
                file=sys.stderr,
            )
            return await console_command(settings)
        await run_bot(settings)
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

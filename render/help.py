"""Help pages, generated from the commands themselves: their summary, usage and example."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from render.limits import clip, clip_lines, fit_embed
from render.race import COLOR

# Members' commands first, in the order they are most asked for; other cogs (the desk's) follow.
COG_ORDER = [
    "Races",
    "Polls",
    "Results",
    "Candidates",
    "Calendar",
    "Balance of power",
    "President",
    "Follows",
    "Help",
]
SUMMARY_MAX = 70
LONG_EXAMPLE = 50  # longer examples are shown without the summary
EXAMPLE_MAX = 150
Command = commands.Command[Any, ..., Any]


def declared_example(command: Command, prefix: str) -> str | None:
    """The command's example with the member's prefix: its `extras["example"]` (the desk's actions declare
    theirs there, without a prefix), else the `Example: !cmd ...` its help ends with; None if neither."""
    example: str | None = command.extras.get("example")
    if example is not None:
        return prefix + example
    text = command.help or ""
    if "Example: " not in text:
        return None
    example = text.split("Example: ", 1)[1].splitlines()[0].strip()
    return prefix + example[1:] if example.startswith("!") else example


def example_of(command: Command, prefix: str) -> str:
    """The command's example (see `declared_example`), else its usage."""
    example = declared_example(command, prefix)
    if example is not None:
        return example
    usage = command.usage if command.usage is not None else command.signature
    return f"{prefix}{command.qualified_name} {usage}".strip()


def summary_of(command: Command) -> str:
    """One line on what the command does: its description, else its help's first sentence."""
    text = command.description or (command.help or "").split("Example: ")[0]
    text = " ".join(text.split())
    first = text.split(". ")[0].rstrip(".")
    return clip(first, SUMMARY_MAX)


def _cog_rank(name: str) -> tuple[int, str]:
    return (COG_ORDER.index(name) if name in COG_ORDER else len(COG_ORDER), name)


def overview_line(command: Command, prefix: str) -> str:
    """ "`!polls alabama` · A race's polls, newest first…"; a long example stands alone."""
    example = clip(example_of(command, prefix), EXAMPLE_MAX)
    sub = ""
    if isinstance(command, commands.Group) and command.commands:
        sub = f" (+{len(command.commands)} subcommands)"
    if len(example) > LONG_EXAMPLE:
        return f"`{example}`{sub}"
    return f"`{example}` · {summary_of(command)}{sub}"


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Whole lines joined into pieces of at most `limit` characters (so every command is listed)."""
    chunks: list[str] = []
    for line in lines:
        line = clip(line, limit)
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def overview_embed(usable: list[Command], restricted: list[Command], prefix: str) -> discord.Embed:
    embed = discord.Embed(
        title="racedesk: what you can ask",
        description=(
            f"One example per command. More on one: `{prefix}help polls`. "
            "Every command also works as a slash command: type `/`."
        ),
        colour=COLOR,
    )
    groups: dict[str, list[Command]] = {}
    for command in usable:
        groups.setdefault(command.cog_name or "Other", []).append(command)
    for cog in sorted(groups, key=_cog_rank):
        lines = [overview_line(command, prefix) for command in groups[cog]]
        for i, chunk in enumerate(_chunks(lines, 1024)):
            embed.add_field(name=cog if i == 0 else f"{cog} (continued)", value=chunk, inline=False)
    if restricted:
        names = [f"`{prefix}{c.qualified_name}`" for c in restricted]
        for i, chunk in enumerate(
            _chunks([", ".join(names)], 1024) if len(", ".join(names)) <= 1024 else _chunks(names, 1024)
        ):
            title = "For the desk and the bot's owners"
            embed.add_field(
                name=title if i == 0 else f"{title} (continued)",
                value=chunk.replace("\n", ", "),
                inline=False,
            )
    return fit_embed(embed)


def command_embed(command: Command, prefix: str, runnable: bool) -> discord.Embed:
    usage = command.usage if command.usage is not None else command.signature
    embed = discord.Embed(title=clip(f"{prefix}{command.qualified_name} {usage}".strip(), 256), colour=COLOR)
    body = " ".join((command.help or command.description or "").split("Example: ")[0].split())
    embed.description = clip(body, 2000) or None
    embed.add_field(name="Example", value=f"`{example_of(command, prefix)}`", inline=False)
    if command.aliases:
        embed.add_field(name="Also", value=", ".join(f"`{prefix}{a}`" for a in command.aliases), inline=False)
    if isinstance(command, commands.Group) and command.commands:
        lines = [
            f"`{example_of(c, prefix)}` · {summary_of(c)}"
            for c in sorted(command.commands, key=lambda c: c.name)
        ]
        embed.add_field(name="Subcommands", value=clip_lines(lines, 1024), inline=False)
    app = getattr(command, "app_command", None)
    if app is not None and getattr(app, "parameters", None) is not None:
        options = [f"`{p.name}`: {p.description}" for p in app.parameters]
        embed.add_field(
            name=f"/{command.qualified_name}",
            value=clip_lines(options, 1024) if options else "no options",
            inline=False,
        )
    if not runnable:
        embed.set_footer(text="You can't use this one here: it is for the desk or the bot's owners.")
    return fit_embed(embed)

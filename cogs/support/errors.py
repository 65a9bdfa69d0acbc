"""The errors people are shown: a refusal (`UserFacingError`) and wrong input (`UsageError`).

`UsageError` is the one type for input a command cannot use. It carries the problem (for a person to read)
and an example of input that works. Parsers raise it directly; cogs may raise it with a better example. The
error handler (cogs/errors.py) replies with the problem, mentions made inert, and the example; when the
error has no example of its own, with the command's usage and the example from its help.
"""

from __future__ import annotations

import discord
from discord.ext import commands

STORE_SLOW = "The store is slow to answer just now. Try again in a moment."  # a read past its timeout


class UserFacingError(commands.CommandError):
    """Wrong input or a refusal: the message is shown as is, nothing is logged as a fault."""

    def __init__(self, message: str, embed: discord.Embed | None = None) -> None:
        super().__init__(message)
        self.text = message
        self.embed = embed


class UsageError(UserFacingError):
    """The command was given something it cannot use: what is wrong, and an example of input that works."""

    def __init__(self, problem: str, example: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example
        self.text = self.reply()

    def with_example(self, example: str) -> UsageError:
        """The same problem, with the example of the command it happened in."""
        return UsageError(self.problem, example)

    def reply(self, usage: str = "", example: str = "") -> str:
        """The problem (mentions made inert), then `usage` if given, then the example (its own first)."""
        lines = [discord.utils.escape_mentions(self.problem)]
        if usage:
            lines.append(f"Usage: `{usage}`")
        if self.example or example:
            lines.append(f"Example: `{self.example or example}`")
        return "\n".join(lines)

"""The in-process harness (tests/support/world.py) fails a test on any ERROR the bot logs and on any
exception its tasks leave behind, unless the test says which error it provokes on purpose."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import ERRORS, World, check_bot_errors, running_bot


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    async with running_bot(sqlite_engine) as started:

        @commands.command(name="boom")
        async def boom(ctx: commands.Context[commands.Bot]) -> None:
            raise RuntimeError("the bot broke")

        started.bot.add_command(boom)
        yield started


async def test_an_error_the_bot_logs_fails_the_test(world: World) -> None:
    exchange = await world.say("!boom")
    assert exchange.text.startswith("Something went wrong (ref ")
    with pytest.raises(
        AssertionError, match=r"the bot logged: racedesk\.errors: unexpected error \(ref .*the bot broke"
    ):
        check_bot_errors()  # what the test's teardown does; the records are taken, so teardown passes


@pytest.mark.bot_errors(r"unexpected error \(ref \w+\) in '!boom'.*RuntimeError: the bot broke")
async def test_a_test_that_provokes_an_error_says_which(world: World) -> None:
    exchange = await world.say("!boom")
    assert exchange.text.startswith("Something went wrong (ref ")


async def test_an_expected_error_that_never_came_fails_the_test(world: World) -> None:
    with pytest.raises(AssertionError, match="no ERROR record matched 'never logged'"):
        check_bot_errors(["never logged"])


async def test_an_exception_a_task_leaves_unretrieved_fails_the_test(world: World) -> None:
    async def fails() -> None:
        raise ValueError("lost in a task")

    task = asyncio.get_running_loop().create_task(fails())
    await asyncio.wait([task])
    del task
    gc.collect()  # the task is dropped with its exception never retrieved: asyncio reports it
    assert any("lost in a task" in str(r.exc_info[1]) for r in ERRORS.records if r.exc_info)
    with pytest.raises(AssertionError, match="Task exception was never retrieved"):
        check_bot_errors()

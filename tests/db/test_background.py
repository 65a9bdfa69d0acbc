"""db/background.py: a background task cancelled is waited for, and its cancellation is not raised."""

from __future__ import annotations

import asyncio

from db.background import cancel_and_wait


async def test_a_task_is_cancelled_and_has_ended_when_it_returns() -> None:
    started, cleaned = asyncio.Event(), []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # its own cleanup awaits too
            cleaned.append(True)

    task = asyncio.create_task(forever())
    await started.wait()
    await cancel_and_wait(task)
    assert task.cancelled() and cleaned == [True]


async def test_no_task_and_an_ended_one_are_nothing_to_do() -> None:
    await cancel_and_wait(None)
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await cancel_and_wait(task)
    assert task.done() and not task.cancelled()

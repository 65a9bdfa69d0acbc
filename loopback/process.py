"""Run the real bot (``python cli.py run``) as a child process against a StandIn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

from .patching import ENV_API, ENV_GATEWAY
from .standin import StandIn

__all__ = ["REPO_ROOT", "bot_process_output", "start_bot_process", "stop_bot_process"]

REPO_ROOT = Path(__file__).resolve().parent.parent

# The child's output is read as it comes (a full pipe would stall the bot); kept per process.
_outputs: weakref.WeakKeyDictionary[asyncio.subprocess.Process, tuple[bytearray, asyncio.Task[None]]] = (
    weakref.WeakKeyDictionary()
)


async def _drain(stream: asyncio.StreamReader, sink: bytearray) -> None:
    while chunk := await stream.read(65536):
        sink.extend(chunk)


async def start_bot_process(
    standin: StandIn,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = ("run",),
    *,
    script: str | os.PathLike[str] = "cli.py",
    cwd: str | os.PathLike[str] | None = None,
) -> asyncio.subprocess.Process:
    """Start ``sys.executable <script> <args>`` (cwd: the repo root) with RACEDESK_DISCORD_API,
    RACEDESK_DISCORD_GATEWAY and DISCORD_TOKEN set for the stand-in, on top of this process's
    environment; ``env`` is applied last. stdout and stderr are collected (see stop_bot_process)."""
    full = dict(os.environ)
    full.update(
        {
            ENV_API: standin.api_base,
            ENV_GATEWAY: standin.gateway_url,
            "DISCORD_TOKEN": standin.token or "loopback-token",
            "PYTHONUNBUFFERED": "1",
        }
    )
    full.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        *args,
        cwd=str(cwd or REPO_ROOT),
        env=full,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    sink = bytearray()
    assert proc.stdout is not None
    _outputs[proc] = (sink, asyncio.create_task(_drain(proc.stdout, sink), name="loopback-bot-output"))
    return proc


def bot_process_output(proc: asyncio.subprocess.Process) -> str:
    """What the process has printed so far (stdout and stderr together)."""
    entry = _outputs.get(proc)
    return entry[0].decode("utf-8", "replace") if entry else ""


async def stop_bot_process(proc: asyncio.subprocess.Process, timeout: float = 10.0) -> str:
    """SIGINT (a clean shutdown), then SIGTERM after ``timeout``, then SIGKILL. Returns the output."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.returncode is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout)
    entry = _outputs.pop(proc, None)
    if entry is None:
        return ""
    sink, reader = entry
    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(reader, 5)
    return sink.decode("utf-8", "replace")

"""A stand-in for cli.py in tests: reads the two addresses from the environment, like cli.py
does, and runs the floor bot until SIGINT."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from loopback.floorbot import make_floor_bot, run_until_interrupted
from loopback.patching import point_discord_from_env


def main() -> None:
    if sys.argv[1:] != ["run"]:
        raise SystemExit("usage: floor_script.py run")
    if not point_discord_from_env():
        raise SystemExit("RACEDESK_DISCORD_API and RACEDESK_DISCORD_GATEWAY must be set")
    bot = make_floor_bot()

    @bot.event
    async def on_ready() -> None:
        print(f"floor bot ready as {bot.user} in {len(bot.guilds)} guild(s)", flush=True)

    run_until_interrupted(bot)
    print("floor bot stopped", flush=True)


if __name__ == "__main__":
    main()

"""Memory during the worst imports, against the bot's resting memory (goal: the peak within 2x the resting RSS).

    python bench/import_memory.py [--code DIR]

For each file, a fresh bot process (`python cli.py`, DISCORD_TOKEN set, against the loopback stand-in) on a
copy of the default store: it answers `!race alabama`, its resting RSS is read from /proc/<pid>/status
(VmRSS), then an owner posts `!import` with the file attached; once the bot has replied (a dry run or a
refusal) its peak (VmHWM, the high-water mark of its resident memory) is read. The same file through the
command line (`python cli.py import --dry-run`) reports its peak too (ru_maxrss of the child), next to the
command line's peak for a tiny valid file. `--code DIR` runs the bot and the command line from another
checkout (say, the code before the limits) with the same files.

Files: the hostile corpus's zip bomb (about 1 MB that unpacks to 1 GB), the zip whose directory lies about
its size, JSON nested 200,000 deep, and the biggest valid files: FiveThirtyEight's senate polls, the
Alabama Secretary of State's 67-workbook zip, the whole default store exported as racedesk/1 JSON, and
538's polls repeated under new ids to just under the upload limit (10 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.limits import MAX_UPLOAD_BYTES  # noqa: E402
from loopback import StandIn  # noqa: E402
from loopback.process import start_bot_process, stop_bot_process  # noqa: E402
from tests.data.hostile.corpus import make_large, path_of  # noqa: E402

PUBLIC = ROOT / "data" / "public"


def status(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def bot_peak(code: Path, store: Path, upload: Path) -> tuple[int, int, str]:
    """(resting RSS, peak RSS) in kB of a bot process importing `upload` as an attachment, and its reply."""
    async with StandIn() as standin:
        guild = standin.add_guild(name="Desk")
        channel = standin.add_channel(guild.id, name="desk")
        owner = standin.add_member(guild.id, "owner")
        env = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{store}",
            "RACEDESK_DEFAULT_DATA": "0",
            "LOG_LEVEL": "WARNING",
            "OWNER_IDS": str(owner),
            "DESK_GUILD_IDS": str(guild.id),
        }
        proc = await start_bot_process(standin, env=env, cwd=code)
        try:
            await standin.wait_until_ready(timeout=120)
            await standin.send_message(channel.id, owner, "!race alabama")
            await standin.wait_for_message(channel.id, timeout=60)
            await asyncio.sleep(1.0)  # settle
            resting = status(proc.pid, "VmRSS")
            data = await asyncio.to_thread(upload.read_bytes)
            await standin.send_message(channel.id, owner, "!import", files=[(upload.name, data)])
            reply = await standin.wait_for_message(channel.id, timeout=600)
            peak = status(proc.pid, "VmHWM")
            return resting, peak, (reply.content or "").splitlines()[0][:110]
        finally:
            await stop_bot_process(proc)


def cli_peak(code: Path, store: Path, path: Path) -> tuple[int, int, str]:
    """(peak RSS in kB, exit code, first line said) of `python cli.py import --dry-run path`, in a
    process of its own so that ru_maxrss of its children is this import's alone."""
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "said = (done.stdout + done.stderr).strip().splitlines() or ['']\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, said[-1][:110], sep='\\t')\n"
    )
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{store}",
        "RACEDESK_DEFAULT_DATA": "0",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "cli.py", "import", "--dry-run", str(path)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    peak, code_, said = out.split("\t", 2)
    return int(peak), int(code_), said


def big_polls(path: Path, limit: int = MAX_UPLOAD_BYTES - 1024) -> Path:
    """FiveThirtyEight's senate polls again and again under new poll and question ids, to just under the
    upload limit: some 30,000 rows, 10,000 polls, all new to the store."""
    lines = (PUBLIC / "senate_polls.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    with path.open("w", encoding="utf-8") as out:
        out.write(header)
        written, copy = len(header), 0
        while True:
            copy += 1
            for row in rows:
                question, poll, rest = row.split(",", 2)
                line = f"{int(question) + copy * 1_000_000},{int(poll) + copy * 1_000_000},{rest}"
                if written + len(line) > limit:
                    return path
                out.write(line)
                written += len(line)


def default_store(folder: Path) -> Path:
    """The default store (the sample and the public files), built once by the command line."""
    path = folder / "default.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{path}", "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "cli.py", "ask", "!race alabama"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, "cli.py", "export", str(folder / "default-store.json")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return path


async def main(code: Path) -> None:
    mib = 1024
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_large(folder)
        store = default_store(folder)
        files = [
            path_of("zip_bomb.zip", folder),
            path_of("lying_zip_bomb.zip", folder),
            path_of("deep.json", folder),
            PUBLIC / "senate_polls.csv",
            PUBLIC / "2020 Primary Precinct Results.zip",
            folder / "default-store.json",
            big_polls(folder / "big_polls.csv"),
        ]
        print(f"code: {code}")
        print(
            f"{'file':36} {'size':>8} | {'bot rest':>8} {'bot peak':>8} {'ratio':>5} | {'cli peak':>8} exit"
        )
        baseline, _, _ = cli_peak(
            code, shutil.copy(store, folder / "cli.db"), path_of("valid_polls.csv", folder)
        )
        for path in files:
            copy = shutil.copy(store, folder / "run.db")
            resting, peak, reply = await bot_peak(code, Path(copy), path)
            copy = shutil.copy(store, folder / "cli.db")
            cpeak, exit_code, said = cli_peak(code, Path(copy), path)
            size = path.stat().st_size / (1 << 20)
            print(
                f"{path.name[:36]:36} {size:7.1f}M | {resting / mib:7.0f}M {peak / mib:7.0f}M {peak / resting:5.2f} "
                f"| {cpeak / mib:7.0f}M {exit_code}"
            )
            print(f"    bot: {reply}\n    cli: {said}")
        print(f"command line importing a 2-row file: {baseline / mib:.0f}M peak")
        print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib:.0f}M)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout whose cli.py runs (default: this one)"
    )
    asyncio.run(main(parser.parse_args().code.resolve()))

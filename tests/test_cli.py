"""The command line, run as a person would: `racedesk ask`, `racedesk sync`, `racedesk db upgrade`."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cli
from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker
from loopback import StandIn
from loopback.process import REPO_ROOT, start_bot_process, stop_bot_process
from settings import Settings
from tests.data.hostile.corpus import CASES, make_large, path_of
from tests.support import SPEC, Built, copied_store, in_own_loop, row_counts, sqlite_url


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"} | (env or {})
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=REPO_ROOT,
        env=full,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_ask_prints_the_answer_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    done = run("ask", "!race alabama 2022", env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    # the pick rule: of Alabama's 2022 races, the office most asked about (the Senate, not the House)
    assert done.stdout.startswith("2022 Alabama U.S. Senate (Class III)\n") and "Britt won" in done.stdout
    done = run("ask", "!race alabama 2020", env={"DATABASE_URL": url})
    assert done.stdout.startswith("2020 Alabama U.S. Senate (Class II)\n")
    assert "Tuberville defeated Sessions" in done.stdout


def test_ask_with_wrong_input_prints_the_usage_and_exits_1(tmp_path: Path, built: Built) -> None:
    done = run("ask", "!race", env={"DATABASE_URL": sqlite_url(built.copy_to(tmp_path / "a.db"))})
    assert done.returncode == 1
    assert "Example: `!race alabama`" in done.stdout


def test_ask_with_an_unusable_database_says_so(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    done = run("ask", "!race alabama", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}"})
    assert done.returncode == 2
    assert "cannot open the database" in done.stderr and "Traceback" not in done.stderr


def test_ask_answers_in_a_sharded_deployments_environment(tmp_path: Path, built: Built) -> None:
    """The console is one unsharded connection: run as shard 63 of 64, it would hear its own server only
    by a 1-in-64 chance."""
    env = {
        "DATABASE_URL": sqlite_url(built.copy_to(tmp_path / "a.db")),
        "SHARD_COUNT": "64",
        "SHARD_IDS": "63",
    }
    done = run("ask", "!race alabama 2020", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2020 Alabama U.S. Senate (Class II)\n")


async def test_ask_answers_from_the_store_and_the_console_keeps_the_shelf(
    tmp_path: Path, built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One question does not pay for filling the shelf (db/shelf.py) it would not use; the console, asked
    many, fills it."""
    settings = Settings.from_env({"DATABASE_URL": sqlite_url(built.copy_to(tmp_path / "a.db"))}, dotenv=None)
    opened: list[bool] = []
    real_offline = cli.offline

    def offline(settings: Settings, *, keep_shelf: bool = True) -> Any:
        opened.append(keep_shelf)
        return real_offline(settings, keep_shelf=keep_shelf)

    monkeypatch.setattr(cli, "offline", offline)
    assert await cli.ask_command(settings, "!race alabama 2020") == 0
    assert opened == [False]
    async with real_offline(settings, keep_shelf=False) as console:
        shelf = console.driver.bot.store.shelf
        answer = await console.ask("!candidate tuberville")
        assert answer.ok and answer.text.startswith("Tommy Tuberville")
        assert not shelf.usable() and not shelf.races and not shelf.person_cards and shelf.hits == 0
    async with real_offline(settings) as console:
        shelf = console.driver.bot.store.shelf
        assert (await console.ask("!candidate tuberville")).text == answer.text
        assert shelf.usable() and shelf.races and shelf.hits == 1


def test_bad_shard_settings_are_one_line_with_an_example() -> None:
    done = run("ask", "!race alabama", env={"SHARD_COUNT": "2", "SHARD_IDS": "1-2"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "racedesk: SHARD_IDS `1-2` is not below SHARD_COUNT=2 (shards are numbered 0 to 1); e.g. SHARD_COUNT=4 "
        "with SHARD_IDS=0-1 in one process and SHARD_IDS=2,3 in the other (see 'Configuration' in README.md)"
    )


def test_db_upgrade(tmp_path: Path) -> None:
    done = run("db", "upgrade", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'u.db'}"})
    assert done.returncode == 0 and "is up to date" in done.stdout


def test_db_add_shipped_adds_what_the_store_lacks_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"}
    first = run("db", "add-shipped", env=env)
    assert first.returncode == 0, first.stderr
    assert "default store: added " in first.stdout and " races" in first.stdout
    again = run("db", "add-shipped", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(
        "sample: kept as it is; default store: already imported; nothing changed"
    )
    answer = run("ask", "!house 2022", env=env)
    assert answer.returncode == 0 and "D 213 · R 222" in answer.stdout


def test_bad_settings_are_one_line_not_a_traceback() -> None:
    done = run("ask", "!race alabama", env={"OWNER_IDS": "me"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "racedesk: OWNER_IDS must be Discord ids separated by commas, e.g. 123456789012345678 "
        "(see 'Configuration' in README.md)"
    )


async def test_sync_publishes_the_slash_commands(tmp_path: Path) -> None:
    async with StandIn(SPEC, token="sync-token") as standin:
        proc = await start_bot_process(
            standin, env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 's.db'}"}, args=("sync",)
        )
        await asyncio.wait_for(proc.wait(), 120)
        output = await stop_bot_process(proc)
        assert proc.returncode == 0, output
        assert "Synced" in output
        assert "race" in {command["name"] for command in standin.commands()}
        assert standin.spec_errors == []


def test_import_then_import_again_changes_nothing(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.db'}"}
    polls = str(REPO_ROOT / "data" / "public" / "senate_polls.csv")
    dry = run("import", polls, "--dry-run", env=env)
    first = run("import", polls, env=env)
    second = run("import", polls, env=env)
    assert dry.returncode == first.returncode == second.returncode == 0, first.stderr
    assert "(dry run): would add" in dry.stdout and "1,546 polls" in dry.stdout
    assert "added" in first.stdout and "1,546 polls" in first.stdout
    assert "already imported; nothing changed" in second.stdout


def test_import_of_an_unknown_file_says_what_it_reads(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.db'}"}
    done = run("import", str(REPO_ROOT / "README.md"), env=env)
    assert done.returncode == 2
    assert "README.md: not one of fivethirtyeight-polls, medsl" in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- hostile files


def sample_copy(target: Path) -> dict[str, str]:
    """A copy of a store holding the sample, as the environment the command line reads."""
    engine = copied_store(target, "sample", load_sample)
    in_own_loop(engine.dispose)
    return {"DATABASE_URL": sqlite_url(target), "RACEDESK_DEFAULT_DATA": "0"}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus's large files (the zip bomb, a huge line, JSON nested 200,000 deep), made once."""
    folder = tmp_path_factory.mktemp("hostile")
    make_large(folder)
    return folder


def test_the_hostile_corpus_through_the_command_line(
    tmp_path: Path, large: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every hostile file: a refused one exits 2 with one line naming the file and what was wrong, and the
    store is unchanged; a good one is stored (exit 0). In-process (`cli.main`), so the whole corpus is quick;
    the test below runs the real process on the findings' files."""
    tried = refused = stored = 0
    for name, case in sorted(CASES.items()):
        env = sample_copy(tmp_path / f"{name}.db")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        url = env["DATABASE_URL"]
        before = in_own_loop(functools.partial(counts_at, url))
        code = cli.main(["import", str(path_of(name, large))])
        out, err = capsys.readouterr()
        tried += 1
        if case.outcome == "refused":
            assert code == 2, (name, out, err)
            assert err.startswith("racedesk: ") and err.count("\n") == 1 and name in err, (name, err)
            assert case.says in err, (name, err)
            assert in_own_loop(functools.partial(counts_at, url)) == before, name
            refused += 1
        else:
            assert code == 0, (name, out, err)
            stored += 1
    assert tried == len(CASES) == refused + stored


async def counts_at(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return await row_counts(make_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "name",
    ["zip_bomb.zip", "latin1.csv", "not_a_zip.zip", "deep.json", "votes_1e30.csv", "sample_1e20.csv",
     "pct_nan.csv", "cycle_99999.csv", "share_minus_40.csv"],
)  # fmt: skip
def test_the_findings_files_exit_2_without_a_traceback(name: str, tmp_path: Path, large: Path) -> None:
    """The real process, as the red team ran it: each of these ended in a traceback."""
    env = sample_copy(tmp_path / "store.db")
    done = run("import", str(path_of(name, large)), env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"racedesk: import failed, nothing was written: {name}: "
    ) or done.stderr.startswith(f"racedesk: {name}: "), done.stderr
    assert CASES[name].says in done.stderr


def test_import_of_the_fec_candidate_file(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.db'}"}
    fec = REPO_ROOT / "data" / "public" / "fec" / "cn.txt"
    every = fec.read_text(encoding="latin-1").splitlines(keepends=True)
    lines = [line for line in every if line.split("|")[4] == "AL"]
    districts = {f[6] for f in (line.split("|") for line in lines) if f[3] == "2018" and f[5] == "H"}
    districts = {d for d in districts if 1 <= int(d) <= 7}  # Alabama's seven (the file also names an 88)
    path = tmp_path / "cn.txt"
    path.write_text("".join(lines), encoding="latin-1")
    done = run("import", str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert f"{len(districts)} races" in done.stdout and "cn.txt: added" in done.stdout


def test_a_polls_file_without_a_needed_column_fails_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.db'}"}
    polls = REPO_ROOT / "data" / "public" / "fivethirtyeight-2024" / "senate_polls.csv"
    header, *rows = polls.read_text(encoding="utf-8").splitlines(keepends=True)
    columns = header.rstrip("\n").split(",")
    at = columns.index("pct")
    assert at == len(columns) - 1  # the last column: each row loses its last field
    path = tmp_path / "polls.csv"
    path.write_text(",".join(columns[:at]) + "\n" + "".join(r.rsplit(",", 1)[0] + "\n" for r in rows[:5]))
    done = run("import", str(path), "--format", "fivethirtyeight-polls", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no column pct" in done.stderr

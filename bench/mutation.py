"""Mutation testing (mutmut) of the code that decides trust and truth, one module at a time.

Each module is mutated in a scratch copy of the working tree (the repository itself is never touched) and
each mutant is tried against only the tests that cover that module (and, within those, only the tests that
ran the mutated function: mutmut records which ones did). PostgreSQL cases are left out (`-k "not
postgresql"`): the code under test is the same on both databases. At the end a table: module, mutants,
killed, %. A mutant counts as killed when a test failed or timed out; "no tests" counts as survived.
Survivors are listed per module with `mutmut show`'s diff, so each can be killed by a test or explained in
docs/testing.md.

    bench/mutation.sh [module ...]     # names from MODULES below; none: all, in this order
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ["bot.py", "cli.py", "settings.py", "cogs", "db", "render", "loopback", "data"]
KILLED = {"killed", "timeout"}


@dataclass(frozen=True)
class Module:
    path: str  # the file mutated
    tests: tuple[str, ...]  # the tests that cover it


MODULES = {
    "checks": Module(
        "cogs/support/checks.py",
        (
            "tests/cogs/desk/test_permission_matrix.py",
            "tests/cogs/desk/test_permissions.py",
            "tests/cogs/desk/test_commands.py",
        ),
    ),
    "undo": Module(
        "db/writes/undo.py",
        (
            "tests/cogs/test_audit.py",
            "tests/db/writes/test_writes.py",
            "tests/db/writes/test_undo.py",
            "tests/db/writes/test_merges.py",
            "tests/db/writes/test_change_call.py",
            "tests/cogs/desk/test_commands.py",
            "tests/db/test_outbox.py",
            "tests/cogs/test_announcer.py",
            "tests/render/test_audit.py",
            "tests/render/test_announce.py",
        ),
    ),
    "polling": Module(
        "db/polling.py",
        (
            "tests/db/test_polling.py",
            "tests/render/test_polls.py",
            "tests/render/test_chart.py",
            "tests/db/reads/test_member_reads.py",
        ),
    ),
    "lookup": Module(
        "db/lookup.py",
        ("tests/db/test_lookup.py", "tests/db/test_lookup_parts.py", "tests/cogs/test_race.py"),
    ),
    "outbox": Module(
        "db/outbox.py",
        (
            "tests/db/test_outbox.py",
            "tests/db/test_outbox_claims.py",
            "tests/cogs/test_announcer.py",
            "tests/cogs/test_announcer_pace.py",
        ),
    ),
    "announcer": Module(
        "cogs/announcer.py",
        (
            "tests/cogs/test_announcer_rules.py",
            "tests/cogs/test_announcer_pace.py",
            "tests/cogs/test_announcer.py",
            "tests/db/test_outbox_claims.py",
        ),
    ),
    "parsing": Module(
        "cogs/desk/_parsing.py",
        # Its 1,800 mutants against the examples alone: the hypothesis properties and the desk's command
        # tests (a bot each) would take hours; the figure counts only what the examples catch.
        ("tests/cogs/desk/test_parsing.py", "tests/db/test_vocabulary.py"),
    ),
    "validation": Module(
        "db/validation.py",
        (
            "tests/db/test_validation.py",
            "tests/db/test_store.py",
            "tests/cogs/desk/test_hostile_input.py",
        ),
    ),
    "limits": Module(
        "db/limits.py",
        (
            "tests/db/test_limits.py",
            "tests/cogs/desk/test_parsing.py",
            "tests/db/importers/test_common.py",
            "tests/db/test_validation.py",
        ),
    ),
    "importers-common": Module(
        "db/importers/common.py",
        (
            "tests/db/importers/test_common.py",
            "tests/db/importers/test_final_count.py",
            "tests/db/importers/test_parsers.py",
        ),
    ),
}


def scratch_copy(target: Path) -> None:
    """The working tree's files (tracked, and new ones not ignored) copied to `target`."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def configure(target: Path, module: Module) -> None:
    """mutmut's settings for this module, appended to the copy's pyproject.toml."""
    top = module.path.split("/")[0]
    tests = [t for t in module.tests if (target / t).exists()]
    settings = {
        "source_paths": [top],
        "only_mutate": [module.path],
        "also_copy": [p for p in TOP_LEVEL if p != top],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x", "-k", "not postgresql"],
        "pytest_add_cli_args_test_selection": tests,
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    with (target / "pyproject.toml").open("a") as out:
        out.write("\n".join(lines) + "\n")


def mutmut(target: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("RACEDESK_REQUIRE_POSTGRES", None)
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=target,
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )
    return done.stdout + done.stderr


def run_module(name: str, module: Module, workdir: Path, children: int) -> tuple[int, int, list[str]]:
    target = workdir / name
    scratch_copy(target)
    configure(target, module)
    print(f"== {name}: {module.path}", flush=True)
    ran = mutmut(target, "run", "--max-children", str(children), check=False)
    listing = mutmut(target, "results", "--all", "true")
    statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", listing, re.M))
    if untried := sum(1 for status in statuses.values() if status == "not checked"):
        # mutmut itself ended early (e.g. a mutant signalled it): say so; these count as survivors below.
        last = [line for line in re.split(r"[\r\n]", ran) if line.strip()][-3:]
        print(f"   mutmut stopped with {untried} mutants not tried; its last lines: {last}", flush=True)
    survivors = sorted(m for m, status in statuses.items() if status not in KILLED)
    killed = sum(1 for status in statuses.values() if status in KILLED)
    report = workdir / f"{name}-survivors.txt"
    with report.open("w") as out:
        for mutant in survivors:
            out.write(f"# {mutant}: {statuses[mutant]}\n{mutmut(target, 'show', mutant, check=False)}\n")
    return len(statuses), killed, survivors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", metavar="module", help=", ".join(MODULES))
    parser.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "racedesk-mutation"
    )
    parser.add_argument("--children", type=int, default=max(1, (os.cpu_count() or 2)))
    args = parser.parse_args()
    if unknown := [name for name in args.modules if name not in MODULES]:
        parser.error(f"no module {', '.join(unknown)}; the modules: {', '.join(MODULES)}")
    rows = []
    for name in args.modules or list(MODULES):
        total, killed, survivors = run_module(name, MODULES[name], args.workdir, args.children)
        rows.append((MODULES[name].path, total, killed))
        print(f"   {total} mutants, {killed} killed; {len(survivors)} survived:")
        for mutant in survivors:
            print(f"     {mutant}")
        print(f"   their diffs: {args.workdir / (name + '-survivors.txt')}", flush=True)
    print(f"\n{'module':<28} {'mutants':>8} {'killed':>8} {'%':>6}")
    for path, total, killed in rows:
        share = 100 * killed / total if total else 0.0
        print(f"{path:<28} {total:>8} {killed:>8} {share:>6.1f}")


if __name__ == "__main__":
    main()

"""deploy/: the systemd template unit runs `racedesk run` with a common and a per-instance environment file,
and the example environment files give valid settings whose instances run every shard exactly once."""

from __future__ import annotations

import configparser
from pathlib import Path

from cli import parser
from settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_template_unit_runs_the_bot_with_a_common_and_an_instance_environment() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "racedesk@.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"].split()[-1] == "run"
    assert parser().parse_args(["run"]).command == "run"
    environment = [line.strip() for line in (DEPLOY / "racedesk@.service").read_text().splitlines()]
    assert "EnvironmentFile=/etc/racedesk/common.env" in environment
    assert "EnvironmentFile=/etc/racedesk/%i.env" in environment
    assert service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_example_instances_together_run_every_shard_once(tmp_path: Path) -> None:
    common = env_file(DEPLOY / "env" / "common.env.example")
    instances = sorted((DEPLOY / "env").glob("[0-9]*.env.example"))
    assert len(instances) >= 2
    settings = [Settings.from_env({**common, **env_file(path)}, dotenv=None) for path in instances]
    assert all(s.database_url.startswith("postgresql+asyncpg://") for s in settings)
    count = settings[0].shard_count
    assert count is not None and all(s.shard_count == count for s in settings)
    ran = [shard for s in settings for shard in s.shard_ids or ()]
    assert sorted(ran) == list(range(count))

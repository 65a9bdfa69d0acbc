"""Settings from the environment and .env; a bad value is a clear error, the token is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import DEFAULT_DATABASE_URL, Settings, SettingsError


def test_defaults_need_nothing_set(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=tmp_path / ".env")
    assert settings.token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.prefix == "!"
    assert settings.owner_ids == frozenset() and settings.desk_guild_ids == frozenset()
    assert settings.outbox_keep_days == 30
    assert Settings.from_env({"OUTBOX_KEEP_DAYS": " 7 "}, dotenv=tmp_path / ".env").outbox_keep_days == 7


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DISCORD_TOKEN=from-file\nCOMMAND_PREFIX=?\nOWNER_IDS=1, 2\n")
    settings = Settings.from_env({"COMMAND_PREFIX": "$", "DESK_GUILD_IDS": "30,40"}, dotenv=dotenv)
    assert settings.token == "from-file"
    assert settings.prefix == "$"
    assert settings.owner_ids == frozenset({1, 2}) and settings.desk_guild_ids == frozenset({30, 40})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OWNER_IDS": "alice"}, "OWNER_IDS must be Discord ids"),
        ({"DESK_GUILD_IDS": "12,x"}, "DESK_GUILD_IDS must be Discord ids"),
        ({"COMMAND_PREFIX": "!!!!!!!!!"}, "COMMAND_PREFIX must be at most 8"),
        ({"OUTBOX_KEEP_DAYS": "0"}, "OUTBOX_KEEP_DAYS must be a whole number of days, 1 to 3650, e.g. 30"),
        ({"OUTBOX_KEEP_DAYS": "two weeks"}, "OUTBOX_KEEP_DAYS must be a whole number of days"),
        ({"OUTBOX_KEEP_DAYS": "4000"}, "OUTBOX_KEEP_DAYS must be a whole number of days"),
    ],
)
def test_bad_values_say_what_is_expected(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env, dotenv=tmp_path / ".env")


def test_the_token_is_not_in_the_repr(tmp_path: Path) -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "very-secret"}, dotenv=tmp_path / ".env")
    assert "very-secret" not in repr(settings)


def test_feed_hosts_are_empty_by_default_and_host_names_only(tmp_path: Path) -> None:
    assert Settings.from_env({}, dotenv=tmp_path / ".env").feed_hosts == frozenset()
    hosts = Settings.from_env(
        {"FEED_HOSTS": "Results.ENR.clarityelections.com, api.ap.org 127.0.0.1"}, dotenv=None
    )
    assert hosts.feed_hosts == frozenset({"results.enr.clarityelections.com", "api.ap.org", "127.0.0.1"})
    with pytest.raises(SettingsError, match="host names, not URLs"):
        Settings.from_env({"FEED_HOSTS": "https://api.ap.org/v2"}, dotenv=None)


@pytest.mark.parametrize(
    ("env", "count", "ids"),
    [
        ({}, None, None),
        ({"SHARD_COUNT": "4"}, 4, None),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0-3"}, 8, (0, 1, 2, 3)),
        ({"SHARD_COUNT": "6", "SHARD_IDS": "4,5"}, 6, (4, 5)),
        ({"SHARD_COUNT": "8", "SHARD_IDS": " 6, 0-1 ,1"}, 8, (0, 1, 6)),
        ({"SHARD_COUNT": "1", "SHARD_IDS": "0"}, 1, (0,)),
    ],
)
def test_shard_settings(tmp_path: Path, env: dict[str, str], count: int | None, ids: tuple[int, ...]) -> None:
    settings = Settings.from_env(env, dotenv=tmp_path / ".env")
    assert settings.shard_count == count
    assert settings.shard_ids == ids


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHARD_IDS": "0-1"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be a whole number of shards, 1 to 100000, not `two`"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number of shards, 1 to 100000, not `0`"),
        (
            {"SHARD_COUNT": "100001"},
            "SHARD_COUNT must be a whole number of shards, 1 to 100000, not `100001`",
        ),
        ({"SHARD_COUNT": "-2"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-x"}, "SHARD_IDS lists shard numbers and ranges, not `0-x`"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "a"}, "SHARD_IDS lists shard numbers and ranges, not `a`"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1,,2"}, "SHARD_IDS lists shard numbers and ranges, not ``"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS range `3-1` runs backwards, e.g. 1-3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2-4"}, "SHARD_IDS `2-4` is not below SHARD_COUNT=4"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "(shards are numbered 0 to 1)"),
    ],
)
def test_bad_shard_settings_say_what_is_expected(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env, dotenv=tmp_path / ".env")
    text = str(refused.value)
    assert message in text
    assert "\n" not in text and "e.g." in text

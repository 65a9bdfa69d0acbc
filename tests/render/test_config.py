"""The config replies: a server's settings, and what each change did with how to undo it."""

from __future__ import annotations

from db.models import AuditEntry, GuildSettings
from db.writes.config import SettingChange
from render.config import (
    cannot_post_text,
    cleared,
    mod_role_set,
    ping_role_set,
    prefix_set,
    recorded,
    results_channel_set,
    settings_embed,
)

CHANGED = SettingChange(guild_id=5, field="prefix", before=None, after="?", audit=AuditEntry(id=31))
SAME = SettingChange(guild_id=5, field="prefix", before="?", after="?", audit=None)


def test_a_server_with_nothing_set() -> None:
    embed = settings_embed("The *Desk*", None, desk=False, default_prefix="!", prefix="!")
    assert embed.title == "Settings of The \\*Desk\\*"
    assert (embed.description or "").splitlines() == [
        "Results channel: not set: nothing is announced here",
        "Moderator role: not set (used only in desk servers)",
        "Ping role: none: announcements ping nobody",
        "Prefix: `!`",
        "This is not a desk server: shared data is changed by the desk.",
    ]
    assert embed.footer.text == "Change one with !config results-channel #channel, or !config clear ping-role"


def test_a_desk_server_with_everything_set() -> None:
    row = GuildSettings(guild_id=5, results_channel_id=10, mod_role_id=11, ping_role_id=12, prefix="?")
    embed = settings_embed("Desk", row, desk=True, default_prefix="!", prefix="/")
    assert (embed.description or "").splitlines() == [
        "Results channel: <#10>",
        "Moderator role: <@&11>",
        "Ping role: <@&12>",
        "Prefix: `?`",
        "This is a desk server: its moderators change shared data.",
    ]
    assert (embed.footer.text or "").startswith("Change one with /config")


def test_each_change_says_how_to_undo_it() -> None:
    assert recorded(CHANGED, "!") == "Undo: `!undo 31`."
    assert recorded(SAME, "!") == "It already was; nothing changed."
    assert results_channel_set("<#10>", CHANGED, "!") == (
        "Announcements go to <#10> from now on. Undo: `!undo 31`."
    )
    assert (
        prefix_set("?", CHANGED, "!") == "The prefix here is `?` now, e.g. `?race alabama`. Undo: `!undo 31`."
    )


def test_a_moderator_role_outside_a_desk_server_is_noted() -> None:
    assert mod_role_set("<@&11>", SAME, "!", desk=True) == (
        "Desk moderators are members with <@&11>. It already was; nothing changed."
    )
    assert "is not a desk server" in mod_role_set("<@&11>", SAME, "!", desk=False)


def test_a_ping_role_discord_will_not_ping_is_warned_of() -> None:
    assert ping_role_set("<@&12>", CHANGED, "!", will_ping=True) == (
        "Race calls here will ping <@&12>; nothing else pings. Undo: `!undo 31`."
    )
    assert "Discord will not ping it." in ping_role_set("<@&12>", CHANGED, "!", will_ping=False)


def test_clearing_each_setting() -> None:
    assert cleared("ping-role", CHANGED, "!", default_prefix="!") == (
        "Announcements ping nobody now. Undo: `!undo 31`."
    )
    assert cleared("prefix", CHANGED, "?", default_prefix="!") == (
        "The prefix is back to `!`. Undo: `?undo 31`."
    )
    assert cleared("results-channel", SAME, "!", default_prefix="!").startswith("Nothing is announced")
    assert cleared("mod-role", SAME, "!", default_prefix="!").startswith("No role moderates")


def test_missing_permissions_are_named() -> None:
    assert cannot_post_text("<#10>", ["Send Messages", "Embed Links"]) == (
        "I can't post in <#10>: I need Send Messages, Embed Links there."
    )

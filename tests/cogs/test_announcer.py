"""Announcements through the loopback Discord: every results channel and follower hears each one once,
through 5xx and 429 answers; what Discord refuses for good is dropped; nothing pings unless a server asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from db import outbox
from db.engine import make_sessionmaker
from db.models import AuditEntry, GuildSettings, OutboxMessage
from tests.support import World, desk_world, messages_in, outbox_settled, until


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path) as started:
        announcer = the_announcer(started)
        assert announcer.running
        announcer.backoff_base = 0.05  # retries come quickly in tests
        announcer.pacer = type(announcer.pacer)(500)
        yield started


def the_announcer(world: World) -> Any:
    """The running cog (discord.py loads extensions afresh, so its class is not the one imported here)."""
    cog = world.bot.get_cog("Announcer")
    assert cog is not None and type(cog).__name__ == "AnnouncerCog"
    return cog


def results_channels(world: World) -> list[int]:
    return list(world.results.values())


def announcements(world: World, channel: int, marker: str) -> list[Any]:
    return [m for m in messages_in(world, channel) if marker in m.text()]


async def all_arrived(world: World, marker: str, each: int = 1) -> None:
    targets = [*results_channels(world), world.standin.dm_channel_id(world.member)]
    await until(
        lambda: all(len(announcements(world, t, marker)) >= each for t in targets),
        what=f"{marker!r} everywhere",
    )
    await outbox_settled(make_sessionmaker(world.bot.engine))


def assert_once_everywhere(world: World, marker: str, each: int = 1) -> None:
    for target in [*results_channels(world), world.standin.dm_channel_id(world.member)]:
        found = announcements(world, target, marker)
        assert len(found) == each, (target, [m.text()[:80] for m in found])


async def test_a_result_reaches_every_results_channel_and_follower_once(world: World) -> None:
    exchange = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500 reporting=100%", author=world.moderator
    )
    assert exchange.ok is True
    assert "Announcing in 2 channels and to 1 follower by DM." in exchange.text
    await all_arrived(world, "count update")
    assert_once_everywhere(world, "count update")
    dm = announcements(world, world.standin.dm_channel_id(world.member), "count update")[0]
    assert dm.content == "You follow 2020 Alabama U.S. Senate (Class II). To stop: `!unfollow alabama 2020`"
    message = announcements(world, results_channels(world)[0], "count update")[0]
    assert message.content is None
    assert "**Tommy Tuberville (R)** 1,392,100 (+24) · 60.2%" in message.text()
    assert message.allowed_mentions == {"parse": []}
    posts = [
        r
        for r in world.standin.requests
        if r.method == "POST"
        and r.path.endswith("/messages")
        and "count update" in str(r.body)
        and r.path != f"/channels/{world.desk_channel}/messages"  # not the reply to the moderator
    ]
    assert all(r.body["enforce_nonce"] is True and len(r.body["nonce"]) == 25 for r in posts)
    assert len({r.body["nonce"] for r in posts}) == 3
    async with make_sessionmaker(world.bot.engine)() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert {(r.status, r.message_id is not None) for r in rows} == {("sent", True)}


async def test_5xx_and_429_answers_are_retried_and_each_arrives_once(world: World) -> None:
    desk_results, other_results = results_channels(world)
    dm = world.standin.dm_channel_id(world.member)
    world.standin.fail_next(
        "POST", rf"/channels/{desk_results}/messages", 503, times=3
    )  # discord.py gives up: ours
    world.standin.fail_next("POST", rf"/channels/{other_results}/messages", 429, times=2, retry_after=0.05)
    world.standin.fail_next("POST", rf"/channels/{dm}/messages", 500, times=1)  # discord.py retries after 1 s
    world.standin.fail_next("POST", r"/users/@me/channels", 502, times=1)
    for n in range(3):
        exchange = await world.say(
            f"!result alabama general Tuberville={1392100 + n} Jones=920500", author=world.moderator
        )
        assert exchange.ok is True
    newest = "1,392,102"
    targets = (desk_results, other_results, dm)
    await until(
        lambda: all(
            any(newest in m.text() for m in announcements(world, t, "count update")) for t in targets
        ),
        what="the newest count everywhere",
    )
    await outbox_settled(make_sessionmaker(world.bot.engine))
    # One target's updates arrive in the order they were posted, retries notwithstanding, each at most once;
    # a count still waiting (behind a retry) when a newer one came was superseded, not sent: the newest
    # count arrives everywhere, last.
    for target in targets:
        texts = [m.text() for m in announcements(world, target, "count update")]
        order = [next(n for n in range(3) if f"1,392,10{n}" in t) for t in texts]
        assert order == sorted(set(order)) and order[-1] == 2, (target, order)
    async with make_sessionmaker(world.bot.engine)() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert len(rows) == 3 * len(targets) and {r.status for r in rows} <= {"sent", "superseded"}
    for row in rows:
        channel = dm if row.target_kind == "dm" else row.target_id
        sent_here = [r for r in rows if r.target_id == row.target_id and r.status == "sent"]
        assert len(announcements(world, channel, "count update")) == len(sent_here)
        if row.status == "superseded":  # by a newer count to the same target
            assert row.superseded_by in {r.audit_id for r in rows if r.target_id == row.target_id}
            assert row.superseded_by is not None and row.audit_id is not None
            assert row.superseded_by > row.audit_id
    # The announcer retried the three 503s itself; discord.py retried the 429s, the 500 and the 502.
    assert the_announcer(world).retried == 3


async def test_closed_dms_and_deleted_channels_are_dropped_for_good(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.standin.dm_closed(world.member)
    async with make_sessionmaker(world.bot.engine).begin() as session:
        settings = await session.get(GuildSettings, world.other.id)
        assert settings is not None
        settings.results_channel_id = 123456789012345678  # a channel that was deleted
    # Jones: a call that changes the outcome (one equal to the standing call announces nothing).
    exchange = await world.say("!call alabama general Jones source=AP", author=world.moderator)
    assert exchange.ok is True
    desk_results = world.results[world.desk.id]
    await until(lambda: len(announcements(world, desk_results, "Race call")) == 1)
    await outbox_settled(make_sessionmaker(world.bot.engine))
    async with make_sessionmaker(world.bot.engine)() as session:
        rows = {(r.target_kind, r.status, r.attempts) for r in await session.scalars(select(OutboxMessage))}
    assert rows == {("channel", "sent", 1), ("channel", "dropped", 1), ("dm", "dropped", 1)}
    assert "dropped for good: 403" in caplog.text and "dropped for good: 404" in caplog.text


async def test_nothing_pings_unless_a_server_set_a_ping_role(world: World) -> None:
    news = world.standin.add_role(world.other.id, name="election-news")
    exchange = await world.say(
        f"!config ping-role <@&{news.id}>", author=world.other_admin, channel=world.other_channel
    )
    assert exchange.ok is True and exchange.messages[0].allowed_mentions == {"parse": []}
    # Jones: a call that changes the outcome (one equal to the standing call announces nothing).
    assert (await world.say("!call alabama general Jones", author=world.moderator)).ok is True
    await all_arrived(world, "Race call")
    desk_results, other_results = results_channels(world)
    pinged = announcements(world, other_results, "Race call")[0]
    assert pinged.content == f"<@&{news.id}>"
    assert pinged.allowed_mentions == {"parse": [], "roles": [news.id]}
    assert world.standin.message_json(pinged.message_id)["mention_roles"] == [str(news.id)]
    quiet = announcements(world, desk_results, "Race call")[0]
    assert quiet.content is None and world.standin.message_json(quiet.message_id)["mention_roles"] == []
    # A count update is not a call: it pings nobody, even there.
    assert (
        await world.say("!result alabama general Tuberville=1392101 Jones=920500", author=world.moderator)
    ).ok
    await all_arrived(world, "count update")
    update = announcements(world, other_results, "count update")[0]
    assert update.content is None and update.allowed_mentions == {"parse": []}


@pytest.mark.parametrize("naughty", ["@everyone", "@here", "<@&{role}>", "<@{user}>"])
async def test_mentions_typed_into_names_never_ping(world: World, naughty: str) -> None:
    text = naughty.format(role=world.desk_role.id, user=world.member)
    commands = [
        f'!poll add alabama pollster="{text} Polling" dates="July 1-3, 2020" Tuberville=44 Jones=40',
        f'!endorse alabama endorser="{text} PAC" candidate=Tuberville',
        f'!candidate-add alabama general name="{text} Smith" party=IND',
        f"!result alabama general Tuberville=5 Jones=3 source={text}",
    ]
    for command in commands:
        exchange = await world.say(command, author=world.moderator)
        assert exchange.ok is True, exchange.text
        for message in exchange.messages:
            stored = world.standin.message_json(message.message_id)
            assert (
                stored["mention_everyone"] is False
                and stored["mention_roles"] == []
                and stored["mentions"] == []
            )
    await all_arrived(world, "New poll")
    await all_arrived(world, "count update")
    sent = [m for m in world.standin.messages if m.kind == "message"]
    for message in sent:
        stored = world.standin.message_json(message.message_id)
        assert (
            stored["mention_everyone"] is False and stored["mention_roles"] == [] and stored["mentions"] == []
        )


async def test_undo_of_an_announced_result_announces_the_correction(world: World) -> None:
    posted = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500", author=world.moderator
    )
    await all_arrived(world, "count update")
    audit_id = int(posted.text.split("!undo ")[1].split("`")[0])
    exchange = await world.say(f"!undo {audit_id}", author=world.owner)
    assert (
        exchange.ok is True
        and "Announcing the correction in 2 channels and to 1 follower by DM." in exchange.text
    )
    await all_arrived(world, "Correction")
    assert_once_everywhere(world, "Correction")
    correction = announcements(world, results_channels(world)[0], "Correction")[0].text()
    assert "was withdrawn" in correction and "Tuberville defeated Jones, 60.1%–39.7%" in correction


async def test_an_undo_before_delivery_withdraws_instead_of_correcting(world: World) -> None:
    # The announcer is down (Discord unreachable, or the bot restarting).
    await the_announcer(world).cog_unload()
    posted = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500", author=world.moderator
    )
    audit_id = int(posted.text.split("!undo ")[1].split("`")[0])
    exchange = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert (
        "Withdrew 3 announcements not yet delivered." in exchange.text and "correction" not in exchange.text
    )
    async with make_sessionmaker(world.bot.engine)() as session:
        statuses = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
        assert await outbox.due(session, outbox.dt.datetime.now(outbox.dt.UTC)) == []
    assert statuses == {"dropped": 6}  # the 3 originals, and 3 corrections nobody needs
    for target in [*results_channels(world), world.standin.dm_channel_id(world.member)]:
        assert announcements(world, target, "count update") == []


async def test_announcements_past_keeping_are_cleared_and_their_undo_says_no_correction_goes(
    world: World,
) -> None:
    posted = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500", author=world.moderator
    )
    await all_arrived(world, "count update")
    audit_id = int(posted.text.split("!undo ")[1].split("`")[0])
    sessions = make_sessionmaker(world.bot.engine)
    announcer = the_announcer(world)
    assert announcer._purger is not None and not announcer._purger.done()  # at start, then every hour
    assert await announcer.purge_kept_long_enough() == 0  # 30 days (OUTBOX_KEEP_DAYS) have not passed
    async with sessions.begin() as session:
        month_ago = outbox.dt.datetime.now(outbox.dt.UTC) - outbox.dt.timedelta(days=31)
        await session.execute(update(AuditEntry).where(AuditEntry.id == audit_id).values(at=month_ago))
    assert await announcer.purge_kept_long_enough() == 3
    exchange = await world.say(f"!undo {audit_id}", author=world.owner)
    assert exchange.ok is True and (
        "Announcements are kept 30 days after their write, and this write is older: "
        "no correction is announced." in exchange.text
    )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

"""End to end, through the real bot process and the loopback Discord: who may post, a moderator's result
announced in every results channel and to followers exactly once though Discord fails and the bot restarts
in between, a call, the audit trail and undo."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db.engine import make_engine, make_sessionmaker
from db.models import Follow, OutboxMessage, Race, ResultSnapshot
from loopback import StandIn
from loopback.process import bot_process_output, start_bot_process, stop_bot_process
from tests.support import SPEC, Built, outbox_settled, sqlite_url, until

TOKEN = "desk-e2e.secret-token.value"


@dataclass
class Desk:
    standin: StandIn
    env: dict[str, str]
    db_url: str
    desk_channel: int
    desk_results: int
    other_channel: int
    other_results: int
    member: int
    moderator: int
    desk_owner: int
    desk_role: int
    other_owner: int
    output: list[str] = field(default_factory=list)
    proc: Any = None

    async def start(self) -> None:
        self.proc = await start_bot_process(self.standin, env=self.env)
        await self.standin.wait_until_ready(timeout=90)

    async def stop(self) -> None:
        self.output.append(await stop_bot_process(self.proc))

    async def say(self, text: str, author: int, channel: int | None = None) -> str:
        """Post and return the bot's reply in that channel."""
        channel = channel or self.desk_channel
        before = len(self.standin.messages)
        await self.standin.send_message(channel, author, text)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while loop.time() < deadline:
            replies = [m for m in self.standin.messages[before:] if m.channel_id == channel]
            if replies:
                return str(replies[0].text())
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no reply to {text!r}\n{bot_process_output(self.proc)[-3000:]}")

    def announcements(self, channel: int, marker: str) -> list[Any]:
        return [
            m
            for m in self.standin.messages
            if m.channel_id == channel and m.kind == "message" and marker in m.text()
        ]

    async def arrived(self, marker: str, targets: list[int], each: int = 1, timeout: float = 40) -> None:
        """Until every target has the announcement and nothing is pending (so nothing more will be sent)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not all(len(self.announcements(t, marker)) >= each for t in targets):
            if loop.time() > deadline:
                found = {t: len(self.announcements(t, marker)) for t in targets}
                raise TimeoutError(f"{marker!r}: {found}\n{bot_process_output(self.proc)[-3000:]}")
            await asyncio.sleep(0.05)
        engine = make_engine(self.db_url)
        try:
            await outbox_settled(make_sessionmaker(engine), timeout=timeout)
        finally:
            await engine.dispose()


@pytest.fixture
async def desk(tmp_path: Path, built: Built) -> AsyncIterator[Desk]:
    async with StandIn(SPEC, token=TOKEN) as standin:
        desk_owner = standin.add_user("desk-owner")
        guild = standin.add_guild(name="Election Desk", owner_id=desk_owner)
        role = standin.add_role(guild.id, name="desk")
        other_owner = standin.add_user("friends-owner")
        other = standin.add_guild(name="Friends", owner_id=other_owner)
        member = standin.add_member(guild.id, "member")
        standin.add_member(other.id, "member", member)
        moderator = standin.add_member(guild.id, "moderator", roles=[role])
        bot_owner = standin.add_user("bot-owner")
        db_url = sqlite_url(
            built.copy_to(tmp_path / "desk.db")
        )  # the default store, as a first start builds it
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_URL": db_url,
            "LOG_LEVEL": "INFO",
            "OWNER_IDS": str(bot_owner),
            "DESK_GUILD_IDS": str(guild.id),
        }
        desk = Desk(
            standin=standin,
            env=env,
            db_url=db_url,
            desk_channel=standin.add_channel(guild.id, name="desk").id,
            desk_results=standin.add_channel(guild.id, name="results").id,
            other_channel=standin.add_channel(other.id, name="general").id,
            other_results=standin.add_channel(other.id, name="results").id,
            member=member,
            moderator=moderator,
            desk_owner=desk_owner,
            desk_role=role.id,
            other_owner=other_owner,
        )
        await desk.start()
        try:
            yield desk
        finally:
            await desk.stop()
        assert standin.spec_errors == []
        log = "".join(desk.output)
        assert "Traceback" not in log, log
        assert TOKEN not in log


async def store_counts(db_url: str) -> tuple[int, int, int]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            snapshots = await session.scalar(select(func.count(ResultSnapshot.id)))
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
            sent = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
            )
        return int(snapshots or 0), int(pending or 0), int(sent or 0)
    finally:
        await engine.dispose()


async def follow(db_url: str, user_id: int) -> None:
    """The member follows the race (the `follow` command writes the same row)."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            race = await session.scalar(
                select(Race).where(Race.state == "AL", Race.cycle == 2020, Race.office == "senate")
            )
            assert race is not None
            session.add(Follow(user_id=user_id, race_id=race.id))
    finally:
        await engine.dispose()


async def test_the_desk_end_to_end_through_failures_and_a_restart(desk: Desk) -> None:
    standin = desk.standin
    # Nobody outside the desk changes shared data.
    before = await store_counts(desk.db_url)
    refused = await desk.say("!result alabama 2020 general Tuberville=5 Jones=3", desk.member)
    assert refused.startswith("Only desk moderators can change shared data")
    refused = await desk.say(
        "!result alabama 2020 general Tuberville=5 Jones=3", desk.other_owner, desk.other_channel
    )
    assert "this server is not a desk server" in refused
    assert await store_counts(desk.db_url) == before

    # Each server's admins set up their server; the desk's owner names its moderators.
    assert "Desk moderators are members with" in await desk.say(
        f"!config mod-role <@&{desk.desk_role}>", desk.desk_owner
    )
    reply = await desk.say(f"!config results-channel <#{desk.desk_results}>", desk.moderator)
    assert reply.startswith(f"Announcements go to <#{desk.desk_results}>")
    reply = await desk.say(
        f"!config results-channel <#{desk.other_results}>", desk.other_owner, desk.other_channel
    )
    assert reply.startswith(f"Announcements go to <#{desk.other_results}>")
    await follow(desk.db_url, desk.member)
    dm = standin.dm_channel_id(desk.member)

    # Discord fails: 503s (retried by the announcer), a 429 and a 500 (retried by discord.py).
    standin.fail_next("POST", rf"/channels/{desk.desk_results}/messages", 503, times=2)
    standin.fail_next("POST", rf"/channels/{desk.other_results}/messages", 429, times=1, retry_after=0.2)
    standin.fail_next("POST", rf"/channels/{dm}/messages", 500, times=1)
    reply = await desk.say(
        "!result alabama 2020 general Tuberville=1392100 Jones=920500 reporting=100%", desk.moderator
    )
    assert (
        reply.startswith("Stored result #") and "Announcing in 2 channels and to 1 follower by DM." in reply
    )
    assert "**Tommy Tuberville (R)** 1,392,100 (+24) · 60.2%" in reply

    # The bot restarts while the desk's channel is still failing.
    await desk.stop()
    snapshots, pending, _sent = await store_counts(desk.db_url)
    assert pending >= 1, "the restart should come while an announcement is still pending"
    await desk.start()
    await desk.arrived("count update", [desk.desk_results, desk.other_results, dm])
    for target in (desk.desk_results, desk.other_results, dm):
        found = desk.announcements(target, "count update")
        assert len(found) == 1, (target, len(found))
        assert "1,392,100 (+24) · 60.2%" in found[0].text()
    assert (await store_counts(desk.db_url))[1:] == (0, 3)

    # The member commands read it.
    card = await desk.say("!race alabama 2020", desk.member)
    assert "General · Nov 3, 2020: ✅ Tuberville defeated Jones, 60.2%–39.8% (unofficial)" in card
    if importlib.util.find_spec("cogs.results") is not None:
        assert "1,392,100" in await desk.say("!results alabama 2020", desk.member)

    # A call that changes the outcome is announced (one equal to the standing call is not); a wrong input is
    # refused clearly.
    assert "Stored call #" in await desk.say("!call alabama 2020 general Jones source=AP", desk.moderator)
    await desk.arrived("Race call", [desk.desk_results, desk.other_results, dm])
    wrong = await desk.say("!result alabama 2020 general Tubervile=5 Jones=3", desk.moderator)
    assert (
        "'Tubervile' is not a candidate in the general" in wrong and "Did you mean Tommy Tuberville?" in wrong
    )
    assert (await store_counts(desk.db_url))[0] == snapshots

    # The audit lists the writes; undo reverts the call and announces the correction.
    audit = await desk.say("!audit alabama 2020", desk.moderator)
    assert "**moderator**: call #" in audit and "**moderator**: result #" in audit
    call_entry = audit.split("`#")[1].split("`")[0]
    undone = await desk.say(f"!undo {call_entry}", desk.moderator)
    assert undone.startswith(f"Undid #{call_entry} (call.add)")
    assert "Announcing the correction in 2 channels and to 1 follower by DM." in undone
    await desk.arrived("Correction", [desk.desk_results, desk.other_results, dm])
    for target in (desk.desk_results, desk.other_results, dm):
        assert len(desk.announcements(target, "Race call")) == 1
        assert len(desk.announcements(target, "Correction")) == 1


async def outbox_rows(db_url: str) -> dict[int, str]:
    """Each announcement's target and status."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(select(OutboxMessage.target_id, OutboxMessage.status))
            return {int(target): str(status) for target, status in rows.all()}
    finally:
        await engine.dispose()


async def test_stopped_after_discord_accepted_and_before_the_record_each_target_gets_one(desk: Desk) -> None:
    standin = desk.standin
    await desk.say(f"!config mod-role <@&{desk.desk_role}>", desk.desk_owner)
    await desk.say(f"!config results-channel <#{desk.desk_results}>", desk.moderator)
    await desk.say(f"!config results-channel <#{desk.other_results}>", desk.other_owner, desk.other_channel)
    await follow(desk.db_url, desk.member)
    dm = standin.dm_channel_id(desk.member)

    # Discord stores the desk channel's announcement; the bot dies before it hears so.
    killed = desk.proc

    async def kill() -> None:
        killed.kill()  # SIGKILL: nothing runs after this, so the row cannot be recorded as sent
        await killed.wait()

    crash = standin.after_accepting("POST", rf"/channels/{desk.desk_results}/messages", kill)
    await standin.send_message(
        desk.desk_channel, desk.moderator, "!result alabama 2020 general Tuberville=1392100 Jones=920500"
    )
    await until(lambda: killed.returncode is not None, 60, "the bot stopped in the window")
    await desk.stop()
    assert crash.fired == 1
    assert len(desk.announcements(desk.desk_results, "count update")) == 1
    rows = await outbox_rows(desk.db_url)
    assert rows[desk.desk_results] == "pending", "Discord took it, but the row was not recorded as sent"

    # Restarted, the bot sends what is pending again, with the same nonce: Discord returns the first.
    await desk.start()
    await desk.arrived("count update", [desk.desk_results, desk.other_results, dm])
    for target in (desk.desk_results, desk.other_results, dm):
        found = desk.announcements(target, "count update")
        assert len(found) == 1, (target, [m.text()[:60] for m in found])
    sent = {desk.desk_results: "sent", desk.other_results: "sent", desk.member: "sent"}
    assert await outbox_rows(desk.db_url) == sent
    posts = [
        r.body["nonce"]
        for r in standin.requests
        if r.method == "POST" and r.path == f"/channels/{desk.desk_results}/messages"
    ]
    assert len(posts) == 2 and posts[0] == posts[1]
    first = desk.announcements(desk.desk_results, "count update")[0]
    assert (desk.desk_results, posts[0], first.message_id) in standin.nonce_repeats

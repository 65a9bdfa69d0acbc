"""Results feeds through the real bot process (`python cli.py run`): a desk member attaches Florida's 2012
Senate race to a local replay of the AP sample, presses Start, and sees the count flow into
`!results florida 2012` and the results channel as the replay advances; a count that goes down is held."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cogs.feeds import START
from db.audit import Actor
from db.bootstrap import load_sample
from db.engine import make_engine, make_sessionmaker
from db.models import GuildSettings, ResultSnapshot
from db.writes import run_write
from loopback import StandIn
from loopback.process import start_bot_process, stop_bot_process
from tests.support import SPEC, copied_store, sqlite_url, until
from tests.support.feeds import Replay, add_florida_2012, ap_snapshot, feed_server, florida_counts

TOKEN = "e2e.feeds-token.value"
SETUP = Actor(id=None, name="test setup")


async def test_the_bot_process_keeps_a_feed_count_and_holds_one_that_goes_down(tmp_path: Path) -> None:
    replay = Replay([ap_snapshot(0), ap_snapshot(1), ap_snapshot(scale=1.5)])
    engine = copied_store(tmp_path / "feeds.db", "sample", load_sample)
    sessions = make_sessionmaker(engine)
    await run_write(sessions, lambda s: add_florida_2012(s, SETUP))
    async with feed_server({"/fl.json": replay.handle}) as base, StandIn(SPEC, token=TOKEN) as standin:
        guild = standin.add_guild(name="Desk")
        channel = standin.add_channel(guild.id, name="desk")
        results = standin.add_channel(guild.id, name="results")
        moderator = standin.add_member(guild.id, "moderator")
        async with sessions.begin() as session:
            session.add(GuildSettings(guild_id=guild.id, results_channel_id=results.id))
        await engine.dispose()
        env = {
            "DATABASE_URL": str(engine.url),
            "RACEDESK_DEFAULT_DATA": "0",
            "OWNER_IDS": str(moderator),  # an owner writes anywhere
            "FEED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "INFO",
        }
        proc = await start_bot_process(standin, env=env)
        try:
            await standin.wait_until_ready(timeout=90)

            def messages_in(channel_id: int) -> list[object]:
                return [m for m in standin.messages if m.channel_id == channel_id]

            url = f"{base}/fl.json"
            await standin.send_message(
                channel.id, moderator, f"!feed add florida 2012 general url={url} contest=10005 every=10s"
            )
            preview = await standin.wait_for_message(
                channel.id, predicate=lambda m: START in m.button_ids(), timeout=60
            )
            assert "Contest in the feed: 10005, FL U.S. Senate General" in (preview.content or "")

            await standin.click_button(preview, START, moderator)
            first = florida_counts()
            await until(lambda: len(messages_in(results.id)) >= 1, 60, "count 1")

            replay.step = 1  # the count doubles
            await until(lambda: len(messages_in(results.id)) >= 2, 60, "count 2")
            await standin.send_message(channel.id, moderator, "!results florida 2012")
            answer = await standin.wait_for_message(
                channel.id, predicate=lambda m: "Florida" in m.text() and m.embeds != [], timeout=60
            )
            for votes in first.values():
                assert f"{2 * votes:,}" in answer.text(), answer.text()

            replay.step = 2  # the count goes down: held for the desk, nothing stored or announced
            await until(lambda: any("held for review" in m.text() for m in standin.messages), 60, "the hold")
            assert len(messages_in(results.id)) == 2
        finally:
            log = await stop_bot_process(proc)
        assert standin.spec_errors == []
        assert "Traceback" not in log, log
    engine = make_engine(sqlite_url(tmp_path / "feeds.db"))  # what the bot process stored
    async with make_sessionmaker(engine)() as session:
        fed = select(func.count()).select_from(ResultSnapshot).where(ResultSnapshot.source.like("feed #%"))
        assert await session.scalar(fed) == 2
    await engine.dispose()

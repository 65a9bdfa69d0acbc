"""Results feeds through the real bot against the loopback Discord: a desk member attaches Florida's 2012
Senate race to a local replay of the AP sample, confirms with the button, and the count flows into
`!results florida 2012` and the results channels as the snapshots advance; a count that goes down is
held for review, and nothing of it is stored or announced."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.feeds import APPROVE, CALL, CALL_CANCEL, CALL_CONFIRM, REPORT_AFTER, SKIP, START
from db.audit import Actor
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.feeds.formats import read_feed
from db.models import (
    AuditEntry,
    Call,
    Candidacy,
    Candidate,
    Contest,
    Feed,
    GuildSettings,
    Race,
    ResultSnapshot,
)
from db.writes import StageRef, run_write
from db.writes.feeds import FeedInput, add_feed
from settings import Settings
from tests.support import copied_store, until
from tests.support.feeds import (
    Replay,
    add_florida_2012,
    ap_document,
    ap_snapshot,
    feed_server,
    florida_counts,
    florida_unit,
)
from tests.support.stores import postgres_store, release_postgres_store, schema_engine
from tests.support.world import World, messages_in, outbox_settled, running_bot

SETUP = Actor(id=None, name="test setup")


@contextlib.asynccontextmanager
async def serving(replay: Replay) -> AsyncIterator[str]:
    async with feed_server({"/fl.json": replay.handle}) as base:
        yield f"{base}/fl.json"


@contextlib.asynccontextmanager
async def feed_world(tmp_path: Path) -> AsyncIterator[World]:
    engine = copied_store(tmp_path / "feeds.db", "sample", load_sample)
    sessions = make_sessionmaker(engine)
    await run_write(sessions, lambda s: add_florida_2012(s, SETUP))
    settings = replace(Settings(load_default_data=False), feed_hosts=frozenset({"127.0.0.1"}))
    try:
        async with running_bot(engine, settings) as world:
            results = world.standin.add_channel(world.desk.id, name="results").id
            async with sessions.begin() as session:
                session.add(
                    GuildSettings(
                        guild_id=world.desk.id, mod_role_id=world.desk_role.id, results_channel_id=results
                    )
                )
            setattr(world, "results", results)  # noqa: B010
            cog: Any = world.bot.get_cog("Feeds")  # the extension's own module, loaded by the bot
            cog.time_scale = 0.02  # every=10s polls every 0.2 s
            yield world
    finally:
        await engine.dispose()


async def snapshot_count(world: World) -> int:
    """The results the feed stored (the sample store holds Alabama's already)."""
    async with make_sessionmaker(world.bot.engine)() as session:
        fed = select(func.count()).select_from(ResultSnapshot).where(ResultSnapshot.source.like("feed #%"))
        return int(await session.scalar(fed) or 0)


async def florida_calls(world: World) -> int:
    async with make_sessionmaker(world.bot.engine)() as session:
        florida = select(Contest.id).join(Race).where(Race.state == "FL")
        return int(await session.scalar(select(func.count(Call.id)).where(Call.contest_id.in_(florida))) or 0)


async def feed_row(world: World) -> Feed | None:
    async with make_sessionmaker(world.bot.engine)() as session:
        return await session.scalar(select(Feed))


async def attach_feed(world: World, url: str, body: bytes, channel_id: int | None = None) -> int:
    """Florida's 2012 general attached to the feed at `url` (checked against `body`), as Start does; the
    poller is woken."""

    async def attach(session: AsyncSession) -> int:
        race = await session.scalar(select(Race).where(Race.state == "FL"))
        assert race is not None
        data = FeedInput(race.id, StageRef("general"), url, read_feed(body), "10005", 10, "auto", channel_id)
        return (await add_feed(session, SETUP, data)).feed.id

    feed_id = await run_write(make_sessionmaker(world.bot.engine), attach)
    world.bot.get_cog("Feeds").wake()  # type: ignore[union-attr]
    return feed_id


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    """Until `check` (a read of the store) holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not within {timeout}s")
        await asyncio.sleep(0.02)


async def test_a_feed_attached_by_the_desk_keeps_the_count_and_holds_a_count_that_goes_down(
    tmp_path: Path,
) -> None:
    steps = [ap_snapshot(0), ap_snapshot(1), ap_snapshot(2), ap_snapshot(scale=2.5)]
    replay = Replay(steps)
    async with serving(replay) as url, feed_world(tmp_path) as world:
        results = getattr(world, "results")  # noqa: B009
        command = f"!feed add florida 2012 general url={url} contest=10005 every=10s"
        elsewhere = await world.text(
            "!feed add florida 2012 url=https://results.example.org/fl.json", author=world.moderator
        )
        assert "`results.example.org` is not a feed host the operator allows" in elsewhere
        local_file = await world.text("!feed add florida 2012 url=file:///etc/passwd", author=world.moderator)
        assert "is not a web address" in local_file and await feed_row(world) is None
        member = await world.say(command)  # not the desk
        assert "Only desk moderators" in member.text and await feed_row(world) is None

        check = await world.say(command, author=world.moderator)
        preview = check.messages[-1]
        assert "Contest in the feed: 10005, FL U.S. Senate General" in (preview.content or "")
        for name, votes in florida_counts().items():
            assert f"{name} → {name}: {votes:,}" in (preview.content or "")
        assert preview.button_ids() == [START] and await feed_row(world) is None  # nothing until confirmed

        await world.standin.click_button(preview, START, world.member)  # the desk permission, at the click
        refused = await world.standin.wait_for_message(predicate=lambda m: m.ephemeral, timeout=20)
        assert "Only desk moderators" in (refused.content or "") and await feed_row(world) is None

        await world.standin.click_button(preview, START, world.moderator)
        started = await world.standin.wait_for_message(
            predicate=lambda m: "is attached" in (m.content or ""), timeout=20
        )
        assert "Feed #1 is attached to 2012 Florida U.S. Senate and polled every 10 s (auto)" in (
            started.content or ""
        )

        for step, scale in enumerate((1, 2, 3), start=1):
            replay.step = step - 1

            async def stored(n: int = step) -> bool:
                return await snapshot_count(world) >= n

            await eventually(stored, f"result {step}")
            answer = await world.text("!results florida 2012")
            for votes in florida_counts().values():
                assert f"{votes * scale:,}" in answer, answer

        await outbox_settled(make_sessionmaker(world.bot.engine))
        announced = messages_in(world, results)
        assert len(announced) == 3  # one announcement per stored count, none for the repeats

        async def revalidated() -> bool:  # conditional requests: the unchanged feed answers 304
            return replay.not_modified >= 2

        await eventually(revalidated, "a 304")
        assert await snapshot_count(world) == 3 and len(messages_in(world, results)) == 3

        replay.step = 3  # 2.5 times the sample: every count goes down

        async def held() -> bool:
            feed = await feed_row(world)
            return feed is not None and feed.state == "held"

        await eventually(held, "the held reading")
        notice = await world.standin.wait_for_message(
            predicate=lambda m: "held for review" in (m.content or ""), timeout=20
        )
        assert notice.channel_id == world.desk_channel
        assert "Bill Nelson's count went down from 554,805 to 462,337" in (notice.content or "")
        assert await snapshot_count(world) == 3
        assert len(messages_in(world, results)) == 3
        assert f"{184935 * 3:,}" in await world.text("!results florida 2012")

        assert notice.button_ids() == [APPROVE, SKIP]
        await world.standin.click_button(notice, APPROVE, world.member)  # the desk permission, at the click
        refused = await world.standin.wait_for_message(
            predicate=lambda m: m.ephemeral and m.message_id != refused.message_id, timeout=20
        )
        assert "Only desk moderators" in (refused.content or "") and await snapshot_count(world) == 3

        await world.standin.click_button(notice, APPROVE, world.moderator)
        approved = await world.standin.wait_for_message(
            predicate=lambda m: "Feed #1: result #" in (m.content or ""), timeout=20
        )
        assert "stored" in (approved.content or "") and await snapshot_count(world) == 4
        await outbox_settled(make_sessionmaker(world.bot.engine))
        assert len(messages_in(world, results)) == 4  # the approved count is announced
        again = await world.text("!feed approve 1", author=world.moderator)
        assert "Feed #1 holds nothing for review" in again

        replay.snapshots.append(ap_snapshot(3, precincts=6089))  # every precinct in: the desk is nudged, once
        replay.step = 4
        nudge = await world.standin.wait_for_message(
            predicate=lambda m: "may be callable" in (m.content or ""), timeout=20
        )
        assert "every precinct has reported" in (nudge.content or "") and await snapshot_count(world) == 5
        typed = "!call florida 2012 general Nelson"
        assert f"`{typed}`" in (nudge.content or "")
        assert await florida_calls(world) == 0  # the feed never calls a race
        await world.say(typed, author=world.moderator)  # the nudge's command is one the desk can type
        assert await florida_calls(world) == 1
        listing = await world.text("!feed list", author=world.moderator)
        assert "#1" in listing and "active" in listing and url in listing
        paused = await world.text("!feed pause 1", author=world.moderator)
        assert "Feed #1 (2012 Florida U.S. Senate) is paused. Undo: `!undo" in paused
        assert "Only desk moderators" in await world.text("!feed resume 1")
        assert "is polled again" in await world.text("!feed resume 1", author=world.moderator)
        assert "There is no feed #9" in await world.text("!feed remove 9", author=world.moderator)


async def test_a_feed_that_keeps_failing_is_reported_to_the_desk_once(tmp_path: Path) -> None:
    replay = Replay([])

    async def broken(_request: web.Request) -> web.Response:
        replay.requests += 1
        return web.Response(status=500)

    replay.handle = broken  # type: ignore[method-assign]
    async with serving(replay) as url, feed_world(tmp_path) as world:
        await attach_feed(world, url, ap_snapshot(), world.desk_channel)

        async def failed_often() -> bool:
            feed = await feed_row(world)
            return feed is not None and feed.failures >= REPORT_AFTER + 1

        await eventually(failed_often, "repeated failures")
        notices = [m for m in messages_in(world, world.desk_channel) if "keeps failing" in (m.content or "")]
        assert len(notices) == 1 and "HTTP 500 from the feed" in (notices[0].content or "")
        feed = await feed_row(world)
        assert feed is not None and feed.state == "failing" and await snapshot_count(world) == 0


async def test_a_restart_mid_sequence_loses_and_repeats_nothing(tmp_path: Path) -> None:
    replay = Replay([ap_snapshot(0), ap_snapshot(1)])
    engine = copied_store(tmp_path / "restart.db", "sample", load_sample)
    sessions = make_sessionmaker(engine)
    settings = replace(Settings(load_default_data=False), feed_hosts=frozenset({"127.0.0.1"}))

    async def attach(session: AsyncSession, url: str) -> int:
        race = await add_florida_2012(session, SETUP)
        data = FeedInput(race.id, StageRef("general"), url, read_feed(ap_snapshot()), "10005", 10, "auto")
        return (await add_feed(session, SETUP, data)).feed.id

    async def polled_twice_more(world: World) -> None:
        before = replay.requests

        async def more() -> bool:
            return replay.requests >= before + 2

        await eventually(more, "two more polls")

    try:
        async with serving(replay) as url:
            await run_write(sessions, lambda s: attach(s, url))
            for step in (0, 1):  # the bot stops after each; the feed moves on while it is down
                replay.step = step
                async with running_bot(engine, settings) as world:
                    cog: Any = world.bot.get_cog("Feeds")
                    cog.time_scale = 0.02

                    async def stored(n: int = step + 1) -> bool:
                        return await snapshot_count(world) >= n

                    await eventually(stored, f"result {step + 1}")
                    await polled_twice_more(world)
                    assert await snapshot_count(world) == step + 1
                async with sessions() as session:  # the stopped bot gave its lease up: the next polls at once
                    feed = await session.scalar(select(Feed))
                    assert feed is not None and feed.lease_owner is None and feed.lease_until is None
        async with sessions() as session:
            fed = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "result.add")
            assert await session.scalar(fed) == 2  # each count stored once, none repeated after the restart
    finally:
        await engine.dispose()


async def test_the_nudge_carries_a_call_button_that_only_the_desk_presses_and_that_calls_once(
    tmp_path: Path,
) -> None:
    every_precinct = ap_snapshot(precincts=int(florida_unit(ap_document())["precinctsTotal"]))
    counts = {name: votes for name, votes in florida_counts().items()}
    leader = max(counts, key=lambda name: counts[name])  # the file's leader, computed here
    replay = Replay([every_precinct])
    async with serving(replay) as url, feed_world(tmp_path) as world:
        results = getattr(world, "results")  # noqa: B009
        sessions = make_sessionmaker(world.bot.engine)

        await attach_feed(world, url, every_precinct, world.desk_channel)
        nudge = await world.standin.wait_for_message(
            predicate=lambda m: "may be callable" in (m.content or ""), timeout=20
        )
        assert nudge.channel_id == world.desk_channel and nudge.button_ids() == [CALL]
        assert await florida_calls(world) == 0  # the feed never calls a race

        def saying(*words: str) -> Callable[[Any], bool]:  # a new message (each is handed out once)
            return lambda m: (
                m.kind != "edit" and m.response_type != 7 and all(w in (m.content or "") for w in words)
            )

        await world.standin.click_button(nudge, CALL, world.member)  # the desk permission, at the click
        refused = await world.standin.wait_for_message(predicate=lambda m: m.ephemeral, timeout=20)
        assert "Only desk moderators" in (refused.content or "") and await florida_calls(world) == 0

        await world.standin.click_button(nudge, CALL, world.moderator)
        preview = await world.standin.wait_for_message(predicate=saying("Confirm", "for"), timeout=20)
        typed = f"!call florida 2012 general {leader.split()[-1]}"
        assert f"for {leader}?" in (preview.content or "") and f"`{typed}`" in (preview.content or "")
        assert f"{counts[leader]:,} votes" in (preview.content or "")
        assert preview.button_ids() == [CALL_CONFIRM, CALL_CANCEL] and await florida_calls(world) == 0

        await world.standin.click_button(preview, CALL_CANCEL, world.moderator)
        await world.standin.wait_for_message(predicate=saying("Not called"), timeout=20)
        assert await florida_calls(world) == 0

        await world.standin.click_button(nudge, CALL, world.moderator)  # two proposals open at once
        first = await world.standin.wait_for_message(predicate=saying("Confirm", "for"), timeout=20)
        await world.standin.click_button(nudge, CALL, world.moderator)
        second = await world.standin.wait_for_message(predicate=saying("Confirm", "for"), timeout=20)

        await world.standin.click_button(first, CALL_CONFIRM, world.member)  # checked again at the confirm
        refused = await world.standin.wait_for_message(predicate=lambda m: m.ephemeral, timeout=20)
        assert "Only desk moderators" in (refused.content or "") and await florida_calls(world) == 0

        await world.standin.click_button(first, CALL_CONFIRM, world.moderator)
        called = await world.standin.wait_for_message(predicate=saying("Stored call #"), timeout=20)
        assert "Undo: `!undo" in (called.content or "")
        async with sessions() as session:  # the desk's call, as `call` stores it: by the moderator, audited
            call = await session.scalar(select(Call).join(Contest).join(Race).where(Race.state == "FL"))
            assert call is not None and call.kind == "winner" and call.called_by == world.moderator
            named = await session.scalar(select(Candidacy).where(Candidacy.id == call.candidacy_ids[0]))
            assert named is not None
            person = await session.get(Candidate, named.candidate_id)
            assert person is not None and person.name == leader
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "call.add"))
            assert entry is not None and entry.actor_id == world.moderator
        await outbox_settled(sessions)
        assert any(leader in str(m.embeds) for m in messages_in(world, results))  # announced as a call is

        await world.standin.click_button(second, CALL_CONFIRM, world.moderator)  # a late confirmation
        late = await world.standin.wait_for_message(predicate=saying("already called"), timeout=20)
        assert "nothing was stored" in (late.content or "") and await florida_calls(world) == 1

        await world.standin.click_button(nudge, CALL, world.moderator)  # the nudge, after the call
        again = await world.standin.wait_for_message(predicate=saying("already called"), timeout=20)
        assert (
            "`!uncall florida 2012 general` first" in (again.content or "")
            and await florida_calls(world) == 1
        )


class Attributed:
    """A feed server for many feeds (`/feed/<n>`), noting which poller asked for each: the User-Agent
    each bot's poller is given in the test."""

    def __init__(self, body: bytes) -> None:
        self.body, self.asked = body, defaultdict(list)

    async def handle(self, request: web.Request) -> web.Response:
        self.asked[int(request.match_info["n"])].append(request.headers.get("User-Agent", ""))
        if request.headers.get("If-None-Match") == '"0"':
            return web.Response(status=304)
        return web.Response(body=self.body, headers={"ETag": '"0"'}, content_type="application/json")

    def pollers(self, n: int) -> set[str]:
        return {agent.rsplit(" ", 1)[-1] for agent in self.asked[n]}


async def test_of_two_bots_on_one_postgresql_each_feed_is_fetched_by_one_only(tmp_path: Path) -> None:
    server = Attributed(ap_snapshot())
    engine_a, schema = await postgres_store()
    engine_b = schema_engine(schema)  # the second bot process's own connections to the same database
    settings = replace(Settings(load_default_data=False), feed_hosts=frozenset({"127.0.0.1"}))

    async def attach(session: AsyncSession, base: str, numbers: range, holder: str | None) -> None:
        race = await session.scalar(select(Race).where(Race.state == "FL"))
        assert race is not None
        for n in numbers:
            data = FeedInput(
                race.id, StageRef("general"), f"{base}/feed/{n}", read_feed(ap_snapshot()), "10005", 10
            )
            feed = (await add_feed(session, SETUP, data)).feed
            if holder is not None:  # as if that bot had claimed it a moment ago
                feed.lease_owner = holder
                feed.lease_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)

    def asked_by(poller: str) -> dict[int, int]:
        return {n: sum(a.rsplit(" ", 1)[-1] == poller for a in agents) for n, agents in server.asked.items()}

    async def polled(numbers: range, more_than: dict[int, int], poller: str | None = None) -> None:
        def enough() -> bool:
            counts = asked_by(poller) if poller else {n: len(a) for n, a in server.asked.items()}
            return all(counts.get(n, 0) >= more_than.get(n, 0) + 3 for n in numbers)

        await until(enough, 30, f"feeds {numbers} polled 3 more times")

    try:
        await run_write(make_sessionmaker(engine_a), lambda s: add_florida_2012(s, SETUP))
        async with feed_server({"/feed/{n}": server.handle}) as base, running_bot(engine_a, settings) as a:
            cog_a: Any = a.bot.get_cog("Feeds")
            cog_a.time_scale = 0.02  # every=10s polls every 0.2 s
            cog_a.http.headers["User-Agent"] += " a"
            async with running_bot(engine_b, settings) as b:
                cog_b: Any = b.bot.get_cog("Feeds")
                cog_b.time_scale = 0.02
                cog_b.http.headers["User-Agent"] += " b"
                sessions = make_sessionmaker(engine_a)
                await run_write(sessions, lambda s: attach(s, base, range(0, 3), cog_a.owner))
                await run_write(sessions, lambda s: attach(s, base, range(3, 6), cog_b.owner))
                await run_write(sessions, lambda s: attach(s, base, range(6, 16), None))  # either may take
                cog_a.wake()
                cog_b.wake()
                await polled(range(16), {})
                for n in range(16):  # each feed fetched by one bot only, again and again
                    assert len(server.pollers(n)) == 1, (n, server.asked[n])
                assert all(server.pollers(n) == {"a"} for n in range(0, 3))
                assert all(server.pollers(n) == {"b"} for n in range(3, 6))
            # b stopped and gave its leases up: a polls every feed now, b no more
            before_a, before_b = asked_by("a"), asked_by("b")
            await polled(range(16), before_a, "a")
            assert asked_by("b") == before_b
            async with sessions() as session:
                owners = set(await session.scalars(select(Feed.lease_owner)))
            assert owners == {cog_a.owner}
    finally:
        await engine_b.dispose()
        await engine_a.dispose()
        await release_postgres_store(schema)


async def test_feeds_sharing_a_file_parse_it_once_and_an_unchanged_file_is_only_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [ap_snapshot(0), ap_snapshot(1)]
    step, asked = [0], defaultdict(int)

    async def no_validators(request: web.Request) -> web.Response:  # neither ETag nor Last-Modified
        asked[int(request.match_info["n"])] += 1
        return web.Response(body=bodies[step[0]], content_type="application/json")

    async def polled(more: int) -> None:
        before = dict(asked)
        await until(lambda: all(asked[n] >= before.get(n, 0) + more for n in range(4)), 30, "polls")

    async with feed_server({"/feed/{n}": no_validators}) as base, feed_world(tmp_path) as world:
        sessions = make_sessionmaker(world.bot.engine)
        poller = sys.modules[type(world.bot.get_cog("Feeds")).__module__]  # the extension the bot loaded
        parsed: list[bytes] = []
        taken: list[int] = []
        read, take = poller.read_feed, poller.take_reading

        def counted_read(body: bytes) -> Any:
            parsed.append(body)
            return read(body)

        async def counted_take(session: AsyncSession, feed_id: int, *args: Any, **kwargs: Any) -> Any:
            taken.append(feed_id)
            return await take(session, feed_id, *args, **kwargs)

        monkeypatch.setattr(poller, "read_feed", counted_read)  # the real functions, counted
        monkeypatch.setattr(poller, "take_reading", counted_take)

        async def attach(session: AsyncSession) -> None:
            race = await session.scalar(select(Race).where(Race.state == "FL"))
            assert race is not None
            for n in range(4):  # four races' feeds on one national file, as AP's is
                data = FeedInput(
                    race.id, StageRef("general"), f"{base}/feed/{n}", read_feed(bodies[0]), "10005", 10
                )
                await add_feed(session, SETUP, data)

        await run_write(sessions, attach)
        world.bot.get_cog("Feeds").wake()  # type: ignore[union-attr]
        await polled(2)
        assert await snapshot_count(world) == 1 and parsed == [bodies[0]]  # one file: read once for all
        takes = len(taken)
        assert 1 <= takes <= 4  # the first stores; another may judge it before that commits
        await polled(3)
        assert len(taken) == takes and parsed == [bodies[0]]  # the same file again: neither read nor judged
        async with sessions() as session:
            fetched = [f.last_fetch_at for f in await session.scalars(select(Feed))]
        assert all(when is not None for when in fetched)  # yet each fetch is noted

        step[0] = 1  # the count rises
        await polled(2)
        assert await snapshot_count(world) == 2 and parsed == bodies  # read once more, for every feed
        assert 1 <= len(taken) - takes <= 4

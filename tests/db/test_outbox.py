"""The outbox's bookkeeping on SQLite and PostgreSQL: targets, payloads, order, retries, corrections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from db import outbox
from db.audit import record
from db.bootstrap import load_sample
from db.engine import make_sessionmaker
from db.models import AuditEntry, Follow, GuildSettings, OutboxMessage
from tests.support import MODERATOR, al2020, store_on

Sessions = async_sessionmaker[AsyncSession]
BODY = {"content": None, "embeds": [{"title": "📊 count update", "type": "rich"}]}


async def setup_targets(sessions: Sessions) -> int:
    async with sessions.begin() as session:
        race = await al2020(session)
        session.add_all(
            [
                GuildSettings(guild_id=1, results_channel_id=11),
                GuildSettings(guild_id=2, results_channel_id=22, ping_role_id=222),
                GuildSettings(guild_id=3, mod_role_id=33),  # no results channel: not a target
                Follow(user_id=7, race_id=race.id, guild_id=1),
                Follow(user_id=8, race_id=race.id, guild_id=2),
            ]
        )
        return race.id


async def new_audit(sessions: Sessions, race_id: int, action: str = "result.add") -> int:
    """An audit entry for rows to hang on: a count ("result.add", of snapshot 1) or other news ("poll.add")."""
    entity = "result_snapshots" if action == "result.add" else "polls"
    async with sessions.begin() as session:
        return (await record(session, MODERATOR, action, entity, 1, race_id=race_id)).id


async def undo(sessions: Sessions, race_id: int, original: int) -> tuple[int, outbox.Correction]:
    """Undo the write `original`: its undo's audit id, and the correction queued for it."""
    async with sessions.begin() as session:
        undo_entry = await record(
            session, MODERATOR, "undo", "result_snapshots", 1, race_id=race_id, undoes_id=original
        )
        entry = await session.get(AuditEntry, original)
        assert entry is not None
        entry.undone_by_id = undo_entry.id
        return undo_entry.id, await outbox.correct(
            session, original_audit_id=original, audit_id=undo_entry.id, race_id=race_id, body=BODY
        )


async def test_targets_and_what_each_one_gets(sample_sessions: Sessions) -> None:
    race_id = await setup_targets(sample_sessions)
    audit_id = await new_audit(sample_sessions, race_id)
    async with sample_sessions.begin() as session:
        queued = await outbox.enqueue(session, audit_id=audit_id, race_id=race_id, body=BODY, ping=True)
    assert (queued.channels, queued.dms) == (2, 2)
    async with sample_sessions() as session:
        rows = {(r.target_kind, r.target_id): r for r in await session.scalars(select(OutboxMessage))}
    assert set(rows) == {("channel", 11), ("channel", 22), ("dm", 7), ("dm", 8)}
    assert rows["channel", 22].payload["content"] == "<@&222>"
    assert rows["channel", 22].payload["allowed_mentions"] == {"parse": [], "roles": ["222"]}
    for key in (("channel", 11), ("dm", 7), ("dm", 8)):
        assert rows[key].payload["content"] is None and rows[key].payload["allowed_mentions"] == {"parse": []}
    assert len({r.dedupe_key for r in rows.values()}) == 4
    nonce = outbox.nonce_of(rows["dm", 7].dedupe_key)
    assert nonce == outbox.nonce_of(rows["dm", 7].dedupe_key) and len(nonce) == 25


async def test_a_retried_row_holds_back_its_targets_later_rows(sample_sessions: Sessions) -> None:
    race_id = await setup_targets(sample_sessions)
    first = await new_audit(sample_sessions, race_id, "poll.add")
    second = await new_audit(sample_sessions, race_id, "poll.add")
    async with sample_sessions.begin() as session:
        await outbox.enqueue(session, audit_id=first, race_id=race_id, body=BODY)
        await outbox.enqueue(session, audit_id=second, race_id=race_id, body=BODY)
    now = dt.datetime.now(dt.UTC)
    async with sample_sessions.begin() as session:
        due = await outbox.due(session, now)
        assert len(due) == 8
        waiting = next(r for r in due if r.audit_id == first and r.target_id == 11)
        await outbox.reschedule(session, waiting, "Discord answered 503", 60)
    async with sample_sessions() as session:
        due = await outbox.due(session, now + dt.timedelta(seconds=1))
    assert all(r.target_id != 11 for r in due) and len(due) == 6
    async with sample_sessions() as session:
        later = await outbox.due(session, now + dt.timedelta(seconds=61))
    assert [(r.audit_id, r.target_id) for r in later if r.target_id == 11] == [(first, 11), (second, 11)]


async def test_sent_dropped_and_a_correction_that_races_a_delivery(sample_sessions: Sessions) -> None:
    race_id = await setup_targets(sample_sessions)
    original = await new_audit(sample_sessions, race_id)
    async with sample_sessions.begin() as session:
        await outbox.enqueue(session, audit_id=original, race_id=race_id, body=BODY)
        rows = {(r.target_kind, r.target_id): r for r in await session.scalars(select(OutboxMessage))}
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent(session, rows["channel", 11].id, 555)
        await outbox.mark_dropped(session, rows["dm", 8].id, "403 closed DMs")
    # An undo now: channel 22 and DM 7 are still pending (one of them is, in fact, in flight).
    undo_id, correction = await undo(sample_sessions, race_id, original)
    assert (correction.queued.total, correction.withdrawn) == (1, 2)
    # The delivery to DM 7 was in flight and succeeds after all: its correction is revived.
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent(session, rows["dm", 7].id, 777) is False
    async with sample_sessions() as session:
        corrections = {
            r.target_id: r.status
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == undo_id))
        }
        originals = {
            r.target_id: r.status
            for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == original))
        }
    assert originals == {11: "sent", 22: "dropped", 7: "sent", 8: "dropped"}
    assert corrections == {11: "pending", 22: "dropped", 7: "pending"}


async def test_targets_are_each_results_channel_with_its_server_in_server_order_then_each_follower(
    sample_sessions: Sessions,
) -> None:
    async with sample_sessions.begin() as session:
        race_id = (await al2020(session)).id
        session.add(GuildSettings(guild_id=2, results_channel_id=22, ping_role_id=222))  # stored first
    async with sample_sessions.begin() as session:
        session.add_all(
            [
                GuildSettings(guild_id=1, results_channel_id=11),
                GuildSettings(guild_id=3, mod_role_id=33),  # no results channel: not a target
                Follow(user_id=8, race_id=race_id, guild_id=2),
                Follow(user_id=7, race_id=race_id, guild_id=1),
            ]
        )
    async with sample_sessions() as session:
        everyone = await outbox.targets_for(session, race_id)
        channels_only = await outbox.targets_for(session, None)
    channels = [outbox.Target("channel", 11, None, 1), outbox.Target("channel", 22, 222, 2)]
    assert everyone == [*channels, outbox.Target("dm", 7), outbox.Target("dm", 8)]
    assert channels_only == channels
    audit_id = await new_audit(sample_sessions, race_id)
    async with sample_sessions.begin() as session:
        await outbox.enqueue(session, audit_id=audit_id, race_id=race_id, body=BODY)
    async with sample_sessions() as session:
        stored = {
            (r.target_kind, r.target_id): r.guild_id for r in await session.scalars(select(OutboxMessage))
        }
    # A channel's row carries its server (the process holding that server's shard delivers it).
    assert stored == {("channel", 11): 1, ("channel", 22): 2, ("dm", 7): None, ("dm", 8): None}


FAN_OUT_BODY = {**BODY, "content": "📊 count", "dm_content": "Stop these with !unfollow."}
BIG_CHANNEL = 1_234_567_890_123_456_789  # a real snowflake's size


async def fan_out_targets(sessions: Sessions) -> int:
    """Three servers with results channels (ids falling as their servers' rise, one snowflake-sized), two
    with a role to ping, one without a results channel; three followers of the race. Returns the race id."""
    async with sessions.begin() as session:
        race_id = (await al2020(session)).id
        session.add_all(
            [
                GuildSettings(guild_id=9, results_channel_id=100, ping_role_id=63),
                GuildSettings(guild_id=2, results_channel_id=900),
                GuildSettings(guild_id=5, results_channel_id=BIG_CHANNEL, ping_role_id=35),
                GuildSettings(guild_id=4, mod_role_id=44),  # no results channel: not a target
            ]
            + [Follow(user_id=u, race_id=race_id, guild_id=g) for u, g in ((70, 5), (30, 2), (2**60, 9))]
        )
        return race_id


async def outbox_rows(sessions: Sessions, audit_id: int) -> list[tuple[Any, ...]]:
    """A write's rows in the order they were stored, its audit id left out of the dedupe key."""
    async with sessions() as session:
        found = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.audit_id == audit_id).order_by(OutboxMessage.id)
        )
        return [
            (
                r.target_kind,
                r.target_id,
                r.guild_id,
                r.payload,
                r.dedupe_key.replace(f"a{audit_id}:", "a:"),
                r.kind,
                r.contest_id,
                r.race_id,
                r.status,
                r.attempts,
                r.last_error,
            )
            for r in found
        ]


async def test_rows_the_database_makes_for_every_target_are_those_made_one_by_one(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pings, the rows for every results channel and follower are made by one INSERT ... SELECT each
    (nothing is built one by one); they are the rows, in the order, that the targets listed one by one give."""
    race_id = await fan_out_targets(sample_sessions)
    made = await new_audit(sample_sessions, race_id, "poll.add")
    listed = await new_audit(sample_sessions, race_id, "poll.add")
    before = dt.datetime.now(dt.UTC)
    built_one_by_one = outbox._insert

    async def refused(*_args: Any) -> None:
        raise AssertionError("a row was built one by one")

    async with sample_sessions.begin() as session:
        monkeypatch.setattr(outbox, "_insert", refused)
        by_database = await outbox.enqueue(session, audit_id=made, race_id=race_id, body=FAN_OUT_BODY)
        monkeypatch.setattr(outbox, "_insert", built_one_by_one)
        targets = await outbox.targets_for(session, race_id)
        one_by_one = await outbox.enqueue(
            session, audit_id=listed, race_id=race_id, body=FAN_OUT_BODY, targets=targets
        )
    assert (by_database.channels, by_database.dms) == (one_by_one.channels, one_by_one.dms) == (3, 3)
    made_rows = await outbox_rows(sample_sessions, made)
    assert made_rows == await outbox_rows(sample_sessions, listed)
    assert [(kind, target, guild) for kind, target, guild, *_ in made_rows] == [
        ("channel", 900, 2),
        ("channel", BIG_CHANNEL, 5),
        ("channel", 100, 9),
        ("dm", 30, None),
        ("dm", 70, None),
        ("dm", 2**60, None),
    ]
    channel, dm = made_rows[1], made_rows[5]
    assert channel[3] == {"content": "📊 count", "embeds": BODY["embeds"], "allowed_mentions": {"parse": []}}
    assert dm[3]["content"] == "Stop these with !unfollow."
    assert channel[4] == f"a:channel:{BIG_CHANNEL}" and dm[4] == f"a:dm:{2**60}"
    assert channel[5:] == ("news", None, race_id, "pending", 0, None)
    async with sample_sessions() as session:
        times = set(
            (await session.execute(select(OutboxMessage.created_at, OutboxMessage.next_attempt_at))).all()
        )
    for created, due in times:  # each write's rows share one moment, due at once, in UTC
        assert created == due and created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)
        assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)
    assert len(times) == 2


async def test_a_call_that_pings_builds_only_the_pinging_servers_rows(
    sample_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call pings the role a server chose: those channels' rows are built one by one, each with its role;
    the other channels and the followers are made by the database. Together, the rows the targets listed
    one by one give."""
    race_id = await fan_out_targets(sample_sessions)
    made = await new_audit(sample_sessions, race_id, "poll.add")
    listed = await new_audit(sample_sessions, race_id, "poll.add")
    built: list[int] = []
    build_one_by_one = outbox._insert

    async def counted(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        built.extend(row["target_id"] for row in rows)
        await build_one_by_one(session, rows)

    monkeypatch.setattr(outbox, "_insert", counted)
    async with sample_sessions.begin() as session:
        by_database = await outbox.enqueue(
            session, audit_id=made, race_id=race_id, body=FAN_OUT_BODY, ping=True
        )
        assert sorted(built) == [100, BIG_CHANNEL]
        targets = await outbox.targets_for(session, race_id)
        await outbox.enqueue(
            session, audit_id=listed, race_id=race_id, body=FAN_OUT_BODY, ping=True, targets=targets
        )
    assert (by_database.channels, by_database.dms) == (3, 3)
    made_rows = await outbox_rows(sample_sessions, made)
    assert sorted(made_rows, key=repr) == sorted(await outbox_rows(sample_sessions, listed), key=repr)
    pinged = {target: payload["content"] for kind, target, _, payload, *_ in made_rows if kind == "channel"}
    assert pinged == {900: "📊 count", 100: "<@&63> 📊 count", BIG_CHANNEL: "<@&35> 📊 count"}


async def test_news_of_no_race_goes_to_the_results_channels_only(sample_sessions: Sessions) -> None:
    race_id = await fan_out_targets(sample_sessions)
    audit_id = await new_audit(sample_sessions, race_id, "poll.add")
    async with sample_sessions.begin() as session:
        queued = await outbox.enqueue(session, audit_id=audit_id, race_id=None, body=FAN_OUT_BODY)
    assert (queued.channels, queued.dms) == (3, 0)
    rows = await outbox_rows(sample_sessions, audit_id)
    assert [(kind, target, race) for kind, target, _, _, _, _, _, race, *_ in rows] == [
        ("channel", 900, None),
        ("channel", BIG_CHANNEL, None),
        ("channel", 100, None),
    ]


async def test_a_count_made_by_the_database_supersedes_the_waiting_one_to_each_target(
    sample_sessions: Sessions,
) -> None:
    race_id = await fan_out_targets(sample_sessions)
    older, newer = await new_audit(sample_sessions, race_id), await new_audit(sample_sessions, race_id)
    for count in (older, newer):
        async with sample_sessions.begin() as session:
            await outbox.enqueue(session, audit_id=count, race_id=race_id, body=FAN_OUT_BODY)
    assert {(row[5], row[8]) for row in await outbox_rows(sample_sessions, older)} == {
        ("count", "superseded")
    }
    assert [row[5:9] for row in await outbox_rows(sample_sessions, newer)] == [
        ("count", 1, race_id, "pending")
    ] * 6


async def test_deliveries_are_recorded_in_one_statement_and_a_withdrawn_one_revives_its_correction(
    sample_sessions: Sessions,
) -> None:
    race_id = await setup_targets(sample_sessions)
    original = await new_audit(sample_sessions, race_id)
    async with sample_sessions.begin() as session:
        await outbox.enqueue(session, audit_id=original, race_id=race_id, body=BODY)
        rows = {(r.target_kind, r.target_id): r.id for r in await session.scalars(select(OutboxMessage))}
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent(session, rows["channel", 11], 555)
    # An undo while DM 7 is in flight: its original is withdrawn, a correction held back for it.
    undo_id, _ = await undo(sample_sessions, race_id, original)
    async with sample_sessions.begin() as session:  # the undo's rows are not part of this
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.audit_id == original, OutboxMessage.target_id.in_([22, 8]))
            .values(status="pending", last_error=None)
        )
    snowflake = 1_234_567_890_123_456_789  # Discord's ids need 64 bits
    updates: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    async with sample_sessions.begin() as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            pending = [(rows["channel", 22], snowflake, 3), (rows["dm", 8], snowflake + 1, 1)]
            assert await outbox.mark_sent_many(session, pending) == 0
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(updates) == 1 and "CASE" in updates[0].upper()  # one statement for every pending row
    async with sample_sessions.begin() as session:
        others = [
            (rows["dm", 7], snowflake + 2, 2),  # withdrawn meanwhile: delivered after all
            (rows["channel", 11], 999, 1),  # recorded before: stays as it was
            (10**9, 1, 1),  # no longer stored
        ]
        assert await outbox.mark_sent_many(session, others) == 1
    async with sample_sessions() as session:
        saved = {
            (r.audit_id, r.target_kind, r.target_id): (r.status, r.message_id, r.attempts)
            for r in await session.scalars(select(OutboxMessage))
        }
    assert saved[original, "channel", 22] == ("sent", snowflake, 3)
    assert saved[original, "dm", 8] == ("sent", snowflake + 1, 1)
    assert saved[original, "dm", 7] == ("sent", snowflake + 2, 2)
    assert saved[original, "channel", 11] == ("sent", 555, 1)
    assert saved[undo_id, "dm", 7][0] == "pending"  # the correction follows the late delivery
    async with sample_sessions.begin() as session:
        assert await outbox.mark_sent_many(session, []) == 0


async def written_at(sessions: Sessions, audit_id: int, days_ago: float) -> None:
    async with sessions.begin() as session:
        at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
        await session.execute(update(AuditEntry).where(AuditEntry.id == audit_id).values(at=at))


async def rows_of(sessions: Sessions, audit_id: int) -> dict[tuple[str, int], OutboxMessage]:
    async with sessions() as session:
        found = await session.scalars(select(OutboxMessage).where(OutboxMessage.audit_id == audit_id))
        return {(r.target_kind, r.target_id): r for r in found}


async def test_rows_done_with_are_cleared_after_their_write_s_days_and_the_waiting_ones_never(
    sample_sessions: Sessions,
) -> None:
    race_id = await setup_targets(sample_sessions)  # channels 11 and 22, followers 7 and 8
    news, count, newer_count, recent = (
        await new_audit(sample_sessions, race_id, "poll.add"),
        await new_audit(sample_sessions, race_id),
        await new_audit(sample_sessions, race_id),
        await new_audit(sample_sessions, race_id, "poll.add"),
    )
    for audit_id in (news, count, newer_count, recent):  # newer_count supersedes count to every target
        async with sample_sessions.begin() as session:
            await outbox.enqueue(session, audit_id=audit_id, race_id=race_id, body=BODY)
    rows = {audit_id: await rows_of(sample_sessions, audit_id) for audit_id in (news, newer_count, recent)}
    async with sample_sessions.begin() as session:
        for key in (("channel", 11), ("dm", 7)):
            assert await outbox.mark_sent(session, rows[news][key].id, 1)
        await outbox.mark_dropped(session, rows[news]["dm", 8].id, "403 closed DMs")  # channel 22 still waits
        for key in (("channel", 11), ("channel", 22)):  # the newer count's DMs still wait
            assert await outbox.mark_sent(session, rows[newer_count][key].id, 2)
        for row in rows[recent].values():
            assert await outbox.mark_sent(session, row.id, 3)
    for audit_id in (news, count, newer_count):
        await written_at(sample_sessions, audit_id, days_ago=31)
    await written_at(sample_sessions, recent, days_ago=29)

    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    async with sample_sessions.begin() as session:
        assert await outbox.purge(session, cutoff, limit=4) == 4  # a batch at a time
    async with sample_sessions.begin() as session:
        assert await outbox.purge(session, cutoff, limit=4) == 3
    async with sample_sessions.begin() as session:
        assert await outbox.purge(session, cutoff, limit=4) == 0

    assert {k: r.status for k, r in (await rows_of(sample_sessions, news)).items()} == {
        ("channel", 22): "pending"
    }
    # A superseded count stays while the count that replaced it still waits (an undo of that one revives it).
    assert {k: r.status for k, r in (await rows_of(sample_sessions, count)).items()} == {
        ("dm", 7): "superseded",
        ("dm", 8): "superseded",
    }
    assert {k: r.status for k, r in (await rows_of(sample_sessions, newer_count)).items()} == {
        ("dm", 7): "pending",
        ("dm", 8): "pending",
    }
    assert len(await rows_of(sample_sessions, recent)) == 4


async def test_a_delivery_recorded_while_an_undo_runs_gets_the_correction_and_stays_recorded(
    tmp_path: Path,
) -> None:
    """PostgreSQL lets a process record a delivery after an undo's transaction began and before the undo
    withdraws the originals still waiting (on SQLite the write lock, held from the undo's first write, keeps
    the two apart). The undo checks each original again as it withdraws it: the delivered one is not marked
    withdrawn over its delivery, and its target gets the correction."""
    async with store_on("postgresql", tmp_path, "sample", load_sample) as engine:
        sessions = make_sessionmaker(engine)
        race_id = await setup_targets(sessions)
        original = await new_audit(sessions, race_id)
        async with sessions.begin() as session:
            await outbox.enqueue(session, audit_id=original, race_id=race_id, body=BODY)
        delivered = (await rows_of(sessions, original))["channel", 11].id

        async def deliver() -> None:
            async with sessions.begin() as other:
                assert await outbox.mark_sent(other, delivered, 555)

        delivering: list[str] = []

        def as_the_undo_first_changes_the_outbox(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if not delivering and statement.lstrip().upper().startswith("UPDATE OUTBOX"):
                delivering.append(statement)
                await_only(deliver())  # another process's transaction, committed right then

        async with sessions.begin() as session:
            undo_entry = await record(
                session, MODERATOR, "undo", "result_snapshots", 1, race_id=race_id, undoes_id=original
            )
            event.listen(engine.sync_engine, "before_cursor_execute", as_the_undo_first_changes_the_outbox)
            try:
                correction = await outbox.correct(
                    session, original_audit_id=original, audit_id=undo_entry.id, race_id=race_id, body=BODY
                )
            finally:
                event.remove(
                    engine.sync_engine, "before_cursor_execute", as_the_undo_first_changes_the_outbox
                )
        assert delivering, "the delivery was recorded while the undo ran"
        assert (correction.queued.total, correction.withdrawn) == (1, 3)
        originals = await rows_of(sessions, original)
        assert (originals["channel", 11].status, originals["channel", 11].message_id) == ("sent", 555)
        assert {k: r.status for k, r in originals.items() if k != ("channel", 11)} == dict.fromkeys(
            [("channel", 22), ("dm", 7), ("dm", 8)], "dropped"
        )
        corrections = await rows_of(sessions, undo_entry.id)
        assert {k: r.status for k, r in corrections.items()} == {
            ("channel", 11): "pending",
            ("channel", 22): "dropped",
            ("dm", 7): "dropped",
            ("dm", 8): "dropped",
        }

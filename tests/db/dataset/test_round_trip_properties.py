"""Export then import gives the same answers: after any mix of desk writes on the sample, the store's export
loaded into an empty store reads back as the same race cards and exports as the same document."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import SYSTEM
from db.bootstrap import load_sample
from db.dataset import export_document, load_document
from db.engine import make_sessionmaker
from db.models import CallKind, Race
from db.reads.races import race_card
from db.writes import StageRef, WriteError, run_write
from db.writes.polls import EndorsementInput, PollInput, add_endorsement, add_poll
from db.writes.races import RaceEdit, edit_race
from db.writes.results import CallInput, ResultInput, change_call, post_result
from render.race import race_embed
from tests.support import MODERATOR, copied_store

NOW = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
NAMES = ["Tuberville", "Jones", "Sessions"]
STAGES = ["general", "runoff"]

results = st.builds(
    lambda stage, a, b, final: ("result", stage, a, b, final),
    st.sampled_from(STAGES),
    st.integers(0, 2_000_000),
    st.integers(0, 2_000_000),
    st.booleans(),
)
polls = st.builds(
    lambda pollster, day, n, a, b, hyp: ("poll", pollster, day, n, a, b, hyp),
    st.sampled_from(["Cygnal", "AUM", "Moore Information", "cygnal"]),
    st.integers(0, 120),
    st.one_of(st.none(), st.integers(1, 10_000)),
    st.integers(0, 50),
    st.integers(0, 50),
    st.booleans(),
)
calls = st.builds(
    lambda stage, kind, who: ("call", stage, kind, who),
    st.sampled_from(STAGES),
    st.sampled_from([CallKind.WINNER, CallKind.TOO_CLOSE, CallKind.UNCALLED]),
    st.sampled_from(NAMES),
)
endorsements = st.builds(
    lambda who, whom: ("endorse", who, whom),
    st.sampled_from(["Kay Ivey", "Richard Shelby", "AL.com"]),
    st.sampled_from(NAMES),
)
notes = st.builds(lambda text: ("notes", text), st.text(max_size=40))
writes = st.lists(st.one_of(results, polls, calls, endorsements, notes), max_size=8)


def work(race_id: int, step: tuple[Any, ...]) -> Any:
    kind = step[0]
    if kind == "result":
        _, stage, a, b, final = step
        pair = ("Tuberville", a), ("Jones" if stage == "general" else "Sessions", b)
        data = ResultInput(race_id=race_id, stage=StageRef(stage), counts=list(pair), final=final)
        return lambda s: post_result(s, MODERATOR, data)
    if kind == "poll":
        _, pollster, day, n, a, b, hyp = step
        end = dt.date(2020, 11, 2) - dt.timedelta(days=day)
        poll = PollInput(
            race_id, pollster, end, [("Tuberville", a), ("Jones", b)], sample_size=n, hypothetical=hyp
        )
        return lambda s: add_poll(s, MODERATOR, poll)
    if kind == "call":
        _, stage, call_kind, who = step
        names = [who] if call_kind == CallKind.WINNER else []
        call = CallInput(race_id, StageRef(stage), call_kind, names)
        return lambda s: change_call(s, MODERATOR, call)
    if kind == "endorse":
        endorsement = EndorsementInput(race_id, step[1], step[2])
        return lambda s: add_endorsement(s, MODERATOR, endorsement)
    edit = RaceEdit(race_id, {"notes": step[1] or None})
    return lambda s: edit_race(s, MODERATOR, edit)


async def answers(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Each race's card as the bot shows it, by title."""
    async with sessions() as session:
        shown = {}
        for race_id in await session.scalars(select(Race.id)):
            card = await race_card(session, race_id)
            assert card is not None
            embed = race_embed(card, now=NOW).to_dict()
            shown[embed["title"]] = embed
        return shown


async def round_trip(steps: list[tuple[Any, ...]], folder: Path) -> None:
    first = copied_store(folder / "first.db", "sample", load_sample)
    second = copied_store(folder / "second.db")
    try:
        sessions = make_sessionmaker(first)
        async with sessions() as session:
            race_id = (await session.scalar(select(Race.id).where(Race.cycle == 2020))) or 0
        for step in steps:
            with contextlib.suppress(WriteError):  # refused: wrong for the data as it stands; nothing written
                await run_write(sessions, work(race_id, step))
        async with sessions() as session:
            exported = await export_document(session)
        again = make_sessionmaker(second)
        async with again.begin() as session:
            await load_document(session, exported, SYSTEM)
        async with again() as session:
            assert await export_document(session) == exported
        assert await answers(again) == await answers(sessions)
    finally:
        await first.dispose()
        await second.dispose()


@settings(max_examples=20, deadline=None)
@given(writes)
# Found by this test: the card's order among equals was the stored order, which the export did not keep.
@example([("endorse", "Kay Ivey", "Tuberville"), ("endorse", "Kay Ivey", "Jones")])
@example([("poll", "cygnal", 73, None, 0, 0, False), ("poll", "Cygnal", 73, None, 0, 0, False)])
def test_export_then_import_gives_the_same_answers(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(round_trip(steps, Path(folder)))

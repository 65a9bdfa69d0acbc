"""Results-feed test material: Florida's 2012 Senate race as the AP sample counts it, readings built from
that file with the counts changed, and the race in a store."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import Actor
from db.models import Race
from db.writes.common import StageRef
from db.writes.races import CandidateInput, ContestDate, RaceInput, add_candidate, add_race

FEEDS = Path(__file__).parents[1] / "data" / "feeds"
AP_SAMPLE = FEEDS / "20121106_me_fl_senate.json"
FLORIDA = "10005"  # the AP race id of Florida's 2012 Senate race in the sample


def ap_document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(AP_SAMPLE.read_bytes())
    return data


def florida_unit(document: dict[str, Any]) -> dict[str, Any]:
    race = next(r for r in document["races"] if r["raceID"] == FLORIDA)
    unit: dict[str, Any] = next(u for u in race["reportingUnits"] if u["level"] == "state")
    return unit


def florida_names() -> list[str]:
    return [f"{c['first']} {c['last']}" for c in florida_unit(ap_document())["candidates"]]


def florida_counts() -> dict[str, int]:
    return {f"{c['first']} {c['last']}": c["voteCount"] for c in florida_unit(ap_document())["candidates"]}


def ap_snapshot(
    step: int = 0, *, scale: float | None = None, precincts: int | None = None, **change: Any
) -> bytes:
    """The AP sample with Florida's count `step` steps further on (each candidate's votes times 1 + step,
    precincts reporting rising too), or `scale` times the sample's; `change` edits the statewide unit."""
    document = copy.deepcopy(ap_document())
    unit = florida_unit(document)
    factor = scale if scale is not None else 1 + step
    for candidate in unit["candidates"]:
        candidate["voteCount"] = int(candidate["voteCount"] * factor)
    unit["precinctsReporting"] = (
        precincts
        if precincts is not None
        else min(unit["precinctsTotal"], unit["precinctsReporting"] * (1 + step))
    )
    unit["precinctsReportingPct"] = round(100 * unit["precinctsReporting"] / unit["precinctsTotal"], 2)
    unit.update(change)
    return json.dumps(document).encode()


async def add_florida_2012(session: AsyncSession, actor: Actor) -> Race:
    """Florida's 2012 U.S. Senate race, general on Nov 6, 2012, with the sample's four candidates."""
    outcome = await add_race(
        session,
        actor,
        RaceInput("FL", "senate", 2012, contests=[ContestDate("general", "", dt.date(2012, 11, 6))]),
    )
    for name in florida_names():
        await add_candidate(session, actor, CandidateInput(outcome.race.id, StageRef("general"), name))
    return outcome.race


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def feed_server(routes: dict[str, Handler]) -> AsyncIterator[str]:
    """A local feed server on 127.0.0.1 answering GET on each path; yields its base URL (`http://127.0.0.1:port`)."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class Replay:
    """A local feed server: serves `snapshots[step]` with an ETag, answering 304 when it has not changed."""

    def __init__(self, snapshots: list[bytes]) -> None:
        self.snapshots, self.step, self.requests, self.not_modified = snapshots, 0, 0, 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        etag = f'"{self.step}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304)
        return web.Response(
            body=self.snapshots[self.step], headers={"ETag": etag}, content_type="application/json"
        )

"""Results feeds: attaching one to a race's stage, pausing, resuming and removing it (each audited), and
taking a reading: a changed count becomes a result snapshot through `post_result`, exactly like the desk's
`!result`; an unchanged one stores nothing; a doubtful one is held for the desk with its reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import Actor, record
from db.feeds.formats import FeedContest, FeedError, FeedReading
from db.feeds.validate import Matched, callable_now, contest_changed, hold_reasons, match_choices
from db.models import AuditEntry, Call, CallKind, Candidacy, Contest, Feed, FeedState, Race
from db.reads.races import latest_snapshot, snapshot_counts, standing_call
from db.writes.common import StageRef, contest_label, load_race, pick_contest, row_dict
from db.writes.errors import Duplicate, NotFound, WriteError
from db.writes.results import (
    CallInput,
    CallOutcome,
    ResultInput,
    ResultOutcome,
    change_call,
    decision,
    post_result,
)

MODES = ("auto", "review")
MIN_INTERVAL = 10
MAX_INTERVAL = 3600
FEED_FIELDS = (
    "race_id",
    "contest_id",
    "url",
    "format",
    "contest_key",
    "contest_name",
    "interval",
    "mode",
    "state",
)


@dataclass
class FeedInput:
    race_id: int
    stage: StageRef
    url: str
    reading: FeedReading  # what the check found
    contest: str | None = None  # the feed's contest, by key or name
    interval: int = 30
    mode: str = "auto"
    channel_id: int | None = None


@dataclass
class FeedPreview:
    """What a feed holds for a stage, before it is attached: shown to the desk to confirm."""

    race: Race
    contest: Contest
    feed_contest: FeedContest
    matched: Matched
    format: str


async def preview_feed(session: AsyncSession, data: FeedInput) -> FeedPreview:
    race = await load_race(session, data.race_id, lock=False)
    contest = pick_contest(race, data.stage)
    try:
        feed_contest = data.reading.pick(data.contest)
        matched = match_choices(race, contest, feed_contest)
    except FeedError as problem:
        raise WriteError(str(problem)) from None
    if data.mode not in MODES:
        raise WriteError(f"A feed's mode is auto or review, not '{data.mode}'.")
    if not MIN_INTERVAL <= data.interval <= MAX_INTERVAL:
        raise WriteError(
            f"A feed is polled every {MIN_INTERVAL} s to {MAX_INTERVAL // 60} min, not {data.interval} s."
        )
    return FeedPreview(race, contest, feed_contest, matched, data.reading.format)


@dataclass
class FeedOutcome:
    feed: Feed
    race: Race
    audit: AuditEntry


async def add_feed(session: AsyncSession, actor: Actor, data: FeedInput) -> FeedOutcome:
    preview = await preview_feed(session, data)
    taken = await session.scalar(
        select(Feed.id).where(Feed.contest_id == preview.contest.id, Feed.url == data.url.strip())
    )
    if taken is not None:
        raise Duplicate(f"That feed is already attached to this stage as feed #{taken}.", taken)
    feed = Feed(
        race_id=preview.race.id,
        contest_id=preview.contest.id,
        url=data.url.strip(),
        format=preview.format,
        contest_key=preview.feed_contest.key,
        contest_name=preview.feed_contest.name,
        interval=data.interval,
        mode=data.mode,
        state=FeedState.ACTIVE,
        failures=0,
        failing_reported=False,
        nudged=False,
        channel_id=data.channel_id,
        created_by=actor.id,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(feed)
    await session.flush()
    entry = await record(
        session,
        actor,
        "feed.add",
        "feeds",
        feed.id,
        race_id=preview.race.id,
        after=row_dict(feed, FEED_FIELDS),
    )
    return FeedOutcome(feed, preview.race, entry)


async def load_feed(session: AsyncSession, feed_id: int) -> Feed:
    feed = await session.get(Feed, feed_id, populate_existing=True)
    if feed is None:
        raise NotFound(f"There is no feed #{feed_id}: `feed list` shows them.")
    return feed


async def _state_change(
    session: AsyncSession, actor: Actor, feed_id: int, state: str, action: str
) -> FeedOutcome:
    feed = await load_feed(session, feed_id)
    race = await load_race(session, feed.race_id)
    before = {"state": feed.state, "held": feed.held, "last_error": feed.last_error}
    if feed.state == state:
        raise WriteError(f"Feed #{feed.id} is already {state}.")
    feed.state = state
    if state == FeedState.ACTIVE:
        feed.held, feed.failures, feed.failing_reported, feed.last_error = None, 0, False, None
    await session.flush()
    entry = await record(
        session, actor, action, "feeds", feed.id, race_id=race.id, before=before, after={"state": state}
    )
    return FeedOutcome(feed, race, entry)


async def pause_feed(session: AsyncSession, actor: Actor, feed_id: int) -> FeedOutcome:
    return await _state_change(session, actor, feed_id, FeedState.PAUSED, "feed.pause")


async def resume_feed(session: AsyncSession, actor: Actor, feed_id: int) -> FeedOutcome:
    """Polled again; a held reading is dropped (the next fetch reads the feed afresh)."""
    return await _state_change(session, actor, feed_id, FeedState.ACTIVE, "feed.resume")


async def remove_feed(session: AsyncSession, actor: Actor, feed_id: int) -> FeedOutcome:
    feed = await load_feed(session, feed_id)
    race = await load_race(session, feed.race_id)
    entry = await record(
        session, actor, "feed.remove", "feeds", feed.id, race_id=race.id, before=row_dict(feed, FEED_FIELDS)
    )
    await session.delete(feed)
    await session.flush()
    return FeedOutcome(feed, race, entry)


async def feeds_of(session: AsyncSession, race_id: int | None = None) -> list[tuple[Feed, Race]]:
    query = select(Feed, Race).join(Race, Race.id == Feed.race_id).order_by(Feed.id)
    if race_id is not None:
        query = query.where(Feed.race_id == race_id)
    return [(f, r) for f, r in (await session.execute(query)).all()]


@dataclass(frozen=True)
class PolledFeed:
    """What the poller needs of a feed. Read as plain rows, not ORM objects: the poller reads its list every
    few seconds, and hundreds of feeds loaded as objects would hold the event loop each time."""

    id: int
    race_id: int
    contest_id: int
    url: str
    interval: int
    mode: str
    state: str
    contest_key: str
    contest_name: str
    etag: str | None
    last_modified: str | None


async def active_feeds(session: AsyncSession) -> list[PolledFeed]:
    """The feeds the poller keeps current: active ones and failing ones (backing off). A held feed waits for
    the desk and a paused one for `feed resume`."""
    columns = [getattr(Feed, name) for name in PolledFeed.__dataclass_fields__]
    rows = await session.execute(
        select(*columns).where(Feed.state.in_((FeedState.ACTIVE, FeedState.FAILING))).order_by(Feed.id)
    )
    return [PolledFeed(*row) for row in rows]


# ------------------------------------------------------------------ taking a reading

Announce = Callable[[AsyncSession, ResultOutcome], Awaitable[Any]]


@dataclass
class Reading:
    """What one fetched reading did: stored (a result), unchanged, held (with reasons), or stopped."""

    feed: Feed
    race: Race | None = None
    stored: ResultOutcome | None = None
    announced: Any = None
    held: list[str] = field(default_factory=list)
    stopped: str | None = None  # a choice the bot cannot match: the feed is paused
    nudge: str | None = None  # why the desk might call the stage now (said once)


def feed_actor(feed: Feed) -> Actor:
    return Actor(id=feed.created_by, name=f"feed #{feed.id}")


async def take_reading(
    session: AsyncSession,
    feed_id: int,
    reading: FeedReading | FeedError,
    announce: Announce,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Reading:
    """Judge a fetched reading and store it when it may be: one transaction with its audit and announcement.

    The fetch's ETag and Last-Modified are kept whatever the outcome, so a reading the desk skips is not
    fetched (and held) again until the feed changes."""
    feed = await load_feed(session, feed_id)
    if feed.state not in (FeedState.ACTIVE, FeedState.FAILING):
        return Reading(feed)  # paused or held since this fetch began: the desk has it
    feed.last_fetch_at = dt.datetime.now(dt.UTC)
    feed.failures, feed.failing_reported = 0, False
    feed.etag, feed.last_modified = etag, last_modified
    race = await load_race(session, feed.race_id)
    result = Reading(feed, race)
    contest = next((c for c in race.contests if c.id == feed.contest_id), None)
    if contest is None:
        raise NotFound(f"Feed #{feed.id}'s stage no longer exists.")
    previous = await latest_snapshot(session, contest.id)
    before = snapshot_counts(previous)[0] if previous is not None else None
    verdict = judge(feed, reading, race, contest, before)
    if verdict.stopped is not None:
        feed.state, feed.last_error = FeedState.PAUSED, verdict.stopped
        result.stopped = verdict.stopped
        return result
    if verdict.reasons:
        return _hold(feed, result, verdict.reasons, verdict.matched)
    assert verdict.matched is not None
    if feed.state == FeedState.FAILING:
        feed.state = FeedState.ACTIVE
    feed.last_error = None
    matched = verdict.matched
    return await _store(session, feed, result, contest, matched.named(), matched, feed_actor(feed), announce)


@dataclass(frozen=True)
class Verdict:
    """What a reading deserves: held with reasons (with its count when it has one), the feed stopped (a
    choice nobody matches), or, with neither, its count stored."""

    reasons: list[str]
    matched: Matched | None
    stopped: str | None = None


def judge(
    feed: Feed | PolledFeed,
    reading: FeedReading | FeedError,
    race: Race,
    contest: Contest,
    before: dict[int, int] | None,
) -> Verdict:
    """Judge a reading against the stage's newest stored count (`before`, by candidacy). Pure."""
    if isinstance(reading, FeedError):
        return Verdict([f"the file cannot be read: {reading}"], None)
    try:
        feed_contest = _find_contest(reading, feed)
    except _ContestGone as problem:
        return Verdict([str(problem)], None)
    other = contest_changed(feed_contest, (feed.contest_key, feed.contest_name))
    if other:
        return Verdict([other], None)
    try:
        matched = match_choices(race, contest, feed_contest)
    except FeedError as problem:
        return Verdict([], None, str(problem))
    names = {c.id: c.candidate.name for c in contest.candidacies}
    reasons = hold_reasons(matched, before, names)
    if reasons:
        return Verdict(reasons, matched)
    if feed.mode == "review" and matched.by_id != (before or {}):
        return Verdict(["review mode: each new count waits for the desk"], matched)
    return Verdict([], matched)


@dataclass(frozen=True)
class Basis:
    """What a reading is judged against: the race (its stages, candidacies and people) and the newest count
    stored for the feed's stage (votes by candidacy, other kinds, reporting). The store caches it and drops
    it at any audited write, as it does the members' answers."""

    race: Race
    votes: dict[int, int] | None  # None: no count stored yet
    other: dict[str, int]
    reporting_pct: float | None


async def reading_basis(session: AsyncSession, race_id: int, contest_id: int) -> Basis:
    race = await load_race(session, race_id, lock=False)
    latest = await latest_snapshot(session, contest_id)
    if latest is None:
        return Basis(race, None, {}, None)
    votes, other = snapshot_counts(latest)
    return Basis(race, votes, other, latest.reporting_pct)


def nothing_new(feed: Feed | PolledFeed, reading: FeedReading, basis: Basis) -> bool:
    """Whether `take_reading` would store nothing and hold nothing: the feed's count is the one stored (the
    same votes and reporting), nothing about it doubtful. The poller then only notes the fetch, without the
    write's lock and loads. Any doubt answers False, and `take_reading` judges."""
    contest = next((c for c in basis.race.contests if c.id == feed.contest_id), None)
    if contest is None or basis.votes is None or basis.other:
        return False
    verdict = judge(feed, reading, basis.race, contest, basis.votes)
    matched = verdict.matched
    if verdict.reasons or verdict.stopped is not None or matched is None or matched.by_id != basis.votes:
        return False
    reporting = matched.reporting_pct  # as post_result reckons it
    if matched.precincts is not None:
        done, total = matched.precincts
        reporting = round(100 * done / total, 1) if total else None
    return reporting is None or reporting == basis.reporting_pct


async def _store(
    session: AsyncSession,
    feed: Feed,
    result: Reading,
    contest: Contest,
    counts: list[tuple[str, int]],
    matched: Matched,
    actor: Actor,
    announce: Announce,
) -> Reading:
    assert result.race is not None
    precincts = matched.precincts
    data = ResultInput(
        race_id=result.race.id,
        stage=StageRef(contest.stage, contest.party),
        counts=counts,
        reporting_pct=matched.reporting_pct if precincts is None else None,
        precincts=precincts,
        source=f"feed #{feed.id}",
    )
    try:
        stored = await post_result(session, actor, data)
    except Duplicate:
        return result  # the count already stored: nothing new
    feed.last_change_at = dt.datetime.now(dt.UTC)
    result.stored = stored
    result.announced = await announce(session, stored)
    why = callable_now(matched)
    if why and not feed.nudged:
        feed.nudged = True
        result.nudge = why
    return result


async def approve_held(session: AsyncSession, actor: Actor, feed_id: int, announce: Announce) -> Reading:
    """A desk member approves a held reading: it is stored as it was read (the desk member is its author),
    and the feed is polled again."""
    feed = await load_feed(session, feed_id)
    held = feed.held
    if feed.state != FeedState.HELD or not held:
        raise WriteError(f"Feed #{feed.id} holds nothing for review.")
    if not held.get("counts"):
        raise WriteError(
            f"Feed #{feed.id}'s held reading has no count to store ({'; '.join(held['reasons'])}): "
            f"skip it, or pause or remove the feed."
        )
    race = await load_race(session, feed.race_id)
    contest = next(c for c in race.contests if c.id == feed.contest_id)
    by_name = {c.candidate.name: c for c in contest.candidacies}
    counts = [(str(n), int(v)) for n, v in held["counts"]]
    precincts = held.get("precincts")
    matched = Matched(
        tuple((by_name[n], v) for n, v in counts if n in by_name),
        (int(precincts[0]), int(precincts[1])) if precincts else None,
        held.get("reporting_pct"),
    )
    if matched.precincts and matched.precincts[0] > matched.precincts[1]:
        matched = Matched(matched.counts, None, None)  # stored without the impossible precinct figures
    if matched.reporting_pct is not None and not 0 <= matched.reporting_pct <= 100:
        matched = Matched(matched.counts, matched.precincts, None)
    feed.state, feed.held, feed.last_error = FeedState.ACTIVE, None, None
    result = await _store(session, feed, Reading(feed, race), contest, counts, matched, actor, announce)
    if result.stored is None:
        raise WriteError(f"Feed #{feed.id}'s held count is the one already stored: nothing new was stored.")
    return result


async def skip_held(session: AsyncSession, actor: Actor, feed_id: int) -> FeedOutcome:
    """The desk skips a held reading: nothing is stored, and the feed is polled again."""
    feed = await load_feed(session, feed_id)
    if feed.state != FeedState.HELD:
        raise WriteError(f"Feed #{feed.id} holds nothing for review.")
    race = await load_race(session, feed.race_id)
    before = {"state": feed.state, "held": feed.held}
    feed.state, feed.held, feed.last_error = FeedState.ACTIVE, None, None
    entry = await record(
        session,
        actor,
        "feed.skip",
        "feeds",
        feed.id,
        race_id=race.id,
        before=before,
        after={"state": feed.state},
    )
    return FeedOutcome(feed, race, entry)


# ------------------------------------------------------------------ the nudge's call (the desk makes it)


@dataclass
class CallDraft:
    """The call a feed's nudge proposes: its stage, the leader of the newest stored count, and the call
    standing now (a stage already called is not called again from a nudge)."""

    feed: Feed
    race: Race
    contest: Contest
    leader: Candidacy
    votes: int
    standing: Call | None

    @property
    def called(self) -> bool:
        return decision(self.standing) is not None

    def call(self) -> CallInput:
        return CallInput(
            self.race.id,
            StageRef(self.contest.stage, self.contest.party),
            CallKind.WINNER,
            [self.leader.candidate.name],
        )


async def call_draft(session: AsyncSession, feed_id: int) -> CallDraft:
    feed = await load_feed(session, feed_id)
    race = await load_race(session, feed.race_id, lock=False)
    contest = next((c for c in race.contests if c.id == feed.contest_id), None)
    if contest is None:
        raise NotFound(f"Feed #{feed.id}'s stage no longer exists.")
    snapshot = await latest_snapshot(session, contest.id)
    counts = snapshot_counts(snapshot)[0] if snapshot is not None else {}
    if not counts:
        raise WriteError(f"No count of feed #{feed.id}'s stage is stored, so there is nobody to call.")
    leader_id = max(counts, key=lambda cid: counts[cid])
    leader = next(c for c in contest.candidacies if c.id == leader_id)
    return CallDraft(feed, race, contest, leader, counts[leader_id], await standing_call(session, contest.id))


async def call_uncalled(session: AsyncSession, actor: Actor, data: CallInput) -> CallOutcome:
    """The desk's call (`change_call`, as `call` stores it), confirmed from a feed's nudge: refused when the
    stage was called since the nudge was pressed, so a late confirmation never replaces a call."""
    race = await load_race(session, data.race_id)
    contest = pick_contest(race, data.stage)
    standing = await standing_call(session, contest.id)
    if standing is not None and decision(standing) is not None:
        raise WriteError(
            f"The {contest_label(contest)} is already called (call #{standing.id}): nothing was stored. "
            "`uncall` withdraws a call."
        )
    return await change_call(session, actor, data)


class _ContestGone(FeedError):
    pass


def _find_contest(reading: FeedReading, feed: Feed | PolledFeed) -> FeedContest:
    same = [c for c in reading.contests if c.key == feed.contest_key]
    if len(same) == 1:
        return same[0]
    if len(reading.contests) == 1:
        return reading.contests[
            0
        ]  # a one-contest feed: its key and name are checked against the attached one
    raise _ContestGone(f"the feed no longer holds contest {feed.contest_key} ('{feed.contest_name}')")


def _hold(feed: Feed, result: Reading, reasons: list[str], matched: Matched | None) -> Reading:
    feed.state = FeedState.HELD
    feed.last_error = "; ".join(reasons)
    feed.held = {
        "reasons": reasons,
        "counts": [[c.candidate.name, v] for c, v in matched.counts] if matched else None,
        "precincts": list(matched.precincts) if matched and matched.precincts else None,
        "reporting_pct": matched.reporting_pct if matched else None,
    }
    result.held = reasons
    return result


async def claim(session: AsyncSession, feed_id: int, owner: str, seconds: float) -> bool:
    """Whether this process (`owner`) may poll the feed now (`claim_feeds` for one feed)."""
    return feed_id in await claim_feeds(session, [feed_id], owner, seconds)


async def claim_feeds(
    session: AsyncSession, feed_ids: Collection[int], owner: str, seconds: float
) -> set[int]:
    """The feeds of `feed_ids` this process (`owner`) may poll now: those whose lease it holds, or takes
    because nobody does or the holder's ran out (a process that stopped); each taken or renewed for
    `seconds`. The rows are locked as they are picked (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a row another
    process is claiming is skipped, not waited for), so of several bot processes on one database exactly
    one polls each feed. SQLite has one bot process; the same statements serve it."""
    if not feed_ids:
        return set()
    now = dt.datetime.now(dt.UTC)
    free = or_(Feed.lease_until.is_(None), Feed.lease_until < now, Feed.lease_owner == owner)
    picked = set(
        await session.scalars(
            select(Feed.id).where(Feed.id.in_(list(feed_ids)), free).with_for_update(skip_locked=True)
        )
    )
    if picked:
        await session.execute(
            update(Feed)
            .where(Feed.id.in_(picked))
            .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=seconds))
        )
    return picked


async def release(session: AsyncSession, owner: str) -> None:
    """A bot process stopping gives up its feeds' leases, so the next one polls them at once."""
    await session.execute(
        update(Feed).where(Feed.lease_owner == owner).values(lease_owner=None, lease_until=None)
    )


async def fetch_failed(
    session: AsyncSession, feed_id: int, problem: str, report_after: int
) -> tuple[Feed, bool]:
    """Record a failed fetch; True once when the feed has failed `report_after` times in a row (tell the desk)."""
    feed = await load_feed(session, feed_id)
    feed.failures += 1
    feed.last_error = problem
    feed.last_fetch_at = dt.datetime.now(dt.UTC)
    if feed.state == FeedState.ACTIVE and feed.failures >= report_after:
        feed.state = FeedState.FAILING
    tell = feed.failures >= report_after and not feed.failing_reported
    if tell:
        feed.failing_reported = True
    return feed, tell


@dataclass(frozen=True)
class Fetched:
    """A fetch that brought nothing new: a 304, the same file again, or a count already stored."""

    feed_id: int
    etag: str | None
    last_modified: str | None
    read: bool = False  # a reading was taken (and judged nothing new): only an active or failing feed's


async def note_fetches(session: AsyncSession, fetches: Collection[Fetched]) -> None:
    """Note fetches that brought nothing new, many in one transaction (no feed is loaded): when, the
    validators, and a feed that was failing is well again. A reading also clears the feed's last error, as
    `take_reading` does; a feed paused or held since its fetch began keeps its state and error."""
    now = dt.datetime.now(dt.UTC)
    well = case((Feed.state == FeedState.FAILING, FeedState.ACTIVE), else_=Feed.state)
    for fetched in fetches:
        values: dict[str, Any] = {
            "last_fetch_at": now,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "failures": 0,
            "failing_reported": False,
            "state": well,
        }
        query = update(Feed).where(Feed.id == fetched.feed_id)
        if fetched.read:
            values["last_error"] = None
            query = query.where(Feed.state.in_((FeedState.ACTIVE, FeedState.FAILING)))
        await session.execute(query.values(**values))


# ------------------------------------------------------------------ undo (db/writes/undo.py calls these)


async def _undo_add(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    feed = await session.get(Feed, entry.entity_id)
    if feed is None:
        raise WriteError(f"Feed #{entry.entity_id} was removed since #{entry.id}; nothing to undo.")
    await session.delete(feed)
    return f"detached feed #{entry.entity_id}", {}


async def _undo_state(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    feed = await session.get(Feed, entry.entity_id)
    before, after = entry.before or {}, entry.after or {}
    if feed is None:
        raise WriteError(f"Feed #{entry.entity_id} was removed since #{entry.id}; not undone.")
    if feed.state != after.get("state"):
        raise WriteError(f"Feed #{feed.id} changed again since #{entry.id} (it is {feed.state}); not undone.")
    feed.state = str(before.get("state", FeedState.PAUSED))
    feed.held, feed.last_error = before.get("held"), before.get("last_error")
    return f"put feed #{feed.id} back to {feed.state}", {}


async def _undo_remove(session: AsyncSession, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
    before = dict(entry.before or {})
    if (
        await session.get(Race, before.get("race_id")) is None
        or await session.get(Contest, before.get("contest_id")) is None
    ):
        raise WriteError(f"Feed #{entry.entity_id}'s race or stage is gone; not undone.")
    feed = Feed(id=entry.entity_id, **{k: before.get(k) for k in FEED_FIELDS})
    feed.state = FeedState.PAUSED  # back, but polled again only when the desk resumes it
    feed.failures, feed.failing_reported, feed.nudged = 0, False, False
    feed.created_at = dt.datetime.now(dt.UTC)
    session.add(feed)
    return f"attached feed #{entry.entity_id} again, paused (`feed resume {entry.entity_id}` polls it)", {}


UNDO_HANDLERS = {
    "feed.add": _undo_add,
    "feed.pause": _undo_state,
    "feed.resume": _undo_state,
    "feed.skip": _undo_state,
    "feed.remove": _undo_remove,
}

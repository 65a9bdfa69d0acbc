"""The desk's feed replies and notices: what a feed holds before it starts, the list, and what the poller
tells the desk (a held reading, a stopped or failing feed, a stage that may be callable). Pure."""

from __future__ import annotations

from db.lookup import state_name
from db.models import Contest, Feed, Race
from db.writes.common import contest_label
from db.writes.feeds import CallDraft, FeedOutcome, FeedPreview, Reading
from render.desk import reach, undo_hint
from render.format import escape, timestamp
from render.race import race_title

STATE_WORDS = {"active": "active", "paused": "paused", "failing": "failing", "held": "held for review"}


def preview(found: FeedPreview, url: str, interval: int, mode: str) -> str:
    feed = found.feed_contest
    lines = [
        f"**Feed check** for the {contest_label(found.contest)} of {escape(race_title(found.race))}",
        f"URL: <{escape(url)}> ({found.format.upper()})",
        f"Contest in the feed: {escape(feed.key)}, {escape(feed.name)}",
    ]
    for (name, votes), (candidacy, _) in zip(feed.choices, found.matched.counts, strict=True):
        lines.append(f"- {escape(name)} → {escape(candidacy.candidate.name)}: {votes:,}")
    if feed.precincts:
        lines.append(f"Precincts: {feed.precincts[0]:,} of {feed.precincts[1]:,}")
    elif feed.reporting_pct is not None:
        lines.append(f"Reporting: {feed.reporting_pct:g}%")
    lines.append(f"Polled every {interval} s, mode {mode}. Press **Start feed** to attach it.")
    return "\n".join(lines)


def added(outcome: FeedOutcome, prefix: str) -> str:
    feed = outcome.feed
    return (
        f"Feed #{feed.id} is attached to {escape(race_title(outcome.race))} and polled every {feed.interval} s "
        f"({feed.mode}). Stop it with `{prefix}feed pause {feed.id}` or `{prefix}feed remove {feed.id}`."
    )


def not_started(reason: str) -> str:
    return f"The feed was not started: {reason}"


def state_changed(outcome: FeedOutcome, prefix: str) -> str:
    feed = outcome.feed
    verb = {
        "feed.pause": "is paused",
        "feed.resume": "is polled again",
        "feed.remove": "is removed",
        "feed.skip": "skipped its held reading and is polled again",
    }[outcome.audit.action]
    return (
        f"Feed #{feed.id} ({escape(race_title(outcome.race))}) {verb}. {undo_hint(prefix, outcome.audit.id)}"
    )


def listing(feeds: list[tuple[Feed, Race]], prefix: str) -> str:
    if not feeds:
        return f"No feeds are attached. Attach one with `{prefix}feed add <race> url=...`."
    lines = []
    for feed, race in feeds:
        fetched = timestamp(feed.last_fetch_at, "R") if feed.last_fetch_at else "never"
        changed = timestamp(feed.last_change_at, "R") if feed.last_change_at else "never"
        line = (
            f"**#{feed.id}** {escape(race_title(race))}: {STATE_WORDS.get(feed.state, feed.state)}, {feed.mode}, "
            f"every {feed.interval} s · <{escape(feed.url)}> · fetched {fetched}, changed {changed}"
        )
        if feed.last_error:
            line += f" · {escape(feed.last_error[:200])}"
        lines.append(line)
    return "\n".join(lines)


def stored_by_feed(reading: Reading, prefix: str) -> str:
    assert reading.stored is not None
    snapshot = reading.stored.snapshot
    told = f" {reach(reading.announced)}" if reading.announced is not None else ""
    return f"Feed #{reading.feed.id}: result #{snapshot.id} stored.{told} {undo_hint(prefix, reading.stored.audit.id)}"


def held(reading: Reading, prefix: str) -> str:
    feed = reading.feed
    title = escape(race_title(reading.race)) if reading.race else f"race #{feed.race_id}"
    reasons = "\n".join(f"- {escape(r)}" for r in reading.held)
    counts = ""
    if feed.held and feed.held.get("counts"):
        counts = "\nThe reading: " + ", ".join(f"{escape(n)} {v:,}" for n, v in feed.held["counts"])
    return (
        f"**Feed #{feed.id} ({title}) is held for review**; nothing was stored:\n{reasons}{counts}\n"
        f"Approve it with `{prefix}feed approve {feed.id}` or skip it with `{prefix}feed skip {feed.id}`."
    )


def stopped(reading: Reading, prefix: str) -> str:
    feed = reading.feed
    return f"**Feed #{feed.id} is paused**: {escape(reading.stopped)} (`{prefix}feed resume {feed.id}`)"


def failing(feed: Feed, prefix: str) -> str:
    return (
        f"**Feed #{feed.id} keeps failing** ({feed.failures} fetches in a row): {escape(feed.last_error)}. "
        f"It is retried less often; `{prefix}feed pause {feed.id}` stops it."
    )


def call_command(race: Race, contest: Contest, name: str, prefix: str) -> str:
    """The `call` a desk member would type for this stage and candidate."""
    return (
        f"{prefix}call {state_name(race.state).lower()} {race.cycle} {contest_label(contest).lower()} "
        f"{escape(name.split()[-1])}"
    )


def nudge(reading: Reading, prefix: str) -> str:
    feed, stored = reading.feed, reading.stored
    assert stored is not None
    leader = stored.lines[0].candidacy.candidate.name if stored.lines else "?"
    return (
        f"**{escape(race_title(stored.race))} may be callable**: {escape(reading.nudge)}. The feed never calls a "
        f"race: if the desk agrees, press **Call** or type "
        f"`{call_command(stored.race, stored.contest, leader, prefix)}` (feed #{feed.id})."
    )


def call_preview(draft: CallDraft, prefix: str) -> str:
    """What pressing a nudge's Call button proposes: the exact call, stored only when confirmed."""
    name = escape(draft.leader.candidate.name)
    return (
        f"**Call the {contest_label(draft.contest)} of {escape(race_title(draft.race))} for {name}?** "
        f"{name} leads feed #{draft.feed.id}'s newest stored count with {draft.votes:,} votes. **Confirm** stores "
        f"`{call_command(draft.race, draft.contest, draft.leader.candidate.name, prefix)}`, as if typed; "
        f"**Cancel** stores nothing."
    )


def already_called(draft: CallDraft, prefix: str) -> str:
    assert draft.standing is not None
    return (
        f"The {contest_label(draft.contest)} of {escape(race_title(draft.race))} is already called "
        f"(call #{draft.standing.id}): nothing was stored. To change it, "
        f"`{prefix}uncall {state_name(draft.race.state).lower()} {draft.race.cycle} "
        f"{contest_label(draft.contest).lower()}` first."
    )


def call_cancelled() -> str:
    return "Not called: nothing was stored."

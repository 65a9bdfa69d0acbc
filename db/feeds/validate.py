"""Judging a feed's reading before anything is stored: its choices matched to the stage's candidacies
(with the desk's own naming, never a guess), and the checks that hold a reading for the desk.

A reading is held, with its reasons, when a count goes down, a candidate disappears, reporting is above
100% or the precincts reporting above their total, or the feed names a different contest than before.
A malformed or truncated file never gets this far (db/feeds/formats.py raises FeedError, and the poller
holds it the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.feeds.formats import FeedContest, FeedError
from db.models import Candidacy, Contest, Race
from db.writes.common import find_candidacy
from db.writes.errors import WriteError


@dataclass(frozen=True)
class Matched:
    """A feed contest's counts by candidacy, as the desk's `!result` would name them."""

    counts: tuple[tuple[Candidacy, int], ...]
    precincts: tuple[int, int] | None
    reporting_pct: float | None

    @property
    def by_id(self) -> dict[int, int]:
        return {c.id: v for c, v in self.counts}

    @property
    def total(self) -> int:
        return sum(v for _, v in self.counts)

    def named(self) -> list[tuple[str, int]]:
        return [(c.candidate.name, v) for c, v in self.counts]


def match_choices(race: Race, contest: Contest, feed: FeedContest) -> Matched:
    """Each of the feed's choices as a candidacy of the stage; one that fits nobody (or several) stops the
    feed with the desk's message for it."""
    counts: list[tuple[Candidacy, int]] = []
    seen: dict[int, str] = {}
    for name, votes in feed.choices:
        try:
            candidacy = find_candidacy(race, contest, name)
        except WriteError as problem:
            raise FeedError(
                f"The feed's choice '{name}' matches no one candidate: {problem} "
                "Add the person (`candidate-add`) or another spelling (`candidate-edit ... alias=`), then resume."
            ) from None
        if candidacy.id in seen:
            raise FeedError(
                f"The feed's choices '{seen[candidacy.id]}' and '{name}' both match {candidacy.candidate.name}."
            )
        seen[candidacy.id] = name
        counts.append((candidacy, votes))
    return Matched(tuple(counts), feed.precincts, feed.reporting_pct)


def contest_changed(feed: FeedContest, expected: tuple[str, str]) -> str | None:
    """Why this is not the contest the feed named when it was attached (key and name), or None."""
    key, name = expected
    if feed.key != key or feed.name.strip().lower() != name.strip().lower():
        return f"the feed now names contest {feed.key} '{feed.name}', not {key} '{name}' as before"
    return None


def hold_reasons(matched: Matched, previous: dict[int, int] | None, names: dict[int, str]) -> list[str]:
    """Why this reading must wait for the desk; empty when it may be stored as it is.

    `previous`: the stage's current count by candidacy id (None: no count yet); `names`: candidacy id to
    name."""
    reasons: list[str] = []
    if matched.reporting_pct is not None and not 0 <= matched.reporting_pct <= 100:
        reasons.append(f"reporting is {matched.reporting_pct:g}%, outside 0-100%")
    if matched.precincts is not None:
        reporting, total = matched.precincts
        if reporting > total:
            reasons.append(f"{reporting:,} precincts reporting of {total:,}: more than the total")
        if reporting < 0 or total < 0:
            reasons.append("a negative precinct count")
    now = matched.by_id
    for cid, votes in now.items():
        if votes < 0:
            reasons.append(f"{names.get(cid, cid)} has a negative count ({votes:,})")
    if previous:
        for cid, before in previous.items():
            if cid not in now:
                reasons.append(f"{names.get(cid, cid)} (had {before:,}) is no longer in the feed")
            elif now[cid] < before:
                reasons.append(f"{names.get(cid, cid)}'s count went down from {before:,} to {now[cid]:,}")
    return reasons


def callable_now(matched: Matched) -> str | None:
    """Why the desk might call the stage now (a nudge, never a call): all precincts in, or a margin larger
    than the votes still to count (estimated from the share reporting)."""
    pct = matched.reporting_pct
    if pct is None and matched.precincts is not None and matched.precincts[1]:
        pct = 100 * matched.precincts[0] / matched.precincts[1]
    if pct is None:
        return None
    if pct >= 100:
        return "every precinct has reported"
    votes = sorted((v for _, v in matched.counts), reverse=True)
    if len(votes) < 2 or pct <= 0:
        return None
    left = matched.total * (100 - pct) / pct
    margin = votes[0] - votes[1]
    if margin > left:
        return f"the leader's margin ({margin:,}) is larger than the votes estimated still to count ({round(left):,})"
    return None

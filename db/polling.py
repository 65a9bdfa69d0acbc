"""The polling average.

Method (also in the README): polls are grouped by match-up, the set of choices one
question asks about within one contest; hypothetical match-ups are averaged
apart from real ones. For each match-up, the window is the 30 days up to the
newest poll's end date; within it each pollster counts once, with its latest
poll; each choice's share is the mean of those polls weighted by sample size
(a poll without one counts as 500 respondents, and no poll counts for more than
3,000, so one huge online panel cannot drown the rest). Tracking polls and
re-releases are handled by the one-poll-per-pollster rule. With one poll, the
average is that poll; with none, there is no average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from db.models import Answer, Poll, Question

WINDOW_DAYS = 30
DEFAULT_SAMPLE = 500
MAX_WEIGHT = 3000


@dataclass(frozen=True)
class Share:
    choice: str
    candidate_id: int | None
    party: str | None
    pct: float


@dataclass(frozen=True)
class MatchupAverage:
    contest_id: int | None
    hypothetical: bool
    shares: tuple[Share, ...]  # highest first
    poll_count: int
    newest: dt.date
    oldest: dt.date

    @property
    def leader_margin(self) -> float:
        if len(self.shares) < 2:
            return self.shares[0].pct if self.shares else 0.0
        return self.shares[0].pct - self.shares[1].pct

    @property
    def label(self) -> str:
        return " vs ".join(share.choice for share in sorted(self.shares, key=lambda s: s.choice))


def _slot(answer: Answer) -> str:
    """One choice across polls: the person when known, else the pollster's label."""
    return f"c{answer.candidate_id}" if answer.candidate_id else answer.choice.lower()


def matchup_key(question: Question) -> tuple[int | None, bool, frozenset[str]]:
    return question.contest_id, question.hypothetical, frozenset(_slot(a) for a in question.answers)


def _weight(poll: Poll, question: Question) -> float:
    size = question.sample_size or poll.sample_size or DEFAULT_SAMPLE
    return float(min(size, MAX_WEIGHT))


def averages(polls: Iterable[Poll]) -> list[MatchupAverage]:
    """Averages per match-up, the most-polled real match-up first. Questions must be loaded."""
    groups: dict[tuple[int | None, bool, frozenset[str]], list[tuple[Poll, Question]]] = {}
    for poll in polls:
        for question in poll.questions:
            if question.answers:
                groups.setdefault(matchup_key(question), []).append((poll, question))
    result = [_average(key, members) for key, members in groups.items()]
    result.sort(key=lambda m: (m.hypothetical, -m.newest.toordinal(), -m.poll_count))
    return result


def _average(
    key: tuple[int | None, bool, frozenset[str]], members: list[tuple[Poll, Question]]
) -> MatchupAverage:
    newest = max(poll.end_date for poll, _ in members)
    start = newest - dt.timedelta(days=WINDOW_DAYS)
    latest_by_pollster: dict[str, tuple[Poll, Question]] = {}
    for poll, question in sorted(members, key=lambda pq: (pq[0].end_date, pq[0].id or 0)):
        if poll.end_date >= start:
            latest_by_pollster[poll.pollster.lower()] = (poll, question)
    totals: dict[str, list[float]] = {}
    meta: dict[str, tuple[str, int | None, str | None]] = {}
    for poll, question in latest_by_pollster.values():
        weight = _weight(poll, question)
        for answer in question.answers:
            slot = _slot(answer)
            weighted, weights = totals.setdefault(slot, [0.0, 0.0])
            totals[slot] = [weighted + answer.pct * weight, weights + weight]
            meta.setdefault(slot, (answer.choice, answer.candidate_id, answer.party))
    shares = [
        Share(meta[slot][0], meta[slot][1], meta[slot][2], round(weighted / weights, 1))
        for slot, (weighted, weights) in totals.items()
    ]
    shares.sort(key=lambda s: -s.pct)
    used = list(latest_by_pollster.values())
    return MatchupAverage(
        contest_id=key[0],
        hypothetical=key[1],
        shares=tuple(shares),
        poll_count=len(used),
        newest=newest,
        oldest=min(poll.end_date for poll, _ in used),
    )

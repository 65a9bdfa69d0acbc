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

The chart's line (`trend`) is the same average as it stood on each day polls
ended: for a day D, the window is the 30 days up to D and only polls that had
ended by D count. A long history is sampled at up to `TREND_POINTS` such days
(always including the newest), which draws the same line at phone size.

The functions read only the attributes named in `PollLike`, `QuestionLike` and
`AnswerLike`, so plain objects (as sent to the chart worker process) work as well
as ORM rows.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

WINDOW_DAYS = 30
DEFAULT_SAMPLE = 500
MAX_WEIGHT = 3000
TREND_POINTS = 150


class AnswerLike(Protocol):
    @property
    def candidate_id(self) -> int | None: ...
    @property
    def choice(self) -> str: ...
    @property
    def party(self) -> str | None: ...
    @property
    def pct(self) -> float: ...


class QuestionLike(Protocol):
    @property
    def contest_id(self) -> int | None: ...
    @property
    def hypothetical(self) -> bool: ...
    @property
    def sample_size(self) -> int | None: ...
    @property
    def answers(self) -> Sequence[AnswerLike]: ...


class PollLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def pollster(self) -> str: ...
    @property
    def end_date(self) -> dt.date: ...
    @property
    def sample_size(self) -> int | None: ...
    @property
    def questions(self) -> Sequence[QuestionLike]: ...


MatchupKey = tuple[int | None, bool, frozenset[str]]


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


def _slot(answer: AnswerLike) -> str:
    """One choice across polls: the person when known, else the pollster's label."""
    return f"c{answer.candidate_id}" if answer.candidate_id else answer.choice.lower()


def slot(answer: AnswerLike) -> str:
    """The key that follows one choice across polls (a person's id, else the label)."""
    return _slot(answer)


def matchup_key(question: QuestionLike) -> MatchupKey:
    return question.contest_id, question.hypothetical, frozenset(_slot(a) for a in question.answers)


def _weight(poll: PollLike, question: QuestionLike) -> float:
    size = question.sample_size or poll.sample_size or DEFAULT_SAMPLE
    return float(min(size, MAX_WEIGHT))


def averages(polls: Iterable[PollLike]) -> list[MatchupAverage]:
    """Averages per match-up, the most-polled real match-up first. Questions must be loaded."""
    result = [_average(key, members) for key, members in matchups(polls).items()]
    result.sort(key=lambda m: (m.hypothetical, -m.newest.toordinal(), -m.poll_count))
    return result


def _average(key: MatchupKey, members: list[tuple[PollLike, QuestionLike]]) -> MatchupAverage:
    newest = max(poll.end_date for poll, _ in members)
    start = newest - dt.timedelta(days=WINDOW_DAYS)
    latest_by_pollster: dict[str, tuple[PollLike, QuestionLike]] = {}
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


def matchups(polls: Iterable[PollLike]) -> dict[MatchupKey, list[tuple[PollLike, QuestionLike]]]:
    """Every question with answers, grouped by match-up (as `averages` groups them)."""
    groups: dict[MatchupKey, list[tuple[PollLike, QuestionLike]]] = {}
    for poll in polls:
        for question in poll.questions:
            if question.answers:
                groups.setdefault(matchup_key(question), []).append((poll, question))
    return groups


def trend(
    key: MatchupKey, members: Sequence[tuple[PollLike, QuestionLike]], points: int = TREND_POINTS
) -> list[MatchupAverage]:
    """The average of one match-up as it stood on the days its polls ended, oldest first.

    Up to `points` days are used (evenly spread over the distinct end dates, always the newest);
    each is `averages`' method applied to the polls that had ended by that day.
    """
    ordered = sorted(members, key=lambda pq: (pq[0].end_date, pq[0].id or 0))
    if not ordered:
        return []
    ends = [poll.end_date for poll, _ in ordered]
    days = sorted(set(ends))
    if len(days) > points:
        step = (len(days) - 1) / (points - 1)
        days = sorted({days[round(i * step)] for i in range(points)})
    line = []
    for day in days:
        lo = bisect_left(ends, day - dt.timedelta(days=WINDOW_DAYS))
        hi = bisect_right(ends, day)
        line.append(_average(key, ordered[lo:hi]))
    return line

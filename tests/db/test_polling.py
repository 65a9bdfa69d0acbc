"""The polling average, as the README states it, recomputed here independently of db/polling.py.

Per match-up (hypothetical ones apart): the polls ending within 30 days of the newest, each pollster once with
its latest poll, each share weighted by sample size (500 when unknown, at most 3,000).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from db.polling import averages, matchups, trend

DAY0 = dt.date(2020, 7, 31)


@dataclass
class A:
    candidate_id: int | None
    choice: str
    pct: float
    party: str | None = None


@dataclass
class Q:
    answers: list[A]
    contest_id: int | None = 1
    hypothetical: bool = False
    sample_size: int | None = None


@dataclass
class P:
    id: int
    pollster: str
    end_date: dt.date
    sample_size: int | None
    questions: list[Q] = field(default_factory=list)


def poll(
    pid: int,
    pollster: str,
    days_before: int,
    n: int | None,
    shares: dict[str, float],
    hypothetical: bool = False,
) -> P:
    answers = [A(ord(name[0]), name, pct) for name, pct in shares.items()]
    return P(pid, pollster, DAY0 - dt.timedelta(days=days_before), n, [Q(answers, hypothetical=hypothetical)])


def exact_mean(rows: list[tuple[int | None, float]]) -> float:
    """The README's weighting, written out: unknown size 500, no poll above 3,000."""
    weights = [min(n if n else 500, 3000) for n, _ in rows]
    return sum(w * pct for w, (_, pct) in zip(weights, rows, strict=True)) / sum(weights)


def weighted_mean(rows: list[tuple[int | None, float]]) -> float:
    """`exact_mean` to the tenth, as the average is shown."""
    return round(exact_mean(rows), 1)


def shares_of(average: object) -> dict[str, float]:
    return {s.choice: s.pct for s in average.shares}  # type: ignore[attr-defined]


def test_shares_are_weighted_by_sample_size() -> None:
    polls = [
        poll(1, "Big", 1, 1000, {"Ann": 50.0, "Bob": 40.0}),
        poll(2, "Small", 2, 250, {"Ann": 30.0, "Bob": 60.0}),
    ]
    [average] = averages(polls)
    assert shares_of(average) == {"Ann": 46.0, "Bob": 44.0}  # (50*1000 + 30*250) / 1250
    assert shares_of(average)["Ann"] == weighted_mean([(1000, 50.0), (250, 30.0)])


def test_an_unknown_sample_counts_as_500_and_a_huge_one_as_3000() -> None:
    polls = [
        poll(1, "Panel", 1, 200_000, {"Ann": 60.0, "Bob": 30.0}),
        poll(2, "Unsized", 3, None, {"Ann": 40.0, "Bob": 50.0}),
    ]
    [average] = averages(polls)
    # 3,000 and 500: (60*3000 + 40*500) / 3500 = 57.142...
    assert shares_of(average) == {"Ann": 57.1, "Bob": 32.9}
    assert shares_of(average)["Bob"] == weighted_mean([(200_000, 30.0), (None, 50.0)])


def test_a_questions_own_sample_outweighs_the_polls() -> None:
    first = poll(1, "Split", 1, 2000, {"Ann": 50.0, "Bob": 40.0})
    first.questions[0].sample_size = 100
    second = poll(2, "Other", 1, 900, {"Ann": 40.0, "Bob": 50.0})
    [average] = averages([first, second])
    assert shares_of(average)["Ann"] == weighted_mean([(100, 50.0), (900, 40.0)]) == 41.0


def test_each_pollster_counts_once_with_its_latest_poll() -> None:
    polls = [
        poll(1, "Tracker", 20, 3000, {"Ann": 70.0, "Bob": 20.0}),
        poll(2, "Tracker", 10, 3000, {"Ann": 65.0, "Bob": 25.0}),
        poll(3, "tracker", 2, 600, {"Ann": 45.0, "Bob": 45.0}),  # the same pollster, any case
        poll(4, "Other", 5, 1200, {"Ann": 40.0, "Bob": 50.0}),
    ]
    [average] = averages(polls)
    assert average.poll_count == 2
    assert shares_of(average) == {
        "Ann": weighted_mean([(600, 45.0), (1200, 40.0)]),
        "Bob": weighted_mean([(600, 45.0), (1200, 50.0)]),
    }
    assert average.oldest == DAY0 - dt.timedelta(days=5) and average.newest == DAY0 - dt.timedelta(days=2)


def test_only_the_30_days_up_to_the_newest_poll_count() -> None:
    polls = [
        poll(1, "Inside", 30, 1000, {"Ann": 30.0, "Bob": 60.0}),  # exactly 30 days before: counts
        poll(2, "Outside", 31, 3000, {"Ann": 90.0, "Bob": 5.0}),  # 31 days: does not
        poll(3, "Newest", 0, 500, {"Ann": 60.0, "Bob": 30.0}),
    ]
    [average] = averages(polls)
    assert average.poll_count == 2
    assert shares_of(average)["Ann"] == weighted_mean([(1000, 30.0), (500, 60.0)]) == 40.0


def test_hypothetical_match_ups_are_averaged_apart() -> None:
    polls = [
        poll(1, "One", 1, 1000, {"Ann": 50.0, "Bob": 40.0}),
        poll(2, "Two", 1, 1000, {"Ann": 20.0, "Bob": 70.0}, hypothetical=True),
        poll(3, "Three", 1, 1000, {"Ann": 44.0, "Cy": 40.0}),  # another pair of choices: another match-up
    ]
    got = averages(polls)
    assert [m.hypothetical for m in got] == [False, False, True]  # real match-ups first
    assert sorted((m.hypothetical, sorted(shares_of(m).items())) for m in got) == [
        (False, [("Ann", 44.0), ("Cy", 40.0)]),
        (False, [("Ann", 50.0), ("Bob", 40.0)]),
        (True, [("Ann", 20.0), ("Bob", 70.0)]),
    ]


def test_one_poll_is_its_own_average_and_none_is_none() -> None:
    [average] = averages([poll(1, "Only", 0, None, {"Ann": 43.9, "Bob": 35.5})])
    assert shares_of(average) == {"Ann": 43.9, "Bob": 35.5} and average.poll_count == 1
    assert averages([]) == []


# ------------------------------------------------------------------ the property


sizes = st.one_of(st.none(), st.integers(min_value=1, max_value=20_000))
shares = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 1))
pollsters = st.sampled_from(["Alpha", "alpha", "Beta", "Gamma", "Delta", "Epsilon"])
polls_drawn = st.lists(
    st.tuples(pollsters, st.integers(min_value=0, max_value=60), sizes, shares, shares, st.booleans()),
    min_size=1,
    max_size=12,
)


def expected(drawn: list[tuple[str, int, int | None, float, float, bool]]) -> dict[bool, dict[str, float]]:
    """The README's method, computed without db/polling.py, unrounded: per real/hypothetical match-up."""
    result: dict[bool, dict[str, float]] = {}
    for hypothetical in (False, True):
        rows = [(i, row) for i, row in enumerate(drawn) if row[5] == hypothetical]
        if not rows:
            continue
        newest = min(days for _, (_, days, *_rest) in rows)
        latest: dict[str, tuple[int, tuple[str, int, int | None, float, float, bool]]] = {}
        for i, row in rows:
            if row[1] > newest + 30:
                continue
            key = row[0].lower()
            # The latest poll: the smallest days-before; on a tie, the later id.
            if key not in latest or (row[1], -i) < (latest[key][1][1], -latest[key][0]):
                latest[key] = (i, row)
        kept = [row for _, row in latest.values()]
        result[hypothetical] = {
            "Ann": exact_mean([(row[2], row[3]) for row in kept]),
            "Bob": exact_mean([(row[2], row[4]) for row in kept]),
        }
    return result


@settings(max_examples=150, deadline=None)
@given(polls_drawn)
def test_the_average_equals_an_independent_weighted_mean(
    drawn: list[tuple[str, int, int | None, float, float, bool]],
) -> None:
    polls = [
        poll(i, name, days, n, {"Ann": ann, "Bob": bob}, hypothetical)
        for i, (name, days, n, ann, bob, hypothetical) in enumerate(drawn)
    ]
    got = {m.hypothetical: shares_of(m) for m in averages(polls)}
    want = expected(drawn)
    assert got.keys() == want.keys()
    for key, values in want.items():
        for name, pct in values.items():
            assert abs(got[key][name] - pct) <= 0.05 + 1e-9, (key, name, got[key][name], pct)  # to the tenth


# ------------------------------------------------------------------ what the average carries, and its order


def test_a_pollsters_polls_ending_the_same_day_count_the_one_stored_last() -> None:
    later = poll(9, "Twice", 1, 800, {"Ann": 60.0, "Bob": 30.0})
    earlier = poll(3, "Twice", 1, 800, {"Ann": 40.0, "Bob": 50.0})
    for order in ([later, earlier], [earlier, later]):
        [average] = averages(order)
        assert shares_of(average) == {"Ann": 60.0, "Bob": 30.0} and average.poll_count == 1


def test_one_person_is_one_share_whatever_each_poll_calls_them() -> None:
    first = poll(1, "One", 1, 500, {"Ann": 50.0, "Bob": 40.0})
    second = poll(2, "Two", 1, 500, {"Ann": 40.0, "Bob": 50.0})
    second.questions[0].answers[0].choice = "Ann Smith-Jones"  # the same person (same candidate id)
    [average] = averages([first, second])
    assert {s.candidate_id: s.pct for s in average.shares} == {ord("A"): 45.0, ord("B"): 45.0}


def test_choices_that_are_no_one_on_file_are_kept_apart_by_label() -> None:
    answers = [A(None, "Undecided", 20.0), A(None, "Someone else", 10.0), A(7, "Ann", 70.0)]
    again = [A(None, "undecided", 30.0), A(None, "Someone Else", 20.0), A(7, "Ann", 50.0)]
    polls = [P(1, "One", DAY0, 500, [Q(answers)]), P(2, "Two", DAY0, 500, [Q(again)])]
    [average] = averages(polls)
    assert sorted((s.choice.lower(), s.pct) for s in average.shares) == [
        ("ann", 60.0),
        ("someone else", 15.0),
        ("undecided", 25.0),
    ]


def test_an_average_carries_its_contest_and_each_shares_party() -> None:
    answers = [A(1, "Ann", 50.0, "DEM"), A(2, "Bob", 40.0, "REP")]
    [average] = averages([P(1, "One", DAY0, 500, [Q(answers, contest_id=42)])])
    assert average.contest_id == 42 and not average.hypothetical
    assert [(s.choice, s.candidate_id, s.party) for s in average.shares] == [
        ("Ann", 1, "DEM"),
        ("Bob", 2, "REP"),
    ]


def test_the_newest_match_up_comes_first_then_the_most_polled() -> None:
    older = poll(1, "One", 10, 500, {"Ann": 50.0, "Bob": 40.0})
    newer = poll(2, "Two", 1, 500, {"Ann": 50.0, "Cy": 40.0})
    assert [sorted(shares_of(m)) for m in averages([older, newer])] == [["Ann", "Cy"], ["Ann", "Bob"]]
    assert [sorted(shares_of(m)) for m in averages([newer, older])] == [["Ann", "Cy"], ["Ann", "Bob"]]
    once = poll(3, "Three", 1, 500, {"Ann": 50.0, "Bob": 40.0})
    twice = [
        poll(4, "Four", 1, 500, {"Ann": 50.0, "Dee": 40.0}),
        poll(5, "Five", 1, 500, {"Ann": 50.0, "Dee": 40.0}),
    ]
    assert [m.poll_count for m in averages([once, *twice])] == [2, 1]


def test_the_trend_uses_the_30_days_up_to_each_day() -> None:
    polls = [
        poll(1, "Old", 40, 1000, {"Ann": 80.0, "Bob": 10.0}),
        poll(2, "Mid", 20, 1000, {"Ann": 40.0, "Bob": 50.0}),
        poll(3, "New", 0, 1000, {"Ann": 50.0, "Bob": 40.0}),
    ]
    [(key, members)] = matchups(polls).items()
    line = trend(key, members)
    assert [m.newest for m in line] == [p.end_date for p in polls]
    assert [shares_of(m)["Ann"] for m in line] == [
        80.0,
        60.0,
        45.0,
    ]  # the last leaves out the 40-day-old poll
    assert [m.poll_count for m in line] == [1, 2, 2]
    # Later polls never count on earlier days, and ties on a day go to the poll stored last.
    same_day = [
        poll(5, "Twice", 0, 500, {"Ann": 10.0, "Bob": 10.0}),
        poll(4, "Twice", 0, 500, {"Ann": 30.0, "Bob": 10.0}),
    ]
    [(key, members)] = matchups(same_day).items()
    assert [shares_of(m)["Ann"] for m in trend(key, members)] == [10.0]

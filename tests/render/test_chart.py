"""The polls chart: a phone-sized PNG of each candidate's share over time."""

from __future__ import annotations

import datetime as dt
import struct

from db.polling import matchups
from db.reads.polls import ChartAnswer, ChartPoll, ChartQuestion
from render.chart import SERIES_SHOWN, ChartRequest, choose_matchup, draw


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def poll(
    n: int, answers: list[tuple[int | None, str, str | None, float]], hypothetical: bool = False
) -> ChartPoll:
    question = ChartQuestion(1, hypothetical, None, tuple(ChartAnswer(*a) for a in answers))
    return ChartPoll(n, f"Pollster {n % 3}", dt.date(2020, 1, 1) + dt.timedelta(days=5 * n), 600, (question,))


def test_a_phone_sized_png_with_the_real_matchup() -> None:
    polls = tuple(
        poll(n, [(1, "Tuberville", "REP", 50 + n % 3), (2, "Jones", "DEM", 42 - n % 2)]) for n in range(30)
    )
    hypothetical = poll(99, [(3, "Sessions", "REP", 49), (2, "Jones", "DEM", 43)], hypothetical=True)
    result = draw(ChartRequest("2020 Alabama U.S. Senate", (*polls, hypothetical), ((1, "General"),)))
    assert result is not None
    assert png_size(result.png) == (1200, 750)
    assert result.matchup == "General: Tuberville vs Jones" and result.polls == 30


def test_only_hypothetical_polls_are_labelled_so() -> None:
    polls = (poll(1, [(3, "Sessions", "REP", 49), (2, "Jones", "DEM", 43)], hypothetical=True),)
    result = draw(ChartRequest("Alabama", polls, ((1, "General"),)))
    assert result is not None and result.matchup.startswith("Hypothetical general:")


def test_no_answers_draws_nothing() -> None:
    empty = ChartPoll(1, "P", dt.date(2020, 1, 1), 500, ())
    assert draw(ChartRequest("Nothing", (empty,), ())) is None


def test_many_candidates_and_awkward_names() -> None:
    names = ["$x^2$ Dollar", "@everyone", "**bold**", "a" * 90] + [f"Person {i}" for i in range(26)]
    answers = [(i + 1, name, None, 3.3) for i, name in enumerate(names)]
    result = draw(ChartRequest("A $ race", tuple(poll(n, answers) for n in range(3)), ()))
    assert result is not None and result.shown == SERIES_SHOWN and result.choices == 30
    assert png_size(result.png) == (1200, 750)


def test_the_most_polled_real_matchup_is_chosen() -> None:
    two_way = [poll(n, [(1, "A", None, 50), (2, "B", None, 40)]) for n in range(5)]
    three_way = [poll(10 + n, [(1, "A", None, 40), (2, "B", None, 35), (3, "C", None, 10)]) for n in range(2)]
    groups = matchups([*two_way, *three_way])
    key = choose_matchup(groups)
    assert key is not None and len(groups[key]) == 5

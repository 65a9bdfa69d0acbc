"""The polls reply renders within Discord's limits whatever the data, and says what it shows."""

from __future__ import annotations

import datetime as dt

from db.models import Answer, Contest, Poll, Question
from db.polling import averages
from db.reads.polls import PAGE_SIZE, PollPage, ShownPoll
from render.limits import EMBED_TOTAL
from render.polls import polls_embed, shares_text


def huge_poll(n: int) -> ShownPoll:
    poll = Poll(
        id=n,
        pollster="P" * 128 + "@everyone",
        sponsor="S" * 256,
        partisan="REP",
        internal=True,
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2020, 2, 1) + dt.timedelta(days=n),
        sample_size=123_456,
        population="lv",
        methodology="M" * 64,
        url="https://example.org/" + "x" * 250,
        source="FiveThirtyEight",
    )
    questions = [
        Question(
            id=10 * n + q,
            contest_id=1,
            hypothetical=q % 2 == 1,
            answers=[Answer(candidate_id=i, choice=f"{'N' * 120}{i}", pct=100 / 30) for i in range(30)],
        )
        for q in range(6)
    ]
    return ShownPoll(poll, questions)


def test_a_page_of_huge_polls_fits() -> None:
    shown = [huge_poll(n) for n in range(PAGE_SIZE)]
    contests = {1: Contest(id=1, stage="general", party="")}
    page = PollPage(shown, 1, 100, 500, 600, averages(shown), contests)
    embed = polls_embed("T" * 300, page, "likely voters · since Jun 1, 2020")
    assert len(embed) <= EMBED_TOTAL and len(embed.fields) == PAGE_SIZE
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
    assert "@everyone" not in str(embed.to_dict())


def test_shares_and_the_leaders_margin() -> None:
    assert (
        shares_text([("Jones", 35.5), ("Tuberville", 43.9)])
        == "Tuberville 43.9, Jones 35.5 · Tuberville +8.4"
    )
    assert shares_text([("A", 40.0), ("B", 40.0)]) == "A 40, B 40 · tied"
    assert shares_text([("A", 40.0)]) == "A 40"

"""The results replies when a race has no such stage, and how a count is labelled."""

from __future__ import annotations

import datetime as dt

from db.models import Contest, ResultSnapshot
from db.reads.races import ContestView
from render.format import count_label
from render.results import counted_text, missing_stage_text, no_stages_text


def view(stage: str, party: str, day: dt.date) -> ContestView:
    contest = Contest(id=1, race_id=1, stage=stage, party=party, date=day)
    return ContestView(contest=contest, standings=[], snapshot=None, call=None, total_votes=None)


def test_a_race_without_stages() -> None:
    assert no_stages_text("2020 *Alabama*") == "No stages of the 2020 \\*Alabama\\* are in the data yet."


def test_a_missing_stage_lists_the_stages_there_are() -> None:
    views = [view("primary", "REP", dt.date(2020, 3, 3)), view("general", "", dt.date(2020, 11, 3))]
    assert missing_stage_text("2020 Alabama U.S. Senate", "general runoff", views, for_party=False) == (
        "The 2020 Alabama U.S. Senate has no general runoff stage. "
        "It has: Republican primary (Mar 3, 2020), General (Nov 3, 2020)."
    )
    assert "no runoff stage for that party." in missing_stage_text("T", "runoff", views, for_party=True)


def test_counts_are_labelled_as_the_data_says() -> None:
    certified = Contest(id=1, race_id=1, stage="general", party="", status="certified")

    def counted(**snapshot: object) -> str:
        shot = ResultSnapshot(
            id=1, contest_id=1, reporting_pct=100, reporting_basis="expected vote", **snapshot
        )
        return counted_text(ContestView(certified, [], shot, None, None))

    # A certified stage whose current count the desk posted without final= or official=.
    assert counted(unofficial=True, final=False) == "100% of expected vote · unofficial"
    assert counted(unofficial=True, final=True) == "100% of expected vote · final, unofficial"
    assert counted(unofficial=False, final=True) == "100% of expected vote · final, certified"
    assert count_label(final=True, unofficial=False) == "final"
    assert count_label(final=False, unofficial=False) == "official"

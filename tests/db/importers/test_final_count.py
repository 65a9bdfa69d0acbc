"""final_count: the ballot, final result and call every results importer writes for a finished count."""

from __future__ import annotations

from db.importers.common import final_count


def test_a_winner_with_the_result_and_the_call() -> None:
    entry = final_count(
        [("AL:a", 60, "DEM"), ("AL:b", 40, None)],
        {"writein": 2, "under": 1},
        102,
        majority=False,
        runoff_follows=False,
        taken="2020-11-04T12:00:00Z",
        unofficial=False,
        basis="precincts",
        source="file",
        call_source="office",
    )
    assert entry["candidates"] == [
        {"candidate": "AL:a", "party": "DEM", "votes": 60, "outcome": "won"},
        {"candidate": "AL:b", "party": None, "votes": 40, "outcome": "lost"},
    ]
    assert entry["results"] == [
        {
            "taken_at": "2020-11-04T12:00:00Z",
            "unofficial": False,
            "final": True,
            "reporting_pct": 100,
            "reporting_basis": "precincts",
            "source": "file",
            "counts": {"AL:a": 60, "AL:b": 40},
            "other": {"under": 1, "writein": 2},
        }
    ]
    assert entry["call"] == {
        "kind": "winner",
        "candidates": ["AL:a"],
        "source": "office",
        "called_at": "2020-11-04T12:00:00Z",
    }


def test_no_majority_sends_the_top_two_to_a_runoff_and_an_empty_ballot_makes_no_call() -> None:
    common = dict(runoff_follows=False, taken=None, unofficial=True, basis=None, source="s", call_source="s")
    entry = final_count([("a", 45, None), ("b", 35, None), ("c", 20, None)], {}, 100, majority=True, **common)  # type: ignore[arg-type]
    assert [c["outcome"] for c in entry["candidates"]] == ["advanced", "advanced", "lost"]
    assert entry["call"]["kind"] == "runoff" and entry["call"]["candidates"] == ["a", "b"]
    assert "call" not in final_count([], {}, 0, majority=False, **common)  # type: ignore[arg-type]

"""Synthetic races in racedesk's own format, for size and speed tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

NAUGHTY = ["@everyone", "@here", "<@&123456789012345678>", "**bold**", "`code`", "a" * 90]


def big_race_document(
    candidates: int = 30, polls: int = 500, state: str = "TX", cycle: int = 2020, endorsements: int = 60
) -> dict[str, Any]:
    """One race with many candidates, polls and endorsements, and names that try to ping or format."""
    people = [
        {
            "key": f"p{i}",
            "name": f"{NAUGHTY[i % len(NAUGHTY)] if i % 5 == 0 else 'Candidate'} Number{i} Longname{i}",
            "party": ["DEM", "REP", "LIB", "GRN", "IND"][i % 5],
            "state": state,
        }
        for i in range(candidates)
    ]
    ballot = [
        {"candidate": p["key"], "party": p["party"], "votes": 10_000 * (i + 1)} for i, p in enumerate(people)
    ]
    start = dt.date(cycle, 1, 1)
    poll_docs = [
        {
            "key": f"big:{state}:{cycle}:{n}",
            "pollster": f"{NAUGHTY[n % len(NAUGHTY)]} Pollster {n % 37}",
            "start": (start + dt.timedelta(days=n % 280)).isoformat(),
            "end": (start + dt.timedelta(days=n % 280 + 3)).isoformat(),
            "n": 400 + n,
            "population": ["lv", "rv", "a", "v"][n % 4],
            "questions": [
                {
                    "stage": "general",
                    "hypothetical": q == 1,
                    # Six choices a question, rotating through everyone: real polls rarely list 30 names.
                    "answers": [
                        {"candidate": p["key"], "choice": p["name"], "pct": round(100 / 6 - k, 1)}
                        for k, p in enumerate(
                            (people * 2)[n % candidates : n % candidates + min(6, candidates)]
                        )
                    ],
                }
                for q in range(2)
            ],
        }
        for n in range(polls)
    ]
    return {
        "format": "racedesk/1",
        "candidates": people,
        "races": [
            {
                "cycle": cycle,
                "state": state,
                "office": "senate",
                "seat": "Class II",
                "source": "synthetic " + "x" * 3000,
                "notes": "n" * 5000,
                "contests": [
                    {"stage": "primary", "party": "REP", "date": f"{cycle}-03-03", "candidates": ballot},
                    {"stage": "primary", "party": "DEM", "date": f"{cycle}-03-03", "candidates": ballot},
                    {
                        "stage": "general",
                        "date": f"{cycle}-11-03",
                        "candidates": ballot,
                        "results": [{"counts": {p["key"]: 1000 * i for i, p in enumerate(people)}}],
                    },
                ],
                "polls": poll_docs,
                "endorsements": [
                    {
                        "endorser": f"{NAUGHTY[i % len(NAUGHTY)]} Endorser {i}",
                        "kind": "organization",
                        "candidate": people[i % candidates]["key"],
                        "stance": ["endorse", "oppose", "withhold", "rescind"][i % 4],
                    }
                    for i in range(endorsements)
                ],
            }
        ],
    }

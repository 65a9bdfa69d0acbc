"""Synthetic FiveThirtyEight senate polls: many races, each with its own two candidates.

    write_polls(path, races=10_000, answers=100_000, first_cycle=1900)

Race i is a Senate seat (a state, a class, a cycle: the class regularly up, else a special), so 150
races a cycle; each poll asks one two-way question (two rows), so a race gets answers // races // 2
polls. Names are letters only (digits are no part of a name) and differ in the surname from race to
race, so every race has two people of its own. `first_cycle` moves the whole file in time: two files
with different first cycles share no race.
"""

from __future__ import annotations

import csv
import datetime as dt
import string
from pathlib import Path

import us

from db.importers.common import general_election_day, regular_class

CLASSES = ("Class I", "Class II", "Class III")
STATES = [state.name for state in us.states.STATES]  # the fifty, as 538 names them


def letters(n: int) -> str:
    """n as a word of letters (0 -> "a", 26 -> "ba")."""
    word = ""
    while True:
        n, digit = divmod(n, 26)
        word = string.ascii_lowercase[digit] + word
        if n == 0:
            return word


def _date(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def write_polls(path: Path, races: int = 10_000, answers: int = 100_000, first_cycle: int = 1900) -> int:
    """Write the file; returns its data rows (answers, rounded down to whole polls)."""
    assert len(STATES) == 50
    per_cycle = len(STATES) * len(CLASSES)
    polls_per_race = max(1, answers // races // 2)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out: csv.DictWriter[str] | None = None
        for i in range(races):
            cycle = first_cycle + 2 * (i // per_cycle)
            election = general_election_day(cycle)
            # Spread over five letters, so that surnames one letter apart are rare (as in real files).
            surname = letters(26**4 + (cycle * per_cycle + i % per_cycle) * 7_919 % 26**5 // 2).capitalize()
            people = [(f"Ann {surname}ton", "DEM"), (f"Bob {surname}ley", "REP")]
            seat = CLASSES[(CLASSES.index(regular_class(cycle) or "Class I") + (i // len(STATES))) % 3]
            for p in range(polls_per_race):
                poll_id = (cycle - 1800) * 1_000_000 + (i % per_cycle) * 100 + p
                end = election - dt.timedelta(days=3 + 7 * p)
                share = 40 + (i * 7 + p * 3) % 15
                for k, (name, party) in enumerate(people):
                    row = {
                        "question_id": poll_id,
                        "poll_id": poll_id,
                        "cycle": cycle,
                        "state": STATES[i % len(STATES)],
                        "pollster": f"Pollster {(i + p) % 97}",
                        "sample_size": 400 + (i + p) % 900,
                        "population": "lv",
                        "office_type": "U.S. Senate",
                        "seat_name": seat,
                        "start_date": _date(end - dt.timedelta(days=2)),
                        "end_date": _date(end),
                        "election_date": _date(election),
                        "stage": "general",
                        "answer": name.split()[-1],
                        "candidate_name": name,
                        "candidate_party": party,
                        "pct": f"{share if k == 0 else 95 - share}.0",
                    }
                    if out is None:
                        out = csv.DictWriter(handle, fieldnames=list(row))
                        out.writeheader()
                    out.writerow(row)
                    rows += 1
    return rows

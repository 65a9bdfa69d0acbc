"""The Electoral College's reference tables, read from the files racedesk ships in data/public.

- `electoral_votes.csv`: each state's (and DC's) electoral votes, one column per apportionment
  (`elections_2012_2020`: the 2012, 2016 and 2020 elections; `elections_2024_2028`); each sums to 538.
- `president-districts.csv`: who won each congressional district of Maine and Nebraska, by party.
  These two states give two electoral votes to the statewide winner and one to the winner of each
  district (3 U.S.C. §3 leaves it to the states; Maine since 1972, Nebraska since 1992), and MEDSL's
  file is statewide only. The rows follow `electoral-college-README.md`: every district went to the
  statewide winner except, in 2016, Maine's 2nd (Trump) and, in 2020, Maine's 2nd (Trump) and
  Nebraska's 2nd (Biden).
- `faithless-electors.csv`: electors who voted for someone other than the candidate they were
  pledged to. In 2016 seven did (two of Trump's in Texas; four of Clinton's in Washington and one in
  Hawaii), so the votes cast were 304 and 227 where the pledged totals were 306 and 232
  (`electoral-college-README.md`; the Congressional Record of the count, January 6, 2017).

racedesk shows both: the electoral votes *won* (pledged by the states' results, computed from the
stored results and these tables) and the votes *cast* (won less the faithless electors).
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PUBLIC = Path(__file__).resolve().parent.parent / "data" / "public"
VOTES_FILE = PUBLIC / "electoral_votes.csv"
DISTRICTS_FILE = PUBLIC / "president-districts.csv"
FAITHLESS_FILE = PUBLIC / "faithless-electors.csv"

TOTAL = 538
TO_WIN = TOTAL // 2 + 1  # 270
AT_LARGE = 2  # the votes a district-splitting state gives its statewide winner
SPLIT_STATES = frozenset({"ME", "NE"})
_SPAN = re.compile(r"^elections_(\d{4})_(\d{4})$")


@dataclass(frozen=True)
class Faithless:
    state: str
    pledged_party: str
    electors: int
    voted_for: str


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def _apportionments() -> tuple[tuple[int, int, dict[str, int]], ...]:
    rows = _rows(VOTES_FILE)
    spans = []
    for column in rows[0] if rows else {}:
        found = _SPAN.match(column)
        if found:
            votes = {row["state_po"].strip().upper(): int(row[column]) for row in rows}
            spans.append((int(found.group(1)), int(found.group(2)), votes))
    return tuple(spans)


def electoral_votes(cycle: int) -> dict[str, int]:
    """Each state's electoral votes in a presidential election; {} for a year no apportionment covers."""
    for first, last, votes in _apportionments():
        if first <= cycle <= last and cycle % 4 == 0:
            return dict(votes)
    return {}


@functools.cache
def _districts() -> dict[tuple[int, str], dict[int, str]]:
    table: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
    for row in _rows(DISTRICTS_FILE):
        table[(int(row["year"]), row["state_po"].strip().upper())][int(row["district"])] = (
            row["party"].strip().upper()
        )
    return dict(table)


def district_winners(cycle: int, state: str) -> dict[int, str]:
    """District number -> the winning party, for Maine and Nebraska; {} when the table has no row."""
    return dict(_districts().get((cycle, state), {}))


@functools.cache
def _faithless() -> dict[int, tuple[Faithless, ...]]:
    table: dict[int, list[Faithless]] = defaultdict(list)
    for row in _rows(FAITHLESS_FILE):
        table[int(row["year"])].append(
            Faithless(
                row["state_po"].strip().upper(),
                row["pledged_party"].strip().upper(),
                int(row["electors"]),
                row["voted_for"].strip(),
            )
        )
    return {year: tuple(rows) for year, rows in table.items()}


def faithless_electors(cycle: int) -> tuple[Faithless, ...]:
    return _faithless().get(cycle, ())

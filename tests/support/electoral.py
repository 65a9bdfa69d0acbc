"""The presidency's figures computed straight from the shipped files, independently of db/ (to check it).

Reads data/public's MEDSL president file, electoral votes, Maine's and Nebraska's district winners,
the faithless electors and the electoral-college README with the csv module and a regex, nothing else.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from db.importers.default import PUBLIC

PRESIDENT = PUBLIC / "2016-2020-president.csv"
VOTES = PUBLIC / "electoral_votes.csv"
DISTRICTS = PUBLIC / "president-districts.csv"
FAITHLESS = PUBLIC / "faithless-electors.csv"
README = PUBLIC / "electoral-college-README.md"
UNNAMED = {"", "OTHER", "SCATTERING"}  # write-ins: votes, for nobody named
#: Rows that are no one's vote: blank, over and void ballots, and Nevada's "None of these candidates".
NOT_VOTES = {
    "BLANK VOTE",
    "BLANK VOTES",
    "UNDERVOTES",
    "OVER VOTE",
    "OVERVOTES",
    "VOID VOTE",
    "VOID",
    "NONE OF THE ABOVE",
}
PARTY = {"DEMOCRAT": "DEM", "REPUBLICAN": "REP"}


def _rows(path: object, encoding: str = "utf-8") -> list[dict[str, str]]:
    with open(str(path), encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class FileState:
    """One state's president vote as the file gives it."""

    total: int  # the file's totalvotes
    not_votes: int  # its blank, over and void ballots and "none of the above"
    by_name: Counter[str]  # the file's candidate spelling -> every row naming them
    party_of: dict[str, str]  # the file's spelling -> DEM / REP (party_simplified), where one is given

    @property
    def ranked(self) -> list[tuple[str, int]]:
        return self.by_name.most_common()


def file_states(year: int) -> dict[str, FileState]:
    states: dict[str, FileState] = {}
    for row in _rows(PRESIDENT, "latin-1"):
        if int(row["year"]) != year:
            continue
        state = states.setdefault(row["state_po"], FileState(int(row["totalvotes"]), 0, Counter(), {}))
        name = row["candidate"].strip()
        if name in NOT_VOTES:
            state.not_votes += int(row["candidatevotes"])
            continue
        if name in UNNAMED:
            continue
        state.by_name[name] += int(row["candidatevotes"])
        if row["party_simplified"] in PARTY:
            state.party_of[name] = PARTY[row["party_simplified"]]
    return states


def popular_vote(year: int, name: str) -> int:
    """Every vote the file gives `name` (its spelling) in `year`, over all states and lines."""
    return sum(
        int(r["candidatevotes"])
        for r in _rows(PRESIDENT, "latin-1")
        if int(r["year"]) == year and r["candidate"] == name
    )


def popular_total(year: int) -> int:
    """Every vote cast for president: the file's totalvotes less its blank, over and void ballots."""
    return sum(s.total - s.not_votes for s in file_states(year).values())


def electoral_votes(year: int) -> dict[str, int]:
    column = next(
        c for c in _rows(VOTES)[0] if c.startswith("elections_") and int(c[10:14]) <= year <= int(c[15:19])
    )
    return {row["state_po"]: int(row[column]) for row in _rows(VOTES)}


def district_rows(year: int, state: str) -> dict[int, str]:
    return {
        int(r["district"]): r["party"]
        for r in _rows(DISTRICTS)
        if int(r["year"]) == year and r["state_po"] == state
    }


def pledged(year: int) -> Counter[str]:
    """Electoral votes by party as the states' results pledge them (Maine, Nebraska: 2 + 1 per district)."""
    won: Counter[str] = Counter()
    votes = electoral_votes(year)
    for state, found in file_states(year).items():
        winner = found.ranked[0][0]
        party = found.party_of[winner]
        districts = district_rows(year, state)
        if districts:
            won[party] += 2
            won.update(districts.values())
            assert 2 + len(districts) == votes[state]
        else:
            won[party] += votes[state]
    return won


def cast(year: int) -> Counter[str]:
    votes = pledged(year)
    for row in _rows(FAITHLESS):
        if int(row["year"]) == year:
            votes[row["pledged_party"]] -= int(row["electors"])
    return votes


def readme_totals() -> dict[int, dict[str, int]]:
    """The README's stated totals: {2016: {"Trump": 306, "Clinton": 232, "cast Trump": 304, ...}, 2020: ...}."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    stated: dict[int, dict[str, int]] = defaultdict(dict)
    for year, first, a, second, b in re.findall(r"(\d{4}) (\w+) (\d+), (\w+) (\d+)", text):
        stated[int(year)].update({first: int(a), second: int(b)})
    cast_found = re.search(r"made the cast votes (\d+) and (\d+)", text)
    assert cast_found is not None
    stated[2016]["cast Trump"], stated[2016]["cast Clinton"] = (int(n) for n in cast_found.groups())
    return dict(stated)

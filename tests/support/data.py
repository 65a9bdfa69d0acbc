"""The tests' data: synthetic races in racedesk's own format, and the data files the importer tests read.

The synthetic races are made up (names and figures), shaped like the hard cases: a 20-candidate special
decided in a general runoff, counts that move over an election night, polls from several pollsters with
partisan and internal ones, and a 30-candidate, 500-poll race whose names try to ping or format.
The data files come from the repository (`data/public/`, `tests/db/importers/data/`), never from outside
it, so a fresh clone runs the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import SYSTEM
from db.bootstrap import load_sample
from db.dataset import load_document
from db.importers.default import PUBLIC

TESTS = Path(__file__).resolve().parents[1]
SPEC = TESTS / "data" / "discord-openapi.json"  # Discord's OpenAPI spec, which every body the bot sends meets
MEDSL = PUBLIC / "1976-2020-senate.csv"
MEDSL_2022 = PUBLIC / "1976-2022-senate.csv"  # the same file with the 2022 elections added
MEDSL_HOUSE = PUBLIC / "2018-2022-house.csv"
POLLS = PUBLIC / "senate_polls.csv"
SPECIAL_2017 = PUBLIC / "20171212__al__special__general__precinct.csv"
PRIMARY_ZIP = PUBLIC / "2020 Primary Precinct Results.zip"
PRIMARY_TOTALS = PUBLIC / "al-2020-primary-totals.json"
PRESIDENT = PUBLIC / "2016-2020-president.csv"
PRESIDENT_POLLS = PUBLIC / "president_polls.csv"
HISTORICAL_AL = TESTS / "db" / "importers" / "data" / "senate_polls_historical_alabama.csv"


def csv_sum(path: Path, match: dict[str, str], value: str, *, encoding: str = "utf-8") -> int:
    """The sum of a column over the rows whose columns equal `match`: an independent count."""
    total = 0
    with open(path, encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle):
            if all(row[k] == v for k, v in match.items()):
                total += int(float(row[value] or 0))
    return total


def csv_distinct(path: Path, match: dict[str, str], columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The distinct values of `columns` over the rows whose columns equal `match`."""
    with open(path, newline="") as handle:
        return {
            tuple(row[c] for c in columns)
            for row in csv.DictReader(handle)
            if all(row[k] == v for k, v in match.items())
        }


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


MINOR_FIRST = [
    "Ann",
    "Bruno",
    "Cyrus",
    "Delia",
    "Eamon",
    "Flora",
    "Gideon",
    "Hester",
    "Ignatius",
    "Juno",
    "Kermit",
    "Lavinia",
    "Mortimer",
    "Nerys",
    "Osric",
    "Philippa",
    "Quentin",
]
MINOR_LAST = [
    "Abernathy",
    "Blackwood",
    "Castellano",
    "Drummond",
    "Ellsworth",
    "Fairbanks",
    "Galloway",
    "Hargreaves",
    "Isherwood",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Montgomery",
    "Nakamura",
    "Oyelaran",
    "Pemberton",
    "Quigley",
]
RUNOFF_NIGHT = [  # (taken_at, reporting %, Warnick, Lofton): the runoff count as it came in
    ("2021-01-06T01:00:00Z", 10.0, 120_000, 160_000),
    ("2021-01-06T03:00:00Z", 55.0, 1_000_000, 1_050_000),
    ("2021-01-06T06:00:00Z", 95.0, 2_150_000, 2_100_000),
    ("2021-01-07T12:00:00Z", 100.0, 2_289_000, 2_195_000),
]


def special_document() -> dict[str, Any]:
    """A 2020 special with 20 candidates on one November ballot, then a January general runoff."""
    people = [
        {"key": "warnick", "name": "Raphael Warnick", "party": "DEM", "state": "GA"},
        {"key": "lofton", "name": "Kelly Lofton", "party": "REP", "state": "GA"},
        {"key": "collier", "name": "Doug Collier", "party": "REP", "state": "GA"},
    ] + [
        {
            "key": f"c{i}",
            "name": f"{first} {last}",
            "party": ["DEM", "REP", "LIB", "GRN", "IND"][i % 5],
            "state": "GA",
        }
        for i, (first, last) in enumerate(zip(MINOR_FIRST, MINOR_LAST, strict=True))
    ]
    november = [{"candidate": p["key"], "party": p["party"]} for p in people]
    counts = {"warnick": 1_600_000, "lofton": 1_270_000, "collier": 980_000}
    counts.update({f"c{i}": 100_000 - 5_000 * i for i in range(17)})
    return {
        "format": "racedesk/1",
        "candidates": people,
        "races": [
            {
                "cycle": 2020,
                "state": "GA",
                "office": "senate",
                "seat": "Class III",
                "special": True,
                "incumbent": "lofton",
                "incumbent_party": "REP",
                "source": "synthetic test data",
                "contests": [
                    {
                        "stage": "general",
                        "date": "2020-11-03",
                        "poll_close": "2020-11-04T00:00:00Z",
                        "status": "certified",
                        "candidates": november,
                        "results": [
                            {
                                "taken_at": "2020-11-20T12:00:00Z",
                                "final": True,
                                "unofficial": False,
                                "reporting_pct": 100,
                                "reporting_basis": "precincts",
                                "source": "synthetic",
                                "counts": counts,
                            }
                        ],
                        "call": {
                            "kind": "runoff",
                            "candidates": ["warnick", "lofton"],
                            "source": "AP",
                            "called_at": "2020-11-04T06:00:00Z",
                        },
                    },
                    {
                        "stage": "general runoff",
                        "date": "2021-01-05",
                        "poll_close": "2021-01-06T00:00:00Z",
                        "status": "called",
                        "candidates": [
                            {"candidate": "warnick", "party": "DEM"},
                            {"candidate": "lofton", "party": "REP", "incumbent": True},
                        ],
                        "results": [
                            {
                                "taken_at": taken,
                                "reporting_pct": pct,
                                "reporting_basis": "expected vote",
                                "source": "synthetic night",
                                "counts": {"warnick": w, "lofton": lo},
                            }
                            for taken, pct, w, lo in RUNOFF_NIGHT
                        ],
                        "call": {
                            "kind": "winner",
                            "candidates": ["warnick"],
                            "source": "AP",
                            "called_at": "2021-01-06T07:00:00Z",
                        },
                    },
                ],
                "polls": [
                    {
                        "key": f"syn:ga:{n}",
                        "pollster": ["Emerald Research", "Peach Polling", "Trafalgar-ish", "Landmark-ish"][
                            n % 4
                        ],
                        "sponsor": "Lofton for Senate" if n == 3 else None,
                        "partisan": "REP" if n == 3 else None,
                        "internal": n == 3,
                        "start": (dt.date(2020, 11, 10) + dt.timedelta(days=4 * n)).isoformat(),
                        "end": (dt.date(2020, 11, 13) + dt.timedelta(days=4 * n)).isoformat(),
                        "n": 500 + 100 * n,
                        "population": "lv" if n % 2 else "rv",
                        "questions": [
                            {
                                "stage": "general runoff",
                                "answers": [
                                    {
                                        "candidate": "warnick",
                                        "choice": "Warnick",
                                        "party": "DEM",
                                        "pct": 46.0 + n * 0.5,
                                    },
                                    {
                                        "candidate": "lofton",
                                        "choice": "Lofton",
                                        "party": "REP",
                                        "pct": 48.0 - n * 0.4,
                                    },
                                ],
                            }
                        ],
                    }
                    for n in range(12)
                ]
                + [
                    {
                        "key": f"syn:ga:jungle:{n}",
                        "pollster": ["Emerald Research", "Peach Polling", "Landmark-ish"][n],
                        "start": f"2020-10-{10 + 5 * n}",
                        "end": f"2020-10-{12 + 5 * n}",
                        "n": 800,
                        "population": "lv",
                        "questions": [
                            {
                                "stage": "general",
                                "answers": [
                                    {
                                        "candidate": p["key"],
                                        "choice": p["name"].split()[-1],
                                        # the three leading, then the field: together under 100
                                        "pct": [30.0 + n, 28.0, 20.0][i] if i < 3 else round(1 - 0.05 * i, 2),
                                    }
                                    for i, p in enumerate(people)
                                ],
                            }
                        ],
                    }
                    for n in range(3)
                ],
                "endorsements": [
                    {
                        "endorser": "A Big Newspaper",
                        "kind": "newspaper",
                        "candidate": "warnick",
                        "stance": "endorse",
                        "date": "2020-12-20",
                        "source": "editorial",
                    },
                    {
                        "endorser": "Doug Collier",
                        "kind": "representative",
                        "candidate": "lofton",
                        "stance": "endorse",
                        "date": "2020-11-05",
                        "source": "statement",
                    },
                ],
            }
        ],
    }


async def load_member_data(session: AsyncSession, big: bool = True) -> None:
    """The shipped sample, the synthetic special and (with `big`) the 500-poll, 30-candidate race."""
    await load_sample(session)
    await load_document(session, special_document(), SYSTEM, source_name="tests/support/data.py")
    if big:
        await load_document(session, distinct_big_race(), SYSTEM, source_name="tests/support/data.py")


BIG_FIRST = [
    "Alvar", "Brisa", "Corwin", "Dagny", "Evander", "Fenella", "Gaspard", "Hollis", "Isolde", "Jorund",
    "Kestrel", "Leopold", "Marisol", "Nikodem", "Oriel", "Perpetua", "Quillon", "Rosalind", "Sigurd", "Thaddeus",
    "Ulrika", "Valentin", "Wilhelmina", "Xavier", "Yevgenia", "Zebulon", "Anselm", "Bathsheba", "Cormac", "Delphine",
]  # fmt: skip
BIG_LAST = [
    "Achterberg", "Brannigan", "Cavendish", "Dimitriou", "Eastwick", "Fitzgerald", "Gunderson", "Holloway",
    "Ingersoll", "Jaworski", "Kensington", "Lockridge", "Maclachlan", "Northcott", "Okonkwo", "Prendergast",
    "Quartermaine", "Rutherford", "Szymanski", "Thistlewood", "Underhill", "Vanderbilt", "Whitmore", "Xiong",
    "Yardley", "Zimmerman", "Ashdown", "Bellweather", "Crowther", "Dunleavy",
]  # fmt: skip


def distinct_big_race() -> dict[str, Any]:
    """big_race_document()'s 30-candidate, 500-poll race, with names no reconciliation rule could take for
    spellings of one another (its own differ only by a number), keeping the names that try to ping or format."""
    doc = big_race_document()
    for i, person in enumerate(doc["candidates"]):
        naughty = person["name"].split(" Number")[0] if i % 5 == 0 else ""
        person["name"] = " ".join(p for p in (naughty, BIG_FIRST[i], BIG_LAST[i]) if p)
    names = {p["key"]: p["name"] for p in doc["candidates"]}
    for poll in doc["races"][0]["polls"]:
        for question in poll["questions"]:
            for answer in question["answers"]:
                answer["choice"] = names[answer["candidate"]]
    return doc

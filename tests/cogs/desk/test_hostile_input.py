"""The desk's hostile-input corpus: what a red team typed at the desk, and what else could go wrong, run
through the real bot as prefix and as slash commands, on SQLite and PostgreSQL. Each input is refused with
a reply that says what is wrong (and the store is unchanged), or stored as it should be; none ends in
"Something went wrong"."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import Poll
from tests.support import World, desk_world, row_counts

POLL = 'alabama pollster="{via} {n}" dates="{dates}" Tuberville=43.9 Jones=35.5'


@dataclass(frozen=True)
class Case:
    """One input: the command (as its slash name), what follows it, and what must come of it: a refusal
    whose reply holds `says`, or (`stored`) a write whose reply holds it; `fielded`: the stored poll's days."""

    command: str
    details: str
    says: str
    stored: bool = False
    fielded: tuple[dt.date, dt.date] | None = None
    slash: bool = True  # also sent as a slash command


def poll(n: int, dates: str, says: str, extra: str = "", **kw: Any) -> Case:
    return Case("poll add", POLL.replace("{n}", str(n)).replace("{dates}", dates) + extra, says, **kw)


D = dt.date
CASES = [
    # The red team's findings (issue 12, item 7).
    poll(1, "31 - Feb 2, 2020", "Stored poll #", stored=True, fielded=(D(2020, 1, 31), D(2020, 2, 2))),
    poll(2, "0 - July 9, 2020", "0 is not a day of July"),
    poll(3, "45 - July 9, 2020", "45 is not a day of July"),
    Case("poll remove", "99999999999999999999999", "There is no poll #99999999999999999999999", slash=False),
    Case("endorsement remove", "99999999999999999999", "There is no endorsement #99999999999999999999", slash=False),
    poll(4, "July 2-9, 0000", "0000 is too far from the race's 2020 cycle"),
    poll(5, "2020-07-02 to 2021-07-09", "after the general it asks about (Nov 3, 2020)"),
    poll(6, "2020-07-02 to 2021-07-09", "Stored poll #", " force=yes", stored=True),
    poll(7, "Dec 28 - Jan 3, 2020", "Stored poll #", stored=True, fielded=(D(2019, 12, 28), D(2020, 1, 3))),
    Case("poll add", 'alabama pollster="AUM\x00" dates="July 2-9, 2020" Tuberville=43 Jones=35', "control character"),
    Case("result", "alabama general Tuberville=٣٤٥ Jones=920500", "write numbers with the digits 0-9"),
    Case("candidate-edit", "alabama general candidate=Jones alias=Tuberville", "names Tommy Tuberville"),
    Case("race-add", "alabama house 2026 99", "Alabama has 7 districts in 2026 (1 to 7), so no district 99"),
    # Numbers.
    Case("result", "alabama general Tuberville=１２３ Jones=920500", "digits 0-9"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 writein=٣", "digits 0-9"),
    Case("result", "alabama general Tuberville=99999999999999 Jones=1", "is not a number of votes"),
    Case("result", "alabama general Tuberville=1,7OO,OOO Jones=1", "is not a number of votes"),
    Case("result", "alabama general Tuberville=1.5e3 Jones=1", "is not a number of votes"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 reporting=nan", "is not a percentage"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 reporting=inf", "is not a percentage"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 reporting=1e2", "is not a percentage"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 reporting=101%", "cannot be over 100%"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 reporting=٥٠", "digits 0-9"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 precincts=5/3", "between 0 and the total"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 precincts=9999999999/1", "whole number"),
    poll(8, "July 2-9, 2020", "whole number", " n=99999999999"),
    poll(9, "July 2-9, 2020", "sample size must be from 1", " n=0"),
    poll(10, "July 2-9, 2020", "digits 0-9", " n=٥٥٨"),
    Case("poll add", 'alabama pollster=P dates="July 2-9, 2020" Tuberville=-5 Jones=35', "cannot be negative"),
    Case("poll add", 'alabama pollster=P dates="July 2-9, 2020" Tuberville=NaN Jones=35', "'NaN' is not a share"),
    Case("poll add", 'alabama pollster=P dates="July 2-9, 2020" Tuberville=1_0 Jones=35', "is not a percentage"),
    Case("poll remove", "-1", "There is no poll #-1", slash=False),
    Case("poll remove", "0", "There is no poll #0", slash=False),
    Case("poll remove", "9007199254740991", "There is no poll #9007199254740991", slash=False),
    Case("endorsement remove", "2147483648", "There is no endorsement #2147483648", slash=False),
    # Dates.
    poll(11, "July ١-9, 2020", "digits 0-9"),
    poll(12, "Feb 30 - Mar 2, 2020", "not a date I can read"),
    poll(13, "July 2-9, 1999", "1999 is too far from the race's 2020 cycle"),
    poll(14, "July 2-9, 9999", "9999 is too far"),
    Case(
        "poll add",
        'alabama pollster="{via} 15" start="Dec 28" end="Jan 3, 2020" Tuberville=43 Jones=35',
        "Stored poll #",
        stored=True,
        fielded=(D(2019, 12, 28), D(2020, 1, 3)),
    ),
    Case("endorse", 'alabama endorser="X" candidate=Tuberville date="July 4, 1776"', "1776 is too far"),
    Case("endorse", 'alabama endorser="X" candidate=Tuberville date="Feb 30, 2020"', "not a date I can read"),
    Case("race-edit", 'alabama 2020 general="Nov 3, 2099"', "2099 is too far"),
    Case("race-add", 'alabama senate 2026 general="٣/١١/2026"', "digits 0-9"),
    # Text.
    Case("candidate-add", 'alabama general name="\u202eevil"', "control character"),
    Case("candidate-add", 'alabama general name="Tommy Tuberville\x00"', "control character"),
    Case("endorse", 'alabama endorser="\x1b[31mred" candidate=Tuberville', "control character"),
    Case("call", 'alabama general Tuberville source="\x07bell"', "control character"),
    Case("poll add", 'alabama pollster=P dates="July 2-9, 2020" Tuberville=43 Jones=35 url="https://x\x00y"', "control character"),
    Case("race-edit", 'alabama 2020 notes="line\x0bfeed"', "control character"),
    # Names.
    Case("candidate-edit", 'alabama general candidate=Jones name="Tommy Tuberville"', "names Tommy Tuberville"),
    Case("candidate-edit", "alabama general candidate=Tuberville alias=Doug", "names Doug Jones"),
    Case("candidate-edit", 'alabama general candidate=Jones alias="G. Doug Jones {via}"', "Jones", stored=True),
    Case("race-add", "alabama house 2026 0", "so no district 0"),
    Case("race-add", "wyoming house 2026 2", "Wyoming has one district (at-large) in 2026, so no district 2"),
    Case("race-add", "al-54 2010", "no state has had more than 53"),
    Case("race-add", "alabama senate 2150", "2150 is not a year of a race here: give one from 1970 to 2099"),
    Case("race-add", "alabama senate 0000", "0000 is not a year of a race here"),
    # Others of the same kind.
    Case("result", "alabama general Tuberville=5 Tommy=6 Jones=1", "is counted twice"),
    Case("result", 'alabama general Tuberville="5 Jones=1', "is not closed"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 final=maybe", "takes yes or no"),
    Case("result", "alabama general Tuberville=1392100 Jones=920500 source=" + "S" * 200, "at most 128 characters"),
    Case("call", "alabama general runoff Tuberville Tuberville", "named twice"),
    Case("endorse", 'alabama endorser="X" candidate=Tuberville url=javascript:alert(1)', "not a web address"),
    poll(16, "July 2-9, 2020", "add up to 109.5%, over 100%", " Sessions=30.1"),
    Case("race-edit", 'alabama 2020 general="Feb 30"', "not a date I can read"),
    # Ids.
    Case("undo", "99999999999999999999", "'99999999999999999999' is not an audit id", slash=False),
    Case("undo", "99999999999", "'99999999999' is not an audit id", slash=False),
    Case("undo", "#٥٧", "is not an audit id", slash=False),
    Case("audit", "99999999999", "No race found for '99999999999'", slash=False),
    Case("audit", "alabama before=99999999999", "`before=` takes an entry id", slash=False),
    Case("candidate-merge", "alabama from=#99999999999999999999 into=Jones", "There is no candidate #9999"),
    Case("candidate-merge", "alabama from=#99999999999 into=Jones", "There is no candidate #99999999999"),
    Case("candidate-edit", "alabama candidate=#99999999999 alias=X", "There is no candidate #99999999999"),
]  # fmt: skip


@dataclass
class Tally:
    tried: int = 0
    refused: int = 0
    stored: int = 0
    crashed: int = 0


async def send(world: World, case: Case, form: str) -> Any:
    if form == "prefix":
        return await world.say(f"!{case.command} {case.details}", author=world.moderator)
    return await world.driver.slash(
        world.desk.id, world.desk_channel, world.moderator, case.command, {"details": case.details}
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_hostile_desk_inputs(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    tally, problems = Tally(), []
    async with desk_world(tmp_path, database=database, results_channels=False, followers=False) as world:
        sessions = make_sessionmaker(world.bot.engine)
        for case in CASES:
            for form in ("prefix", "slash") if case.slash else ("prefix",):
                tally.tried += 1
                via = f"{form} {case.details}"
                text = case.details.replace("{via}", form)
                typed = Case(case.command, text, case.says, case.stored, case.fielded)
                before = await row_counts(sessions)
                exchange = await send(world, typed, form)
                if "Something went wrong" in exchange.text or exchange.ok is None:
                    tally.crashed += 1
                    problems.append(f"CRASHED {via!r}: {exchange.text[:300]!r}")
                    continue
                if case.says not in exchange.text or exchange.ok is not case.stored:
                    problems.append(f"{via!r}: ok={exchange.ok} {exchange.text[:300]!r}")
                    continue
                if not case.stored:
                    if await row_counts(sessions) != before:
                        problems.append(f"{via!r} was refused but changed the store")
                        continue
                    tally.refused += 1
                    continue
                if case.fielded is not None:
                    pollster = text.split('pollster="', 1)[1].split('"', 1)[0]
                    async with sessions() as session:
                        stored = await session.scalar(select(Poll).where(Poll.pollster == pollster))
                    if stored is None or (stored.start_date, stored.end_date) != case.fielded:
                        problems.append(f"{via!r} stored {stored and (stored.start_date, stored.end_date)}")
                        continue
                tally.stored += 1
    logging.getLogger(__name__).warning("hostile desk inputs on %s: %s", database, tally)
    print(f"hostile desk inputs on {database}: {tally}")
    assert not problems, "\n".join(problems)
    assert tally.crashed == 0 and tally.tried == tally.refused + tally.stored
    assert not [
        r for r in caplog.records if r.levelno >= logging.ERROR and "Something went wrong" in r.getMessage()
    ]

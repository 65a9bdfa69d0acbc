"""The default store: the public files shipped in `data/public/` (see data/public/SOURCES.md).

`db/bootstrap.py` loads the hand-made sample (`data/sample/alabama-2020.json`) into an empty
database, then calls `build_default_store`, which imports, in this order (results first, so the
polls' hypothetical match-ups are judged against the ballots):

1. MEDSL U.S. Senate results, cycles 2018, 2020 and 2022 (with Georgia's Jan 5, 2021 and Dec 6, 2022
   run-offs), from the 1976-2022 file (its 2018 and 2020 rows are the 1976-2020 file's, unchanged);
   MEDSL U.S. House results, cycles 2018, 2020 and 2022 (`2018-2022-house.csv`, those years' rows of
   the 1976-2022 file); the Senate seats not up in 2022 by party (`senate-2022-baselines.json`, public
   record, for `!senate 2022`); MEDSL U.S. President results by state, 2016 and 2020;
2. OpenElections' precinct file of Alabama's Dec 12, 2017 special election;
3. the Alabama Secretary of State's precinct sheets of the Mar 3, 2020 primary, as statewide
   totals made from the shipped zip (`al-2020-primary-totals.json`; reading the 67 workbooks
   takes a second, see db/importers/al_sos.py);
4. FiveThirtyEight's senate polls, cycles 2018 and 2020;
5. FiveThirtyEight's governor polls (2018–2022; no governor results are shipped, so these races take
   their stages and election days from the polls) and its 2024-cycle Senate, House district and
   president polls (`fivethirtyeight-2024/`, the newer layout).

FiveThirtyEight's president polls of the 2020 cycle (`president_polls.csv`, 12,233 rows) are shipped
but not built in: they would more than double the polls' share of the first run's build and take it
past 10 s. `racedesk import data/public/president_polls.csv` attaches them (state polls to each
state's race, national polls to the national race, state "US").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import SYSTEM, Actor
from db.importers.report import ImportReport
from db.importers.run import Progress, import_file

PUBLIC = Path(__file__).resolve().parent.parent.parent / "data" / "public"

#: (file in data/public, format, parser options), in import order.
DEFAULT_FILES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("1976-2022-senate.csv", "medsl", {"years": [2018, 2020, 2022]}),
    ("2018-2022-house.csv", "medsl", {"years": [2018, 2020, 2022]}),
    ("senate-2022-baselines.json", "racedesk", {}),
    ("2016-2020-president.csv", "medsl-president", {"years": [2016, 2020]}),
    ("20171212__al__special__general__precinct.csv", "openelections", {}),
    ("al-2020-primary-totals.json", "al-sos-primary", {}),
    ("senate_polls.csv", "fivethirtyeight-polls", {"cycles": [2018, 2020]}),
    ("governor_polls.csv", "fivethirtyeight-polls", {}),
    ("fivethirtyeight-2024/senate_polls.csv", "fivethirtyeight-polls", {}),
    ("fivethirtyeight-2024/house_district_polls.csv", "fivethirtyeight-polls", {}),
    ("fivethirtyeight-2024/president_polls.csv", "fivethirtyeight-polls", {}),
)


async def build_default_store(
    session: AsyncSession, progress: Progress | None = None, *, actor: Actor = SYSTEM
) -> ImportReport:
    """Import the shipped public files into the session's transaction; the caller commits."""
    reports = []
    for name, fmt, options in DEFAULT_FILES:
        reports.append(
            await import_file(session, PUBLIC / name, fmt, actor=actor, progress=progress, options=options)
        )
    return ImportReport.combine("default store", reports)

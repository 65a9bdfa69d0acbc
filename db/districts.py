"""How many U.S. House districts each state has, by apportionment: what `race-add` checks a district
against. Knows nothing of Discord.

The 2010 census's apportionment for the elections of 2012 to 2020, the 2020 census's for 2022 to 2030
(U.S. Census Bureau, apportionment results). Outside those cycles no state had more than 53 districts.
"""

from __future__ import annotations

MOST_DISTRICTS = 53  # California's from 2002 to 2022, the most any state has had

_2010 = {
    "AL": 7, "AK": 1, "AZ": 9, "AR": 4, "CA": 53, "CO": 7, "CT": 5, "DE": 1, "FL": 27, "GA": 14,
    "HI": 2, "ID": 2, "IL": 18, "IN": 9, "IA": 4, "KS": 4, "KY": 6, "LA": 6, "ME": 2, "MD": 8,
    "MA": 9, "MI": 14, "MN": 8, "MS": 4, "MO": 8, "MT": 1, "NE": 3, "NV": 4, "NH": 2, "NJ": 12,
    "NM": 3, "NY": 27, "NC": 13, "ND": 1, "OH": 16, "OK": 5, "OR": 5, "PA": 18, "RI": 2, "SC": 7,
    "SD": 1, "TN": 9, "TX": 36, "UT": 4, "VT": 1, "VA": 11, "WA": 10, "WV": 3, "WI": 8, "WY": 1,
}  # fmt: skip
# The 2020 census moved seven seats: what changed from the 2010 apportionment.
_CHANGED_IN_2020 = {
    "TX": +2, "CO": +1, "FL": +1, "MT": +1, "NC": +1, "OR": +1,
    "CA": -1, "IL": -1, "MI": -1, "NY": -1, "OH": -1, "PA": -1, "WV": -1,
}  # fmt: skip
_2020 = {state: seats + _CHANGED_IN_2020.get(state, 0) for state, seats in _2010.items()}


def house_districts(state: str, cycle: int) -> int | None:
    """How many districts `state` elects in `cycle`; None where not known here."""
    if 2012 <= cycle <= 2020:
        return _2010.get(state)
    if 2022 <= cycle <= 2030:
        return _2020.get(state)
    return None


def district_problem(state: str, cycle: int, district: str) -> str | None:
    """What is wrong with a district of `state` in `cycle` ("99", "0", "AL"), or None when it may exist."""
    seats = house_districts(state, cycle)
    if district.upper() == "AL":
        return None if seats in (1, None) else f"has {seats} districts, so none is at-large"
    if not district.isdigit():
        return f"has no district '{district}': districts are numbered"
    number = int(district)
    if seats is not None and not 1 <= number <= seats:
        if seats == 1:
            return f"has one district (at-large) in {cycle}, so no district {number}"
        return f"has {seats} districts in {cycle} (1 to {seats}), so no district {number}"
    if not 1 <= number <= MOST_DISTRICTS:
        return f"has no district {number}: no state has had more than {MOST_DISTRICTS}"
    return None

"""The tables the members' reads (`db/reads/`, `db/lookup.py`, `db/balance.py`) build their prebuilt Core statements from.

A statement built from the ORM's attributes is an ORM statement, with the ORM's per-row cost; one built
from the tables returns plain rows. Named once here for every read module.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table

from db.models import (
    Answer,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    ChamberBaseline,
    Contest,
    Endorsement,
    NameToken,
    Poll,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
)


def table_of(model: type[Any]) -> Table:
    """A model's table."""
    return cast(Table, model.__table__)


RACES = table_of(Race)
CONTESTS = table_of(Contest)
CANDIDACIES = table_of(Candidacy)
CANDIDATES = table_of(Candidate)
ALIASES = table_of(CandidateAlias)
NAME_TOKENS = table_of(NameToken)
CALLS = table_of(Call)
SNAPSHOTS = table_of(ResultSnapshot)
COUNTS = table_of(ResultCount)
ENDORSEMENTS = table_of(Endorsement)
POLLS = table_of(Poll)
QUESTIONS = table_of(Question)
ANSWERS = table_of(Answer)
BASELINES = table_of(ChamberBaseline)

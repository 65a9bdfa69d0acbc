"""The store's integrity: what no write may leave behind, because readers or the export would break on it.

`problems(session)` lists each in a line (none: the store is whole). The tests run it after every kind of
write; a store that passes exports to a document that loads back into an empty store.

- Person references: a merged-away person points at a live one (no dangling pointer, no cycle, no chain);
  no ballot, answer, endorsement or incumbent names a merged-away person (a merge moves them all).
- Ballots: one person at most once on a contest's ballot (merged records counted as the person).
- Counts and calls name candidacies of their own contest; no contest holds the same count (votes and
  reporting) twice.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Answer, Call, Candidacy, Candidate, Endorsement, Race, ResultCount, ResultSnapshot


async def problems(session: AsyncSession) -> list[str]:
    """Everything in the store that breaks a reader or the export, one line each; empty when whole."""
    people = {pid: (name, into) for pid, name, into in await session.execute(
        select(Candidate.id, Candidate.name, Candidate.merged_into_id)
    )}  # fmt: skip
    found = _merge_problems(people)
    merged_away = {pid for pid, (_, into) in people.items() if into is not None}

    def who(pid: int) -> str:
        name, into = people.get(pid, ("?", None))
        return f"{name} (#{pid}), merged into #{into}"

    references = (
        ("candidacy", select(Candidacy.id, Candidacy.candidate_id)),
        ("poll answer", select(Answer.id, Answer.candidate_id)),
        ("endorsement", select(Endorsement.id, Endorsement.candidate_id)),
        ("race (its incumbent)", select(Race.id, Race.incumbent_id)),
    )
    for what, query in references:
        for row_id, person_id in await session.execute(query):
            if person_id is None:
                continue
            if person_id not in people:
                found.append(f"{what} #{row_id} names candidate #{person_id}, who does not exist")
            elif person_id in merged_away:
                found.append(f"{what} #{row_id} names {who(person_id)}")

    def live(pid: int) -> int:
        seen = set()
        while people.get(pid, ("", None))[1] is not None and pid not in seen:
            seen.add(pid)
            pid = people[pid][1] or pid
        return pid

    contest_of: dict[int, int] = {}
    ballots: dict[int, Counter[int]] = {}
    for candidacy_id, contest_id, person_id in await session.execute(
        select(Candidacy.id, Candidacy.contest_id, Candidacy.candidate_id)
    ):
        contest_of[candidacy_id] = contest_id
        ballots.setdefault(contest_id, Counter())[live(person_id)] += 1
    for contest_id, ballot in sorted(ballots.items()):
        for person_id, n in sorted(ballot.items()):
            if n > 1:
                name = people.get(person_id, ("?", None))[0]
                found.append(f"contest #{contest_id} has {name} (#{person_id}) on its ballot {n} times")

    for count_id, counted, contest_id in await session.execute(
        select(ResultCount.id, ResultCount.candidacy_id, ResultSnapshot.contest_id)
        .join(ResultSnapshot, ResultSnapshot.id == ResultCount.snapshot_id)
        .where(ResultCount.candidacy_id.is_not(None))
    ):
        if counted is None or contest_of.get(counted) != contest_id:
            found.append(f"count #{count_id} is of candidacy #{counted}, not on contest #{contest_id}")
    repeated = (
        select(ResultSnapshot.contest_id, func.min(ResultSnapshot.id), func.max(ResultSnapshot.id))
        .group_by(ResultSnapshot.contest_id, ResultSnapshot.digest, ResultSnapshot.reporting_pct)
        .having(func.count() > 1)
    )
    for contest_id, first, last in await session.execute(repeated):
        found.append(
            f"contest #{contest_id} holds the same count twice (#{first}, #{last}): a load keeps one"
        )
    for call_id, contest_id, candidacy_ids in await session.execute(
        select(Call.id, Call.contest_id, Call.candidacy_ids)
    ):
        for candidacy_id in candidacy_ids or []:
            if contest_of.get(candidacy_id) != contest_id:
                found.append(f"call #{call_id} names candidacy #{candidacy_id}, not on contest #{contest_id}")
    return found


def _merge_problems(people: dict[int, tuple[str, int | None]]) -> list[str]:
    """Merge pointers that dangle, go round in a cycle, or lead to someone merged away too."""
    found = []
    for pid, (name, into) in sorted(people.items()):
        if into is None:
            continue
        if into not in people:
            found.append(f"{name} (#{pid}) is merged into candidate #{into}, who does not exist")
            continue
        path = [pid]
        step: int | None = into
        while step is not None and step not in path and step in people:
            path.append(step)
            step = people[step][1]
        if step is not None and step in path:
            ring = " → ".join(f"#{p}" for p in [*path[path.index(step) :], step])
            found.append(f"{name} (#{pid}) is in a cycle of merges: {ring}")
        elif people[into][1] is not None:
            found.append(f"{name} (#{pid}) is merged into #{into}, who was merged away too")
    return found

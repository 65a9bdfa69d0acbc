"""The race card's, `results`' and `candidate`'s reads (prebuilt Core statements building plain rows) against
an independent computation from the ORM's rows, on a varied store: several stages, counts sent at the same
moment, write-ins and under-votes, calls and uncalls, endorsements past the card's window, merged people."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import make_sessionmaker
from db.models import (
    Answer,
    Call,
    Candidacy,
    Candidate,
    CandidateAlias,
    Contest,
    Endorsement,
    NameToken,
    Poll,
    Question,
    Race,
    ResultCount,
    ResultSnapshot,
)
from db.names import name_key, name_tokens
from db.reads.people import find_people, person_card, person_endorsements, race_endorsements
from db.reads.races import ContestView, contest_views, race_card
from db.reads.results import race_results
from tests.support import store_on

Sessions = async_sessionmaker[AsyncSession]

# Written out here rather than read from db/reads: the order a stage and an endorser come in.
STAGES = ["primary", "jungle primary", "primary runoff", "general", "general runoff"]
STAGE_RANK = {"primary": 0, "jungle primary": 0, "primary runoff": 1, "general": 2, "general runoff": 3}
WEIGHTS = [
    "president",
    "former president",
    "party",
    "governor",
    "senator",
    "newspaper",
    "organization",
    "representative",
    "person",
]
KINDS = ["winner", "runoff", "too close", "uncalled"]
STANCES = ["endorse", "oppose", "withhold", "rescind"]
FIRST = ["Pat", "Lee", "Sam", "Kim", "Ana", "Joe", "Eve", "Max", "Ida", "Ray", "Zoe", "Tom"]
LAST = ["Moore", "Shaw", "Price", "Lowe", "Hart", "Diaz", "Ortiz", "Brandt", "Quinn", "Voss"]
BUSY = "Perennial Runner"  # on the ballot of more races than a card shows
HOLDER = "Seat Holder"  # the incumbent of more races than a card lists
MERGED = "Mergedaway Record"  # a record merged into the busy runner
BIG_RACE_ENDORSEMENTS = 210  # past the card's window of the newest 200


def _at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day, hours=hour)


async def fill_varied(session: AsyncSession) -> None:
    """Races with every kind of stage, count, call and endorsement, drawn at random (seeded)."""
    rng = random.Random(20261129)
    people = [
        Candidate(name=f"{first} {last}", name_key=name_key(f"{first} {last}"), party=party, state=state)
        for first, last, party, state in (
            (
                rng.choice(FIRST),
                rng.choice(LAST),
                rng.choice(["DEM", "REP", "LIB", None]),
                rng.choice(["AL", "GA"]),
            )
            for _ in range(40)
        )
    ]
    twins = [Candidate(name="Pat Twin", name_key="pat twin", party="REP", state=s) for s in ("AL", "GA")]
    busy = Candidate(name=BUSY, name_key=name_key(BUSY), party="IND", state="AL", office_held="Mayor")
    holder = Candidate(name=HOLDER, name_key=name_key(HOLDER), party="DEM", state="GA")
    merged = Candidate(name=MERGED, name_key=name_key(MERGED), party="IND", state="AL")
    everyone = [*people, *twins, busy, holder, merged]
    session.add_all(everyone)
    await session.flush()
    merged.merged_into_id = busy.id
    for person in everyone:
        session.add_all(NameToken(candidate_id=person.id, token=t) for t in name_tokens(person.name))
    session.add_all(
        [
            CandidateAlias(candidate_id=busy.id, alias="PERENNIAL RUNNER", alias_key="perennial runner"),
            CandidateAlias(candidate_id=busy.id, alias="P. Runner", alias_key="p runner"),
            CandidateAlias(candidate_id=busy.id, alias="Perry Runner", alias_key="perry runner"),
        ]
    )
    races = []
    for i in range(46):
        race = Race(
            cycle=2000 + 2 * (i % 7),
            state=["AL", "GA", "TX"][i % 3],
            office="house",
            seat=str(i + 1),
            incumbent_party=rng.choice(["DEM", "REP", None]),
            notes=rng.choice([None, "a note"]),
            source=rng.choice([None, "synthetic"]),
        )
        races.append(race)
    # The holder holds 12 seats, each in a cycle of its own (the card lists the newest 10).
    for n, race in enumerate(races[:12]):
        race.cycle = 1970 + 2 * n
        race.incumbent_id = holder.id
    for race in races[12:30]:
        race.incumbent_id = rng.choice(people).id
    session.add_all(races)
    await session.flush()
    candidacies: list[Candidacy] = []
    contests: list[Contest] = []
    firsts: dict[int, Contest] = {}  # each race's first stage: the busy runner is on its ballot
    for i, race in enumerate(races):
        if i == 45:
            continue  # a race with no stage
        for stage in rng.sample(STAGES, rng.randint(1, 4)):
            contest = Contest(
                race_id=race.id,
                stage=stage,
                party=rng.choice(["REP", "DEM"]) if "primary" in stage else "",
                date=rng.choice([None, dt.date(race.cycle, 3, 3), dt.date(race.cycle, 11, 3)]),
                poll_close=rng.choice([None, _at(rng.randint(0, 900))]),
                status=rng.choice(["upcoming", "counting", "called", "certified"]),
                source=rng.choice([None, "synthetic"]),
            )
            session.add(contest)
            contests.append(contest)
            if i < 44:
                firsts.setdefault(race.id, contest)
    await session.flush()
    empty = next(c for c in contests if c not in firsts.values())  # a stage with nobody on its ballot
    for contest in contests:
        if contest is empty:
            continue
        ballot = rng.sample([*people, *twins], rng.randint(1, 6))
        if firsts.get(contest.race_id) is contest:
            ballot.append(busy)
        for person in ballot:
            candidacy = Candidacy(
                contest_id=contest.id,
                candidate_id=person.id,
                party=rng.choice([person.party, None]),
                incumbent=rng.random() < 0.2,
                withdrawn=rng.random() < 0.1,
                outcome=rng.choice(["pending", "won", "lost", "advanced", "withdrawn"]),
                votes=rng.choice([None, rng.randint(0, 5000)]),
            )
            session.add(candidacy)
            candidacies.append(candidacy)
    await session.flush()
    by_contest: dict[int, list[Candidacy]] = {}
    for candidacy in candidacies:
        by_contest.setdefault(candidacy.contest_id, []).append(candidacy)
    for contest in contests:
        ballot = by_contest.get(contest.id, [])
        for n in range(rng.choice([0, 0, 1, 2, 4])):
            snapshot = ResultSnapshot(
                contest_id=contest.id,
                taken_at=_at(rng.randint(0, 2)),  # several sent at the same moment
                sent_id=rng.choice([None, rng.randint(1, 10**12)]),
                reporting_pct=rng.choice([None, float(rng.randint(0, 100))]),
                reporting_basis=rng.choice([None, "precincts", "expected vote"]),
                precincts_reporting=rng.choice([None, rng.randint(0, 50)]),
                precincts_total=rng.choice([None, 50]),
                unofficial=rng.random() < 0.5,
                final=rng.random() < 0.3,
                source=rng.choice([None, f"count {n}"]),
                digest=f"{contest.id}-{n}",
            )
            session.add(snapshot)
            await session.flush()
            for candidacy in rng.sample(ballot, rng.randint(0, len(ballot))):
                session.add(
                    ResultCount(
                        snapshot_id=snapshot.id, candidacy_id=candidacy.id, votes=rng.randint(0, 9000)
                    )
                )
            for kind in ("writein", "under", "over"):
                if rng.random() < 0.4:
                    session.add(ResultCount(snapshot_id=snapshot.id, kind=kind, votes=rng.randint(0, 300)))
        for n in range(rng.choice([0, 1, 2, 3])):
            named = rng.sample(ballot, min(len(ballot), rng.randint(0, 2)))
            session.add(
                Call(
                    contest_id=contest.id,
                    kind=rng.choice(KINDS) if n else rng.choice(KINDS[:3]),
                    candidacy_ids=[c.id for c in named],
                    source=rng.choice([None, "AP"]),
                    called_by=rng.choice([None, 12345]),
                    called_at=_at(rng.randint(0, 900)),
                )
            )
            await session.flush()
    race_of = {c.id: c.race_id for c in contests}
    for race in races:
        ran = [c.candidate_id for c in candidacies if race_of[c.contest_id] == race.id]
        count = BIG_RACE_ENDORSEMENTS if race is races[3] else rng.randint(0, 9)
        # Undated endorsements count as the oldest: the big race has none, so its window is the newest 200.
        dates = [dt.date(2020, 1, 1) + dt.timedelta(days=d) for d in range(10)]
        kinds = WEIGHTS[1:]  # the big race's only presidents' endorsements are its oldest ten
        if race is not races[3]:
            dates.append(None)
            kinds = WEIGHTS
        for n in range(count):
            old = race is races[3] and n < 10  # the big race's oldest ten are presidents'
            session.add(
                Endorsement(
                    race_id=race.id,
                    candidate_id=rng.choice(ran or [busy.id]),
                    endorser=f"Endorser {n}",
                    endorser_kind="president" if old else rng.choice(kinds),
                    stance=rng.choice(STANCES),
                    date=dt.date(1990, 1, 1) if old else rng.choice(dates),
                    quote=rng.choice([None, "A quote."]),
                    source=rng.choice([None, "a paper"]),
                )
            )
    session.add_all(
        Endorsement(
            race_id=None, candidate_id=busy.id, endorser=f"Group {n}", endorser_kind=rng.choice(WEIGHTS)
        )
        for n in range(4)
    )
    # Namesakes on one ballot with nothing counted: their order is the ballot's.
    namesakes = Race(cycle=2010, state="AL", office="senate", seat="Class I")
    session.add(namesakes)
    await session.flush()
    general = Contest(race_id=namesakes.id, stage="general", party="", date=dt.date(2010, 11, 2))
    session.add(general)
    await session.flush()
    session.add_all(
        Candidacy(contest_id=general.id, candidate_id=p.id, party=p.party) for p in (twins[1], twins[0])
    )
    newest = max(races[:44], key=lambda r: (r.cycle, r.id))  # the busy runner's newest race: polled
    poll = Poll(race_id=newest.id, pollster="Pollster", end_date=dt.date(2020, 5, 1), sample_size=600)
    session.add(poll)
    await session.flush()
    question = Question(poll_id=poll.id)
    session.add(question)
    await session.flush()
    session.add_all(
        [
            Answer(question_id=question.id, candidate_id=busy.id, choice="Runner", pct=51.0),
            Answer(question_id=question.id, candidate_id=people[0].id, choice="Other", pct=40.0),
        ]
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def varied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sessions]:
    folder: Path = tmp_path_factory.mktemp("varied")
    async with store_on(request.param, folder, "card-reads-varied", fill_varied) as created:
        yield make_sessionmaker(created)


# ---------------------------------------------------------------- the independent computation


async def expected_views(session: AsyncSession, race_id: int) -> list[dict[str, Any]]:
    """Each stage of a race as it should stand, computed here from the ORM's rows one table at a time."""
    contests = list(await session.scalars(select(Contest).where(Contest.race_id == race_id)))
    ids = [c.id for c in contests]
    ballots = list(await session.scalars(select(Candidacy).where(Candidacy.contest_id.in_(ids))))
    people = {p.id: p for p in await session.scalars(select(Candidate))}
    snapshots = list(await session.scalars(select(ResultSnapshot).where(ResultSnapshot.contest_id.in_(ids))))
    counts = list(
        await session.scalars(
            select(ResultCount).where(ResultCount.snapshot_id.in_([s.id for s in snapshots]))
        )
    )
    calls = list(await session.scalars(select(Call).where(Call.contest_id.in_(ids))))
    out = []
    for contest in sorted(contests, key=lambda c: (c.date or dt.date.max, STAGE_RANK[c.stage], c.party)):
        ballot = sorted((c for c in ballots if c.contest_id == contest.id), key=lambda c: c.id)
        mine = [s for s in snapshots if s.contest_id == contest.id]
        current = max(mine, key=lambda s: (s.taken_at, s.sent_id or 0, s.id)) if mine else None
        votes: dict[int, int] = {}
        other: dict[str, int] = {}
        if current is not None:
            for count in sorted((c for c in counts if c.snapshot_id == current.id), key=lambda c: c.id):
                if count.kind == "candidate":
                    votes[count.candidacy_id or 0] = count.votes
                else:
                    other[count.kind] = other.get(count.kind, 0) + count.votes
        else:
            votes = {c.id: c.votes for c in ballot if c.votes is not None}
        total = sum(votes.values()) + other.get("writein", 0) if votes else None
        standings = [
            (
                c.id,
                people[c.candidate_id].name,
                votes.get(c.id),
                round(100 * votes[c.id] / total, 2) if total and c.id in votes else None,
            )
            for c in ballot
        ]
        standings.sort(key=lambda s: (-(s[2] or 0), s[1]))
        newest = max((c for c in calls if c.contest_id == contest.id), key=lambda c: c.id, default=None)
        standing = None if newest is None or newest.kind == "uncalled" else newest
        out.append(
            {
                "contest": _fields(contest, CONTEST_FIELDS),
                "standings": standings,
                "candidacies": sorted(
                    (_fields(c, CANDIDACY_FIELDS), _fields(people[c.candidate_id], PERSON_FIELDS))
                    for c in ballot
                ),
                "snapshot": _fields(current, SNAPSHOT_FIELDS),
                "call": _fields(standing, CALL_FIELDS),
                "total": total,
                "other": other,
            }
        )
    return out


CONTEST_FIELDS = ("id", "race_id", "stage", "party", "date", "poll_close", "status", "source")
CANDIDACY_FIELDS = ("id", "candidate_id", "party", "incumbent", "withdrawn", "outcome", "votes")
PERSON_FIELDS = ("id", "name", "name_key", "party", "state", "office_held")
SNAPSHOT_FIELDS = (
    "id",
    "taken_at",
    "reporting_pct",
    "reporting_basis",
    "precincts_reporting",
    "precincts_total",
    "unofficial",
    "final",
    "source",
)
CALL_FIELDS = ("id", "kind", "candidacy_ids", "source", "called_at")
RACE_FIELDS = (
    "id",
    "cycle",
    "state",
    "office",
    "seat",
    "special",
    "incumbent_party",
    "incumbent_id",
    "notes",
    "source",
)
ENDORSEMENT_FIELDS = (
    "id",
    "race_id",
    "candidate_id",
    "endorser",
    "endorser_kind",
    "stance",
    "date",
    "quote",
    "source",
    "url",
)


def _fields(row: object, names: tuple[str, ...]) -> tuple[Any, ...] | None:
    return None if row is None else tuple(getattr(row, n) for n in names)


def described(views: list[ContestView]) -> list[dict[str, Any]]:
    """Views as the independent computation writes them."""
    return [
        {
            "contest": _fields(v.contest, CONTEST_FIELDS),
            "standings": [
                (s.candidacy.id, s.candidacy.candidate.name, s.votes, s.share) for s in v.standings
            ],
            "candidacies": sorted(
                (_fields(s.candidacy, CANDIDACY_FIELDS), _fields(s.candidacy.candidate, PERSON_FIELDS))
                for s in v.standings
            ),
            "snapshot": _fields(v.snapshot, SNAPSHOT_FIELDS),
            "call": _fields(v.call, CALL_FIELDS),
            "total": v.total_votes,
            "other": v.other_votes,
        }
        for v in views
    ]


def endorsement_order(e: Endorsement) -> tuple[int, int, int, int]:
    """Weightiest first, endorsements before other stances, the newest (no date: last), the latest stored."""
    dated = e.date.toordinal() if e.date is not None else None
    return (WEIGHTS.index(e.endorser_kind), e.stance != "endorse", -(dated or 0) if dated else 1, -e.id)


def newest_first(e: Endorsement) -> tuple[int, int, int]:
    return (e.date is None, -(e.date.toordinal() if e.date else 0), -e.id)


def described_endorsements(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            _fields(e, ENDORSEMENT_FIELDS),
            e.candidate.name,
            _fields(e.race, RACE_FIELDS),
        )
        for e in rows
    ]


async def expected_endorsements(session: AsyncSession, rows: list[Endorsement]) -> list[tuple[Any, ...]]:
    people = {p.id: p for p in await session.scalars(select(Candidate))}
    races = {r.id: r for r in await session.scalars(select(Race))}
    return [
        (
            _fields(e, ENDORSEMENT_FIELDS),
            people[e.candidate_id].name,
            _fields(races.get(e.race_id or 0), RACE_FIELDS),
        )
        for e in rows
    ]


async def all_race_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Race.id).order_by(Race.id)))


# ---------------------------------------------------------------- the race card and results


@pytest.mark.asyncio(loop_scope="module")
async def test_every_stage_stands_as_computed_from_its_rows(varied: Sessions) -> None:
    """Each stage's ballot, current count (the last in the order sent), standings, shares, write-ins and
    standing call (an uncall leaves none) is the same from the card, `results` and the desk's
    contest_views as computed here."""
    async with varied() as session:
        checked = 0
        for race_id in await all_race_ids(session):
            expected = await expected_views(session, race_id)
            card = await race_card(session, race_id)
            results = await race_results(session, race_id)
            desk = await contest_views(session, race_id)
            assert card is not None and results is not None
            assert described(card.contests) == expected, race_id
            assert described(results.views) == expected
            assert described(desk) == expected
            checked += len(expected)
    # The store holds what the comparison is about.
    assert checked > 80


@pytest.mark.asyncio(loop_scope="module")
async def test_the_store_holds_every_case_compared(varied: Sessions) -> None:
    """Counts sent at one moment, uncalls that stand, calls after an uncall, stages counted only on the
    ballot, write-ins: the varied store has each."""
    async with varied() as session:
        views = [v for race_id in await all_race_ids(session) for v in await contest_views(session, race_id)]
        calls = list(await session.scalars(select(Call).order_by(Call.id)))
        snapshots = list(await session.scalars(select(ResultSnapshot)))
    moments: dict[tuple[int, dt.datetime], int] = {}
    for s in snapshots:
        moments[(s.contest_id, s.taken_at)] = moments.get((s.contest_id, s.taken_at), 0) + 1
    assert max(moments.values()) > 1
    newest: dict[int, Call] = {c.contest_id: c for c in calls}
    assert any(c.kind == "uncalled" for c in newest.values())
    assert any(v.snapshot is None and v.total_votes for v in views)
    assert any(v.other_votes.get("writein") for v in views)
    assert any(not v.standings for v in views)
    assert any(v.call is not None for v in views)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_card_s_race_and_key_endorsements(varied: Sessions) -> None:
    """The race as stored, with its incumbent; the five weightiest of the newest 200 endorsements (the
    big race's ten oldest, all presidents', are past that window) and how many there are."""
    async with varied() as session:
        people = {p.id: p for p in await session.scalars(select(Candidate))}
        for race in list(await session.scalars(select(Race).order_by(Race.id))):
            card = await race_card(session, race.id)
            assert card is not None
            assert _fields(card.race, RACE_FIELDS) == _fields(race, RACE_FIELDS)
            incumbent = people.get(race.incumbent_id or 0)
            assert _fields(card.race.incumbent, PERSON_FIELDS) == _fields(incumbent, PERSON_FIELDS)
            stored = list(await session.scalars(select(Endorsement).where(Endorsement.race_id == race.id)))
            window = sorted(stored, key=newest_first)[:200]
            key = sorted(window, key=endorsement_order)[:5]
            assert card.endorsement_count == len(stored)
            assert described_endorsements(card.endorsements) == await expected_endorsements(session, key)
            if len(stored) > 200:
                assert all(e.date != dt.date(1990, 1, 1) for e in card.endorsements)
                weightiest = sorted(stored, key=endorsement_order)[:5]
                assert [e.id for e in card.endorsements] != [e.id for e in weightiest]
        assert await race_card(session, 10**6) is None
        assert await race_results(session, 10**6) is None


@pytest.mark.asyncio(loop_scope="module")
async def test_a_race_s_endorsements_for_their_list(varied: Sessions) -> None:
    async with varied() as session:
        for race_id in await all_race_ids(session):
            rows, count = await race_endorsements(session, race_id)
            stored = list(await session.scalars(select(Endorsement).where(Endorsement.race_id == race_id)))
            assert count == len(stored)
            expected = sorted(stored, key=endorsement_order)[:200]
            assert described_endorsements(rows) == await expected_endorsements(session, expected)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_card_reads_in_few_statements(varied: Sessions) -> None:
    """The card's stages and endorsements: three statements; `results`: two."""
    async with varied() as session:
        race_id = (await all_race_ids(session))[4]
        engine: AsyncEngine = varied.kw["bind"]
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            await race_results(session, race_id)
            results = len(statements)
            del statements[:]
            await race_card(session, race_id)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert results == 2
    assert len([s for s in statements if not any(t in s for t in ("polls", "questions", "answers"))]) == 3


async def test_the_desk_sees_what_its_write_has_not_flushed(sample_sessions: Sessions) -> None:
    """contest_views in a write's session (the desk's call announcement, the undo's correction) shows the
    write's call, flushed or not."""
    async with sample_sessions() as session:
        general = await session.scalar(select(Contest).where(Contest.stage == "general"))
        assert general is not None
        session.add(Call(contest_id=general.id, kind="uncalled", candidacy_ids=[]))
        views = await contest_views(session, general.race_id)
        assert next(v for v in views if v.contest.id == general.id).call is None
        session.add(Call(contest_id=general.id, kind="too close", candidacy_ids=[]))
        views = await contest_views(session, general.race_id)
        shown = next(v for v in views if v.contest.id == general.id).call
        assert shown is not None and shown.kind == "too close"


# ---------------------------------------------------------------- people


@pytest.mark.asyncio(loop_scope="module")
async def test_a_person_s_card_as_computed_from_the_rows(varied: Sessions) -> None:
    """Every person's card: aliases, every stage run (the newest 40 races, newest first), how many races,
    the races held (newest 10), endorsements weightiest first, the polls naming them."""
    async with varied() as session:
        people = list(await session.scalars(select(Candidate).order_by(Candidate.id)))
        contests = {c.id: c for c in await session.scalars(select(Contest))}
        races = {r.id: r for r in await session.scalars(select(Race))}
        ballots = list(await session.scalars(select(Candidacy)))
        aliases = list(await session.scalars(select(CandidateAlias)))
        answers = list(await session.scalars(select(Answer)))
        views = {v["contest"][0]: v for race_id in races for v in await expected_views(session, race_id)}
        checked_runs = 0
        for person in people:
            card = await person_card(session, person.id)
            assert card is not None
            assert _fields(card.person, PERSON_FIELDS) == _fields(person, PERSON_FIELDS)
            assert card.aliases == sorted(
                {
                    a.alias
                    for a in aliases
                    if a.candidate_id == person.id and name_key(a.alias) != person.name_key
                }
            )
            ran = [contests[c.contest_id] for c in ballots if c.candidate_id == person.id]
            race_ids = sorted({c.race_id for c in ran}, key=lambda r: (-races[r].cycle, -r))
            assert card.races_total == len(race_ids)
            shown = race_ids[:40]
            ran = sorted(
                (c for c in ran if c.race_id in shown),
                key=lambda c: (shown.index(c.race_id), c.date or dt.date.max, STAGE_RANK[c.stage], c.party),
            )
            assert [run.view.contest.id for run in card.runs] == [c.id for c in ran]
            for run, contest in zip(card.runs, ran, strict=True):
                assert _fields(run.race, RACE_FIELDS) == _fields(races[contest.race_id], RACE_FIELDS)
                assert described([run.view]) == [views[contest.id]]
                mine = next(s for s in views[contest.id]["standings"] if s[0] == run.standing.candidacy.id)
                assert (run.standing.candidacy.candidate.name, run.standing.votes, run.standing.share) == (
                    person.name,
                    mine[2],
                    mine[3],
                )
                assert run.standing.candidacy.candidate_id == person.id
                checked_runs += 1
            held = sorted((r for r in races.values() if r.incumbent_id == person.id), key=lambda r: -r.cycle)
            assert [_fields(r, RACE_FIELDS) for r in card.incumbent_in] == [
                _fields(r, RACE_FIELDS) for r in held[:10]
            ]
            stored = list(
                await session.scalars(select(Endorsement).where(Endorsement.candidate_id == person.id))
            )
            expected = sorted(stored, key=endorsement_order)[:200]
            assert card.endorsement_count == len(stored)
            assert described_endorsements(card.endorsements) == await expected_endorsements(session, expected)
            rows, count = await person_endorsements(session, person.id)
            assert (described_endorsements(rows), count) == (
                described_endorsements(card.endorsements),
                len(stored),
            )
            assert card.poll_mentions == len([a for a in answers if a.candidate_id == person.id])
        assert await person_card(session, 10**6) is None
    busy = next(p for p in people if p.name == BUSY)
    holder = next(p for p in people if p.name == HOLDER)
    assert checked_runs > 80
    async with varied() as session:
        busy_card = await person_card(session, busy.id)
        holder_card = await person_card(session, holder.id)
    assert (
        busy_card is not None
        and busy_card.races_total > 40
        and busy_card.aliases == ["P. Runner", "Perry Runner"]
    )
    assert busy_card.polls and busy_card.poll_mentions == 1
    assert holder_card is not None and len(holder_card.incumbent_in) == 10


@pytest.mark.asyncio(loop_scope="module")
async def test_people_found_by_name_with_their_races(varied: Sessions) -> None:
    """Each surname finds everyone bearing it, a merged-away record stands for the person it was merged
    into, and each person's count of races is theirs."""
    async with varied() as session:
        people = list(await session.scalars(select(Candidate)))
        ballots = list(await session.scalars(select(Candidacy)))
        contests = {c.id: c for c in await session.scalars(select(Contest))}

        def races_run(person_id: int) -> int:
            return len({contests[c.contest_id].race_id for c in ballots if c.candidate_id == person_id})

        for surname in {*LAST, "twin", "runner", "mergedaway"}:
            found = await find_people(session, surname, limit=100)
            bearing = {(p.merged_into_id or p.id) for p in people if surname.lower() in p.name_key.split()}
            assert {p.id for p in found.people} == bearing, surname
            assert found.runs == {p: races_run(p) for p in bearing if races_run(p)}
            live = {p.id: p for p in people}
            assert [_fields(p, PERSON_FIELDS) for p in found.people] == [
                _fields(live[p.id], PERSON_FIELDS) for p in found.people
            ]
        merged = await find_people(session, "mergedaway record")
        twins = await find_people(session, "pat twin")
        twin_ga = await find_people(session, "pat twin georgia")
    assert merged.chosen is not None and merged.chosen.name == BUSY
    assert twins.chosen is None and len(twins.people) == 2
    assert twin_ga.chosen is not None and twin_ga.chosen.state == "GA"

"""What moderators type, read right or refused with the reason: every write form."""

from __future__ import annotations

import datetime as dt

import pytest

from cogs.desk import _parsing as p
from cogs.support.errors import UsageError
from db.models import CallKind, Race, Stage, Stance
from db.vocabulary import ANY_RUNOFF
from db.writes.common import StageRef

EX = "!example"


def race(cycle: int = 2020) -> Race:
    """The race a draft's words named, once found."""
    return Race(id=7, cycle=cycle)


def refused(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as caught:
        fn(*args, **kwargs)
    assert caught.value.example == EX
    return caught.value.problem


# ------------------------------------------------------------------ tokens


def test_quotes_spaces_around_equals_and_smart_quotes() -> None:
    parsed = p.split_pairs(
        'alabama pollster=“Auburn University” Tuberville = 43.9 Jones= 35.5 "Doug Jones"=1', EX
    )
    assert parsed.words == ["alabama"]
    assert parsed.pairs == [
        ("pollster", "Auburn University"),
        ("Tuberville", "43.9"),
        ("Jones", "35.5"),
        ("Doug Jones", "1"),
    ]


def test_apostrophes_are_letters() -> None:
    assert p.split_pairs("texas candidate=O'Rourke", EX).pairs == [("candidate", "O'Rourke")]


def test_an_open_quote_is_refused() -> None:
    assert "not closed" in refused(p.split_pairs, 'alabama pollster="Auburn', EX)


def test_a_pair_without_a_name_is_refused() -> None:
    assert "no name" in refused(p.split_pairs, "=5 alabama", EX)


# ------------------------------------------------------------------ numbers and dates


@pytest.mark.parametrize(
    ("typed", "votes"), [("1,392,100", 1392100), ("920500", 920500), ("1_000", 1000), ("0", 0)]
)
def test_votes_with_commas(typed: str, votes: int) -> None:
    assert p.votes(typed, "X", EX) == votes


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("-5", "negative"),
        ("12.5", "whole numbers"),
        ("abc", "not a number"),
        ("", "not a number"),
        ("1e9", "not a number"),
    ],
)
def test_wrong_votes(typed: str, problem: str) -> None:
    assert problem in refused(p.votes, typed, "Jones", EX)


@pytest.mark.parametrize(("typed", "share"), [("43.9", 43.9), ("43.9%", 43.9), (" 35 % ", 35.0), ("0", 0.0)])
def test_shares_with_or_without_percent(typed: str, share: float) -> None:
    assert p.percent(typed, "X", EX) == share


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("101", "over 100"), ("-1", "negative"), ("nan", "not a percentage"), ("lots", "not a percentage")],
)
def test_wrong_shares(typed: str, problem: str) -> None:
    assert problem in refused(p.percent, typed, "X", EX)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("July 2-9", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("July 2-9, 2020", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("July 2–9, 2019", dt.date(2019, 7, 2), dt.date(2019, 7, 9)),
        ("Jul. 2nd-9th", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("June 28 - July 9", dt.date(2020, 6, 28), dt.date(2020, 7, 9)),
        ("Dec 30, 2019 - Jan 4, 2020", dt.date(2019, 12, 30), dt.date(2020, 1, 4)),
        ("7/2/20-7/9/20", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("7/2-7/9", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("2020-07-02 to 2020-07-09", dt.date(2020, 7, 2), dt.date(2020, 7, 9)),
        ("7/14/20", None, dt.date(2020, 7, 14)),
        ("July 14", None, dt.date(2020, 7, 14)),
        ("2020-07-14", None, dt.date(2020, 7, 14)),
    ],
)
def test_date_ranges_default_to_the_cycle_year(typed: str, start: dt.date | None, end: dt.date) -> None:
    assert p.date_range(typed, 2020, EX) == (start, end)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("Jully 2", "not a date I can read"),
        ("sometime", "not a date"),
        ("July 40", "not a date I can read"),
        ("9", "only a day"),
        ("2020", "only a year"),
        ("13/45/20", "not a date I can read"),
        ("", "missing"),
    ],
)
def test_dates_dateutil_cannot_read_are_refused_with_examples(typed: str, problem: str) -> None:
    text = refused(p.date_range, typed, 2020, EX)
    assert problem in text
    if typed:
        assert "July 14, 2020" in text


# ------------------------------------------------------------------ stages


@pytest.mark.parametrize(
    ("words", "race", "stage"),
    [
        ("alabama general", "alabama", StageRef(Stage.GENERAL)),
        ("alabama rep primary", "alabama", StageRef(Stage.PRIMARY, "REP")),
        ("alabama gop runoff", "alabama", StageRef(Stage.PRIMARY_RUNOFF, "REP")),
        ("alabama primary runoff", "alabama", StageRef(Stage.PRIMARY_RUNOFF)),
        ("georgia 2020 general runoff", "georgia 2020", StageRef(Stage.GENERAL_RUNOFF)),
        ("georgia 2020 special jungle", "georgia 2020 special", StageRef(Stage.JUNGLE_PRIMARY)),
        ("alabama runoff", "alabama", StageRef(ANY_RUNOFF)),
        ("alabama dem", "alabama", StageRef(Stage.PRIMARY, "DEM")),
        ("alabama 2020", "alabama 2020", StageRef()),
    ],
)
def test_race_words_and_the_stage(words: str, race: str, stage: StageRef) -> None:
    found = p.race_and_stage(words.split())
    assert (found.race, found.stage) == (race, stage)


# ------------------------------------------------------------------ result


def test_result_form() -> None:
    form = p.parse_result(
        "alabama general Tuberville=1,392,100 Jones=920500 reporting=100% source=AP writein=3891 precincts=1850/1980",
        EX,
    )
    data = form.make(race())
    assert form.race == "alabama" and data.stage == StageRef(Stage.GENERAL) and data.race_id == 7
    assert data.counts == [("Tuberville", 1392100), ("Jones", 920500)]
    assert (data.reporting_pct, data.source, data.other, data.precincts) == (
        100.0,
        "AP",
        {"writein": 3891},
        (1850, 1980),
    )


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "Which race"),
        ("Tuberville=5", "Which race"),
        ("alabama", "votes as `Name=votes`"),
        ("alabama general Tuberville=-5 Jones=3", "negative"),
        ("alabama general Tuberville=lots", "not a number of votes"),
        ("alabama general Tuberville=5 reporting=120%", "Reporting cannot be over 100%"),
        ("alabama general Tuberville=5 soruce=AP", "Did you mean `source`"),
        ("alabama general Tuberville=5 precincts=most", "reporting/total"),
        ("alabama general Tuberville=5 final=maybe", "yes or no"),
        ("alabama general Tuberville 5", "don't know what 'Tuberville 5' means"),
        ("alabama general 123=5", "not a name"),
    ],
)
def test_wrong_results(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_result, typed, EX)


# ------------------------------------------------------------------ call and uncall


@pytest.mark.parametrize(
    ("typed", "race", "stage", "kind", "names"),
    [
        ("alabama general Tuberville", "alabama", StageRef(Stage.GENERAL), CallKind.WINNER, ["Tuberville"]),
        ("alabama general Doug Jones", "alabama", StageRef(Stage.GENERAL), CallKind.WINNER, ["Doug Jones"]),
        ('alabama general "Doug Jones"', "alabama", StageRef(Stage.GENERAL), CallKind.WINNER, ["Doug Jones"]),
        ("alabama Tuberville", "alabama", StageRef(), CallKind.WINNER, ["Tuberville"]),
        (
            "alabama rep primary runoff Tuberville Sessions",
            "alabama",
            StageRef(Stage.PRIMARY, "REP"),
            CallKind.RUNOFF,
            ["Tuberville", "Sessions"],
        ),
        (
            "alabama primary runoff Tuberville",
            "alabama",
            StageRef(Stage.PRIMARY_RUNOFF),
            CallKind.WINNER,
            ["Tuberville"],
        ),
        ("alabama runoff Tuberville", "alabama", StageRef(ANY_RUNOFF), CallKind.WINNER, ["Tuberville"]),
        ("alabama general too close", "alabama", StageRef(Stage.GENERAL), CallKind.TOO_CLOSE, []),
        ("alabama general too-close", "alabama", StageRef(Stage.GENERAL), CallKind.TOO_CLOSE, []),
    ],
)
def test_call_forms(typed: str, race: str, stage: StageRef, kind: str, names: list[str]) -> None:
    form = p.parse_call(typed + " source=AP", EX)
    data = form.make(Race(id=7, cycle=2020))
    assert (form.race, data.stage, data.kind, data.names, data.source) == (race, stage, kind, names, "AP")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "Name the race"),
        ("alabama", "Name the race, then the winner"),
        ("alabama general", "Name the winner"),
        ("alabama general Tuberville winner=Jones", "no key 'winner'"),
        ("alabama too close general", "comes last"),
    ],
)
def test_wrong_calls(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_call, typed, EX)


def test_uncall_form() -> None:
    form = p.parse_uncall("alabama general source=AP", EX)
    data = form.make(race())
    assert (form.race, data.stage, data.source) == ("alabama", StageRef(Stage.GENERAL), "AP")
    assert "after the stage" in refused(p.parse_uncall, "alabama general Tuberville", EX)


# ------------------------------------------------------------------ poll


def test_poll_form() -> None:
    form = p.parse_poll(
        'alabama pollster="Auburn University at Montgomery" dates="July 2-9, 2020" Tuberville=43.9 Jones=35.5% '
        "n=558 pop=rv sponsor=WSFA url=https://aum.edu/poll",
        EX,
    )
    data = form.make(race(2020))
    assert data.pollster == "Auburn University at Montgomery" and data.answers == [
        ("Tuberville", 43.9),
        ("Jones", 35.5),
    ]
    assert (data.sample_size, data.population, data.sponsor, data.url, data.hypothetical) == (
        558,
        "rv",
        "WSFA",
        "https://aum.edu/poll",
        False,
    )
    assert (data.start, data.end) == (dt.date(2020, 7, 2), dt.date(2020, 7, 9))


def test_hypothetical_poll_and_start_end_keys() -> None:
    form = p.parse_poll(
        'alabama general hypothetical pollster=AUM start="July 2" end=7/9/20 Sessions=48.9 Jones=43.3 pop=likely',
        EX,
    )
    data = form.make(race(2019))
    assert data.hypothetical and data.stage == StageRef(Stage.GENERAL) and data.population == "lv"
    assert (data.start, data.end) == (dt.date(2020, 7, 2), dt.date(2020, 7, 9))


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("alabama Tuberville=43 Jones=35", "Who ran the poll"),
        ("alabama pollster=AUM Tuberville=43", "at least two answers"),
        ("alabama pollster=AUM Tuberville=80 Jones=35.5", "add up to 115.5%"),
        ("alabama pollster=AUM Tuberville=101 Jones=1", "over 100%"),
        ("alabama polster=AUM Tuberville=43 Jones=35", "Did you mean `pollster`"),
        ("alabama pollster=AUM Tuberville=43 Jones=35 pop=martians", "lv, rv, a or v"),
        ("alabama pollster=AUM Tuberville=43 Jones=35 n=many", "whole number"),
        ("alabama pollster=AUM Tuberville=43 Jones=35 url=javascript:alert(1)", "not a web address"),
        ("alabama pollster= Tuberville=43 Jones=35", "needs a value"),
    ],
)
def test_wrong_polls(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_poll, typed, EX)


def test_poll_dates_are_required_and_read() -> None:
    form = p.parse_poll("alabama pollster=AUM Tuberville=43 Jones=35", EX)
    assert "When was the poll fielded" in refused(form.make, race(2020))
    form = p.parse_poll('alabama pollster=AUM dates="Jully 2-9" Tuberville=43 Jones=35', EX)
    assert "not a date I can read" in refused(form.make, race(2020))


# ------------------------------------------------------------------ endorse, race, candidate


def test_endorse_form() -> None:
    form = p.parse_endorse(
        'alabama endorser="Donald Trump" candidate=Sessions stance=refused kind=former_president date="July 11" source=Twitter',
        EX,
    )
    data = form.make(race(2020))
    assert (form.race, data.endorser, data.candidate) == ("alabama", "Donald Trump", "Sessions")
    assert (data.stance, data.kind, data.date, data.source) == (
        Stance.WITHHOLD,
        "former president",
        dt.date(2020, 7, 11),
        "Twitter",
    )


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("alabama candidate=Tuberville", "Who endorsed"),
        ('alabama endorser="Donald Trump"', "Whom?"),
        ("alabama endorser=X candidate=Y stance=loves", "endorse, oppose, withhold or rescind"),
        ("alabama endorser=X candidate=Y kind=alien", "use one of"),
        ("alabama endorser=X candidate=Y endorsr=Z", "There is no key 'endorsr'"),
        ("endorser=X candidate=Y", "Which race"),
    ],
)
def test_wrong_endorsements(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_endorse, typed, EX)


def test_race_form_with_stage_dates() -> None:
    form = p.parse_race(
        'alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19" dem_runoff=2026-06-16',
        EX,
        editing=False,
    )
    assert form.words == ["alabama", "senate", "2026"] and form.fields == {"seat": "Class II"}
    assert form.contests == [
        (Stage.GENERAL, "", "Nov 3"),
        (Stage.PRIMARY, "REP", "May 19"),
        (Stage.PRIMARY_RUNOFF, "DEM", "2026-06-16"),
    ]
    assert "no key 'colour'" in refused(p.parse_race, "alabama 2026 colour=red", EX, editing=True)
    assert "race-edit" in refused(p.parse_race, "alabama senate 2026 incumbent=Jones", EX, editing=False)


def test_candidate_forms() -> None:
    form = p.parse_candidate(
        'alabama general name="Doug Jones" party=DEM incumbent',
        EX,
        required=("name",),
        allowed=("name", "party", "incumbent"),
    )
    assert (form.race, form.stage, form.values) == (
        "alabama",
        StageRef(Stage.GENERAL),
        {"incumbent": "yes", "name": "Doug Jones", "party": "DEM"},
    )
    assert "`name=` is missing" in refused(
        p.parse_candidate, "alabama general party=DEM", EX, required=("name",), allowed=("name", "party")
    )
    assert "no key 'colour'" in refused(
        p.parse_candidate, "alabama colour=red name=X", EX, required=("name",), allowed=("name",)
    )
    assert p.parse_merge('alabama from="Roy Moore" into=#12', EX) == ("alabama", "Roy Moore", "#12")
    assert "from=... into=..." in refused(p.parse_merge, "alabama from=X", EX)


# ------------------------------------------------------------------ hostile input (issue 12, item 7)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("31 - Feb 2, 2020", dt.date(2020, 1, 31), dt.date(2020, 2, 2)),
        ("28 - July 9", dt.date(2020, 6, 28), dt.date(2020, 7, 9)),
        ("Dec 28 - Jan 3, 2020", dt.date(2019, 12, 28), dt.date(2020, 1, 3)),
        ("Dec 28 - Jan 3", dt.date(2019, 12, 28), dt.date(2020, 1, 3)),
    ],
)
def test_ranges_over_a_month_or_a_year_end_read_naturally(
    typed: str, start: dt.date | None, end: dt.date
) -> None:
    assert p.date_range(typed, 2020, EX) == (start, end)


def test_a_start_and_end_across_the_new_year() -> None:
    form = p.parse_poll('alabama pollster=AUM start="Dec 28" end="Jan 3, 2020" Tuberville=43 Jones=35', EX)
    data = form.make(race(2020))
    assert (data.start, data.end) == (dt.date(2019, 12, 28), dt.date(2020, 1, 3))


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("0 - July 9, 2020", "0 is not a day of July or of June"),
        ("45 - July 9, 2020", "45 is not a day of July or of June"),
        ("July 2-9, 0000", "0000 is too far from the race's 2020 cycle: give a year from 2016 to 2021"),
        ("July 2-9, 2099", "2099 is too far"),
        ("July ٢-٩, 2020", "digits 0-9"),
        ("July 9 - July 2", None),  # the write refuses it: it ends before it starts
    ],
)
def test_out_of_range_days_and_years_are_refused(typed: str, problem: str | None) -> None:
    if problem is None:
        start, end = p.date_range(typed, 2020, EX)
        assert start is not None and start > end
        return
    assert problem in refused(p.date_range, typed, 2020, EX)


@pytest.mark.parametrize("typed", ["٣٤٥", "３４５", "3²", "1,٣45"])
def test_only_ascii_digits_are_numbers(typed: str) -> None:
    assert "digits 0-9" in refused(p.votes, typed, "Tuberville", EX)
    assert "digits 0-9" in refused(p.percent, typed, "Tuberville", EX)
    assert "digits 0-9" in refused(p.whole, typed, "n", EX)


@pytest.mark.parametrize("typed", ["1e2", "1_0", "0x10", "inf", "nan", " ", "4 3"])
def test_shares_are_plain_decimals(typed: str) -> None:
    assert "is not a percentage" in refused(p.percent, typed, "Tuberville", EX)


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f", "\u202e", "\u2066", "\ud800"])
def test_control_characters_are_refused_in_every_field(bad: str) -> None:
    assert "control character" in refused(p.split_pairs, f'alabama pollster="AUM{bad}"', EX)
    assert p.split_pairs("alabama\tgeneral\nTuberville=5", EX).words == ["alabama", "general"]


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("alabama house 2026 99", "Alabama has 7 districts in 2026 (1 to 7), so no district 99"),
        ("al-08 2026", "so no district 8"),
        ("wyoming house 2026 2", "Wyoming has one district (at-large) in 2026, so no district 2"),
        ("california house 2024 53", "California has 52 districts in 2024"),
        ("al-60 2040", "no state has had more than 53"),
    ],
)
def test_house_districts_that_do_not_exist_are_named(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_race_add, typed, EX)


def test_a_district_number_after_the_year() -> None:
    data = p.parse_race_add("alabama house 2026 2", EX)
    assert (data.state, data.office, data.seat) == ("AL", "house", "2")


def test_force_lets_a_poll_through_the_election_check() -> None:
    form = p.parse_poll('alabama pollster=AUM dates="July 2-9" Tuberville=43 Jones=35 force=yes', EX)
    assert form.make(race(2020)).force is True

"""What moderators type, read right or refused with the reason: every write form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cogs.desk import _parsing as p
from cogs.support.errors import UsageError
from db.models import CallKind, EndorserKind, Race, Stage, Stance
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
        ("alabama", "Give each candidate's votes: `Tuberville 1392100 Jones 920500` or `Name=votes`."),
        ("alabama general Tuberville=-5 Jones=3", "negative"),
        ("alabama general Tuberville=lots", "not a number of votes"),
        ("alabama general Tuberville=5 reporting=120%", "Reporting cannot be over 100%"),
        ("alabama general Tuberville=5 soruce=AP", "Did you mean `source`"),
        ("alabama general Tuberville=5 precincts=most", "reporting/total"),
        ("alabama general Tuberville=5 final=maybe", "yes or no"),
        ("alabama general Tuberville 5 Jones", "don't know what 'Tuberville 5 Jones' means"),
        ("alabama general 5 Tuberville", "Give each name its number (`Tuberville 44 Jones 36`)"),
        ("alabama general 123=5", "not a name"),
    ],
)
def test_wrong_results(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_result, typed, EX)


@pytest.mark.parametrize(
    ("typed", "race", "stage", "counts"),
    [
        (
            "alabama general Tuberville 44 Jones 36",
            "alabama",
            StageRef(Stage.GENERAL),
            [("Tuberville", 44), ("Jones", 36)],
        ),
        (
            "alabama Tuberville 1,392,100 Jones 920500",
            "alabama",
            StageRef(),
            [("Tuberville", 1392100), ("Jones", 920500)],
        ),
        (
            "alabama 2020 Tuberville 44 Jones 36",
            "alabama 2020",
            StageRef(),
            [("Tuberville", 44), ("Jones", 36)],
        ),
        ("al 2 Moore 60 Harvey 40", "al 2", StageRef(), [("Moore", 60), ("Harvey", 40)]),
        ("texas 23 Gonzales 50", "texas 23", StageRef(), [("Gonzales", 50)]),
        ("new york 12 Maloney 60 Patel 40", "new york 12", StageRef(), [("Maloney", 60), ("Patel", 40)]),
        ("new york 12 Maloney=60", "new york 12", StageRef(), [("Maloney", 60)]),
        (
            "georgia special Loeffler 26 Warnock=32",
            "georgia special",
            StageRef(),
            [("Loeffler", 26), ("Warnock", 32)],
        ),
        (
            'maryland "Van Hollen" 60 Chaffee 30',
            "maryland",
            StageRef(),
            [("Van Hollen", 60), ("Chaffee", 30)],
        ),
        (
            "alabama rep primary runoff Tuberville 52 Sessions 48",
            "alabama",
            StageRef(Stage.PRIMARY_RUNOFF, "REP"),
            [("Tuberville", 52), ("Sessions", 48)],
        ),
    ],
)
def test_results_as_names_each_followed_by_its_votes(
    typed: str, race: str, stage: StageRef, counts: list[tuple[str, int]]
) -> None:
    """The quick form `Tuberville 44 Jones 36`; a word and a number that name the race stay the race's."""
    form = p.parse_result(typed, EX)
    data = form.make(Race(id=7, cycle=2020))
    assert (form.race, data.stage, data.counts) == (race, stage, counts)


@pytest.mark.parametrize(
    ("typed", "race", "counts"),
    [
        ("tuberville 2020 Tuberville=44 Jones=36", "tuberville 2020", [("Tuberville", 44), ("Jones", 36)]),
        ("alabma 2020 Tuberville=44 Jones=36", "alabma 2020", [("Tuberville", 44), ("Jones", 36)]),
        ("doug jones 2017 Jones=1 Moore=2", "doug jones 2017", [("Jones", 1), ("Moore", 2)]),
        ("alabama tuberville 2020 Jones=36", "alabama tuberville 2020", [("Jones", 36)]),
        ("doug jones 2017 Jones 1 Moore 2", "doug jones 2017", [("Jones", 1), ("Moore", 2)]),
        ("alabama Jones 2,017", "alabama", [("Jones", 2017)]),
    ],
)
def test_a_year_after_a_name_is_the_race_s(typed: str, race: str, counts: list[tuple[str, int]]) -> None:
    """A race named by a person and a year stays whole; a count that reads as a year has its comma."""
    form = p.parse_result(typed, EX)
    assert (form.race, form.make(Race(id=7, cycle=2020)).counts) == (race, counts)


def test_keys_take_the_quick_form_too() -> None:
    data = p.parse_result("alabama general Tuberville 44 Jones 36 reporting 99.5% writein 12", EX).make(
        race()
    )
    assert (data.counts, data.reporting_pct, data.other) == (
        [("Tuberville", 44), ("Jones", 36)],
        99.5,
        {"writein": 12},
    )


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("Tuberville 44 Jones 36", "Which race"),  # the first words always name the race
        ("alabama Tuberville 44 Jones -36", "Votes cannot be negative: Jones=-36."),
        ("alabama general Tuberville 44 Jones lots", "don't know what 'Tuberville 44 Jones lots' means"),
        ("alabama general Tuberville 4x4", "don't know what 'Tuberville 4x4' means"),
    ],
)
def test_the_quick_form_wrong(typed: str, problem: str) -> None:
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


def test_poll_answers_as_names_each_followed_by_its_share() -> None:
    form = p.parse_poll(
        'alabama general pollster=AUM dates="July 2-9" Tuberville 43.9 Jones 35.5% n 558 hypothetical', EX
    )
    data = form.make(race(2020))
    assert (form.race, data.stage, data.answers) == (
        "alabama",
        StageRef(Stage.GENERAL),
        [("Tuberville", 43.9), ("Jones", 35.5)],
    )
    assert (data.sample_size, data.hypothetical) == (558, True)


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


# ------------------------------------------------------------------ every field reaches the write


def test_a_candidate_edit_hands_every_field_to_the_write() -> None:
    form = p.parse_candidate_edit(
        'alabama rep primary candidate=Mooney name="Arnold W. Mooney" party=LIB alias="A. Mooney" '
        'withdrawn=yes incumbent=no office="State representative"',
        EX,
    )
    data = form.make(race())
    assert form.race == "alabama"
    assert data == p.CandidateEdit(
        race_id=7,
        candidate="Mooney",
        stage=StageRef(Stage.PRIMARY, "REP"),
        name="Arnold W. Mooney",
        party="LIB",
        alias="A. Mooney",
        withdrawn=True,
        incumbent=False,
        office_held="State representative",
    )
    bare = p.parse_candidate_edit("alabama general candidate=Jones withdrawn", EX).make(race())
    assert (bare.withdrawn, bare.incumbent, bare.name, bare.party, bare.alias, bare.office_held) == (
        True, None, None, None, None, None,
    )  # fmt: skip
    assert "`candidate=` is missing" in refused(p.parse_candidate_edit, "alabama general name=X", EX)
    assert "`candidate=` is missing" in refused(p.parse_candidate_edit, 'alabama general candidate=" "', EX)


def test_a_candidate_add_hands_the_name_party_and_incumbency_to_the_write() -> None:
    form = p.parse_candidate_add('alabama general name="Doug Jones" party=DEM incumbent', EX)
    assert form.race == "alabama"
    assert form.make(race()) == p.CandidateInput(7, StageRef(Stage.GENERAL), "Doug Jones", "DEM", True)
    plain = p.parse_candidate_add('alabama general name="Doug Jones"', EX).make(race())
    assert (plain.party, plain.incumbent) == (None, False)
    assert "no key 'alias'" in refused(p.parse_candidate_add, "alabama general name=X alias=Y", EX)
    assert "no key 'withdrawn'" in refused(p.parse_candidate_add, "alabama general name=X withdrawn=yes", EX)


def test_a_race_edit_hands_fields_dates_and_the_incumbent_to_the_write() -> None:
    form = p.parse_race_edit(
        'alabama 2020 notes="An open seat" party=rep incumbent="Doug Jones" general="Nov 3" runoff="July 14"',
        EX,
    )
    data = form.make(race(2020))
    assert form.race == "alabama 2020"
    assert data == p.RaceEdit(
        7,
        {"notes": "An open seat", "incumbent_party": "REP"},
        [
            p.ContestDate(Stage.GENERAL, "", dt.date(2020, 11, 3)),
            p.ContestDate(Stage.PRIMARY_RUNOFF, "", dt.date(2020, 7, 14)),
        ],
        "Doug Jones",
    )
    cleared = p.parse_race_edit('alabama 2020 general="" incumbent=""', EX).make(race(2020))
    assert cleared.contests == [p.ContestDate(Stage.GENERAL, "", None)] and cleared.incumbent == ""
    assert "Which race?" in refused(p.parse_race_edit, "notes=x", EX)


def test_a_new_race_reads_its_state_office_year_and_fields() -> None:
    data = p.parse_race_add(
        'georgia senate 2020 special seat="Class III" party=rep notes=Open source=SOS jungle="Nov 3"', EX
    )
    assert data == p.RaceInput(
        state="GA",
        office="senate",
        cycle=2020,
        seat="Class III",
        special=True,
        incumbent_party="REP",
        notes="Open",
        source="SOS",
        contests=[p.ContestDate(Stage.JUNGLE_PRIMARY, "", dt.date(2020, 11, 3))],
    )
    plain = p.parse_race_add("alabama senate 2026", EX)
    assert (plain.seat, plain.special, plain.incumbent_party, plain.notes, plain.source, plain.contests) == (
        "", False, None, None, None, [],
    )  # fmt: skip
    assert refused(p.parse_race_add, "alabama 2026", EX) == "A new race needs an office."
    assert refused(p.parse_race_add, "senate", EX) == "A new race needs a state, a year."
    assert refused(p.parse_race_add, "alabama senate 1066", EX) == (
        "1066 is not a year of a race here: give one from 1970 to 2099."
    )


def test_a_house_race_takes_its_district_from_the_words() -> None:
    assert p.parse_race_add("al-02 2026", EX).seat == "2"
    assert p.parse_race_add("alabama house 2026 02", EX).seat == "2"
    several = p.parse_race_add("alabama house 2026 2 3", EX)  # two numbers: neither is taken as the district
    assert several.seat == ""


def test_a_merge_names_the_record_merged_and_the_one_it_goes_into() -> None:
    form = p.parse_candidate_merge('alabama from="Roy Moore" into="Roy S.  Moore"', EX)
    assert form.race == "alabama" and form.make(race()) == (7, "Roy Moore", "Roy S. Moore")
    assert p.parse_merge("alabama merge=#3 to=#4", EX) == ("alabama", "#3", "#4")
    assert "from=... into=..." in refused(p.parse_merge, "alabama into=X", EX)
    assert "Which race?" in refused(p.parse_merge, "from=X into=Y", EX)
    assert "`from=` needs a value" in refused(p.parse_merge, "alabama from= into=Y", EX)


def test_a_poll_hands_every_field_to_the_write() -> None:
    form = p.parse_poll(
        'alabama rep runoff pollster="Cygnal" dates="July 12-13" Tuberville=52 Sessions=38 n=600 '
        "pop=lv partisan=republican-party-of-alabama internal=yes hypothetical=no link=http://example.org/p "
        "sample-size=650",
        EX,
    )
    data = form.make(race(2020))
    assert data == p.PollInput(
        race_id=7,
        pollster="Cygnal",
        end=dt.date(2020, 7, 13),
        answers=[("Tuberville", 52.0), ("Sessions", 38.0)],
        start=dt.date(2020, 7, 12),
        sample_size=650,
        population="lv",
        url="http://example.org/p",
        hypothetical=False,
        stage=StageRef(Stage.PRIMARY_RUNOFF, "REP"),
        partisan="REPUBLICAN-PARTY",
        internal=True,
    )
    assert form.race == "alabama"
    end_only = p.parse_poll("alabama pollster=P end=7/9 A=1 B=2", EX).make(race(2020))
    assert (end_only.start, end_only.end) == (None, dt.date(2020, 7, 9))
    assert "not both" in refused(
        p.parse_poll("alabama pollster=P dates=7/9 end=7/9 A=1 B=2", EX).make, race(2020)
    )
    assert "not both" in refused(
        p.parse_poll("alabama pollster=P dates=7/9 start=7/1 A=1 B=2", EX).make, race(2020)
    )


def test_an_endorsement_hands_every_field_to_the_write() -> None:
    form = p.parse_endorse(
        'alabama who="Richard  Shelby" for=Tuberville stance=oppose type=senator on=2020-06-01 '
        'link=https://example.org/e source=AL.com quote="Not  him."',
        EX,
    )
    assert form.make(race()) == p.EndorsementInput(
        7,
        "Richard Shelby",
        "Tuberville",
        stance=Stance.OPPOSE,
        kind="senator",
        date=dt.date(2020, 6, 1),
        url="https://example.org/e",
        source="AL.com",
        quote="Not him.",
    )
    plain = p.parse_endorse("alabama endorser=X candidate=Y", EX).make(race())
    assert (plain.stance, plain.kind, plain.date, plain.url, plain.source, plain.quote) == (
        Stance.ENDORSE, "person", None, None, None, None,
    )  # fmt: skip
    assert "Who endorsed" in refused(p.parse_endorse, 'alabama endorser=" " candidate=Y', EX)
    assert "Whom?" in refused(p.parse_endorse, 'alabama endorser=X candidate=" "', EX)


def test_a_result_hands_every_field_to_the_write() -> None:
    form = p.parse_result(
        "alabama general Tuberville=1,392,100 Jones=920500 in=99.5 src=AP final=yes official=no "
        "under=12 over=3",
        EX,
    )
    data = form.make(race())
    assert data == p.ResultInput(
        7,
        StageRef(Stage.GENERAL),
        counts=[("Tuberville", 1_392_100), ("Jones", 920_500)],
        other={"under": 12, "over": 3},
        reporting_pct=99.5,
        source="AP",
        final=True,
        official=False,
    )
    assert p.parse_result('alabama Tuberville=1 precincts="1,850 of 1,980"', EX).make(race()).precincts == (
        1850,
        1980,
    )


# ------------------------------------------------------------------ the small readers, exactly


@pytest.mark.parametrize("word", ["yes", "Y", " true ", "1", "ON"])
def test_yes_words(word: str) -> None:
    assert p.boolean(word, "final", EX) is True


@pytest.mark.parametrize("word", ["no", "N", "false", "0", "Off"])
def test_no_words(word: str) -> None:
    assert p.boolean(word, "final", EX) is False


def test_other_words_are_neither_yes_nor_no() -> None:
    assert refused(p.boolean, "maybe", "final", EX) == "final takes yes or no, not 'maybe'."


def test_ids_no_record_can_have_are_refused_before_any_query() -> None:
    assert p.record_id(1, "poll", EX) == 1
    assert p.record_id(2**31 - 1, "poll", EX) == 2**31 - 1
    assert refused(p.record_id, 0, "poll", EX) == "There is no poll #0."
    assert refused(p.record_id, 2**31, "poll", EX) == f"There is no poll #{2**31}."


def test_web_addresses() -> None:
    assert p.url_value(" http://example.org/a?b=c ", EX) == "http://example.org/a?b=c"
    long = "https://example.org/" + "a" * 980
    assert len(long) == 1000 and p.url_value(long, EX) == long
    too_long = long + "a"
    assert refused(p.url_value, too_long, EX) == (
        f"'{too_long[:80]}' is not a web address (it should start with https://)."
    )
    for wrong in ("ftp://example.org", "https://exa mple.org", "https://<b>", "example.org", "https://"):
        assert "is not a web address" in refused(p.url_value, wrong, EX)


def test_text_values_have_their_spaces_collapsed_and_must_hold_something() -> None:
    assert p.text_value("  Auburn   University \n at Montgomery ", "pollster", EX) == (
        "Auburn University at Montgomery"
    )
    assert refused(p.text_value, "   ", "pollster", EX) == "`pollster=` needs a value."


@pytest.mark.parametrize(
    ("typed", "votes"),
    [("1 392 100", 1_392_100), ("1\u202f392\u202f100", 1_392_100), (" 920500 ", 920_500), ("9" * 10, 9_999_999_999)],
)  # fmt: skip
def test_votes_written_with_spaces_between_thousands(typed: str, votes: int) -> None:
    if votes > 1_000_000_000:
        assert "cannot be over 1,000,000,000" in refused(p.votes, typed, "X", EX)
    else:
        assert p.votes(typed, "X", EX) == votes


def test_the_words_of_a_refused_count() -> None:
    assert refused(p.votes, "-5", "Jones", EX) == "Votes cannot be negative: Jones=-5."
    assert refused(p.votes, "12.5", "Jones", EX) == "Votes are whole numbers: Jones=12.5."
    assert refused(p.votes, "lots", "Jones", EX) == "Jones=lots: 'lots' is not a number of votes."
    assert refused(p.votes, "", "Jones", EX) == "Jones=(nothing): '' is not a number of votes."
    assert "not a number of votes" in refused(p.votes, "1" * 13, "Jones", EX)
    assert refused(p.whole, "many", "The sample size (n)", EX) == (
        "The sample size (n) must be a whole number, not 'many'."
    )
    assert p.whole(" 1,000_000 ", "n", EX) == 1_000_000
    assert "whole number" in refused(p.whole, "1" * 10, "n", EX)
    assert refused(p.percent, "lots", "Jones", EX) == "Jones=lots: 'lots' is not a percentage."
    assert refused(p.percent, "", "Jones", EX) == "Jones=(nothing): '' is not a percentage."
    assert refused(p.percent, "101", "reporting", EX, noun="Reporting") == (
        "Reporting cannot be over 100%: reporting=101."
    )


@pytest.mark.parametrize(("typed", "share"), [(".5", 0.5), ("5.", 5.0), ("-0", 0.0), ("43.90%", 43.9)])
def test_shares_written_loosely(typed: str, share: float) -> None:
    assert p.percent(typed, "X", EX) == share


def test_a_control_character_is_named_by_its_code() -> None:
    assert refused(p.split_pairs, "alabama\x00", EX) == (
        "That holds a control character (U+0000), which no field may: type it again without it."
    )
    assert "U+202E" in refused(p.split_pairs, "alabama \u202eevil", EX)
    assert p.split_pairs("alabama\r\ngeneral", EX).words == ["alabama", "general"]


@pytest.mark.parametrize(
    ("typed", "pairs", "words"),
    [
        ("a =5", [("a", "5")], []),
        ("a= 5", [("a", "5")], []),
        ("a = 5 b", [("a", "5")], ["b"]),
        ("a =", [("a", "")], []),
        ("a = ", [("a", "")], []),
        ("x a=", [("a", "")], ["x"]),
        ("a= b=5", [("a", ""), ("b", "5")], []),
        ("a =b=5", [("a", "b=5")], []),
        (" key = value ", [("key", "value")], []),
    ],
)
def test_spaces_around_the_equals_sign(typed: str, pairs: list[tuple[str, str]], words: list[str]) -> None:
    parsed = p.split_pairs(typed, EX)
    assert (parsed.pairs, parsed.words) == (pairs, words)
    assert parsed.keys() == [k for k, _ in pairs]


def test_a_key_without_a_name_is_named_in_the_refusal() -> None:
    assert refused(p.split_pairs, '"  "=5', EX) == "'  =5' has no name before the `=`."
    assert refused(p.split_pairs, "= =5", EX) == "'=' has no name before the `=`."
    assert refused(p.split_pairs, "a=b =5", EX) == "'=5' has no name before the `=`."


def test_unknown_keys_are_named_with_the_keys_there_are() -> None:
    assert refused(p.parse_call, "alabama general Tuberville sauce=AP", EX) == (
        "There is no key 'sauce'. Did you mean `source`? Keys: `source`."
    )
    assert refused(p.parse_call, "alabama general Tuberville zzz=AP", EX) == (
        "There is no key 'zzz'. Keys: `source`."
    )
    assert refused(p.parse_result, "alabama general Tuberville=5 sourse=AP", EX).startswith(
        "'sourse' is neither a key nor a candidate here. Did you mean `source`? Keys: `final`, "
    )
    problem = refused(p.parse_result, "alabama general Tuberville=5 Jones=many", EX)
    assert problem.startswith(
        "Jones=many: 'many' is not a number of votes, and 'Jones' is not a key (`final`, "
    )


def test_an_uncall_hands_the_withdrawal_to_the_write() -> None:
    form = p.parse_uncall("alabama rep runoff by=AP", EX)
    assert form.race == "alabama"
    assert form.make(race()) == p.CallInput(
        7, StageRef(Stage.PRIMARY_RUNOFF, "REP"), CallKind.UNCALLED, [], "AP"
    )
    assert p.parse_uncall("alabama general", EX).make(race()).source is None


# Each check a form makes, reached by one wrong input: every refusal shows the command's own example (the
# `refused` helper checks it), whichever check made it.
WRONG_FORMS = [
    (p.parse_uncall, ['alabama general source="AP', "alabama general sauce=AP", "", "alabama general x"]),
    (p.parse_candidate_merge, ['alabama from="X', "alabama from=X", "from=X into=Y", "alabama from=X into=Y z=1"]),
    (p.parse_call, ['alabama general "Tuberville', "alabama general Tuberville sauce=AP", "alabama",
                    "alabama general", "alabama too close general", "too close",
                    "alabama general too close x"]),
    (p.parse_result, ['alabama general "T', "alabama general", "T=1", "alabama general T=1 x",
                      "alabama general T=x", "alabama general T=1 reporting=x", "alabama general T=1 precincts=x",
                      "alabama general T=1 source=", "alabama general T=1 writein=x", "alabama general T=1 final=x",
                      "alabama general 1=1", "alabama general T=1 sourse=AP"]),
    (p.parse_poll, ['alabama pollster="P', "alabama A=1 B=2", "alabama pollster=P A=1", "pollster=P A=1 B=2",
                    "alabama general x pollster=P A=1 B=2", "alabama pollster=P A=1 B=2 n=x",
                    "alabama pollster=P A=1 B=2 pop=x", "alabama pollster=P A=1 B=2 url=x",
                    "alabama pollster=P A=1 B=2 force=x", "alabama pollster=P A=1 B=2 dates=",
                    "alabama pollster=P A=1 B=2 sponsor=", "alabama pollster=P A=1 B=2 partisan=",
                    "alabama pollster=P A=x B=2", "alabama pollster=P A=80 B=80"]),
    (p.parse_endorse, ['alabama endorser="X', "alabama candidate=Y", "alabama endorser=X",
                       "endorser=X candidate=Y", "alabama endorser=X candidate=Y stance=x",
                       "alabama endorser=X candidate=Y kind=x", "alabama endorser=X candidate=Y url=x",
                       "alabama endorser=X candidate=Y z=1", "alabama endorser=X candidate=Y date=",
                       "alabama endorser=X candidate=Y source=", "alabama endorser=X candidate=Y quote="]),
    (p.parse_race_add, ['alabama senate 2026 notes="x', "alabama senate", "alabama senate 2026 colour=red",
                        "alabama senate 2026 incumbent=X", "alabama senate 1066", "alabama house 2026 99",
                        "alabama senate 2026 party=", "senate 2026"]),
    (p.parse_race_edit, ['alabama 2020 notes="x', "alabama 2020 colour=red", "notes=x", "alabama 2020 party="]),
    (p.parse_candidate_add, ['alabama general name="X', "alabama general", "name=X",
                             "alabama general x name=X", "alabama general name=X z=1", "alabama general name=X incumbent=x"]),
    (p.parse_candidate_edit, ['alabama general candidate="X', "alabama general", "candidate=X",
                              "alabama general candidate=X withdrawn=x", "alabama general candidate=X incumbent=x"]),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "typed"), [(f, t) for f, ts in WRONG_FORMS for t in ts])
def test_every_refusal_shows_the_command_s_example(parse: Any, typed: str) -> None:
    def run() -> None:
        draft = parse(typed, EX)
        if isinstance(draft, p.Draft):
            draft.make(race())

    assert refused(run)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ('alabama pollster=P dates="Jully 2" A=1 B=2', "not a date"),
        ('alabama pollster=P end="Jully 2" A=1 B=2', "not a date"),
        ('alabama pollster=P start="Jully 2" end="July 3" A=1 B=2', "not a date"),
    ],
)
def test_a_poll_s_dates_are_refused_with_the_example_once_its_race_is_known(typed: str, problem: str) -> None:
    assert problem in refused(p.parse_poll(typed, EX).make, race())


def test_an_endorsement_s_date_is_refused_with_the_example_once_its_race_is_known() -> None:
    assert "not a date" in refused(
        p.parse_endorse('alabama endorser=X candidate=Y date="Jully 2"', EX).make, race()
    )


def test_a_race_s_stage_dates_are_refused_with_the_example() -> None:
    assert "not a date" in refused(p.parse_race_add, 'alabama senate 2026 general="Jully 2"', EX)
    assert "not a date" in refused(p.parse_race_edit('alabama 2020 general="Jully 2"', EX).make, race())


POLL = "alabama pollster=P A=1 B=2 "
ENDORSE = "alabama endorser=X candidate=Y "


@pytest.mark.parametrize(
    ("parse", "typed", "problem"),
    [
        (p.parse_poll, POLL + "sponsor=", "`sponsor=` needs a value."),
        (p.parse_poll, POLL + "partisan=", "`partisan=` needs a value."),
        (p.parse_poll, POLL + "dates=", "`dates=` needs a value."),
        (p.parse_poll, POLL + "end=", "`end=` needs a value."),
        (p.parse_poll, "alabama pollster= A=1 B=2", "`pollster=` needs a value."),
        (p.parse_poll, POLL + "n=x", "The sample size (n) must be a whole number, not 'x'."),
        (p.parse_poll, POLL + "force=x", "force takes yes or no, not 'x'."),
        (p.parse_poll, POLL + "hypothetical=x", "hypothetical takes yes or no, not 'x'."),
        (p.parse_poll, "alabama A=1 B=2", 'Who ran the poll? Add `pollster="..."`.'),
        (p.parse_poll, "alabama pollster=P A=1",
         "Give at least two answers, e.g. `Tuberville 43.9 Jones 35.5` or `Tuberville=43.9 Jones=35.5`."),
        (p.parse_endorse, ENDORSE + "date=", "`date=` needs a value."),
        (p.parse_endorse, ENDORSE + "source=", "`source=` needs a value."),
        (p.parse_endorse, ENDORSE + "quote=", "`quote=` needs a value."),
        (p.parse_endorse, "alabama candidate=Y", 'Who endorsed? Add `endorser="Donald Trump"`.'),
        (p.parse_endorse, "alabama endorser=X", "Whom? Add `candidate=Tuberville`."),
        (p.parse_endorse, ENDORSE + "kind=alien", "kind=alien: use one of "
         + ", ".join(k.value for k in EndorserKind) + "."),
    ],
)  # fmt: skip
def test_a_refusal_names_the_field_it_is_about(parse: Any, typed: str, problem: str) -> None:
    assert refused(parse, typed, EX) == problem


def test_a_share_that_is_no_number_names_the_keys() -> None:
    assert refused(p.parse_poll, "alabama pollster=P A=x B=2", EX) == (
        "A=x: 'x' is not a share, and 'A' is not a key (`dates`, `end`, `force`, `hypothetical`, `internal`, "
        "`n`, `partisan`, `pollster`, `pop`, `sponsor`, `start`, `url`)."
    )


def test_a_hypothetical_key_and_a_race_of_several_words() -> None:
    data = p.parse_poll('alabama pollster=P dates="July 2" A=1 B=2 hypothetical=yes', EX).make(race())
    assert data.hypothetical is True and data.internal is False and data.force is False
    assert p.parse_endorse("north carolina endorser=X candidate=Y", EX).race == "north carolina"


def test_a_control_character_after_a_tab_or_line_break_is_still_refused() -> None:
    assert "U+0000" in refused(p.split_pairs, 'alabama\tpollster="AUM\x00"', EX)
    assert "U+0007" in refused(p.split_pairs, "alabama\ngeneral\x07", EX)


def test_keys_may_be_written_with_underscores() -> None:
    data = p.parse_poll('alabama pollster=P dates="July 2" A=1 B=2 sample_size=650 Sample-Size=651', EX)
    assert data.make(race()).sample_size == 651


def test_a_winner_named_too_is_a_name() -> None:
    form = p.parse_call("alabama general too", EX)
    assert form.make(race()).names == ["too"] and form.make(race()).kind == CallKind.WINNER


@pytest.mark.parametrize(
    ("parse", "typed", "problem"),
    [
        (p.parse_result, "alabama general Tuberville " + "9" * 400, "is not a number of votes."),
        (p.parse_result, "alabama general Tuberville=" + "9" * 400, "is not a number of votes."),
        (
            p.parse_poll,
            'alabama pollster=X dates="July 2" Tuberville ' + "9" * 400 + "% Jones 3",
            "is not a percentage.",
        ),
        (
            p.parse_poll,
            'alabama pollster=X dates="July 2" Tuberville=4 Jones=3 n=' + "x" * 400,
            "must be a whole number",
        ),
        (
            p.parse_poll,
            'alabama pollster=X dates="July 2" Tuberville=4 Jones=3 force=' + "x" * 400,
            "takes yes or no",
        ),
    ],
)
def test_a_pasted_wall_is_not_quoted_back_whole(parse: Any, typed: str, problem: str) -> None:
    said = refused(parse, typed, EX)
    assert problem in said and len(said) < 200 and "…" in said

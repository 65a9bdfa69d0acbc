"""The FEC's candidate master file: detected by content, parsed, imported, re-imported; checked against the file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.districts import house_districts
from db.importers import detect_format, parse
from db.importers.common import ParseError
from db.importers.default import PUBLIC
from db.importers.fec import person_name
from db.importers.run import import_file
from db.models import Candidacy, Candidate, Contest, Race
from db.reads.races import race_card
from render.race import race_embed

FEC = PUBLIC / "fec" / "cn.txt"


def fec_lines(keep: str | None = None) -> list[list[str]]:
    """The file's lines as fields (of the state `keep` only, when given): read here, independently."""
    with open(FEC, encoding="latin-1") as handle:
        lines = [line.rstrip("\n").split("|") for line in handle if line.strip()]
    return [f for f in lines if keep is None or f[4] == keep]


def write_lines(path: Path, lines: list[list[str]]) -> Path:
    path.write_text("".join("|".join(fields) + "\n" for fields in lines), encoding="latin-1")
    return path


def test_detected_by_content_not_by_name(tmp_path: Path) -> None:
    assert detect_format(FEC) == "fec-candidates"
    renamed = write_lines(tmp_path / "candidates.dat", fec_lines("AL"))
    assert detect_format(renamed) == "fec-candidates"


def test_a_line_of_the_wrong_shape_fails_with_its_number(tmp_path: Path) -> None:
    lines = fec_lines("AL")
    lines[3] = lines[3][:14]
    path = write_lines(tmp_path / "cn.txt", lines)
    with pytest.raises(ParseError) as failed:
        parse(path, "fec-candidates")
    assert failed.value.line == 4 and "14 fields" in str(failed.value)
    skipped = parse(path, "fec-candidates", skip_bad=True)
    assert [bad.line for bad in skipped.skipped] == [4]


def test_the_house_races_of_the_files_cycle() -> None:
    parsed = parse(FEC, "fec-candidates")
    years = Counter(fields[3] for fields in fec_lines())
    cycle = int(years.most_common(1)[0][0])
    assert cycle == 2018  # the file is cn18's
    expected = set()
    for fields in fec_lines():
        if fields[3] == str(cycle) and fields[5] == "H" and fields[6].isdigit():
            seats = house_districts(fields[4], cycle)
            number = int(fields[6])
            if fields[4] in ("DC", "PR", "GU", "VI", "AS", "MP") or (
                seats == 1 and number in (0, 1)
            ):  # one delegate each
                expected.add((fields[4], "AL"))
            elif seats is not None and 1 <= number <= seats:
                expected.add((fields[4], str(number)))
    races = {(r["state"], r["seat"]) for r in parsed.document["races"] if r["office"] == "house"}
    assert races == expected
    assert {r["cycle"] for r in parsed.document["races"]} == {cycle}


def test_one_candidate_as_the_file_gives_them() -> None:
    line = next(f for f in fec_lines() if f[0] == "H0AL02087")  # one incumbent's line, found by FEC id
    parsed = parse(FEC, "fec-candidates")
    race = next(
        r
        for r in parsed.document["races"]
        if (r["office"], r["state"], r["seat"]) == ("house", line[4], str(int(line[6])))
    )
    person = next(c for c in parsed.document["candidates"] if c["key"] == f"fec:{line[0]}")
    last, first = line[1].split(", ")
    assert person["name"] == f"{first.title()} {last.title()}" and person["party"] == line[2]
    primary = next(c for c in race["contests"] if (c["stage"], c["party"]) == ("primary", line[2]))
    entry = next(e for e in primary["candidates"] if e["candidate"] == person["key"])
    assert entry["incumbent"] is (line[7] == "I") and entry["withdrawn"] is (line[8] != "C")
    assert race["incumbent"] == person["key"]


def test_names_read_as_people_write_them() -> None:
    assert person_name('CRAMER, ROBERT E "BUD" JR') == 'Robert E "Bud" Cramer Jr.'
    assert person_name("ROBY, MARTHA") == "Martha Roby"
    assert person_name("BLACKMON, ANTHONY MR") == "Anthony Blackmon"
    assert person_name("SMITH, JOHN 'JACK' III") == 'John "Jack" Smith III'


async def on_card(sessions: async_sessionmaker[AsyncSession], state: str, seat: str) -> str:
    async with sessions() as session:
        race_id = await session.scalar(
            select(Race.id).where(Race.state == state, Race.office == "house", Race.seat == seat)
        )
        assert race_id is not None
        card = await race_card(session, race_id)
    embed = race_embed(card)
    return "\n".join(f"{f.name}: {f.value}" for f in embed.fields) + f"\n{embed.footer.text}"


async def test_import_then_the_card_then_a_newer_file_updates(
    store: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    lines = fec_lines("AL")
    district = [f for f in lines if f[5] == "H" and f[6] == "04" and f[3] == "2018"]
    statutory = {person_name(f[1]) for f in district if f[8] == "C"}
    not_yet = {person_name(f[1]) for f in district if f[8] != "C"}
    assert statutory and not_yet
    first = write_lines(tmp_path / "cn-week1.txt", lines)
    async with store.begin() as session:
        report = await import_file(session, first)
    assert report.format == "fec-candidates" and report.added["races"] > 0
    text = await on_card(store, "AL", "4")
    assert all(name in text for name in statutory)  # on the card: the statutory candidates
    assert not any(name in text for name in not_yet)  # not yet statutory: off it
    assert "FEC candidate master file" in text  # the source named

    # The next week's file: one candidate changes party, one withdraws (P), one becomes statutory (C).
    changed = next(f for f in district if f[8] == "C" and f[7] != "I")
    gone = next(f for f in district if f[8] == "C" and f is not changed and f[7] != "I")
    joined = next(f for f in district if f[8] == "N")
    newer = []
    for fields in lines:
        if fields is changed:
            fields = [*fields[:2], "LIB", *fields[3:]]
        elif fields is gone:
            fields = [*fields[:8], "P", *fields[9:]]
        elif fields is joined:
            fields = [*fields[:8], "C", *fields[9:]]
        newer.append(fields)
    second = write_lines(tmp_path / "cn-week2.txt", newer)
    async with store.begin() as session:
        update = await import_file(session, second)
    assert update.added["races"] == 0
    text = await on_card(store, "AL", "4")
    assert person_name(joined[1]) in text and person_name(gone[1]) not in text
    async with store() as session:
        rows = await session.execute(
            select(Candidate.name, Candidacy.party, Candidacy.withdrawn, Contest.stage)
            .join(Candidacy, Candidacy.candidate_id == Candidate.id)
            .join(Contest, Contest.id == Candidacy.contest_id)
            .join(Race, Race.id == Contest.race_id)
            .where(Race.state == "AL", Race.office == "house", Race.seat == "4")
        )
        now = {(name, party, withdrawn, stage) for name, party, withdrawn, stage in rows}
    assert (
        person_name(changed[1]),
        "LIB",
        False,
        "general",
    ) in now  # a Libertarian now: the general's ballot
    assert (person_name(gone[1]), gone[2], True, "primary") in now
    assert (person_name(joined[1]), joined[2], False, "primary") in now

    # The same file again changes nothing (idempotent), even when forced.
    async with store.begin() as session:
        again = await import_file(session, second)
        forced = await import_file(session, second, force=True)
    assert again.already_imported
    assert sum(forced.added.values()) == 0 and sum(forced.updated.values()) == 0

"""The feed formats on the shipped samples, their figures recomputed from the files; untrusted input refused."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from db.feeds import formats
from db.feeds.formats import AP, CLARITY, CSV, FeedError, read_feed

FEEDS = Path(__file__).parents[2] / "data" / "feeds"
AP_FILE = FEEDS / "20121106_me_fl_senate.json"


def test_ap_sample_gives_each_race_its_statewide_count() -> None:
    data = json.loads(AP_FILE.read_bytes())
    reading = read_feed(AP_FILE.read_bytes())
    assert reading.format == AP
    assert len(reading.contests) == len(data["races"]) == 2
    for race, contest in zip(data["races"], reading.contests, strict=True):
        unit = next(u for u in race["reportingUnits"] if u["level"] == "state")
        assert contest.key == race["raceID"]
        assert contest.choices == tuple(
            (f"{c['first']} {c['last']}", c["voteCount"]) for c in unit["candidates"]
        )
        assert contest.precincts == (unit["precinctsReporting"], unit["precinctsTotal"])
        assert contest.updated == unit["lastUpdated"]
    florida = reading.pick("10005")
    assert florida.name.startswith("FL U.S. Senate")
    assert reading.pick("fl u.s. senate general") is florida


def _clarity_figures(path: Path) -> list[tuple[str, str, list[tuple[str, int]]]]:
    root = ET.parse(path).getroot()
    return [
        (
            c.get("key", ""),
            c.get("text", ""),
            [(x.get("text", ""), int(x.get("totalVotes", "0"))) for x in c.findall("Choice")],
        )
        for c in root.findall("Contest")
    ]


@pytest.mark.parametrize("name", ["county.xml", "precinct.xml"])
def test_clarity_samples_give_each_contest_and_choice(name: str) -> None:
    path = FEEDS / name
    reading = read_feed(path.read_bytes())
    assert reading.format == CLARITY
    expected = _clarity_figures(path)
    assert [(c.key, c.name, list(c.choices)) for c in reading.contests] == expected
    assert all(c.choices for c in reading.contests)


def test_county_sample_has_its_precincts() -> None:
    contest = read_feed((FEEDS / "county.xml").read_bytes()).contests[0]
    root = ET.parse(FEEDS / "county.xml").getroot().find("Contest")
    assert root is not None
    assert contest.precincts == (
        int(root.get("precinctsReported", "")),
        int(root.get("precinctsParticipating", "")),
    )


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_clarity_inside_detail_zip_reads_the_same() -> None:
    body = (FEEDS / "precinct.xml").read_bytes()
    assert read_feed(_zipped("detail.xml", body)) == read_feed(body)


def test_zip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_UNZIPPED", 10_000)
    bomb = _zipped("detail.xml", b"<ElectionResult>" + b" " * 5_000_000 + b"</ElectionResult>")
    assert len(bomb) < 10_000
    with pytest.raises(FeedError, match="unzips to"):
        read_feed(bomb)


def test_zip_without_detail_xml_is_refused() -> None:
    with pytest.raises(FeedError, match=r"no detail\.xml"):
        read_feed(_zipped("summary.csv", b"a,b"))


def test_xml_entities_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<ElectionResult><Contest key='1' text='&b;'/></ElectionResult>"
    )
    with pytest.raises(FeedError, match="entities or a DTD"):
        read_feed(laughs)
    external = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ElectionResult>&x;</ElectionResult>'
    with pytest.raises(FeedError, match="entities or a DTD"):
        read_feed(external)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_files_are_malformed(cut: float) -> None:
    for path in (AP_FILE, FEEDS / "county.xml"):
        body = path.read_bytes()
        with pytest.raises(FeedError, match="malformed or cut short"):
            read_feed(body[: int(len(body) * cut)])


def test_csv_with_reporting_columns() -> None:
    body = b'candidate,votes,precincts_reporting,precincts_total\nBill Nelson,"184,935",17,6089\nConnie Mack,122658,,\n'
    reading = read_feed(body)
    assert reading.format == CSV
    (contest,) = reading.contests
    assert contest.choices == (("Bill Nelson", 184935), ("Connie Mack", 122658))
    assert contest.precincts == (17, 6089)


def test_csv_cut_short_or_without_columns_is_refused() -> None:
    with pytest.raises(FeedError, match="no votes"):
        read_feed(b"candidate,votes\nBill Nelson,184935\nConnie Mack\n")
    with pytest.raises(FeedError, match="`candidate` and `votes`"):
        read_feed(b"who,how many\nA,1\n")
    with pytest.raises(FeedError, match="empty"):
        read_feed(b"   ")


def test_json_that_is_not_ap_is_refused() -> None:
    with pytest.raises(FeedError, match="no `races`"):
        read_feed(b'{"results": []}')
    with pytest.raises(FeedError, match="not a whole number"):
        read_feed(
            b'{"races": [{"raceID": "1", "reportingUnits": [{"level": "state", "candidates": [{"first": "A", "last": "B", "voteCount": "12"}]}]}]}'
        )


def test_picking_a_contest_that_is_not_there_lists_them() -> None:
    reading = read_feed(AP_FILE.read_bytes())
    with pytest.raises(FeedError, match="say which with `contest=`"):
        reading.pick(None)
    with pytest.raises(FeedError, match=r"no contest 'governor'.*10005"):
        reading.pick("governor")

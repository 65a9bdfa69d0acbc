"""The feed formats racedesk reads, recognised from the content: AP Elections API v2 JSON, Clarity's
detail XML (also inside its detail.zip), and a plain CSV of candidate and votes.

Feeds are untrusted: XML is parsed with defusedxml (no entities, no DTDs), a zip is opened only for its
detail.xml and only up to `MAX_UNZIPPED` bytes, and anything that is not one of the formats, or is cut
short, raises `FeedError` with what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

MAX_UNZIPPED = 20 * 1024 * 1024  # a detail.xml of a whole state is a few MB

AP = "ap"
CLARITY = "clarity"
CSV = "csv"


class FeedError(ValueError):
    """A feed that cannot be read: not a known format, malformed, truncated or too large."""


@dataclass(frozen=True)
class FeedContest:
    """One contest as a feed counts it: its key and name, each choice's votes, and how far the count is."""

    key: str
    name: str
    choices: tuple[tuple[str, int], ...]  # (name as the feed spells it, votes)
    precincts: tuple[int, int] | None = None  # (reporting, total)
    reporting_pct: float | None = None
    updated: str | None = None

    @property
    def total(self) -> int:
        return sum(v for _, v in self.choices)


@dataclass(frozen=True)
class FeedReading:
    format: str
    contests: tuple[FeedContest, ...] = field(default_factory=tuple)

    def pick(self, wanted: str | None) -> FeedContest:
        """The contest a feed is attached to: by key or name (any case), or the only one."""
        if wanted:
            low = wanted.strip().lower()
            exact = [c for c in self.contests if low in (c.key.lower(), c.name.lower())]
            if len(exact) == 1:
                return exact[0]
            found = [c for c in self.contests if low in c.name.lower()]
            if len(found) == 1:
                return found[0]
            if not found and not exact:
                raise FeedError(f"The feed has no contest '{wanted}'. {self.listing()}")
            raise FeedError(f"'{wanted}' fits several contests in the feed. {self.listing()}")
        if len(self.contests) == 1:
            return self.contests[0]
        if not self.contests:
            raise FeedError("The feed holds no contest.")
        raise FeedError(
            f"The feed holds {len(self.contests)} contests: say which with `contest=`. {self.listing()}"
        )

    def listing(self, limit: int = 8) -> str:
        shown = ", ".join(f"{c.key} ({c.name})" for c in self.contests[:limit])
        more = f" and {len(self.contests) - limit} more" if len(self.contests) > limit else ""
        return f"Its contests: {shown}{more}."


def read_feed(body: bytes) -> FeedReading:
    """Read a feed, recognising its format from the content."""
    if body.startswith(b"PK\x03\x04"):
        return parse_clarity(_detail_from_zip(body))
    text = body.lstrip()
    if text.startswith((b"{", b"[")):
        return parse_ap(body)
    if text.startswith(b"<"):
        return parse_clarity(body)
    if text:
        return parse_csv(body)
    raise FeedError("The feed is empty.")


# ------------------------------------------------------------------ AP Elections API v2


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedError(f"{what} is not a whole number ({value!r}).")
    return value


def parse_ap(body: bytes) -> FeedReading:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as problem:
        raise FeedError(f"The JSON is malformed or cut short ({problem}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("races"), list):
        raise FeedError("This JSON is not an AP Elections API feed (it has no `races`).")
    contests = []
    for race in data["races"]:
        if not isinstance(race, dict):
            raise FeedError("A race in the AP feed is not an object.")
        units = race.get("reportingUnits") or []
        top = next(
            (u for u in units if isinstance(u, dict) and u.get("level") in ("state", "national")), None
        )
        if top is None:
            top = units[0] if units and isinstance(units[0], dict) else None
        if top is None:
            continue
        state = str(top.get("statePostal") or "")
        office = str(race.get("officeName") or race.get("officeID") or "")
        party = f" {race['party']}" if race.get("party") else ""
        seat = f" {race['seatName']}" if race.get("seatName") else ""
        name = f"{state} {office}{seat} {race.get('raceType') or ''}{party}".strip()
        choices = []
        for candidate in top.get("candidates") or []:
            person = " ".join(str(candidate.get(k) or "") for k in ("first", "last")).strip()
            choices.append((person, _whole(candidate.get("voteCount", 0), f"{person}'s voteCount")))
        precincts = None
        if "precinctsTotal" in top:
            precincts = (
                _whole(top.get("precinctsReporting", 0), "precinctsReporting"),
                _whole(top["precinctsTotal"], "precinctsTotal"),
            )
        pct = top.get("precinctsReportingPct")
        contests.append(
            FeedContest(
                key=str(race.get("raceID") or name),
                name=name,
                choices=tuple(choices),
                precincts=precincts,
                reporting_pct=float(pct)
                if isinstance(pct, int | float) and not isinstance(pct, bool)
                else None,
                updated=str(top["lastUpdated"]) if top.get("lastUpdated") else None,
            )
        )
    return FeedReading(AP, tuple(contests))


# ------------------------------------------------------------------ Clarity detail.xml


def _detail_from_zip(body: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        names = [i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1].lower() == "detail.xml"]
        if not names:
            raise FeedError("The zip holds no detail.xml.")
        info = names[0]
        if info.file_size > MAX_UNZIPPED:
            raise FeedError(
                f"detail.xml unzips to {info.file_size:,} bytes, more than the {MAX_UNZIPPED:,} allowed."
            )
        with archive.open(info) as member:
            data = member.read(MAX_UNZIPPED + 1)  # the header may lie: read no more than allowed
    except (zipfile.BadZipFile, EOFError, ValueError) as problem:
        if isinstance(problem, FeedError):
            raise
        raise FeedError(f"The zip is malformed or cut short ({problem}).") from None
    if len(data) > MAX_UNZIPPED:
        raise FeedError(f"detail.xml unzips to more than the {MAX_UNZIPPED:,} bytes allowed.")
    return data


def _int_attr(element: Element, name: str) -> int | None:
    raw = element.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise FeedError(f"{element.tag} {name}={raw!r} is not a whole number.") from None


def parse_clarity(body: bytes) -> FeedReading:
    try:
        root = safe_xml.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as problem:
        raise FeedError(f"The XML declares entities or a DTD, which feeds may not ({problem}).") from None
    except Exception as problem:  # ParseError: malformed or cut short
        raise FeedError(f"The XML is malformed or cut short ({problem}).") from None
    if root.tag != "ElectionResult":
        raise FeedError(f"This XML is not a Clarity detail.xml (its root is <{root.tag}>).")
    updated = root.findtext("Timestamp")
    contests = []
    for contest in root.findall("Contest"):
        choices = []
        for choice in contest.findall("Choice"):
            votes = _int_attr(choice, "totalVotes")
            if votes is None:
                raise FeedError(f"Choice {choice.get('text')!r} has no totalVotes.")
            choices.append((choice.get("text") or "", votes))
        total = _int_attr(contest, "precinctsParticipating")
        reported = _int_attr(contest, "precinctsReported")
        if reported is None:
            reported = _int_attr(contest, "precinctsReporting")
        pct_raw = contest.get("precinctsReportingPercent")
        try:
            pct = float(pct_raw) if pct_raw else None
        except ValueError:
            raise FeedError(f"precinctsReportingPercent={pct_raw!r} is not a number.") from None
        contests.append(
            FeedContest(
                key=contest.get("key") or "",
                name=contest.get("text") or "",
                choices=tuple(choices),
                precincts=(reported, total) if reported is not None and total is not None else None,
                reporting_pct=pct,
                updated=updated,
            )
        )
    return FeedReading(CLARITY, tuple(contests))


# ------------------------------------------------------------------ plain CSV

CSV_NAME = ("candidate", "name", "choice")
CSV_VOTES = ("votes", "votecount", "total")


def parse_csv(body: bytes) -> FeedReading:
    """`candidate,votes` with optional `precincts_reporting`, `precincts_total`, `reporting` (%) columns,
    read from the first row that has them; an optional `contest` column names the contest."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError("The CSV is not UTF-8 text.") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    header = {h.strip().lower(): h for h in (rows[0].keys() if rows else [])}
    name_col = next((header[h] for h in CSV_NAME if h in header), None)
    votes_col = next((header[h] for h in CSV_VOTES if h in header), None)
    if name_col is None or votes_col is None:
        raise FeedError("This is not a feed racedesk reads: a CSV needs `candidate` and `votes` columns.")

    def number(row: dict[str, Any], column: str, whole: bool = True) -> Any:
        raw = (row.get(header[column]) or "").strip().replace(",", "") if column in header else ""
        if not raw:
            return None
        try:
            return int(raw) if whole else float(raw.rstrip("%"))
        except ValueError:
            raise FeedError(f"{column}={raw!r} is not a number.") from None

    choices = []
    for row in rows:
        if None in row:  # more fields than the header: a broken line
            raise FeedError("A CSV line has more fields than the header.")
        votes = number(row, votes_col.strip().lower())
        if votes is None:
            raise FeedError(f"{row.get(name_col)!r} has no votes (the file may be cut short).")
        choices.append(((row.get(name_col) or "").strip(), votes))
    first = rows[0]
    reporting, total = number(first, "precincts_reporting"), number(first, "precincts_total")
    name = (first.get(header["contest"]) or "").strip() if "contest" in header else ""
    return FeedReading(
        CSV,
        (
            FeedContest(
                key=name or "csv",
                name=name or "the CSV's contest",
                choices=tuple(choices),
                precincts=(reporting, total) if reporting is not None and total is not None else None,
                reporting_pct=number(first, "reporting", whole=False),
            ),
        ),
    )

"""Importers: each parses one public source into a `racedesk/1` document (docs/data-format.md).

Parsers are pure (`parse(path_or_fileobj, *, skip_bad=False) -> ParsedImport`); storing goes
through `db.importers.run.import_file`, which hands the document to the one writer, `db.dataset`.

| format | source | module |
|---|---|---|
| fivethirtyeight-polls | FiveThirtyEight's poll files of every office and layout (`senate_polls.csv`, `house_polls.csv`, ...) | fivethirtyeight |
| medsl | MEDSL U.S. Senate 1976-2020 `1976-2020-senate.csv` (and 1976-2022), U.S. House 1976-2022, by column names | medsl |
| medsl-president | MEDSL U.S. President by state 1976-2020 `1976-2020-president.csv` | medsl_president |
| openelections | OpenElections precinct/county CSVs | openelections |
| al-sos-primary | Alabama Secretary of State primary precinct zip (67 county .xls) | al_sos |
| racedesk | racedesk/1 JSON | racedesk |
| fec-candidates | the FEC's candidate master file `cn.txt` (headerless, `|`-separated) | fec |
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from db import limits
from db.importers import al_sos, fec, files, fivethirtyeight, medsl, medsl_president, openelections, racedesk
from db.importers.common import BadLine, ParsedImport, ParseError, Source

FORMATS = (
    "fivethirtyeight-polls",
    "medsl",
    "medsl-president",
    "openelections",
    "al-sos-primary",
    "racedesk",
    "fec-candidates",
)

PARSERS: dict[str, Callable[..., ParsedImport]] = {
    fivethirtyeight.FORMAT: fivethirtyeight.parse,
    medsl.FORMAT: medsl.parse,
    medsl_president.FORMAT: medsl_president.parse,
    openelections.FORMAT: openelections.parse,
    al_sos.FORMAT: al_sos.parse,
    racedesk.FORMAT: racedesk.parse,
    fec.FORMAT: fec.parse,
}


class UnknownFormat(ValueError):
    """detect_format could not tell what a file is."""


def detect_format(path: str | os.PathLike[str], name: str | None = None) -> str:
    """The format of a file, from its first bytes (its header), not its name.

    Raises UnknownFormat when it is none racedesk reads, ParseError when it looks like one but cannot be
    read (a zip that is not one, JSON nested too deep). `name` is how messages call the file."""
    name = name or Path(path).name
    with open(path, "rb") as handle:
        head = handle.read(4096)
        if not head:
            raise UnknownFormat(f"{name}: the file is empty")
        if head.startswith(b"PK"):
            try:
                archive = files.open_archive(handle)
            except ParseError as problem:
                if problem.bad.reason.startswith(files.NOT_A_ZIP):
                    raise UnknownFormat(f"{name}: starts like a zip, but {problem.bad.reason}") from None
                raise
            with archive:
                if any(name.lower().endswith(".xls") for name in archive.namelist()):
                    return al_sos.FORMAT
            raise UnknownFormat(f"{name}: a zip without .xls workbooks")
    text = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if text.startswith(("{", "[")):
        return (
            racedesk.FORMAT
            if '"racedesk/1"' in text or _json_format(path) == "racedesk/1"
            else _unknown(name)
        )
    if fec.looks_like(text.splitlines()[0]):  # headerless: known by its first line's content
        return fec.FORMAT
    header = (
        {column.strip().strip('"').lower() for column in text.splitlines()[0].split(",")} if text else set()
    )
    if {"question_id", "poll_id", "pct"} <= header:
        return fivethirtyeight.FORMAT
    if {"candidatevotes", "state_po", "year"} <= header and "stage" not in header:
        return medsl_president.FORMAT  # the president file has no stage column
    if {"candidatevotes", "state_po", "year"} <= header:
        return medsl.FORMAT
    if {"county", "office", "candidate", "votes"} <= header:
        return openelections.FORMAT
    return _unknown(name)


def _json_format(path: str | os.PathLike[str]) -> Any:
    """The document's `format`; a JSON file that cannot be read raises ParseError saying why."""
    with open(path, "rb") as handle:
        doc = files.load_json(files.read_limited(handle, limits.MAX_JSON_BYTES))
    return doc.get("format") if isinstance(doc, dict) else None


def _unknown(name: str) -> str:
    raise UnknownFormat(f"{name}: not one of {', '.join(FORMATS)}")


def parse(source: Source, fmt: str = "auto", *, skip_bad: bool = False, **options: Any) -> ParsedImport:
    """Parse with the named format's parser (or the detected one, for a path)."""
    if fmt == "auto":
        if not isinstance(source, str | os.PathLike):
            raise UnknownFormat("name the format of an open file")
        fmt = detect_format(source)
    if fmt not in PARSERS:
        raise UnknownFormat(f"{fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        return PARSERS[fmt](source, skip_bad=skip_bad, **options)
    except UnicodeDecodeError:
        if isinstance(source, str | os.PathLike):
            raise files.not_utf8(source) from None
        raise files.refuse("not UTF-8; save the file as UTF-8") from None


__all__ = ["FORMATS", "BadLine", "ParseError", "ParsedImport", "UnknownFormat", "detect_format", "parse"]

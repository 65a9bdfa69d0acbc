"""racedesk's own format (`racedesk/1` JSON, docs/data-format.md): read as is.

The document is checked for its `format` and its top-level shape here; `db.dataset` checks the rest
when it stores it.
"""

from __future__ import annotations

import io
from typing import Any

from db import limits
from db.importers.common import BadLine, ParsedImport, ParseError, Source, open_binary, source_name
from db.importers.files import load_json, read_limited

FORMAT = "racedesk"
DOCUMENT_FORMAT = "racedesk/1"


def parse(source: Source, *, skip_bad: bool = False) -> ParsedImport:
    """`skip_bad` has nothing to skip here: a document that does not parse is refused whole."""
    if isinstance(source, io.TextIOBase):
        doc: Any = load_json(source.read(limits.MAX_JSON_BYTES + 1))
    else:
        with open_binary(source) as handle:
            doc = load_json(read_limited(handle, limits.MAX_JSON_BYTES))
    if not isinstance(doc, dict) or doc.get("format") != DOCUMENT_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ParseError(BadLine(1, f"not a {DOCUMENT_FORMAT} document (its format is {found!r})"))
    for part in ("candidates", "races", "baselines"):
        if not isinstance(doc.get(part, []), list):
            raise ParseError(BadLine(1, f"{part!r} must be a list"))
    rows = len(doc.get("races", [])) + len(doc.get("candidates", []))
    return ParsedImport(FORMAT, doc, [], [], rows, source_name(source))

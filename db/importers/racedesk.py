"""racedesk's own format (`racedesk/1` JSON, docs/data-format.md): read as is.

The document is checked for its `format` and its top-level shape here; `db.dataset` checks the rest
when it stores it.
"""

from __future__ import annotations

import json
from typing import Any

from db.importers.common import BadLine, ParsedImport, ParseError, Source, open_text, source_name

FORMAT = "racedesk"
DOCUMENT_FORMAT = "racedesk/1"


def parse(source: Source, *, skip_bad: bool = False) -> ParsedImport:
    """`skip_bad` has nothing to skip here: a document that does not parse is refused whole."""
    with open_text(source) as stream:
        text = stream.read()
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as problem:
        raise ParseError(
            BadLine(problem.lineno, f"not JSON: {problem.msg} (column {problem.colno})")
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != DOCUMENT_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ParseError(BadLine(1, f"not a {DOCUMENT_FORMAT} document (its format is {found!r})"))
    for part in ("candidates", "races", "baselines"):
        if not isinstance(doc.get(part, []), list):
            raise ParseError(BadLine(1, f"{part!r} must be a list"))
    rows = len(doc.get("races", [])) + len(doc.get("candidates", []))
    return ParsedImport(FORMAT, doc, [], [], rows, source_name(source))

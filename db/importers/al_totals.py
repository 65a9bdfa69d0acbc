"""Make the statewide totals file the default store ships, from the AL Secretary of State's zip.

    python -m db.importers.al_totals "data/public/2020 Primary Precinct Results.zip" \\
        data/public/al-2020-primary-totals.json

The output is a racedesk/1 document (what `db.importers.al_sos.parse` makes of the zip) whose
source names the zip and its SHA-256; tests/db/importers recomputes it from the zip and compares.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from db.importers.al_sos import totals_document


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m db.importers.al_totals <primary precinct results .zip> <totals .json>")
        return 2
    document = totals_document(argv[0])
    Path(argv[1]).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

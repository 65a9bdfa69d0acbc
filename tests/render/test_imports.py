"""The import replies: the dry run, the import, and why nothing was written."""

from __future__ import annotations

from collections import Counter

from db.importers.run import ImportReport
from render import limits
from render.imports import dry_run_text, failed_text, imported_text, nothing_to_import_text, summary


def report(**fields: object) -> ImportReport:
    return ImportReport(name="senate_polls.csv", format="538-polls", rows=12, **fields)  # type: ignore[arg-type]


def test_the_dry_run_and_the_import() -> None:
    dry = report(dry_run=True, added=Counter(polls=3))
    assert dry_run_text("senate_*polls*.csv", dry) == (
        "Dry run of **senate\\_\\*polls\\*.csv**: senate\\_polls.csv (dry run): would add 3 polls "
        "(12 rows read in 0.0 s)"
    )
    assert imported_text(report(added=Counter(polls=3))).startswith(
        "Imported. senate\\_polls.csv: added 3 polls"
    )
    assert nothing_to_import_text(report(already_imported=True)) == (
        "Nothing to import: senate\\_polls.csv: already imported; nothing changed"
    )


def test_a_long_report_fits_one_message() -> None:
    long = report(merges=[f"name {i} " * 20 for i in range(500)])
    assert len(summary(long)) <= 1800
    assert len(dry_run_text("f" * 300, long)) <= limits.CONTENT
    assert len(failed_text(ValueError("x" * 5000))) <= limits.CONTENT
    assert failed_text(ValueError("bad *row*")) == "Import failed, nothing was written: bad \\*row\\*"

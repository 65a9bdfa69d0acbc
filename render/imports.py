"""The replies of `import`: the dry run, the import, and why nothing was written.

Pure: data in, text out, within Discord's limits. File names and problems are escaped.
"""

from __future__ import annotations

from db.importers.run import ImportReport
from render.format import escape
from render.limits import CONTENT, clip

SUMMARY_MAX = 1800
NOT_CONFIRMED = "This import was not confirmed in time; nothing was written."
CANCELLED = "Import cancelled; nothing was written."
ONLY_THE_MODERATOR = "Only the moderator who attached the file can confirm this import."


def summary(report: ImportReport) -> str:
    """What an import changed (or would change), counted."""
    return clip(escape(report.describe()), SUMMARY_MAX)


def dry_run_text(filename: str, report: ImportReport) -> str:
    return clip(f"Dry run of **{escape(filename)}**: {summary(report)}", CONTENT)


def nothing_to_import_text(report: ImportReport) -> str:
    return f"Nothing to import: {summary(report)}"


def imported_text(report: ImportReport) -> str:
    return f"Imported. {summary(report)}"


def failed_text(problem: Exception) -> str:
    return clip(f"Import failed, nothing was written: {escape(str(problem))}", CONTENT)


def refused_text(problem: Exception) -> str:
    """The file could not be read (the dry run): nothing was written."""
    return f"Nothing was written: {escape(str(problem))}"

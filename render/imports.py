"""The replies of `import`: the dry run, the import, and why nothing was written.

Pure: data in, text out, within Discord's limits. File names and problems are escaped.
"""

from __future__ import annotations

from db.importers.run import ImportReport
from db.limits import MAX_UPLOAD_BYTES
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


def no_longer_allowed_text(reason: str) -> str:
    """The confirming click of someone who may no longer write shared data: nothing is written."""
    return f"You can no longer import: {reason} Nothing was written."


def too_big_text(size: int) -> str:
    return f"That file is over {size / 1_048_576:,.0f} MB; the limit is {MAX_UPLOAD_BYTES // 1_048_576} MB."


def refused_text(problem: Exception) -> str:
    """The file could not be read (the dry run): nothing was written."""
    return f"Nothing was written: {escape(str(problem).removesuffix('; nothing was imported'))}"

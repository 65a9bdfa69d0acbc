"""What an import did, or why it wrote nothing: the report people read after `racedesk import`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from db.importers.common import BadLine


class ImportFailed(Exception):
    """An import that wrote nothing: the file, and the line (or document path) at fault."""

    def __init__(self, name: str, reason: str, bad: BadLine | None = None) -> None:
        super().__init__(f"{name}: {reason.rstrip('.')}; nothing was imported")
        self.name = name
        self.reason = reason
        self.bad = bad

    @property
    def line(self) -> int | None:
        return self.bad.line if self.bad else None


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    name: str
    format: str = ""
    sha256: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    already_imported: bool = False
    rows: int = 0
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    merges: list[str] = field(default_factory=list)
    ambiguities: list[str] = field(default_factory=list)
    skipped: list[BadLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    parts: list[ImportReport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(+self.added) or bool(+self.updated)

    @classmethod
    def combine(cls, name: str, parts: list[ImportReport]) -> ImportReport:
        report = cls(name=name, format="+".join(dict.fromkeys(p.format for p in parts)), parts=parts)
        for part in parts:
            report.dry_run |= part.dry_run
            report.rows += part.rows
            report.added += part.added
            report.updated += part.updated
            report.merges += part.merges
            report.ambiguities += part.ambiguities
            report.skipped += part.skipped
            report.notes += part.notes
            report.seconds += part.seconds
        report.already_imported = bool(parts) and all(p.already_imported for p in parts)
        return report

    def describe(self) -> str:
        """A short summary for people: what changed, merged people, ambiguous names, skipped lines."""
        head = f"{self.name}" + (" (dry run)" if self.dry_run else "")
        if self.already_imported:
            return f"{head}: already imported; nothing changed"
        would = "would add" if self.dry_run else "added"
        parts = [f"{n:,} {kind}" for kind, n in sorted(self.added.items()) if n]
        changes = f"{would} {', '.join(parts)}" if parts else "nothing new"
        updated = [f"{n:,} {kind}" for kind, n in sorted(self.updated.items()) if n]
        if updated:
            changes += f"; {'would update' if self.dry_run else 'updated'} {', '.join(updated)}"
        lines = [f"{head}: {changes} ({self.rows:,} rows read in {self.seconds:.1f} s)"]
        if self.merges:
            lines.append(f"{len(self.merges)} spellings matched to known people: " + _some(self.merges))
        if self.ambiguities:
            lines.append(f"{len(self.ambiguities)} names left ambiguous: " + _some(self.ambiguities))
        if self.skipped:
            lines.append(
                f"{len(self.skipped)} bad lines skipped: " + _some([b.describe() for b in self.skipped])
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "rows": self.rows,
            "added": dict(self.added),
            "updated": dict(self.updated),
            "merges": self.merges,
            "ambiguities": self.ambiguities,
            "skipped": [b.describe() for b in self.skipped],
            "notes": self.notes,
        }


def _some(items: list[str], limit: int = 3) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")

"""The `racedesk/1` document (docs/data-format.md): `load` stores one, `export` writes the store out as one."""

from db.dataset.export import export_document
from db.dataset.load import FORMAT, DocumentError, DocumentLoader, LoadSummary, counts_digest, load_document

__all__ = [
    "FORMAT",
    "DocumentError",
    "DocumentLoader",
    "LoadSummary",
    "counts_digest",
    "export_document",
    "load_document",
]

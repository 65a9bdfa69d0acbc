"""Name normalisation shared by lookup, imports and reconciliation of people."""

from __future__ import annotations

import re
import unicodedata

TOKEN_LENGTH = 64  # NameToken.token; a longer word is still found by its first 64 letters
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "md", "phd"})
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation to spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = ascii_text.replace("'", "").replace("\u2019", "")
    return " ".join(_NON_WORD.sub(" ", ascii_text).split())


def name_key(name: str) -> str:
    """The key two spellings of one name share: "Roy S. Moore" -> "roy s moore", "DOUG JONES, JR." -> "doug jones"."""
    words = [w for w in fold(name).split() if w not in _SUFFIXES]
    return " ".join(words)


def name_tokens(name: str) -> set[str]:
    """Words worth indexing for prefix lookup (single letters are initials, not names)."""
    return {w[:TOKEN_LENGTH] for w in name_key(name).split() if len(w) > 1}


def surname(name: str) -> str:
    words = name_key(name).split()
    return words[-1] if words else ""

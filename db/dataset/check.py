"""The shape and the limits of a `racedesk/1` document, checked whole before anything of it is stored.

Every import ends here (the importers build such documents; a racedesk JSON file is one), so the numbers
are held to the same limits as the desk's commands (`db/limits.py`): shares 0-100, votes 0 to a billion,
sample sizes, cycles 1788-2100, no NaN or infinity, and text without control characters. A problem is a
`DocumentError` naming where in the document it is (`races[0].contests[1].results[0].counts.jones`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from db import limits


class DocumentError(ValueError):
    """The document does not follow docs/data-format.md; says where."""


Check = Callable[[Any, str], Any]


def _text(value: Any, where: str) -> Any:
    return limits.text(value, where)


def _label(value: Any, where: str) -> Any:
    """A short word or name: text, or a number some sources give (a district, a seat)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return limits.text(value, where)


def _flag(value: Any, where: str) -> Any:
    if not isinstance(value, bool):
        raise limits.OutOfRange(f"{where} must be true or false, not {value!r}"[:200])
    return value


def _votes(value: Any, where: str) -> Any:
    if isinstance(value, str):  # the format's counts are JSON numbers
        raise limits.OutOfRange(f"{where}: '{value[:40]}' is not a number of votes")
    return limits.votes(value, where)


def _numeric(check: Callable[[Any], Any]) -> Check:
    def run(value: Any, where: str) -> Any:
        if isinstance(value, str):
            raise limits.OutOfRange(f"{where}: '{value[:40]}' is a text, not a number")
        try:
            return check(value)
        except limits.OutOfRange as problem:
            raise limits.OutOfRange(f"{where}: {problem}") from None

    return run


_cycle = _numeric(limits.cycle)
_sample = _numeric(limits.sample_size)
_precincts = _numeric(limits.precincts)
_seats = _numeric(limits.seats)
_reporting = _numeric(limits.reporting)


def _share(value: Any, where: str) -> Any:
    if isinstance(value, str):
        raise limits.OutOfRange(f"{where}: '{value[:40]}' is a text, not a number")
    return limits.share(value, where)


def _list_of(check: Check) -> Check:
    def run(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise limits.OutOfRange(f"{where} must be a list")
        for i, item in enumerate(value):
            check(item, f"{where}[{i}]")
        return value

    return run


def _counts(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise limits.OutOfRange(f"{where} must be an object of name: votes")
    for key, votes in value.items():
        _text(key, f"{where} key")
        _votes(votes, f"{where}.{key}")
    return value


def _object(fields: dict[str, Check], required: tuple[str, ...] = (), after: Check | None = None) -> Check:
    def run(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise limits.OutOfRange(
                f"{where or 'the document'} must be an object, not {type(value).__name__}"
            )
        for name in required:
            if value.get(name) in (None, ""):
                raise limits.OutOfRange(f"{where} needs '{name}'")
        for name, check in fields.items():
            if value.get(name) is not None:
                check(value[name], f"{where}.{name}" if where else name)
        if after is not None:
            after(value, where)
        return value

    return run


def _answers_total(question: dict[str, Any], where: str) -> None:
    shares = [a["pct"] for a in question.get("answers") or [] if isinstance(a, dict) and "pct" in a]
    try:
        limits.shares_total(shares)
    except limits.OutOfRange as problem:
        raise limits.OutOfRange(f"{where}: {problem}") from None


_TEXTS = ("source", "url", "notes")
_candidate = _object(
    {
        "key": _text,
        "name": _text,
        "party": _text,
        "state": _text,
        "office_held": _text,
        "aliases": _list_of(_text),
    },
    required=("key", "name"),
)
_candidacy = _object(
    {
        "candidate": _text,
        "party": _text,
        "incumbent": _flag,
        "withdrawn": _flag,
        "outcome": _text,
        "votes": _votes,
    },
    required=("candidate",),
)
_result = _object(
    {
        "taken_at": _text,
        "unofficial": _flag,
        "final": _flag,
        "reporting_pct": _reporting,
        "reporting_basis": _text,
        "precincts_reporting": _precincts,
        "precincts_total": _precincts,
        "source": _text,
        "counts": _counts,
        "other": _counts,
    }
)
_call = _object({"kind": _text, "candidates": _list_of(_text), "source": _text, "called_at": _text})
_contest = _object(
    {
        "stage": _text,
        "party": _text,
        "date": _text,
        "poll_close": _text,
        "status": _text,
        "source": _text,
        "candidates": _list_of(_candidacy),
        "results": _list_of(_result),
        "call": _call,
    }
)
_answer = _object({"candidate": _text, "choice": _text, "party": _text, "pct": _share}, required=("pct",))
_question = _object(
    {
        "key": _text,
        "stage": _text,
        "party": _text,
        "hypothetical": _flag,
        "n": _sample,
        "population": _text,
        "answers": _list_of(_answer),
    },
    after=_answers_total,
)
_poll = _object(
    {
        "key": _text,
        "pollster": _text,
        "sponsor": _text,
        "partisan": _text,
        "internal": _flag,
        "start": _text,
        "end": _text,
        "n": _sample,
        "population": _text,
        "methodology": _text,
        "questions": _list_of(_question),
        **dict.fromkeys(_TEXTS, _text),
    }
)
_endorsement = _object(
    {
        "endorser": _text,
        "kind": _text,
        "candidate": _text,
        "stance": _text,
        "date": _text,
        "quote": _text,
        **dict.fromkeys(_TEXTS, _text),
    }
)
_race = _object(
    {
        "cycle": _cycle,
        "state": _text,
        "office": _text,
        "seat": _label,
        "special": _flag,
        "incumbent": _text,
        "incumbent_party": _text,
        "contests": _list_of(_contest),
        "polls": _list_of(_poll),
        "endorsements": _list_of(_endorsement),
        **dict.fromkeys(_TEXTS, _text),
    },
    required=("cycle", "state", "office"),
)
_baseline = _object(
    {"cycle": _cycle, "office": _text, "party": _text, "seats_not_up": _seats, "source": _text},
    required=("cycle", "office", "party", "seats_not_up"),
)
_document = _object(
    {
        "format": _text,
        "source": _text,
        "candidates": _list_of(_candidate),
        "races": _list_of(_race),
        "baselines": _list_of(_baseline),
    }
)


def check_document(doc: Any) -> None:
    """Raises DocumentError at the first value that breaks the format or a limit."""
    try:
        _document(doc, "")
    except limits.OutOfRange as problem:
        raise DocumentError(str(problem)) from None

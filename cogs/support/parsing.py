"""Pure parsing for the member commands: poll filters, result stages, pages (dates: cogs.support.dates).

Nothing here touches Discord or the database, so every rule is tested directly.
Each parser raises `UsageError` (cogs.support.errors) with a short explanation; cogs
may raise it again with a better example.
"""

from __future__ import annotations

from dataclasses import dataclass

from cogs.support.errors import UsageError
from db.vocabulary import (
    PARTY_WORDS,
    POPULATION_WORDS,
    STAGE_PHRASES,
    STAGE_WORDS,
    fold_word,
    population_of,
    stage_of,
    stages_meant,
)

# ---------------------------------------------------------------- poll queries

CHART_WORDS = frozenset({"chart", "graph", "plot", "trend"})
PAGE_WORDS = frozenset({"page", "pg", "p"})


@dataclass
class PollQuery:
    race_text: str
    population: str | None = None
    since_text: str | None = None
    page: int | None = None
    chart: bool = False


def _page_number(word: str | None) -> int:
    if word is None or not word.isdigit() or not 1 <= int(word) <= 10_000:
        raise UsageError("Give the page as a number, e.g. `page 2`.")
    return int(word)


def split_page(text: str) -> tuple[str, int | None]:
    """ "alabama page 2" -> ("alabama", 2); any other text comes back as it was."""
    words = text.split()
    for i, word in enumerate(words):
        if word.lower() in ("page", "pg"):
            page = _page_number(words[i + 1] if i + 1 < len(words) else None)
            return " ".join(words[:i] + words[i + 2 :]), page
    return text, None


def split_poll_query(text: str) -> PollQuery:
    """Separate the race from the filters: `alabama lv since june page 2 chart`."""
    words = text.split()
    query = PollQuery("")
    rest: list[str] = []
    i = 0
    populations = {w for w in POPULATION_WORDS if len(w) > 1 and " " not in w}
    keywords = populations | CHART_WORDS | {"page", "pg", "since", "after", "from"}
    while i < len(words):
        word = words[i].lower().strip(",")
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if following and population_of(f"{word} {following}") is not None:  # "likely voters", "all adults"
            query.population = population_of(f"{word} {following}")
            i += 2
        elif word in populations:  # one letter ("a") only as the desk's `pop=a`
            query.population = population_of(word)
            i += 1
        elif word in CHART_WORDS:
            query.chart = True
            i += 1
        elif word in ("page", "pg"):
            query.page = _page_number(following or None)
            i += 2
        elif word in ("since", "after", "from"):
            j = i + 1
            while j < len(words) and words[j].lower().strip(",") not in keywords:
                j += 1
            if j == i + 1:
                raise UsageError(f"Since when? Give a date after `{word}`, e.g. `since june`.")
            query.since_text = " ".join(words[i + 1 : j])
            i = j
        else:
            rest.append(words[i])
            i += 1
    query.race_text = " ".join(rest)
    return query


# ---------------------------------------------------------------- result queries


@dataclass
class ResultsQuery:
    race_text: str
    stages: tuple[str, ...] = ()  # the stages meant, in order of preference; () for "the latest"
    stage: str | None = None  # the stage said: a Stage value or ANY_RUNOFF (db.vocabulary)
    party: str | None = None
    history: bool = False


def split_results_query(text: str, history: bool = True) -> ResultsQuery:
    """ "alabama runoff", "georgia general runoff history", "alabama gop primary".

    With `history` False, "history" is left in the race text (for commands that have no history)."""
    words = text.split()
    lowered = [fold_word(w) for w in words]
    keep = [True] * len(words)
    query = ResultsQuery("")
    for i, word in enumerate(lowered):
        if history and word in ("history", "changes", "timeline"):
            query.history, keep[i] = True, False
    said: list[str] = []
    for i in range(len(lowered) - 1):  # "general runoff", "top two", "run off"
        if all(keep[i : i + 2]) and tuple(lowered[i : i + 2]) in STAGE_PHRASES:
            said += lowered[i : i + 2]
            keep[i : i + 2] = [False, False]
    for i, word in enumerate(lowered):
        if keep[i] and word in STAGE_WORDS:
            said.append(word)
            keep[i] = False
    if said:  # a party word counts beside a stage word; alone it is left to the race lookup
        for i, word in enumerate(lowered):
            if keep[i] and word in PARTY_WORDS:
                said.append(word)
                keep[i] = False
        query.stage, query.party = stage_of(said)
        query.stages = stages_meant(query.stage)
    query.race_text = " ".join(w for w, k in zip(words, keep, strict=True) if k)
    return query

"""The election vocabulary: the words people type for offices, stages, parties, populations, endorser kinds
and stances, and the labels shown for the values stored.

Every parser (the race lookup, the members' commands, the desk) and every renderer reads these tables, so a
word means one thing everywhere:

- "runoff" (also "run-off", "run off") is `ANY_RUNOFF`: whichever runoff the race has; when it has both a
  primary runoff and a general runoff, the primary runoff (`preferred_stage`). Say "general runoff" for the
  other. Next to a party word ("gop runoff") or "primary" it is the primary runoff; next to "general", the
  general runoff.
- "primary" is a party's primary or the jungle primary, the party primary first when a race has both.
- A party word is the party's code: "rep", "gop", "republican" are REP; "dem", "democratic" and the state
  affiliates (Minnesota's "dfl", North Dakota's "npl") are DEM; "lib" is LIB; "green", "grn" are GRN.
- A party word alone, where a stage is needed (the desk), is that party's primary. The members' commands,
  where the stage is optional, read a party word only beside a stage word; the race lookup reads one that is
  someone's name ("mark green") as the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from db.models import CountKind, EndorserKind, Office, Population, Stage, Stance

ANY_RUNOFF = "runoff"  # said "runoff": the primary runoff, or the general runoff when only that exists

# ------------------------------------------------------------------ words -> values

OFFICE_WORDS: dict[str, str] = {
    "senate": Office.SENATE,
    "senator": Office.SENATE,
    "sen": Office.SENATE,
    "ussenate": Office.SENATE,
    "house": Office.HOUSE,
    "congress": Office.HOUSE,
    "district": Office.HOUSE,
    "cd": Office.HOUSE,
    "governor": Office.GOVERNOR,
    "gov": Office.GOVERNOR,
    "gubernatorial": Office.GOVERNOR,
    "president": Office.PRESIDENT,
    "presidential": Office.PRESIDENT,
    "pres": Office.PRESIDENT,
    "potus": Office.PRESIDENT,
    "ushouse": Office.HOUSE,
    "congressional": Office.HOUSE,
}

#: One word that names a stage: a Stage value, or ANY_RUNOFF.
STAGE_WORDS: dict[str, str] = {
    "primary": Stage.PRIMARY,
    "primaries": Stage.PRIMARY,
    "jungle": Stage.JUNGLE_PRIMARY,
    "runoff": ANY_RUNOFF,
    "run-off": ANY_RUNOFF,
    "runoffs": ANY_RUNOFF,
    "general": Stage.GENERAL,
}
#: Phrases of several words that name a stage, for parsers that read free text; longest first.
STAGE_PHRASES: dict[tuple[str, ...], str] = {
    ("general", "runoff"): Stage.GENERAL_RUNOFF,
    ("general", "run-off"): Stage.GENERAL_RUNOFF,
    ("primary", "runoff"): Stage.PRIMARY_RUNOFF,
    ("primary", "run-off"): Stage.PRIMARY_RUNOFF,
    ("jungle", "primary"): Stage.JUNGLE_PRIMARY,
    ("top", "two"): Stage.JUNGLE_PRIMARY,
    ("run", "off"): ANY_RUNOFF,
}

#: The stored stages a said stage can mean, in order of preference.
STAGES_MEANT: dict[str, tuple[str, ...]] = {
    Stage.PRIMARY: (Stage.PRIMARY, Stage.JUNGLE_PRIMARY),
    ANY_RUNOFF: (Stage.PRIMARY_RUNOFF, Stage.GENERAL_RUNOFF),
    Stage.JUNGLE_PRIMARY: (Stage.JUNGLE_PRIMARY,),
    Stage.PRIMARY_RUNOFF: (Stage.PRIMARY_RUNOFF,),
    Stage.GENERAL: (Stage.GENERAL,),
    Stage.GENERAL_RUNOFF: (Stage.GENERAL_RUNOFF,),
}

PARTY_WORDS: dict[str, str] = {
    "rep": "REP",
    "gop": "REP",
    "republican": "REP",
    "republicans": "REP",
    "dem": "DEM",
    "dems": "DEM",
    "democrat": "DEM",
    "democrats": "DEM",
    "democratic": "DEM",
    "dfl": "DEM",  # Minnesota's Democratic-Farmer-Labor Party
    "democratic-farmer-labor": "DEM",
    "npl": "DEM",  # North Dakota's Democratic-Nonpartisan League
    "democratic-npl": "DEM",
    "lib": "LIB",
    "libertarian": "LIB",
    "libertarians": "LIB",
    "grn": "GRN",
    "green": "GRN",
    "greens": "GRN",
    "independent": "IND",
    "independents": "IND",
}

# Party names as official results files spell them (MEDSL's party_detailed) beyond the words above: state
# affiliates and minor parties. Read with party_named(); people's words stay the table above.
PARTY_NAMES_IN_RESULTS: dict[str, str] = {
    "democratic-nonpartisan league": "DEM",
    "minnesota green": "GRN",
    "mountain": "GRN",  # West Virginia's Green affiliate
    "pacific green": "PG",
    "unaffiliated": "IND",
    "non-affiliated": "IND",
    "no party affiliation": "IND",
    "nonpartisan": "IND",
    "unenrolled": "IND",
    "constitution": "CON",
    "constitution party": "CON",
    "conservative": "CON",
    "us taxpayers": "UST",
    "natural law": "NLP",
    "reform": "REF",
    "independent american": "IAP",
    "alaskan independence party": "AKI",
    "independence": "IP",
    "liberty union": "LBU",
    "working families": "WF",
    "other": "OTH",
}

# Votes that are no candidate's: as the desk names them (`writein=`, `undervotes=`), and their labels.
COUNT_KIND_WORDS: dict[str, str] = {
    "writein": CountKind.WRITEIN,
    "write-in": CountKind.WRITEIN,
    "write-ins": CountKind.WRITEIN,
    "writeins": CountKind.WRITEIN,
    "under": CountKind.UNDER,
    "undervotes": CountKind.UNDER,
    "over": CountKind.OVER,
    "overvotes": CountKind.OVER,
}

POPULATION_WORDS: dict[str, str] = {
    "lv": Population.LIKELY,
    "likely": Population.LIKELY,
    "likely voters": Population.LIKELY,
    "rv": Population.REGISTERED,
    "registered": Population.REGISTERED,
    "registered voters": Population.REGISTERED,
    "a": Population.ADULTS,
    "adult": Population.ADULTS,
    "adults": Population.ADULTS,
    "all adults": Population.ADULTS,
    "v": Population.VOTERS,
    "voters": Population.VOTERS,
    "all voters": Population.VOTERS,
}

STANCE_WORDS: dict[str, str] = {
    "endorse": Stance.ENDORSE,
    "endorses": Stance.ENDORSE,
    "endorsed": Stance.ENDORSE,
    "support": Stance.ENDORSE,
    "supports": Stance.ENDORSE,
    "oppose": Stance.OPPOSE,
    "opposes": Stance.OPPOSE,
    "opposed": Stance.OPPOSE,
    "against": Stance.OPPOSE,
    "withhold": Stance.WITHHOLD,
    "withholds": Stance.WITHHOLD,
    "withheld": Stance.WITHHOLD,
    "refuse": Stance.WITHHOLD,
    "refused": Stance.WITHHOLD,
    "rescind": Stance.RESCIND,
    "rescinds": Stance.RESCIND,
    "rescinded": Stance.RESCIND,
    "withdraw": Stance.RESCIND,
    "withdrawn": Stance.RESCIND,
}


def kind_key(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


ENDORSER_KIND_WORDS: dict[str, str] = {kind_key(k.value): k.value for k in EndorserKind} | {
    "ex president": EndorserKind.FORMER_PRESIDENT,
    "org": EndorserKind.ORGANIZATION,
    "organisation": EndorserKind.ORGANIZATION,
    "paper": EndorserKind.NEWSPAPER,
    "rep": EndorserKind.REPRESENTATIVE,
    "congressman": EndorserKind.REPRESENTATIVE,
    "congresswoman": EndorserKind.REPRESENTATIVE,
    "sen": EndorserKind.SENATOR,
    "gov": EndorserKind.GOVERNOR,
    "individual": EndorserKind.PERSON,
}

# ------------------------------------------------------------------ values -> labels

OFFICE_NAME: dict[str, str] = {
    Office.SENATE: "U.S. Senate",
    Office.HOUSE: "U.S. House",
    Office.GOVERNOR: "Governor",
    Office.PRESIDENT: "President",
}
STAGE_NAME: dict[str, str] = {
    Stage.PRIMARY: "primary",
    Stage.JUNGLE_PRIMARY: "jungle primary",
    Stage.PRIMARY_RUNOFF: "runoff",
    Stage.GENERAL: "general",
    Stage.GENERAL_RUNOFF: "general runoff",
}
PARTY_NAME: dict[str, str] = {
    "DEM": "Democratic",
    "REP": "Republican",
    "LIB": "Libertarian",
    "GRN": "Green",
    "IND": "Independent",
    "CON": "Constitution",
}
PARTY_LETTER: dict[str, str] = {"DEM": "D", "REP": "R", "LIB": "L", "GRN": "G", "IND": "I", "CON": "C"}
_LETTER_PARTY = {letter: code for code, letter in PARTY_LETTER.items()}
#: The short word that asks for a party's stage ("gop primary").
PARTY_SHORT: dict[str, str] = {"REP": "gop", "DEM": "dem", "LIB": "lib", "GRN": "green"}
COUNT_KIND_NAME: dict[str, str] = {
    CountKind.WRITEIN: "write-ins",
    CountKind.UNDER: "undervotes",
    CountKind.OVER: "overvotes",
}

POPULATION_NAME: dict[str, str] = {
    Population.LIKELY: "likely voters",
    Population.REGISTERED: "registered voters",
    Population.ADULTS: "adults",
    Population.VOTERS: "voters",
}

# ------------------------------------------------------------------ reading


def fold_word(word: str) -> str:
    return word.lower().strip(",")


def party_of(word: str) -> str | None:
    """ "gop" -> "REP", "DFL" -> "DEM"; None: not a party word."""
    return PARTY_WORDS.get(fold_word(word))


def party_named(name: str) -> str | None:
    """A party as a results file names it ("DEMOCRATIC-FARMER-LABOR", "Mountain") as a code; None: unknown."""
    folded = " ".join(name.lower().split())
    return PARTY_WORDS.get(folded) or PARTY_NAMES_IN_RESULTS.get(folded)


def party_code(value: str) -> str:
    """A party as a moderator writes it, as a code: a party word, a letter ("R") or a code ("CON")."""
    word = value.strip()
    return party_of(word) or _LETTER_PARTY.get(word.upper()) or word.upper()


def is_stage_word(word: str) -> bool:
    """A word that names a stage or a party."""
    folded = fold_word(word)
    return folded in STAGE_WORDS or folded in PARTY_WORDS


def stage_of(words: Sequence[str]) -> tuple[str | None, str | None]:
    """(stage, party) that stage and party words name together: "rep runoff" is the Republican primary
    runoff, "general runoff" the general runoff, "rep" alone the Republican primary. The stage is a Stage
    value or ANY_RUNOFF; None when no stage word was said and no party either."""
    party: str | None = None
    folded = [fold_word(w) for w in words]
    for word in folded:
        if word in PARTY_WORDS:
            party = PARTY_WORDS[word]
    stages = [STAGE_WORDS[w] for w in folded if w in STAGE_WORDS]
    for i in range(len(folded) - 1):
        phrase = STAGE_PHRASES.get((folded[i], folded[i + 1]))
        if phrase is not None:
            stages.insert(0, phrase)
    if Stage.GENERAL_RUNOFF in stages or (ANY_RUNOFF in stages and Stage.GENERAL in stages):
        return Stage.GENERAL_RUNOFF, party
    if Stage.PRIMARY_RUNOFF in stages or (ANY_RUNOFF in stages and (Stage.PRIMARY in stages or party)):
        return Stage.PRIMARY_RUNOFF, party
    if ANY_RUNOFF in stages:
        return ANY_RUNOFF, party
    if Stage.JUNGLE_PRIMARY in stages:
        return Stage.JUNGLE_PRIMARY, party
    if stages:
        return stages[0], party
    if party is not None:
        return Stage.PRIMARY, party  # "rep" alone: that party's primary
    return None, None


def stages_meant(stage: str | None) -> tuple[str, ...]:
    """The stored stages a said stage means, in order of preference; () for none said."""
    if stage is None:
        return ()
    return STAGES_MEANT.get(stage, (stage,))


def preferred_stage(meant: Iterable[str], present: Iterable[str]) -> str | None:
    """Of the stages meant (in order of preference), the first the race has: "runoff" in a race with both
    runoffs is the primary runoff."""
    have = set(present)
    return next((s for s in meant if s in have), None)


def population_of(word: str) -> str | None:
    """ "lv", "likely voters", "all adults" -> the Population value; None: not a population."""
    return POPULATION_WORDS.get(" ".join(word.lower().split()))


def stance_of(word: str) -> str | None:
    return STANCE_WORDS.get(word.strip().lower())


def endorser_kind_of(word: str) -> str | None:
    return ENDORSER_KIND_WORDS.get(kind_key(word))


# ------------------------------------------------------------------ labels


def party_name(party: str | None) -> str:
    return PARTY_NAME.get(party or "", party or "")


def stage_name(stage: str | None) -> str:
    return STAGE_NAME.get(stage or "", stage or "")


def office_name(office: str) -> str:
    return OFFICE_NAME.get(office, office)


def contest_name(stage: str, party: str | None) -> str:
    """ "Republican runoff", "general runoff": a contest in words, lower case unless a party leads."""
    name = stage_name(stage)
    return f"{party_name(party)} {name}" if party else name

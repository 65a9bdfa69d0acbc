"""The audit and undo replies: what each write did in words, an entry in full, a page of writes."""

from __future__ import annotations

import datetime as dt

from db.models import AuditEntry, Race
from db.writes.undo import UndoOutcome
from render import limits
from render.audit import describe, entry_embed, entry_line, no_writes_text, undone_text, writes_embed

AT = dt.datetime(2020, 11, 3, 20, 0, tzinfo=dt.UTC)
ALABAMA = Race(id=1, cycle=2020, state="AL", office="senate", seat="Class II", special=False)
GEORGIA = Race(id=2, cycle=2020, state="GA", office="senate", seat="", special=True)


def entry(id: int = 57, action: str = "result.add", **fields: object) -> AuditEntry:
    values: dict[str, object] = {"at": AT, "actor_id": 42, "actor_name": "mod", "entity": "x", "entity_id": 9}
    values.update(fields)
    return AuditEntry(id=id, action=action, **values)


def test_describe_says_what_each_write_did() -> None:
    result = entry(after={"counts": [1, 2, 3], "reporting_pct": 87.5, "source": "AP"})
    assert describe(result) == "result #9: 3 counts, 87.5% reporting, source AP"
    call = entry(action="call.add", after={"kind": "winner", "names": ["Tommy Tuberville"]})
    assert describe(call) == "call #9: winner Tommy Tuberville"
    too_close = entry(action="call.add", after={"kind": "too close"})
    assert describe(too_close) == "call #9: too close"
    removed = entry(action="poll.remove", before={"pollster": "Auburn", "end_date": "2020-10-01"})
    assert describe(removed) == "removed poll #9: Auburn, ended 2020-10-01"
    setting = entry(action="config.set", after={"guild_id": 5, "mod_role_id": 7})
    assert describe(setting) == "server setting mod role changed"
    assert describe(entry(action="race.add", after={"contest_ids": [1]})) == "race #9 added, 1 stage"
    assert describe(entry(action="something.new")) == "something.new"


def test_a_line_escapes_the_actor_and_names_the_race() -> None:
    line = entry_line(entry(actor_name="*bold*", race_id=1), {1: "2020 Alabama U.S. Senate"})
    assert line.startswith("`#57` <t:")
    assert "**\\*bold\\***" in line
    assert line.endswith(" · 2020 Alabama U.S. Senate")
    assert "undone by #60" in entry_line(entry(undone_by_id=60), {})


def test_an_entry_in_full_fits_however_big_its_before_and_after() -> None:
    big = {f"field{i}": "x" * 500 for i in range(40)}
    embed = entry_embed(entry(before=big, after=big, undoes_id=50, guild_id=None), ALABAMA)
    assert embed.title == "Audit #57 · result.add"
    assert "By **mod** (user 42)" in (embed.description or "")
    assert "Not from a server" in (embed.description or "")
    assert "Race: 2020 Alabama U.S. Senate (Class II)" in (embed.description or "")
    assert "Undoes #50" in (embed.description or "")
    assert [f.name for f in embed.fields] == ["Before", "After"]
    assert all(len(f.value or "") <= limits.FIELD_VALUE for f in embed.fields)
    assert (embed.fields[0].value or "").startswith("```json\n")
    assert len(embed) <= limits.EMBED_TOTAL


def test_a_page_of_writes_names_each_race_and_links_the_older_ones() -> None:
    entries = [entry(id=100 - i, race_id=1 if i % 2 else 2) for i in range(15)]
    embed = writes_embed(entries, {1: ALABAMA, 2: GEORGIA}, None, "", "!", more=True)
    assert embed.title == "Recent writes"
    lines = (embed.description or "").splitlines()
    assert len(lines) == 15
    assert lines[0].endswith("2020 Georgia U.S. Senate special") and "Alabama" in lines[1]
    assert embed.footer.text == "Details: !audit <id> · revert: !undo <id> · older: !audit before=86"


def test_a_page_of_one_race_leaves_the_race_out_of_each_line() -> None:
    embed = writes_embed([entry(race_id=1)], {1: ALABAMA}, ALABAMA, "alabama", "/", more=False)
    assert embed.title == "Writes to 2020 Alabama U.S. Senate (Class II)"
    assert "Alabama" not in (embed.description or "")
    assert embed.footer.text == "Details: /audit <id> · revert: /undo <id>"


def test_no_writes() -> None:
    assert no_writes_text(None, None) == "Recent writes: none."
    assert no_writes_text(ALABAMA, 40) == "Writes to 2020 Alabama U.S. Senate (Class II): none before #40."


def test_what_an_undo_put_back() -> None:
    outcome = UndoOutcome(original=entry(), audit=entry(id=60, action="undo"), description="the _count_ went")
    assert undone_text(outcome) == "Undid #57 (result.add): the \\_count\\_ went. Recorded as #60."
    assert undone_text(outcome, "Correction sent to 3 channels.").endswith(
        "Recorded as #60.\nCorrection sent to 3 channels."
    )

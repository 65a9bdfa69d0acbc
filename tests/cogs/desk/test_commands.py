"""The desk's commands through discord.py's real command machinery, prefix and slash: what each reply says,
the wrong inputs the issue lists (each refused, nothing written), config, audit and undo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import make_sessionmaker
from db.models import Candidate, GuildSettings, Poll, ResultSnapshot
from tests.support import World, desk_world, row_counts


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with desk_world(tmp_path, results_channels=False, followers=False) as started:
        yield started


async def test_a_result_is_confirmed_with_its_id_the_change_and_the_undo(world: World) -> None:
    exchange = await world.say(
        "!result alabama general Tuberville=1,392,100 Jones=920,500 reporting=100% source=AP",
        author=world.moderator,
    )
    assert exchange.ok is True
    text = exchange.text
    assert (
        text.startswith("Stored result #")
        and "for the general of 2020 Alabama U.S. Senate (Class II)" in text
    )
    assert "Undo: `!undo " in text and "Changes are since result #" in text
    assert "**Tommy Tuberville (R)** 1,392,100 (+24) · 60.2%" in text
    assert "Not in this update: write-ins." in text
    assert "No server has a results channel" in text
    again = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500 reporting=100%", author=world.moderator
    )
    assert (
        again.ok is False
        and "already stored as result #" in again.text
        and "nothing new was stored" in again.text
    )


async def test_a_result_typed_as_names_and_numbers_is_the_same_count(world: World) -> None:
    quick = await world.say(
        "!result alabama general Tuberville 1,392,100 Jones 920,500 reporting 100%", author=world.moderator
    )
    assert quick.ok is True and "**Tommy Tuberville (R)** 1,392,100 (+24) · 60.2%" in quick.text
    same = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500 reporting=100%", author=world.moderator
    )
    assert same.ok is False and "already stored as result #" in same.text
    poll = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.moderator,
        "poll add",
        {"details": 'alabama general pollster="AUM 3" dates="July 2-9, 2020" Tuberville 44 Jones 36'},
    )
    assert poll.ok is True and "**Tommy Tuberville** 44%, **Doug Jones** 36%" in poll.text


WRONG = [
    ("!result atlantis Tuberville=5", "No race found for 'atlantis'"),
    ("!result georgia Tuberville=5", "races match"),
    ("!result alabama general Tubervile=5 Jones=3", "'Tubervile' is not a candidate in the general"),
    ("!result alabama rep primary Moo=5", "'Moo' could be Roy S. Moore or Arnold Mooney"),
    ("!result alabama general Tuberville=-5 Jones=3", "Votes cannot be negative"),
    ("!result alabama general Tuberville=lots Jones=3", "'lots' is not a number of votes"),
    ("!result alabama general Tuberville=5x Jones=3", "'5x' is not a number of votes"),
    (
        "!result alabama general Tuberville=5 Jones=3 colour=red",
        "'colour' is not a key",
    ),
    ("!result alabama general Tuberville=5 Jones=3 soruce=AP", "Did you mean `source`?"),
    ("!result alabama general runoff Tuberville=5", "has no general runoff"),
    ("!result wyoming 2030 Smith=5", "has not been held yet"),
    (
        '!poll add alabama pollster=X dates="July 2-9" Tuberville=80 Jones=35.5',
        "add up to 115.5%, over 100%",
    ),
    (
        '!poll add alabama pollster=X dates="July 2-9" Tuberville=101 Jones=1',
        "A share cannot be over 100%",
    ),
    (
        '!poll add alabama pollster=X dates="July 9-2, 2020" Tuberville=43 Jones=35',
        "end date (Jul 2, 2020) is before its start",
    ),
    (
        '!poll add alabama pollster=X dates="Jully 2" Tuberville=43 Jones=35',
        "'Jully 2' is not a date I can read",
    ),
    (
        '!poll add alabama pollster=X dates="July 2-9" Tuberville=43 Jones=35 colour=red',
        "'colour' is not a key",
    ),
    ('!endorse alabama endorser="X" candidate=Nobody', "'Nobody' is not a candidate"),
    (
        '!endorse alabama endorser="X" candidate=Tuberville stance=loves',
        "endorse, oppose, withhold or rescind",
    ),
    ("!call alabama general Nobody", "'Nobody' is not a candidate"),
    ("!call alabama general", "Name the winner"),
    ("!uncall wyoming 2030", "has no call to withdraw"),
    ("!poll remove 999999", "There is no poll #999999"),
    ("!endorsement remove 999999", "There is no endorsement #999999"),
    ("!undo 999999", "There is no audit entry #999999"),
    (
        '!poll add alabama pollster="' + "P" * 200 + '" dates="July 2-9" Tuberville=43 Jones=35',
        "at most 128 characters",
    ),
    ("!result", "Which race?"),
    ("!result alabama general Tuberville 5 Jones", "don't know what 'Tuberville 5 Jones' means"),
    ("!result Tuberville 44 Jones 36", "Which race?"),
]


async def test_wrong_input_is_refused_clearly_and_writes_nothing(world: World) -> None:
    for setup in (
        "!race-add wyoming senate 2030 general=2030-11-05",
        '!candidate-add wyoming 2030 general name="Sam Smith"',
        "!race-add georgia senate 2020 general=2020-11-03",
        "!race-add georgia senate 2020 special general=2020-11-03",
    ):
        assert (await world.say(setup, author=world.owner)).ok is True
    sessions = make_sessionmaker(world.bot.engine)
    problems = []
    for command, words in WRONG:
        before = await row_counts(sessions)
        exchange = await world.say(command, author=world.moderator)
        if exchange.ok is not False or words not in exchange.text:
            problems.append(f"{command!r}: {exchange.ok} {exchange.text[:200]!r}")
        if await row_counts(sessions) != before:
            problems.append(f"{command!r} changed the store")
    assert not problems, "\n".join(problems)


async def test_a_poll_an_endorsement_and_their_removal(world: World) -> None:
    poll = await world.say(
        '!poll add alabama pollster="Cygnal" dates="July 12-13" Tuberville=52 Sessions=38 n=600 pop=lv',
        author=world.moderator,
    )
    assert poll.ok is True and "Stored poll #" in poll.text and "(Republican runoff)" in poll.text
    assert "Jul 12–13, 2020" in poll.text and "600 LV" in poll.text and "Tuberville +14.0" in poll.text
    async with make_sessionmaker(world.bot.engine)() as session:
        poll_id = await session.scalar(select(Poll.id).where(Poll.pollster == "Cygnal"))
    endorsement = await world.say(
        '!endorse alabama endorser="Donald Trump" candidate=Sessions stance=oppose kind=president date="July 11"',
        author=world.moderator,
    )
    assert endorsement.ok is True
    assert "Donald Trump (president) opposes Jeff Sessions (Jul 11, 2020)" in endorsement.text
    endorsement_id = int(endorsement.text.split("endorsement #")[1].split(" ")[0])
    assert (await world.say(f"!poll remove {poll_id}", author=world.moderator)).ok is True
    removed = await world.say(f"!endorsement remove {endorsement_id}", author=world.moderator)
    assert removed.ok is True and f"Removed endorsement #{endorsement_id}" in removed.text


async def test_slash_forms_share_the_code(world: World) -> None:
    exchange = await world.driver.slash(
        world.desk.id,
        world.desk_channel,
        world.moderator,
        "poll add",
        {"details": 'alabama pollster="AUM 2" dates="July 2-9, 2020" Tuberville=44 Jones=35 n=558 pop=rv'},
    )
    assert exchange.ok is True and "Stored poll #" in exchange.text
    assert exchange.messages[0].kind == "interaction_response"
    wrong = await world.driver.slash(
        world.desk.id, world.desk_channel, world.moderator, "call", {"details": "alabama general Nobody"}
    )
    assert wrong.ok is False and "'Nobody' is not a candidate" in wrong.text
    undone = await world.driver.slash(
        world.desk.id, world.desk_channel, world.moderator, "undo", {"entry": "#999999"}
    )
    assert undone.ok is False and "no audit entry #999999" in undone.text


async def test_audit_lists_the_writes_and_undo_reverts_one(world: World) -> None:
    first = await world.say(
        "!result alabama general Tuberville=1392100 Jones=920500 writein=3891", author=world.moderator
    )
    second = await world.say("!call alabama general Tuberville source=AP", author=world.owner)
    assert first.ok and second.ok
    listing = await world.say("!audit alabama", author=world.moderator)
    assert listing.ok is True and "Writes to 2020 Alabama U.S. Senate (Class II)" in listing.text
    assert "**moderator**: result #" in listing.text and "**owner**: call #" in listing.text
    audit_id = int(first.text.split("!undo ")[1].split("`")[0])
    detail = await world.say(f"!audit {audit_id}", author=world.moderator)
    assert f"Audit #{audit_id} · result.add" in detail.text and '"reporting_pct"' in detail.text
    refused = await world.say(f"!undo {audit_id}", author=world.member)
    assert refused.ok is False and "Only desk moderators" in refused.text
    undone = await world.say(f"!undo {audit_id}", author=world.moderator)
    assert undone.ok is True and f"Undid #{audit_id} (result.add)" in undone.text
    async with make_sessionmaker(world.bot.engine)() as session:
        latest = await session.scalar(select(ResultSnapshot).order_by(ResultSnapshot.id.desc()))
    assert latest is not None and latest.source == "MEDSL"  # the shipped count stands again
    listing = await world.say("!audit alabama", author=world.moderator)
    assert "↩ undone by #" in listing.text and f"undid #{audit_id}" in listing.text


async def test_config_sets_channel_roles_and_prefix(world: World) -> None:
    server_owner = world.standin.owner_id  # owns the desk server (the bot's owners do not configure servers)
    results = world.standin.add_channel(world.desk.id, name="results")
    news = world.standin.add_role(world.desk.id, name="news")
    set_channel = await world.say(f"!config results-channel <#{results.id}>", author=world.moderator)
    assert set_channel.ok is True and f"Announcements go to <#{results.id}>" in set_channel.text
    assert (await world.say(f"!config ping-role <@&{news.id}>", author=world.moderator)).ok is True
    everyone = await world.say(f"!config ping-role <@&{world.desk.id}>", author=server_owner)
    assert everyone.ok is False and "@everyone cannot be pinged" in everyone.text
    prefix = await world.say("!config prefix ?", author=server_owner)
    assert prefix.ok is True and "The prefix here is `?` now" in prefix.text
    assert world.bot.guild_prefixes[world.desk.id] == "?"
    shown = await world.say("?config show", author=world.moderator)
    assert (
        shown.ok is True and f"Results channel: <#{results.id}>" in shown.text and "Prefix: `?`" in shown.text
    )
    assert f"Ping role: <@&{news.id}>" in shown.text and shown.messages[0].allowed_mentions == {"parse": []}
    bad = await world.say("?config prefix toolongprefix", author=server_owner)
    assert bad.ok is False and "1 to 8 characters" in bad.text
    audit_id = int(prefix.text.split("undo ")[1].split("`")[0])
    assert (await world.say(f"?undo {audit_id}", author=server_owner)).ok is True
    assert world.desk.id not in world.bot.guild_prefixes
    cleared = await world.say("!config clear ping-role", author=world.moderator)
    assert cleared.ok is True and "ping nobody" in cleared.text
    async with make_sessionmaker(world.bot.engine)() as session:
        settings = await session.get(GuildSettings, world.desk.id)
    assert (
        settings is not None and settings.results_channel_id == results.id and settings.ping_role_id is None
    )


async def test_races_and_candidates_from_discord(world: World) -> None:
    added = await world.say(
        '!race-add alabama senate 2026 seat="Class II" general="Nov 3" rep-primary="May 19"',
        author=world.owner,
    )
    assert added.ok is True and "Stored race #" in added.text and "general (Nov 3, 2026)" in added.text
    edited = await world.say(
        '!race-edit alabama 2026 notes="Open seat" runoff="June 16"', author=world.moderator
    )
    assert (
        edited.ok is True and "notes: — → Open seat" in edited.text and "runoff (Jun 16, 2026)" in edited.text
    )
    person = await world.say(
        '!candidate-add alabama 2026 rep primary name="Barry Moore" party=REP', author=world.moderator
    )
    assert person.ok is True and "Added Barry Moore (REP)" in person.text
    changed = await world.say(
        '!candidate-edit alabama 2026 candidate=Moore alias="Felix Barry Moore"', author=world.moderator
    )
    assert changed.ok is True and "other spelling: — → Felix Barry Moore" in changed.text
    found = await world.say("!race felix moore", author=world.member)
    assert "2026 Alabama U.S. Senate (Class II)" in found.text


async def test_merges_that_would_corrupt_the_store_are_refused_and_undo_splits_them(world: World) -> None:
    async def person(name: str) -> int:
        async with make_sessionmaker(world.bot.engine)() as session:
            found = await session.scalar(select(Candidate.id).where(Candidate.name == name))
        assert found is not None
        return found

    jones, adair, tuberville = [await person(n) for n in ("Doug Jones", "Stanley Adair", "Tommy Tuberville")]
    merged = await world.say("!candidate-merge alabama 2020 from=Adair into=Jones", author=world.moderator)
    assert merged.ok is True
    sessions = make_sessionmaker(world.bot.engine)
    before = await row_counts(sessions)
    back = await world.say(
        f"!candidate-merge alabama 2020 from=#{jones} into=#{adair}", author=world.moderator
    )
    assert back.ok is False and f"Stanley Adair (#{adair}) was merged into Doug Jones (#{jones})" in back.text
    assert "would make a cycle" in back.text
    again = await world.say(
        f"!candidate-merge alabama 2020 from=#{adair} into=Sessions", author=world.moderator
    )
    assert again.ok is False and "was merged into Doug Jones" in again.text
    assert await row_counts(sessions) == before
    found = await world.say("!candidate jones", author=world.member)
    assert found.text.startswith("Doug Jones (D)")  # the merged record is one of his spellings now
    for setup in (
        '!race-add maine senate 2020 general="Nov 3"',
        '!candidate-add maine 2020 name="Susan Collins" party=REP',
    ):
        assert (await world.say(setup, author=world.owner)).ok is True
    collins = await person("Susan Collins")
    before = await row_counts(sessions)
    elsewhere = await world.say(
        f"!candidate-merge alabama 2020 from=#{collins} into=#{tuberville}", author=world.moderator
    )
    assert (
        elsewhere.ok is False and f"#{collins} is Susan Collins, who is not in 2020 Alabama" in elsewhere.text
    )
    assert await row_counts(sessions) == before
    maine = await world.say("!results maine 2020", author=world.member)
    assert "Susan Collins" in maine.text and "Tuberville" not in maine.text
    undo_id = merged.text.split("undo ")[1].split("`")[0]
    undone = await world.say(f"!undo {undo_id}", author=world.moderator)
    assert undone.ok is True and "split Stanley Adair from Doug Jones again" in undone.text
    primary = await world.say("!results alabama rep primary", author=world.member)
    assert "Stanley Adair" in primary.text and "Doug Jones" not in primary.text

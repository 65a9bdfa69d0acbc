"""The presidency reply: electoral votes won (and cast), 270 to win, the popular vote, the states by margin.

Paged for phones: every page repeats the short national picture; the states come STATES_PER_PAGE at
a time, closest first.
"""

from __future__ import annotations

import math

import discord

from db.balance import SeatState
from db.electoral import AT_LARGE
from db.lookup import race_hint, state_name
from db.reads.president import Nominee, Presidency, StateVote
from render.format import display_surname, escape, party_letter, pct, votes
from render.limits import clip, clip_lines, fit_embed
from render.race import COLOR

STATES_PER_PAGE = 13
NOMINEES_SHOWN = 4  # by popular vote; anyone with electoral votes is always shown
ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def pages(found: Presidency) -> int:
    return max(1, math.ceil(len(found.states) / STATES_PER_PAGE))


def _who(nominee: Nominee) -> str:
    name = escape(display_surname(nominee.name)) if nominee.name else "?"
    letter = party_letter(nominee.party)
    return f"{name} ({letter})" if letter else name


def _shown(found: Presidency) -> list[Nominee]:
    by_votes = sorted(found.nominees, key=lambda n: -n.popular)[:NOMINEES_SHOWN]
    return [n for n in found.nominees if n.won or n in by_votes]


def electoral_lines(found: Presidency) -> list[str]:
    """The electoral votes: won by the states' results, and cast where electors broke their pledge."""
    with_votes = [n for n in found.nominees if n.won]
    faithless = sum(e.electors for e in found.faithless)
    lines = []
    if faithless:
        cast = [f"{_who(n)} **{n.cast}**" for n in with_votes]
        others = sum(found.cast_others.values())
        lines.append(f"Electoral votes cast: {' · '.join(cast)} · others {others}")
        won = " · ".join(f"{_who(n)} {n.won}" for n in with_votes)
        lines.append(f"Won at the polls (pledged): {won}")
    else:
        lines.append(
            "Electoral votes: " + (" · ".join(f"{_who(n)} **{n.won}**" for n in with_votes) or "none yet")
        )
    lines.append(f"**{found.to_win} to win** of {found.total}.")
    winner = found.winner
    if winner is not None:
        lines.append(f"✅ {escape(winner.name or party_letter(winner.party))} won the presidency.")
    if found.unassigned:
        lines.append(f"Not yet won: {found.unassigned} electoral votes.")
    return lines


def faithless_line(found: Presidency) -> str:
    """ "7 faithless electors: TX 2 of R's (John Kasich 1, Ron Paul 1); ..."."""
    if not found.faithless:
        return ""
    by_state: dict[tuple[str, str], list[str]] = {}
    for elector in found.faithless:
        by_state.setdefault((elector.state, elector.pledged_party), []).append(
            f"{escape(elector.voted_for)} {elector.electors}"
        )
    parts = [
        f"{state} {party_letter(party)}: {', '.join(chose)}"
        for (state, party), chose in sorted(by_state.items())
    ]
    count = sum(e.electors for e in found.faithless)
    return f"{count} faithless electors voted for others: {'; '.join(parts)}."


def popular_line(found: Presidency) -> str:
    shown = sorted(_shown(found), key=lambda n: -n.popular)
    parts = [f"{_who(n)} {votes(n.popular)} ({pct(n.share)})" for n in shown]
    rest = found.popular_total - sum(n.popular for n in shown)
    if rest:
        parts.append(
            f"others {votes(rest)} ({pct(100 * rest / found.popular_total if found.popular_total else None)})"
        )
    return f"Popular vote: {' · '.join(parts)} · total {votes(found.popular_total)} (blank, over and void ballots not counted)"


def split_line(vote: StateVote) -> str:
    """ "Nebraska 5: at-large 2 R; districts 1st R, 2nd D, 3rd R (R 4 · D 1)"."""
    winner = party_letter(vote.seat.side) if vote.seat.state == SeatState.WON else "?"
    districts = ", ".join(
        f"{ORDINAL.get(d, f'{d}th')} {party_letter(p)}" for d, p in sorted(vote.districts.items())
    )
    split = " · ".join(f"{party_letter(p)} {n}" for p, n in sorted(vote.won.items(), key=lambda i: -i[1]))
    return (
        f"{state_name(vote.race.state)} {vote.electors}: at-large {min(AT_LARGE, vote.electors)} {winner}; "
        f"districts {districts or 'not known'} ({split})"
    )


def state_line(vote: StateVote) -> str:
    """ "PA 20 · D +1.16 (80,555)"; a state not yet decided says so."""
    head = f"{vote.race.state} {vote.electors}"
    seat = vote.seat
    letter = party_letter(seat.side or seat.party)
    if seat.state == SeatState.WON and vote.margin is not None:
        text = f"{head} · {letter} +{vote.margin:.2f} ({votes(vote.margin_votes)})"
    elif seat.state == SeatState.WON:
        text = f"{head} · {letter} won"
    elif seat.state in (SeatState.LEADING, SeatState.TOO_CLOSE) and vote.margin is not None:
        text = f"{head} · {letter} leads +{vote.margin:.2f}"
    else:
        text = f"{head} · no result"
    if vote.districts:
        text += " (split: " + " · ".join(f"{party_letter(p)} {n}" for p, n in sorted(vote.won.items())) + ")"
    return text


def presidency_embed(found: Presidency, page: int = 1, prefix: str = "!") -> discord.Embed:
    embed = discord.Embed(title=f"{found.cycle} presidential election", colour=COLOR)
    head = electoral_lines(found)
    faithless = faithless_line(found)
    if faithless:
        head.append(faithless)
    head.append(popular_line(found))
    if found.national is not None:
        head.append(f"National polls: `{prefix}polls {race_hint(found.national)}`")
    embed.description = clip_lines(head, 2000)
    splits = [split_line(v) for v in found.split_states]
    if splits:
        embed.add_field(name="Split by district", value=clip_lines(splits, 1024), inline=False)
    total_pages = pages(found)
    page = min(max(1, page), total_pages)
    chunk = found.states[(page - 1) * STATES_PER_PAGE : page * STATES_PER_PAGE]
    if chunk:
        embed.add_field(
            name=f"States by margin, closest first ({page}/{total_pages})",
            value=clip_lines([state_line(v) for v in chunk], 1024),
            inline=False,
        )
    if found.missing:
        embed.add_field(
            name="Not in racedesk's data", value=clip(", ".join(found.missing), 1024), inline=False
        )
    embed.set_footer(
        text="Data: each state's count and call (MEDSL), electoral votes by state (Census apportionment), "
        "Maine's and Nebraska's district winners and the faithless electors (data/public/SOURCES.md). "
        "Computed: electoral votes, margins (points of all votes), popular-vote sums."
    )
    return fit_embed(embed)


def no_presidency_text() -> str:
    return "racedesk holds no presidential races yet."

"""The balance-of-power reply: seats by party, what is data and what is computed, what each side needs."""

from __future__ import annotations

import discord

from db.balance import SIDES, Balance, Seat, SeatState
from db.lookup import state_name
from db.models import Office
from db.vocabulary import PARTY_NAME
from render.format import display_surname, escape, party_letter
from render.limits import clip, clip_lines, fit_embed
from render.race import COLOR

SIDE_NAME = {"DEM": "Democrats", "REP": "Republicans"}
CHAMBER_NAME: dict[str, str] = {
    Office.SENATE: "U.S. Senate",
    Office.HOUSE: "U.S. House",
    Office.GOVERNOR: "governorships",
}


def side_name(side: str) -> str:
    return SIDE_NAME.get(side, PARTY_NAME.get(side, side))


def _by_side(counts: dict[str, int]) -> str:
    order = [*SIDES, *sorted(k for k in counts if k not in SIDES)]
    return " · ".join(f"{party_letter(side)} {counts[side]}" for side in order if counts.get(side))


def _totals_line(balance: Balance, totals: dict[str, int]) -> str:
    """Each side's seats, decided or not up; or, with neither yet, that nothing is decided (and, where some
    seats are not up, that racedesk has no figures for them)."""
    shown = _by_side(totals)
    if shown:
        return f"**{shown}** on seats decided or not up"
    if balance.seats_up < balance.size:
        return "**No seat decided yet**, and no figures for the seats not up."
    return "**No seat decided yet.**"


def seat_line(seat: Seat) -> str:
    race = seat.race
    place = state_name(race.state) + (" (special)" if race.special else "")
    if race.office == Office.HOUSE and race.seat:
        place = f"{race.state}-{race.seat}"
    who = f" ({escape(display_surname(seat.person))})" if seat.person else ""
    letter = party_letter(seat.party)
    caucus = (
        f", caucuses {party_letter(seat.side)}"
        if seat.side and seat.party and seat.side != seat.party
        else ""
    )
    change = ""
    if (
        seat.side
        and seat.held_by
        and seat.side != seat.held_by
        and seat.state in (SeatState.WON, SeatState.LEADING, SeatState.TOO_CLOSE)
    ):
        change = f" · gain from {party_letter(seat.held_by)}"
    if seat.state == SeatState.WON:
        return f"{place}: {letter} won{who}{caucus}{change}"
    if seat.state in (SeatState.LEADING, SeatState.TOO_CLOSE):
        close = ", too close to call" if seat.state == SeatState.TOO_CLOSE else ""
        return f"{place}: {letter} leads{who}{close}{caucus}{change}"
    if seat.state == SeatState.RUNOFF:
        return f"{place}: runoff pending"
    held = f" (held by {party_letter(seat.held_by)})" if seat.held_by else ""
    return f"{place}: undecided{held}"


def control_lines(balance: Balance) -> list[str]:
    if balance.office == Office.GOVERNOR:
        return []
    lines = []
    majority = balance.size // 2 + 1
    rule = f"Control: {majority} of {balance.size} seats"
    vp = balance.vice_president
    if balance.office == Office.SENATE:
        if vp is not None:
            rule += (
                f", or {balance.size // 2} with the vice president, who breaks 50–50 ties: "
                f"{escape(vp[0])} ({party_letter(vp[1])}) in the Senate elected in {balance.cycle}."
            )
        else:
            rule += ". (racedesk does not know who was vice president after this election.)"
    lines.append(rule)
    controller = balance.controller()
    if controller is not None:
        lines.append(f"**{side_name(controller)} have control** on decided seats.")
    if balance.unknown_seats and controller is None:  # what each side needs would leave those seats out
        known = balance.size - balance.unknown_seats
        lines.append(
            f"racedesk holds {known} of the {balance.size} seats: what each side needs is not known."
        )
        return lines
    needs = []
    for side in SIDES:
        more = balance.still_needs(side)
        if more and more <= balance.undecided:
            needs.append(f"{side_name(side)} need {more} more of the {balance.undecided} undecided")
        elif more:
            needs.append(f"{side_name(side)} cannot reach {balance.needed(side)}")
    if needs and controller is None:
        lines.append("; ".join(needs) + ".")
    return lines


def balance_embed(balance: Balance, prefix: str) -> discord.Embed:
    chamber = CHAMBER_NAME.get(balance.office, balance.office)
    embed = discord.Embed(title=f"{balance.cycle} {chamber}: balance of power", colour=COLOR)
    if balance.office == Office.GOVERNOR:
        embed.title = f"{balance.cycle} governors' races"
    totals = {side: balance.total(side) for side in {*balance.not_up, *balance.won}}
    with_leads = {
        side: balance.total(side, with_leads=True)
        for side in {*balance.not_up, *balance.won, *balance.leading}
    }
    head = [_totals_line(balance, totals)]
    if sum(balance.leading.values()):
        head.append(f"{_by_side(with_leads)} with the seats where a side leads")
    head += control_lines(balance)
    embed.description = clip_lines(head, 1500)
    if balance.not_up:
        embed.add_field(name="Not up (data)", value=_by_side(balance.not_up), inline=True)
    up = [f"{balance.seats_up} up"]
    if sum(balance.won.values()):
        up.append(f"won: {_by_side(dict(balance.won))}")
    if sum(balance.leading.values()):
        up.append(f"leading: {_by_side(dict(balance.leading))}")
    pending = sum(1 for s in balance.seats if s.state in (SeatState.RUNOFF, SeatState.UNDECIDED))
    if pending:
        up.append(f"undecided: {pending}")
    if balance.missing:
        up.append(f"not in racedesk's data: {balance.missing}")
    embed.add_field(name=f"Up in {balance.cycle}", value=" · ".join(up), inline=True)
    net = [f"{party_letter(side)} {n:+d}" for side, n in sorted(balance.net.items()) if n]
    net_text = " · ".join(net) if net else "none"
    if not balance.held_known and balance.seats:
        net_text = "unknown: the data does not give the seats' parties before the election"
    elif balance.held_known < len(balance.seats):
        net_text += f" (from the {balance.held_known} of {len(balance.seats)} seats whose previous party is in the data)"
    embed.add_field(name="Net change", value=net_text, inline=True)
    lines = [seat_line(s) for s in balance.seats]
    if lines:
        half = (len(lines) + 1) // 2
        parts = [lines[:half], lines[half:]] if len(lines) > 12 else [lines]
        for i, part in enumerate(parts):
            if part:
                embed.add_field(
                    name="Seats" if i == 0 else "\u200b", value=clip_lines(part, 1024), inline=False
                )
    sources = "; ".join(balance.baseline_sources)
    footer = (
        "Data: seats not up"
        + (f" ({clip(sources, 300)})" if sources else "")
        + ", each race's counts, outcomes and calls. Computed: seat totals (won = called or final; leads = "
        "counting), net change against each seat's party before the election, what each side needs."
    )
    embed.set_footer(text=footer)
    return fit_embed(embed)


def no_balance_text(chamber: str) -> str:
    return f"racedesk has no data on {chamber} yet: no races and no seats-not-up figures."

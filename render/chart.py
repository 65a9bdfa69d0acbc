"""The polls chart: each candidate's share over time, dots per poll and the average as a line.

Pure: plain data in (`ChartRequest`, picklable), PNG bytes out. It runs in a worker
process (see cogs/polls.py), so matplotlib never holds up the bot's event loop.
Drawn for phones: 1200×750 pixels, large type, names written at the end of their
lines instead of a legend, at most `SERIES_SHOWN` candidates.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from db.polling import MatchupKey, PollLike, QuestionLike, matchups, slot, trend
from db.reads.polls import ChartPoll, PollRow, build_polls

SERIES_SHOWN = 6
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 6.25, 120
PARTY_COLORS = {
    "DEM": "#1f5fbf",
    "REP": "#d1332e",
    "LIB": "#d4a017",
    "GRN": "#2e8b3a",
    "IND": "#7a4fbf",
    "CON": "#8c5a2b",
}
OTHER_COLORS = ["#555555", "#e07b00", "#0f9bb0", "#b0479c", "#6b8e23", "#8a6d3b", "#3b6e8a"]
MATCHUP_MAX = 60
SUBTITLE_MAX = 88
LABEL_MAX = 13


@dataclass(frozen=True)
class ChartRequest:
    title: str  # the race
    polls: tuple[ChartPoll, ...]  # or, for the worker to build them from:
    contest_labels: tuple[tuple[int, str], ...]  # (contest id, "General"), (contest id, "Republican runoff")
    note: str = ""  # filters, shown under the title
    source: str = ""  # attribution, in the corner
    rows: tuple[PollRow, ...] = ()  # `db.reads.polls.poll_rows`' rows: cheaper to read and send than polls


@dataclass(frozen=True)
class ChartResult:
    png: bytes
    matchup: str  # "General: Tuberville vs Jones"
    polls: int  # polls of that match-up drawn
    shown: int  # candidates drawn
    choices: int  # candidates in the match-up


@dataclass
class _Series:
    label: str
    party: str | None
    dots: list[tuple[dt.date, float]]
    line: list[tuple[dt.date, float]]

    @property
    def latest(self) -> float:
        return self.line[-1][1] if self.line else self.dots[-1][1]


def choose_matchup(
    groups: dict[MatchupKey, list[tuple[PollLike, QuestionLike]]],
) -> MatchupKey | None:
    """The real match-up polled most (ties: the newest); hypothetical ones only when there is no real one."""
    if not groups:
        return None
    real = [k for k in groups if not k[1]] or list(groups)
    return max(real, key=lambda k: (len(groups[k]), max(p.end_date for p, _ in groups[k])))


def _series(members: list[tuple[PollLike, QuestionLike]], key: MatchupKey) -> list[_Series]:
    by_slot: dict[str, _Series] = {}
    for poll, question in sorted(members, key=lambda pq: (pq[0].end_date, pq[0].id)):
        for answer in question.answers:
            found = by_slot.setdefault(slot(answer), _Series(answer.choice, answer.party, [], []))
            found.dots.append((poll.end_date, answer.pct))
            found.label = answer.choice  # the newest spelling
            found.party = answer.party or found.party
    for average in trend(key, members):
        for share in average.shares:
            slot_key = f"c{share.candidate_id}" if share.candidate_id else share.choice.lower()
            if slot_key in by_slot:
                by_slot[slot_key].line.append((average.newest, share.pct))
    return sorted(by_slot.values(), key=lambda s: -s.latest)


def _colors(series: list[_Series]) -> list[str]:
    used: set[str] = set()
    colors = []
    spare = iter(OTHER_COLORS * 3)
    for s in series:
        color = PARTY_COLORS.get((s.party or "").upper())
        if color is None or color in used:
            color = next(spare)
        used.add(color)
        colors.append(color)
    return colors


def _spread(values: list[float], gap: float) -> list[float]:
    """Nudge label heights apart so no two overlap (keeps their order)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    placed = list(values)
    for rank in range(1, len(order)):
        below, here = order[rank - 1], order[rank]
        placed[here] = max(placed[here], placed[below] + gap)
    return placed


def draw(request: ChartRequest) -> ChartResult | None:
    """The chart, or None when no poll has answers to draw."""
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = matchups(request.polls or build_polls(request.rows))
    key = choose_matchup(groups)
    if key is None:
        return None
    members = groups[key]
    all_series = _series(members, key)
    series = all_series[:SERIES_SHOWN]
    contest_label = dict(request.contest_labels).get(key[0], "Match-up") if key[0] is not None else "Match-up"
    if key[1]:
        contest_label = f"Hypothetical {contest_label[0].lower()}{contest_label[1:]}"
    names = " vs ".join(s.label for s in all_series[:4]) + (
        f" +{len(all_series) - 4}" if len(all_series) > 4 else ""
    )
    matchup = _clip(f"{contest_label}: {names}", MATCHUP_MAX)

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.08, 0.2, 0.66, 0.63))
    colors = _colors(series)
    days = [d for s in series for d, _ in s.dots]
    first, last = min(days), max(days)
    if first == last:
        first, last = first - dt.timedelta(days=15), last + dt.timedelta(days=15)
    top = max(v for s in series for _, v in s.dots)
    bottom = min(v for s in series for _, v in s.dots)
    num = mdates.date2num
    for s, color in zip(series, colors, strict=True):
        ax.scatter(
            num([d for d, _ in s.dots]),
            [v for _, v in s.dots],
            s=46,
            color=color,
            alpha=0.35,
            linewidths=0,
            zorder=2,
        )
        if len(s.line) > 1:
            ax.plot(num([d for d, _ in s.line]), [v for _, v in s.line], color=color, linewidth=3.2, zorder=3)
        elif s.line:
            ax.scatter(num([s.line[0][0]]), [s.line[0][1]], s=120, color=color, zorder=3)
    ax.set_xlim(float(num(first)), float(num(last)))
    # Zoomed to the shares drawn (in steps of 10 points), so differences of a few points are visible on a phone.
    floor = max(0.0, (bottom - 8) // 10 * 10) if bottom > 15 else 0.0
    ax.set_ylim(floor, min(100.0, max(floor + 10.0, top * 1.1 + 2)))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(
            locator,
            formats=["%Y", "%b", "%b %-d", "%H:%M", "%H:%M", "%S"],
            zero_formats=["", "%Y", "%b", "%b %-d", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%Y", "%b %-d, %Y", "%b %-d, %Y", "%b %-d, %Y"],
        )
    )
    ax.xaxis.get_offset_text().set_fontsize(13)
    ax.tick_params(labelsize=15, length=0, pad=8)
    ax.grid(axis="y", color="#dddddd", linewidth=1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    # Names at the line ends, on the right, nudged apart.
    low, high = ax.get_ylim()
    heights = _spread([s.latest for s in series], gap=(high - low) * 0.065)
    for s, color, height in zip(series, colors, heights, strict=True):
        ax.annotate(
            f"{_label(s.label)} {s.latest:.1f}",
            xy=(1.0, height),
            xycoords=("axes fraction", "data"),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=15,
            fontweight="bold",
            color=color,
            annotation_clip=False,
            parse_math=False,
        )
    fig.text(
        0.02, 0.955, _clip(request.title, 55), fontsize=21, fontweight="bold", va="top", parse_math=False
    )
    sub = [matchup, f"{len(members)} poll{'s' if len(members) != 1 else ''}"]
    if request.note:
        sub.append(_clip(request.note, 60))
    fig.text(
        0.02,
        0.885,
        _clip(" · ".join(sub), SUBTITLE_MAX),
        fontsize=14,
        color="#444444",
        va="top",
        parse_math=False,
    )
    foot = (
        "Dots: polls · lines: the average (each pollster's latest poll in 30 days, weighted by sample size)"
    )
    if len(all_series) > len(series):
        foot = f"Top {len(series)} of {len(all_series)} shown · " + foot
    fig.text(0.02, 0.058, _clip(foot, 140), fontsize=11.5, color="#666666", parse_math=False)
    credit = " · ".join(p for p in ("racedesk", _clip(request.source, 60)) if p)
    fig.text(0.02, 0.018, credit, fontsize=11.5, color="#666666", parse_math=False)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return ChartResult(out.getvalue(), matchup, len(members), len(series), len(all_series))


def _label(choice: str) -> str:
    """A line's name: the pollster's label, or its last word when that is too long."""
    words = choice.split()
    if len(choice) > LABEL_MAX and words and len(words[-1]) >= 3:
        choice = words[-1]
    return _clip(choice, LABEL_MAX)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def warm_up() -> None:
    """Import matplotlib and draw once, so a worker's first real chart is fast."""
    import matplotlib

    matplotlib.use("Agg")
    day = dt.date(2020, 1, 1)
    from db.reads.polls import ChartAnswer, ChartQuestion

    poll = ChartPoll(
        1, "warm-up", day, 500, (ChartQuestion(None, False, None, (ChartAnswer(None, "A", None, 50.0),)),)
    )
    draw(ChartRequest("warm-up", (poll,), ()))

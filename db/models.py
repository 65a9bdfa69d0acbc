"""The racedesk store: typed SQLAlchemy 2.x models.

The grain follows AP/elex, FiveThirtyEight and MEDSL: a Race is one seat in one
cycle; a Contest is one stage of it; a Candidate is a person, stable across
races, and a Candidacy is that person on one contest's ballot. Relationships are
``lazy="raise"`` so no query runs by accident: readers say what they load.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Discord snowflakes exceed 32 bits.
LARGEST_ID = 2**31 - 1  # rows' own ids are 32-bit integers on PostgreSQL: a larger id names nothing
Snowflake = BigInteger().with_variant(Integer(), "sqlite")


class Office(enum.StrEnum):
    SENATE = "senate"
    HOUSE = "house"
    GOVERNOR = "governor"
    PRESIDENT = "president"


NATIONAL = "US"  # Race.state of the national race for president (its polls; its count is the states')


class Stage(enum.StrEnum):
    PRIMARY = "primary"
    JUNGLE_PRIMARY = "jungle primary"
    PRIMARY_RUNOFF = "primary runoff"
    GENERAL = "general"
    GENERAL_RUNOFF = "general runoff"


class ContestStatus(enum.StrEnum):
    UPCOMING = "upcoming"
    COUNTING = "counting"
    CALLED = "called"
    CERTIFIED = "certified"


class CallKind(enum.StrEnum):
    WINNER = "winner"
    RUNOFF = "runoff"  # the named candidates advance to a runoff
    TOO_CLOSE = "too close"
    UNCALLED = "uncalled"  # a retraction: the previous call no longer stands


class Outcome(enum.StrEnum):
    PENDING = "pending"
    WON = "won"
    LOST = "lost"
    ADVANCED = "advanced"  # to a runoff
    WITHDRAWN = "withdrawn"


class Stance(enum.StrEnum):
    ENDORSE = "endorse"
    OPPOSE = "oppose"
    WITHHOLD = "withhold"
    RESCIND = "rescind"


class EndorserKind(enum.StrEnum):
    PRESIDENT = "president"
    FORMER_PRESIDENT = "former president"
    GOVERNOR = "governor"
    SENATOR = "senator"
    REPRESENTATIVE = "representative"
    PARTY = "party"
    ORGANIZATION = "organization"
    NEWSPAPER = "newspaper"
    PERSON = "person"


class Population(enum.StrEnum):
    LIKELY = "lv"
    REGISTERED = "rv"
    ADULTS = "a"
    VOTERS = "v"


class CountKind(enum.StrEnum):
    CANDIDATE = "candidate"
    WRITEIN = "writein"
    UNDER = "under"
    OVER = "over"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"  # Discord refused for good (closed DMs, deleted channel)
    SUPERSEDED = "superseded"  # a count that a newer count of its stage replaced before delivery


class Race(Base):
    """One seat in one cycle. Specials are their own race."""

    __tablename__ = "races"
    __table_args__ = (
        UniqueConstraint("cycle", "state", "office", "seat", "special"),
        Index("ix_races_state_office_cycle", "state", "office", "cycle"),
        Index("ix_races_state_cycle", "state", "cycle"),  # the lookup: a state's newest races
        Index("ix_races_state_office_seat", "state", "office", "seat", "cycle"),  # the lookup: a district's
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(2))  # postal code, "US" for president
    office: Mapped[str] = mapped_column(String(16))  # Office
    seat: Mapped[str] = mapped_column(String(32), default="")  # "Class II", district "2"
    special: Mapped[bool] = mapped_column(Boolean, default=False)
    incumbent_party: Mapped[str | None] = mapped_column(String(16))
    incumbent_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

    contests: Mapped[list[Contest]] = relationship(
        back_populates="race", lazy="raise", order_by="Contest.date", cascade="all, delete-orphan"
    )
    incumbent: Mapped[Candidate | None] = relationship(lazy="raise", foreign_keys=[incumbent_id])
    polls: Mapped[list[Poll]] = relationship(back_populates="race", lazy="raise")
    endorsements: Mapped[list[Endorsement]] = relationship(back_populates="race", lazy="raise")


class RacesVersion(Base):
    """One row whose `n` the store's triggers bump whenever a race is added, removed or changed (migration
    0010): what tells a process that its copy of the races for the lookup (db/directory.py) is out of date."""

    __tablename__ = "races_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class Contest(Base):
    """One stage of a race: a party primary, a runoff, the general."""

    __tablename__ = "contests"
    __table_args__ = (UniqueConstraint("race_id", "stage", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # Stage
    party: Mapped[str] = mapped_column(String(16), default="")  # for party primaries
    date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    poll_close: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=ContestStatus.UPCOMING)
    source: Mapped[str | None] = mapped_column(Text)

    race: Mapped[Race] = relationship(back_populates="contests", lazy="raise")
    candidacies: Mapped[list[Candidacy]] = relationship(
        back_populates="contest", lazy="raise", cascade="all, delete-orphan"
    )
    calls: Mapped[list[Call]] = relationship(
        back_populates="contest", lazy="raise", order_by="Call.id", cascade="all, delete-orphan"
    )
    snapshots: Mapped[list[ResultSnapshot]] = relationship(
        back_populates="contest", lazy="raise", order_by="ResultSnapshot.id", cascade="all, delete-orphan"
    )


class Candidate(Base):
    """A person, stable across races and sources."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))  # display name: "Tommy Tuberville"
    name_key: Mapped[str] = mapped_column(String(128), index=True)  # normalised: "tommy tuberville"
    party: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(2), index=True)
    office_held: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))

    aliases: Mapped[list[CandidateAlias]] = relationship(
        back_populates="candidate", lazy="raise", cascade="all, delete-orphan"
    )
    candidacies: Mapped[list[Candidacy]] = relationship(back_populates="candidate", lazy="raise")


class CandidateAlias(Base):
    """A spelling some source uses ("DOUG JONES", "Gordon Douglas Jones")."""

    __tablename__ = "candidate_aliases"
    __table_args__ = (UniqueConstraint("candidate_id", "alias_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(128))
    alias_key: Mapped[str] = mapped_column(String(128), index=True)
    source: Mapped[str | None] = mapped_column(String(64))

    candidate: Mapped[Candidate] = relationship(back_populates="aliases", lazy="raise")


class NameToken(Base):
    """One normalised word of a candidate's names, for indexed prefix lookup."""

    __tablename__ = "name_tokens"
    __table_args__ = (UniqueConstraint("token", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Compared by code point (a word's range ends at `word~`): on PostgreSQL COLLATE "C", migration 0012.
    token: Mapped[str] = mapped_column(String(64), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)


class Candidacy(Base):
    """A person on one contest's ballot."""

    __tablename__ = "candidacies"
    __table_args__ = (UniqueConstraint("contest_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    party: Mapped[str | None] = mapped_column(String(16))  # on the ballot
    incumbent: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.PENDING)
    votes: Mapped[int | None] = mapped_column(BigInteger)  # final count, when known

    contest: Mapped[Contest] = relationship(back_populates="candidacies", lazy="raise")
    candidate: Mapped[Candidate] = relationship(back_populates="candidacies", lazy="raise")


class Call(Base):
    """A race call. The newest row for a contest is the standing call."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # CallKind
    candidacy_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # winner(s) or runoff pair
    source: Mapped[str | None] = mapped_column(String(128))
    called_by: Mapped[int | None] = mapped_column(Snowflake)  # Discord user id; None for imports
    called_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

    contest: Mapped[Contest] = relationship(back_populates="calls", lazy="raise")


class Poll(Base):
    """A poll as fielded; its questions hold the match-ups."""

    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_race_end", "race_id", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"))
    pollster: Mapped[str] = mapped_column(String(128))
    sponsor: Mapped[str | None] = mapped_column(String(256))
    partisan: Mapped[str | None] = mapped_column(String(16))  # party of a partisan sponsor
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[str | None] = mapped_column(String(4))  # Population
    methodology: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # "538:67048"
    created_by: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

    race: Mapped[Race] = relationship(back_populates="polls", lazy="raise")
    questions: Mapped[list[Question]] = relationship(
        back_populates="poll", lazy="raise", order_by="Question.id", cascade="all, delete-orphan"
    )


class Question(Base):
    """One match-up within a poll; hypothetical ones name people not on the ballot."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contests.id", ondelete="SET NULL"), index=True)
    hypothetical: Mapped[bool] = mapped_column(Boolean, default=False)
    sample_size: Mapped[int | None] = mapped_column(Integer)  # when it differs from the poll's
    population: Mapped[str | None] = mapped_column(String(4))
    source_key: Mapped[str | None] = mapped_column(String(64))

    poll: Mapped[Poll] = relationship(back_populates="questions", lazy="raise")
    contest: Mapped[Contest | None] = relationship(lazy="raise")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="question", lazy="raise", order_by="Answer.id", cascade="all, delete-orphan"
    )


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"), index=True)
    choice: Mapped[str] = mapped_column(String(128))  # as the pollster labelled it
    party: Mapped[str | None] = mapped_column(String(16))
    pct: Mapped[float] = mapped_column(Float)

    question: Mapped[Question] = relationship(back_populates="answers", lazy="raise")
    candidate: Mapped[Candidate | None] = relationship(lazy="raise")


class Endorsement(Base):
    __tablename__ = "endorsements"

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int | None] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    endorser: Mapped[str] = mapped_column(String(128))
    endorser_kind: Mapped[str] = mapped_column(String(24), default=EndorserKind.PERSON)
    stance: Mapped[str] = mapped_column(String(16), default=Stance.ENDORSE)
    date: Mapped[dt.date | None] = mapped_column(Date)
    quote: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

    race: Mapped[Race | None] = relationship(back_populates="endorsements", lazy="raise")
    candidate: Mapped[Candidate] = relationship(lazy="raise")


class ResultSnapshot(Base):
    """A contest's count at one moment. The last in the order sent (`send_order`) is the current count."""

    __tablename__ = "result_snapshots"
    __table_args__ = (
        Index("ix_result_snapshots_contest_taken", "contest_id", "taken_at"),
        Index("ix_result_snapshots_contest_sent", "contest_id", "sent_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    reporting_pct: Mapped[float | None] = mapped_column(Float)  # precincts or expected vote, 0-100
    reporting_basis: Mapped[str | None] = mapped_column(String(16))  # "precincts" | "expected vote"
    precincts_reporting: Mapped[int | None] = mapped_column(Integer)
    precincts_total: Mapped[int | None] = mapped_column(Integer)
    unofficial: Mapped[bool] = mapped_column(Boolean, default=True)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64))  # of the counts, to recognise a repeat
    posted_by: Mapped[int | None] = mapped_column(Snowflake)
    # The Discord message (or interaction) that sent the count, whose time `taken_at` is; None for imports.
    sent_id: Mapped[int | None] = mapped_column(Snowflake)

    contest: Mapped[Contest] = relationship(back_populates="snapshots", lazy="raise")
    counts: Mapped[list[ResultCount]] = relationship(
        back_populates="snapshot", lazy="raise", order_by="ResultCount.id", cascade="all, delete-orphan"
    )


class ResultCount(Base):
    """Votes for one candidacy, or write-ins/under/over votes kept apart."""

    __tablename__ = "result_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("result_snapshots.id", ondelete="CASCADE"), index=True
    )
    candidacy_id: Mapped[int | None] = mapped_column(ForeignKey("candidacies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=CountKind.CANDIDATE)
    label: Mapped[str | None] = mapped_column(String(128))
    votes: Mapped[int] = mapped_column(BigInteger)

    snapshot: Mapped[ResultSnapshot] = relationship(back_populates="counts", lazy="raise")
    candidacy: Mapped[Candidacy | None] = relationship(lazy="raise")


class ChamberBaseline(Base):
    """Seats not up in a cycle, by party (for the balance of power)."""

    __tablename__ = "chamber_baselines"
    __table_args__ = (UniqueConstraint("cycle", "office", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer)
    office: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(16))  # "DEM" includes independents caucusing with them
    seats_not_up: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)


class GuildSettings(Base):
    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    results_channel_id: Mapped[int | None] = mapped_column(Snowflake)
    mod_role_id: Mapped[int | None] = mapped_column(Snowflake)
    prefix: Mapped[str | None] = mapped_column(String(8))
    ping_role_id: Mapped[int | None] = mapped_column(Snowflake)  # pinged only when an admin sets it
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)


class Follow(Base):
    """A member follows a race; the desk's updates reach them by DM."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "race_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, index=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"), index=True)
    guild_id: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

    race: Mapped[Race] = relationship(lazy="raise")


class AuditEntry(Base):
    """Every write: who, when, from where, before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_race_at", "race_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    actor_id: Mapped[int | None] = mapped_column(Snowflake)  # None for the system (imports, seed)
    actor_name: Mapped[str] = mapped_column(String(128), default="system")
    guild_id: Mapped[int | None] = mapped_column(Snowflake)
    action: Mapped[str] = mapped_column(String(48))  # "result.add", "call.add", "poll.remove", ...
    entity: Mapped[str] = mapped_column(String(32))  # table name
    entity_id: Mapped[int | None] = mapped_column(Integer)
    race_id: Mapped[int | None] = mapped_column(ForeignKey("races.id", ondelete="SET NULL"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))


OUTBOX_PENDING = text("status = 'pending'")  # (the partial indexes' condition must be written out)
OUTBOX_PENDING_CALL = text("status = 'pending' AND kind = 'call'")
OUTBOX_PENDING_CLAIMED = text("status = 'pending' AND claimed_by IS NOT NULL")
# A lease ends as its row stops waiting (migration 0009): the rows under a lease are waiting rows.
OUTBOX_LEASED = text("lease_until IS NOT NULL")


class OutboxMessage(Base):
    """An announcement stored with the write that caused it; a worker delivers it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_audit", "audit_id"),
        Index("ix_outbox_contest_status", "contest_id", "status"),
        # The pending rows alone (migration 0008), for the announcer's claim (db/outbox.py: `due`).
        *(
            Index(name, *columns, postgresql_where=where, sqlite_where=where)
            for name, columns, where in (
                ("ix_outbox_pending", ["id"], OUTBOX_PENDING),
                ("ix_outbox_pending_calls", ["id"], OUTBOX_PENDING_CALL),
                ("ix_outbox_pending_next", ["next_attempt_at"], OUTBOX_PENDING),
                ("ix_outbox_pending_claimed", ["lease_until"], OUTBOX_PENDING_CLAIMED),
                # The targets held back, found by a seek (migration 0009): a retry to wait for, a claim.
                (
                    "ix_outbox_pending_target_next",
                    ["target_kind", "target_id", "next_attempt_at"],
                    OUTBOX_PENDING,
                ),
                ("ix_outbox_leased_target", ["target_kind", "target_id"], OUTBOX_LEASED),
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id", ondelete="SET NULL"))
    race_id: Mapped[int | None] = mapped_column(ForeignKey("races.id", ondelete="SET NULL"))
    target_kind: Mapped[str] = mapped_column(String(8))  # "channel" | "dm"
    target_id: Mapped[int] = mapped_column(Snowflake)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # message body: content, embeds
    dedupe_key: Mapped[str] = mapped_column(String(96))  # also the Discord nonce
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Across processes (db/outbox.py): the server of a channel row (its shard delivers it); what the row
    # announces ("call", "count" or "news") and of which stage; who claimed it, until when; the count
    # (its audit id) that superseded it.
    guild_id: Mapped[int | None] = mapped_column(Snowflake)
    kind: Mapped[str] = mapped_column(String(8), default="news", server_default="news")
    contest_id: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_by: Mapped[int | None] = mapped_column(Integer)


class ImportRun(Base):
    """One import of a data file, so importing the same file again changes nothing."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedState(enum.StrEnum):
    ACTIVE = "active"  # polled at its interval
    PAUSED = "paused"  # by the desk, or stopped by a choice it cannot match
    FAILING = "failing"  # fetches keep failing; still polled, with a growing backoff
    HELD = "held"  # a reading waits for the desk: approve or skip


class Feed(Base):
    """An election-night results feed attached to one stage of a race; the poller keeps its count current."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))  # ap | clarity | csv
    contest_key: Mapped[str] = mapped_column(String(128))  # the feed's own key of its contest
    contest_name: Mapped[str] = mapped_column(String(256))
    interval: Mapped[int] = mapped_column(Integer, default=30)  # seconds
    mode: Mapped[str] = mapped_column(String(8), default="auto")  # auto | review
    state: Mapped[str] = mapped_column(String(8), default=FeedState.ACTIVE)
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    last_fetch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_change_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # fetches failed in a row
    failing_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    held: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the reading waiting for the desk, and why
    nudged: Mapped[bool] = mapped_column(Boolean, default=False)  # the desk was told it may be callable
    channel_id: Mapped[int | None] = mapped_column(Snowflake)  # where the desk hears of it
    lease_owner: Mapped[str | None] = mapped_column(String(64))  # the bot process polling it
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # until then, no other process may
    created_by: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=_now)

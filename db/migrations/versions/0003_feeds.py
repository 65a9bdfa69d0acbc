"""feeds: election-night results feeds attached to a race's stage

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("contest_key", sa.String(length=128), nullable=False),
        sa.Column("contest_name", sa.String(length=256), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("etag", sa.String(length=256), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("last_fetch_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_change_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_reported", sa.Boolean(), nullable=False),
        sa.Column("held", sa.JSON(), nullable=True),
        sa.Column("nudged", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_feeds_contest_id_contests"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_feeds_race_id_races"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
    )
    op.create_index(op.f("ix_feeds_race_id"), "feeds", ["race_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_feeds_race_id"), table_name="feeds")
    op.drop_table("feeds")

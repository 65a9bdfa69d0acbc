"""the outbox across processes: a row's server (for its shard), its kind and stage (latest count wins),
who claimed it and until when, and which newer count superseded it

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=8), type_=sa.String(length=16), existing_nullable=False
        )
        batch_op.add_column(
            sa.Column("guild_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("kind", sa.String(length=8), nullable=False, server_default="news"))
        batch_op.add_column(sa.Column("contest_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_audit", ["audit_id"], unique=False)
        batch_op.create_index("ix_outbox_contest_status", ["contest_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_contest_status")
        batch_op.drop_index("ix_outbox_audit")
        for column in ("superseded_by", "lease_until", "claimed_by", "contest_id", "kind", "guild_id"):
            batch_op.drop_column(column)
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=8), existing_nullable=False
        )

"""a count remembers the Discord message that sent it, so a contest's counts sort in the order sent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("result_snapshots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_index("ix_result_snapshots_contest_sent", ["contest_id", "sent_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("result_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_result_snapshots_contest_sent")
        batch_op.drop_column("sent_id")

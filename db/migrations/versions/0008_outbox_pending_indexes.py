"""indexes on the outbox's pending rows only: in id order, the calls in id order, by retry time, the claimed ones
by lease, and by target; they replace the index on (status, next_attempt_at). The announcer's claim of its next
rows then reads those rows and stops, however many are pending: it read and sorted every pending row, and
looked for the held targets among them all, each round (and SQLite chose the old index over the order).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
PENDING_CALL = sa.text("status = 'pending' AND kind = 'call'")
PENDING_CLAIMED = sa.text("status = 'pending' AND claimed_by IS NOT NULL")
INDEXES = (  # name, columns, where
    ("ix_outbox_pending", ["id"], PENDING),
    ("ix_outbox_pending_calls", ["id"], PENDING_CALL),
    ("ix_outbox_pending_next", ["next_attempt_at"], PENDING),
    ("ix_outbox_pending_claimed", ["lease_until"], PENDING_CLAIMED),
    ("ix_outbox_pending_target", ["target_kind", "target_id"], PENDING),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next")
        for name, columns, where in INDEXES:
            batch_op.create_index(name, columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, _, _ in reversed(INDEXES):
            batch_op.drop_index(name)
        batch_op.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)

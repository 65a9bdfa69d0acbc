"""indexes for the race lookup: a state's races newest first (`!race texas`: the pick rule reads the newest
cycles without sorting every race of the state), and a district's races (`!race tx 7`)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.create_index("ix_races_state_cycle", ["state", "cycle"], unique=False)
        batch_op.create_index(
            "ix_races_state_office_seat", ["state", "office", "seat", "cycle"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.drop_index("ix_races_state_office_seat")
        batch_op.drop_index("ix_races_state_cycle")

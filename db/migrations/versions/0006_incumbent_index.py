"""an index on a race's incumbent: a person's card asks which races they hold the seat in

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.create_index("ix_races_incumbent_id", ["incumbent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.drop_index("ix_races_incumbent_id")

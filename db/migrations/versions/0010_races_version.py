"""races_version: a number the store bumps whenever a race is added, removed or changed, so each process can
keep the races in memory for the lookup (db/directory.py) and know at once when they changed.

Triggers keep it, whatever the write (the desk, an import's bulk INSERT, a person removed whose race loses its
incumbent by ON DELETE SET NULL, another process); a write's no-op UPDATE that only takes a race's row lock
(db.writes.common.lock_race) changes nothing and bumps nothing. On PostgreSQL the trigger also sends NOTIFY
racedesk_races with the table's schema, so the other processes drop their copy at once (db/notify.py).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHANNEL = "racedesk_races"  # db/notify.py listens on it
RACE_COLUMNS = (
    "id",
    "cycle",
    "state",
    "office",
    "seat",
    "special",
    "incumbent_party",
    "incumbent_id",
    "notes",
    "source",
    "created_at",
)
# The row is made if missing, not only updated: a new store, or one emptied whole (TRUNCATE of every table),
# has none until the next change of a race. No INSERT OR REPLACE or OR IGNORE: in a trigger, the statement that fired it (a
# person's removal setting a race's incumbent to NULL, say) imposes its own conflict policy on them.
SQLITE_BUMP = (
    "INSERT INTO races_version (id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM races_version WHERE id = 1); "
    "UPDATE races_version SET n = n + 1 WHERE id = 1"
)
# In the races' own schema, whatever the search path of the session that changed them.
POSTGRESQL_BUMP = (
    "EXECUTE format('INSERT INTO %I.races_version AS v (id, n) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET n = v.n + 1', TG_TABLE_SCHEMA)"
)


def upgrade() -> None:
    op.create_table(
        "races_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    # Its row appears at the first change of a race (an empty store has no row: its number reads as None).
    op.execute("INSERT INTO races_version (id, n) SELECT 1, 1 WHERE EXISTS (SELECT 1 FROM races)")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION racedesk_races_changed() RETURNS trigger AS $$
        BEGIN
            {POSTGRESQL_BUMP};
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    # A statement's worth of new or removed races is one bump; an UPDATE bumps only for a row it changed.
    op.execute(
        "CREATE TRIGGER races_added_or_removed AFTER INSERT OR DELETE OR TRUNCATE ON races "
        "FOR EACH STATEMENT EXECUTE FUNCTION racedesk_races_changed()"
    )
    op.execute(
        "CREATE TRIGGER races_changed AFTER UPDATE ON races FOR EACH ROW "
        "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION racedesk_races_changed()"
    )


def _sqlite_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in RACE_COLUMNS)
    for name, event, when in (
        ("races_added", "INSERT", ""),
        ("races_removed", "DELETE", ""),
        ("races_changed", "UPDATE", f"WHEN {changed}"),
    ):
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON races {when} BEGIN {SQLITE_BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS races_changed ON races")
        op.execute("DROP TRIGGER IF EXISTS races_added_or_removed ON races")
        op.execute("DROP FUNCTION IF EXISTS racedesk_races_changed()")
    else:
        for name in ("races_changed", "races_removed", "races_added"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("races_version")

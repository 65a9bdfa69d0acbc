"""races_version: a number the store bumps whenever a race is added, removed or changed, so each process can
keep the races in memory for the lookup (db/directory.py) and know at once when they changed.

Triggers keep it, whatever the write (the desk, an import's bulk INSERT, a person removed whose race loses its
incumbent by ON DELETE SET NULL, another process); a write's no-op UPDATE that only takes a race's row lock
(db.writes.common.lock_race) changes nothing and bumps nothing. On PostgreSQL the trigger also sends NOTIFY
racedesk_races with the table's schema, so the other processes drop their copy at once (db/notify.py).

On PostgreSQL the number is bumped once per transaction, as it commits (deferred constraint triggers): bumped
at the first change, its row's lock would be held to the commit, and two writers that each changed a race
and then waited for a race the other had locked would deadlock on it.

The row is made at the first change of a race (a new or emptied store has none: its number reads as None),
starting from the clock in milliseconds, so a row made again after one was removed never repeats a number a
process may have read.

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
# Every column of races when this was written: a migration that adds one must make the SQLite trigger anew.
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
SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
# No INSERT OR REPLACE or OR IGNORE: in a trigger, the statement that fired it (a person's removal setting a
# race's incumbent to NULL, say) imposes its own conflict policy on them.
SQLITE_BUMP = (
    f"INSERT INTO races_version (id, n) SELECT 1, {SQLITE_NOW_MS} "
    "WHERE NOT EXISTS (SELECT 1 FROM races_version WHERE id = 1); "
    "UPDATE races_version SET n = n + 1 WHERE id = 1"
)
BUMPED = "racedesk.races_bumped"  # set for the rest of the transaction once it bumped the number
# In the races' own schema, whatever the search path of the session that changed them.
POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION racedesk_races_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'TRUNCATE' AND current_setting('{BUMPED}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'INSERT INTO %I.races_version AS v (id, n) '
        'VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) '
        'ON CONFLICT (id) DO UPDATE SET n = v.n + 1',
        TG_TABLE_SCHEMA
    );
    PERFORM set_config('{BUMPED}', 'on', true);
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "races_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO races_version (id, n) SELECT 1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint "
            "WHERE EXISTS (SELECT 1 FROM races)"
        )
        _postgresql_triggers()
    else:
        op.execute(
            f"INSERT INTO races_version (id, n) SELECT 1, {SQLITE_NOW_MS} WHERE EXISTS (SELECT 1 FROM races)"
        )
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(POSTGRESQL_FUNCTION)
    for name, event, when in (
        ("races_added_or_removed", "INSERT OR DELETE", ""),
        ("races_changed", "UPDATE", "WHEN (OLD.* IS DISTINCT FROM NEW.*)"),
    ):
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON races DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW {when} EXECUTE FUNCTION racedesk_races_changed()"
        )
    op.execute(
        "CREATE TRIGGER races_truncated AFTER TRUNCATE ON races "
        "FOR EACH STATEMENT EXECUTE FUNCTION racedesk_races_changed()"
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
        for name in ("races_truncated", "races_changed", "races_added_or_removed"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON races")
        op.execute("DROP FUNCTION IF EXISTS racedesk_races_changed()")
    else:
        for name in ("races_changed", "races_removed", "races_added"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("races_version")

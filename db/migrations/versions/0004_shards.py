"""shards: on PostgreSQL, a committed audited write notifies every racedesk process (LISTEN/NOTIFY)

Every write records an audit entry (db/audit.py); the trigger sends NOTIFY racedesk_writes with the
table's schema at commit, so each process's read cache is dropped at once (db/notify.py). SQLite has
no notifications: its processes compare the newest audit id now and then (db/cache.py).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHANNEL = "racedesk_writes"  # db/notify.py listens on it


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION racedesk_notify_write() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entries_notify AFTER INSERT ON audit_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION racedesk_notify_write()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_entries_notify ON audit_entries")
    op.execute("DROP FUNCTION IF EXISTS racedesk_notify_write()")

"""cards notify: on PostgreSQL, a committed write tells every racedesk process which races' cards it changed

Each process keeps every race's card in memory (db/shelf.py). A trigger on the audit entries (every write
records them, db/audit.py) sends NOTIFY racedesk_cards with the table's schema and the races the statement's
entries name (`public 12,15`), or `*` when one names no race or is of a person or a candidacy (adding one may fill
in the person's party, which shows on the card of each race they are in), or when the list would not fit a notification. Entries of follows and of servers'
settings change no card and send nothing. As with racedesk_writes (0004), the notification is delivered at
commit, and not at all if the write rolls back. SQLite has no notifications: nothing to do there.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHANNEL = "racedesk_cards"  # db/notify.py listens on it
CARDLESS_ENTITIES = "'follows', 'guild_settings'"  # as db/shelf.py's CARDLESS_ENTITIES when this was written
PEOPLE_ENTITIES = "'candidates', 'candidacies'"  # as db/shelf.py's PEOPLE_ENTITIES when this was written
LONGEST_LIST = 7000  # characters; a notification's payload must stay under 8,000 bytes


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION racedesk_notify_cards() RETURNS trigger AS $$
        DECLARE
            races text;
        BEGIN
            IF EXISTS (
                SELECT 1 FROM added
                WHERE entity NOT IN ({CARDLESS_ENTITIES}) AND (race_id IS NULL OR entity IN ({PEOPLE_ENTITIES}))
            ) THEN
                races := '*';
            ELSE
                SELECT string_agg(DISTINCT race_id::text, ',') INTO races
                FROM added WHERE entity NOT IN ({CARDLESS_ENTITIES});
            END IF;
            IF races IS NULL THEN
                RETURN NULL;
            END IF;
            IF length(races) > {LONGEST_LIST} THEN
                races := '*';
            END IF;
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || ' ' || races);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entries_notify_cards AFTER INSERT ON audit_entries "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION racedesk_notify_cards()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_entries_notify_cards ON audit_entries")
    op.execute("DROP FUNCTION IF EXISTS racedesk_notify_cards()")

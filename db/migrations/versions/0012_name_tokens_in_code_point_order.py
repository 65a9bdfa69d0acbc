"""name tokens in code point order: on PostgreSQL the name words compare byte by byte, whatever the database's
collation

Finding a person by the beginning of a word asks for the tokens from `word` up to `word || '~'`. Under a
language's collation (en_US, ICU) punctuation sorts before letters, so that range held only the word itself,
and `sess` did not find Sessions; the people kept in memory (db/reads/people.py KnownPeople) compare by code
point, and would have found them. The tokens are folded ASCII words: `COLLATE "C"` is their own order, and
the index on them is rebuilt in it. SQLite compares bytes already.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE name_tokens ALTER COLUMN token TYPE VARCHAR(64) COLLATE "C"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE name_tokens ALTER COLUMN token TYPE VARCHAR(64) COLLATE "default"')

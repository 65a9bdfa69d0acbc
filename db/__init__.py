"""The store: models, engine and sessions, reads, writes, importers, migrations. Knows nothing of Discord."""

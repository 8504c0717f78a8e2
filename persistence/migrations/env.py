"""Alembic environment: runs on the connection `persistence.migrate` hands it (async engine, run_sync)."""
from alembic import context

from persistence.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()

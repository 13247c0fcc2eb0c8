"""Alembic environment: migrations run on the connection caselink hands over, never a URL from a file."""

from alembic import context

from caselink.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

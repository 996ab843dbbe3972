"""Alembic environment: the URL comes from ``engine.db`` (``DATABASE_URL``), the target is the shared
metadata with the handlers' tables registered on it. ``engine.schema`` passes its own connection."""

from __future__ import annotations

from alembic import context

import handlers.records  # noqa: F401  (registers the handlers' tables on the shared metadata)
from engine.case_search import foreign_to_models
from engine.db import make_engine
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        compare_server_default=False,
        include_name=foreign_to_models,  # the search index's own tables and indexes (engine/case_search.py)
    )


def run_migrations_offline() -> None:
    from engine.db import database_url

    context.configure(url=database_url(config.get_main_option("sqlalchemy.url") or None),
                      target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    db = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with db.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

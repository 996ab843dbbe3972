"""Schema versions, kept by Alembic (revisions in ``engine/migrations/versions/``).

A database is in one of five states: ``empty`` (no tables of ours: made at head in one go and
stamped), ``current`` (at head), ``outdated`` (an older revision), ``legacy`` (our tables but no
``alembic_version``: made before migrations existed; the baseline revision adds what it lacks) or
``ahead`` (a revision this code does not know: newer code migrated it). Only ``upgrade`` changes an
existing schema, always through the revisions; processes that serve refuse anything but ``current``.
``ensure`` makes an empty database with ``create_all`` (fast, for tests and first starts); a test
keeps that equal to what the revisions build.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from . import case_search  # noqa: F401  (the search index is made with the instances table)
from .errors import SchemaOutdated
from .models import Base

UPGRADE_COMMAND = "aftersales db upgrade"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "engine:migrations")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def head() -> str:
    rev = ScriptDirectory.from_config(config()).get_current_head()
    assert rev is not None
    return rev


def current(db: Engine) -> str | None:
    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def status(db: Engine) -> str:
    with db.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        revision = MigrationContext.configure(conn).get_current_revision() if "alembic_version" in tables else None
    if not tables & set(Base.metadata.tables):
        return "empty"
    if revision is None:
        return "legacy"
    if revision == head():
        return "current"
    known = {s.revision for s in ScriptDirectory.from_config(config()).walk_revisions()}
    return "outdated" if revision in known else "ahead"


def _run(db: Engine, fn, *args) -> None:
    cfg = config()
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)


def create(db: Engine) -> None:
    """An empty database: every table at once, stamped at head (what the revisions add up to)."""
    from datetime import UTC, datetime

    from .groups import seed_domain

    Base.metadata.create_all(db)
    with db.begin() as conn:  # the rows revision 0012 seeds
        seed_domain(conn, datetime.now(UTC))
    _run(db, command.stamp, "head")


def upgrade(db: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the state it was found in."""
    found = status(db)
    if found == "ahead":
        raise SchemaOutdated(f"the database is at revision {current(db)}, newer than this code knows "
                             f"(head {head()}); install the newer aftersales")
    else:
        _run(db, command.upgrade, revision)
    return found


def ensure(db: Engine) -> None:
    """Create an empty database; refuse one that is not at head, naming the command to run."""
    found = status(db)
    if found == "empty":
        create(db)
    elif found == "legacy":
        raise SchemaOutdated(f"the database was made before schema migrations existed; run `{UPGRADE_COMMAND}`")
    elif found == "outdated":
        raise SchemaOutdated(f"the database schema is at revision {current(db)}, this code needs {head()}; "
                             f"run `{UPGRADE_COMMAND}`")
    elif found == "ahead":
        raise SchemaOutdated(f"the database is at revision {current(db)}, newer than this code knows "
                             f"(head {head()}); install the newer aftersales")

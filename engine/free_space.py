"""Giving the space that retention freed back to the disk (``aftersales retention vacuum``).

A retention run deletes rows; neither database shrinks its file by itself:

- **PostgreSQL**: ``VACUUM`` marks the dead rows' space reusable, and new rows fill it, so the database
  stops growing instead of shrinking. Autovacuum does that by itself where it is on (the default);
  :func:`reclaim` runs a plain ``VACUUM (ANALYZE)`` of the tables a run deleted from, which reads and
  writes alongside the service (it takes no lock that a query or a row change waits for), for servers
  where autovacuum is off or far behind. ``VACUUM FULL`` would give the space back to the disk but locks
  each table while it rewrites it, which a running service must not have.
- **SQLite**: freed pages go on the file's freelist and are reused by later writes. Handing them back
  to the file system needs ``auto_vacuum=INCREMENTAL`` (new databases are created so, ``engine/db.py``):
  then :func:`reclaim` frees them in steps of ``step_pages``, each one short write transaction, so a
  request waits at most one step. A database created before is ``auto_vacuum=NONE``; switching it takes
  one full ``VACUUM`` (``full=True``), which rewrites the whole file and holds the write lock until done
  (minutes on a large file): run it once, in a quiet hour or with the service stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, text

MODES = {0: "none", 1: "full", 2: "incremental"}


@dataclass(frozen=True)
class Space:
    dialect: str
    size: int  # bytes the database takes on disk (SQLite: the file, without the WAL)
    free: int  # bytes of it that are free pages (SQLite; 0 on PostgreSQL)
    auto_vacuum: str  # SQLite's mode; "vacuum" on PostgreSQL


def space(db: Engine) -> Space:
    with db.connect() as conn:
        if db.dialect.name != "sqlite":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            return Space(db.dialect.name, int(size), 0, "vacuum")
        page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        mode = conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one()
        return Space("sqlite", page * pages, page * free, MODES.get(mode, str(mode)))


def reclaim(db: Engine, *, full: bool = False, step_pages: int = 2048, pause: float = 0.02,
            tables: tuple[str, ...] = ()) -> tuple[Space, Space]:
    """Return SQLite's free pages to the file system; on PostgreSQL ``VACUUM (ANALYZE)`` each of
    ``tables`` (see the module's text). Returns (before, after)."""
    before = space(db)
    if before.dialect == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in tables:
                conn.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')  # names from the models, not from input
        return before, space(db)
    if before.dialect != "sqlite" or (before.free == 0 and before.auto_vacuum == "incremental"):
        return before, before
    raw = db.raw_connection()  # the driver runs in autocommit mode (engine/db.py): we say BEGIN ourselves
    try:
        cur = raw.cursor()
        if before.auto_vacuum != "incremental":
            if not full:
                return before, before
            cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cur.execute("VACUUM")  # rewrites the file once, in the new mode
        else:
            while True:
                # executescript steps the pragma to its end; execute() would free one page per call
                cur.executescript(f"BEGIN IMMEDIATE; PRAGMA incremental_vacuum({int(step_pages)}); COMMIT;")
                if cur.execute("PRAGMA freelist_count").fetchone()[0] == 0:
                    break
                time.sleep(pause)  # a writer waiting for the lock goes first
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
    return before, space(db)

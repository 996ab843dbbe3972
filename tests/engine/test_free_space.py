"""Space that retention freed goes back to the disk on SQLite in short steps (engine/free_space.py)."""

from __future__ import annotations

import sqlite3

import pytest

from engine import free_space
from engine.db import make_engine


def _fill_and_empty(db) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE junk (id INTEGER PRIMARY KEY, body TEXT)")
        conn.exec_driver_sql("INSERT INTO junk (body) SELECT hex(randomblob(400)) FROM "
                             "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT i FROM n)")
    with db.begin() as conn:
        conn.exec_driver_sql("DELETE FROM junk")


def test_a_new_sqlite_database_gives_freed_pages_back_in_steps(tmp_path):
    db = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    _fill_and_empty(db)
    before, after = free_space.reclaim(db, step_pages=100)  # several steps of 100 pages
    assert (before.auto_vacuum, after.auto_vacuum) == ("incremental", "incremental")
    assert before.free > 100 * 4096 and after.free == 0
    assert after.size == before.size - before.free
    db.dispose()


def test_an_older_sqlite_database_is_left_alone_unless_full_is_asked(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()  # made before: auto_vacuum=NONE
    db = make_engine(f"sqlite:///{path}")
    _fill_and_empty(db)
    before, same = free_space.reclaim(db)
    assert before == same and before.auto_vacuum == "none" and before.free > 0
    _before, after = free_space.reclaim(db, full=True)
    assert (after.auto_vacuum, after.free) == ("incremental", 0) and after.size < before.size
    db.dispose()


def test_postgresql_vacuums_the_tables_it_is_given_and_nothing_else(core):
    """On PostgreSQL (DATABASE_URL): the named tables are vacuumed, so their dead rows are gone."""
    _engine, sessions = core
    db = sessions.kw["bind"]
    if db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL)")
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS junk_vacuum (id serial PRIMARY KEY, body text)")
        conn.exec_driver_sql("INSERT INTO junk_vacuum (body) SELECT md5(i::text) FROM generate_series(1, 2000) i")
        conn.exec_driver_sql("DELETE FROM junk_vacuum")
    try:
        with db.connect() as conn:
            pages = conn.exec_driver_sql("SELECT pg_relation_size('junk_vacuum')").scalar()
        _before, after = free_space.reclaim(db, tables=("junk_vacuum",))
        with db.connect() as conn:  # every row was dead: VACUUM cuts the table's empty pages off
            assert pages > 0 and conn.exec_driver_sql("SELECT pg_relation_size('junk_vacuum')").scalar() == 0
        assert after.auto_vacuum == "vacuum"
    finally:
        with db.begin() as conn:
            conn.exec_driver_sql("DROP TABLE junk_vacuum")

"""Database connection: SQLite by default, PostgreSQL through ``DATABASE_URL``.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed step survives power loss). A
transaction that may write starts ``BEGIN IMMEDIATE``, so two writers queue instead of failing
half-way. Read-only sessions (:func:`make_read_session_factory`: GET requests) start a deferred
``BEGIN`` — WAL readers never wait for the writer — and run with ``PRAGMA query_only``: a read
transaction that tried to write could fail to upgrade (SQLITE_BUSY_SNAPSHOT), so it may not write
at all. On PostgreSQL the same sessions are ``READ ONLY`` transactions, so both databases refuse
a write from a read-only session alike.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

DEFAULT_URL = "sqlite:///aftersales.db"
READ_ONLY = "aftersales_read_only"
SQLITE_SYNCHRONOUS = os.environ.get("AFTERSALES_SQLITE_SYNCHRONOUS", "FULL")


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _note_writes(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            # takes effect only in a new, empty file: freed pages can then go back to the disk in
            # small steps (engine/free_space.py); an older file keeps its mode until a full VACUUM.
            # Set only on an empty file: on a used one the pragma waits for the write lock, so a
            # connection opened while a step holds it hung for the whole busy timeout (30 s).
            cur.execute("PRAGMA page_count")
            if cur.fetchone()[0] == 0:
                cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            read_only = bool(conn.get_execution_options().get(READ_ONLY))
            info = conn.connection.info  # lives as long as the DBAPI connection
            if info.get("query_only") is not read_only:  # set only when it changes: one round trip less
                conn.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
                info["query_only"] = read_only
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _note_writes(engine)
    return engine


WRITES = "aftersales_writes"
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPO", "RELEAS", "ROLLBA", "SHOW", "SET")


def _note_writes(engine: Engine) -> None:
    """Count, per transaction, the statements that wrote (or locked rows: ``SELECT … FOR UPDATE``)."""

    @event.listens_for(engine, "begin")
    def _begun(conn):
        conn.info[WRITES] = 0

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, _cursor, statement, *_args):
        head = statement.lstrip()[:6].upper()
        if not head.startswith(_READS) or (head == "SELECT" and " FOR UPDATE" in statement):
            conn.info[WRITES] = conn.info.get(WRITES, 0) + 1


def writes_so_far(session: Session) -> int | None:
    """How many statements of the session's transaction wrote or locked rows (None: not known)."""
    return session.connection().info.get(WRITES)


def wrote(session: Session) -> bool:
    """Whether the session's transaction holds anything a rollback would lose: rows written or locked,
    objects not flushed yet, a savepoint its caller opened."""
    return (writes_so_far(session) != 0 or bool(session.new or session.dirty or session.deleted)
            or session.in_nested_transaction())


class UnguardedWrite(RuntimeError):
    """A handler registered ``writes=False`` wrote rows: nothing can undo them alone, so the whole step
    fails (nothing stored) instead of parking the case with them."""


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


READ_ONLY_INFO = {"read_only": True}  # in ``Session.info`` of these: rows are added, never written directly


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: no write lock on SQLite, ``READ ONLY`` on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, info=READ_ONLY_INFO)
    return sessionmaker(engine.execution_options(postgresql_readonly=True), expire_on_commit=False,
                        info=READ_ONLY_INFO)


def create_schema(engine: Engine) -> None:
    """An empty database gets every table (stamped at the migration head); any other must be at head."""
    from .schema import ensure

    ensure(engine)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def database_error(exc: BaseException) -> BaseException | None:
    """The database error behind ``exc``, if any: those fail the whole step (nothing is stored and the
    caller answers 503/409 — 500 for an ``UnguardedWrite``), they never park the case in ``error`` with
    SQL text in its message."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DBAPIError | StaleDataError | UnguardedWrite):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

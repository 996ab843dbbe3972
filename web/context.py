"""Per-request resources: one database session, opened lazily, committed at the request's edge."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from engine.instances import ProcessEngine


def engine() -> ProcessEngine:
    return current_app.extensions["aftersales"]["engine"]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db() -> Session:
    """The request's session: read-only for GET/HEAD (no SQLite write lock); read-write, committed
    at the edge, for everything else. A GET view marked :func:`writes` reads in a read-only session
    too and may only *add* rows (who read which customer's data): they are written at the edge in a
    short transaction of their own, so a reader who saw no contact data never waits for a writer."""
    if "db" not in g:
        ext = current_app.extensions["aftersales"]
        read_only = has_request_context() and request.method in READ_METHODS
        g.db = ext["read_sessions" if read_only else "sessions"]()
        g.db.autoflush = not read_only  # rows a writes view adds wait for the edge (_write_added_rows)
        g.read_only = read_only
    return g.db


def _write_added_rows(session: Session) -> None:
    """The rows a :func:`writes` view added to its read-only session, inserted in a write transaction."""
    added = list(session.new)
    if session.dirty or session.deleted:
        raise RuntimeError("a GET view may only add rows, not change or delete them")
    for row in added:
        session.expunge(row)
    session.rollback()
    if not added:
        return
    with current_app.extensions["aftersales"]["sessions"]() as w:
        w.add_all(added)
        w.commit()


def writes(view):
    """Mark a GET view that writes (e.g. a log of who read what): it gets a read-write session."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.writes = True
        return view(*args, **kwargs)

    return wrapped


def register(app: Flask, failure: Callable[[BaseException], Any]) -> None:
    """Commit at the request's edge; ``failure`` renders a commit that failed (``errors.database_failure``,
    passed in so that this module, which the error pages read through, imports nothing of them)."""

    @app.after_request
    def _commit(response):
        session = g.get("db")
        if session is not None:
            if response.status_code < 400:
                try:
                    if g.get("read_only") and g.get("writes"):
                        _write_added_rows(session)
                    session.commit()
                except Exception as exc:  # noqa: BLE001 - error handlers do not see after_request failures
                    session.rollback()
                    return current_app.make_response(failure(exc))
            else:
                session.rollback()
        return response

    @app.teardown_appcontext
    def _close(exc):
        session = g.pop("db", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

"""Per-request resources: one database session, opened lazily, committed at the request's edge."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from engine.instances import ProcessEngine


def engine() -> ProcessEngine:
    return current_app.extensions["aftersales"]["engine"]


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["aftersales"]["sessions"]()
    return g.db


def register(app: Flask) -> None:
    @app.after_request
    def _commit(response):
        session = g.get("db")
        if session is not None:
            if response.status_code < 400:
                try:
                    session.commit()
                except Exception as exc:  # noqa: BLE001 - error handlers do not see after_request failures
                    session.rollback()
                    from .errors import database_failure

                    return current_app.make_response(database_failure(exc))
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

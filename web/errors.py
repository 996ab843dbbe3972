"""The one place where errors become HTTP answers: JSON ``{"error": ...}`` with a fitting status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    AftersalesError,
    Conflict,
    DiagramInvalid,
    FormInvalid,
    HandlerFailed,
    InvalidRequest,
    NoMatchingMessage,
    NotFound,
    NotPermitted,
    ScriptFailed,
)

log = logging.getLogger(__name__)


class Unauthenticated(AftersalesError):
    pass


STATUS: dict[type[AftersalesError], int] = {
    Unauthenticated: 401,
    DiagramInvalid: 400,
    InvalidRequest: 400,
    NotPermitted: 403,
    NoMatchingMessage: 404,
    NotFound: 404,
    Conflict: 409,
    FormInvalid: 422,
    HandlerFailed: 500,
    ScriptFailed: 500,
}


def status_for(exc: AftersalesError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _wants_page() -> bool:
    return not request.path.startswith("/api/")


def _page(status: int, message: str):
    from flask_babel import gettext as _

    titles = {400: _("Bad request"), 401: _("Please log in"), 403: _("Not allowed"), 404: _("Not found"),
              405: _("Not allowed"), 409: _("Changed meanwhile"), 422: _("Invalid input"), 500: _("Something went wrong"),
              503: _("Service unavailable")}
    return render_template("error.html", title=titles.get(status, _("Error")), message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(AftersalesError)
    def _ours(exc: AftersalesError):
        if _wants_page():
            return _page(status_for(exc), str(exc))
        response = jsonify(exc.to_dict())
        response.status_code = status_for(exc)
        if isinstance(exc, Unauthenticated):
            # Never "Basic": a browser would prompt, remember the credentials and send them with any
            # cross-site form post. Bearer challenges make no browser prompt (web/guards.py).
            response.headers["WWW-Authenticate"] = 'Bearer realm="aftersales"'
        return response

    def _answer(status: int, message: str):
        return _page(status, message) if _wants_page() else (jsonify({"error": message}), status)

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        return _answer(409, "changed by someone else at the same moment; reload and try again")

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        log.warning("integrity error: %s", exc)
        return _answer(409, "conflicting change; reload and try again")

    @app.errorhandler(OperationalError)
    def _db_down(exc):
        log.error("database error: %s", exc)
        return _answer(503, "database unavailable; nothing was changed, try again shortly")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if _wants_page():
            return _page(exc.code or 500, exc.description or exc.name)
        return jsonify({"error": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return _answer(500, "internal error; nothing was changed")

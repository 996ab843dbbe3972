"""The one place where errors become HTTP answers: JSON ``{"error": ...}`` with a fitting status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
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


def register(app: Flask) -> None:
    @app.errorhandler(AftersalesError)
    def _ours(exc: AftersalesError):
        response = jsonify(exc.to_dict())
        response.status_code = status_for(exc)
        if isinstance(exc, Unauthenticated):
            response.headers["WWW-Authenticate"] = 'Basic realm="aftersales"'
        return response

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        return jsonify({"error": "changed by someone else at the same moment; reload and try again"}), 409

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        log.warning("integrity error: %s", exc)
        return jsonify({"error": "conflicting change; reload and try again"}), 409

    @app.errorhandler(OperationalError)
    def _db_down(exc):
        log.error("database error: %s", exc)
        return jsonify({"error": "database unavailable; nothing was changed, try again shortly"}), 503

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return jsonify({"error": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify({"error": "internal error; nothing was changed"}), 500

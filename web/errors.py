"""The one place where errors become HTTP answers: JSON ``{"error": ...}`` with a fitting status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
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
    TooManyAttempts,
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
    TooManyAttempts: 429,
}


def status_for(exc: AftersalesError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _wants_page() -> bool:
    return not request.path.startswith(("/api/", "/engine-rest/"))


def _camunda() -> bool:
    return request.path.startswith("/engine-rest/")


# Camunda's exception names for ours (``/engine-rest`` answers as Camunda 7 does: ``{"type", "message"}``)
CAMUNDA_TYPES: dict[type[AftersalesError], str] = {
    Unauthenticated: "AuthenticationException",
    DiagramInvalid: "ParseException",
    NotPermitted: "AuthorizationException",
    NoMatchingMessage: "MismatchingMessageCorrelationException",
    Conflict: "OptimisticLockingException",
    FormInvalid: "InvalidRequestException",
}
# Camunda answers these with 400 where /api says 404 (no case waits for the message) or 422 (a form value)
CAMUNDA_STATUS: dict[type[AftersalesError], int] = {NoMatchingMessage: 400, FormInvalid: 400}


def camunda_body(exc: AftersalesError) -> tuple[dict, int]:
    """The error as Camunda 7's REST gives it; a refused diagram as its ``ParseException`` (the message
    starts ``ENGINE-09005 Could not parse BPMN process.``, which Camunda Modeler recognises) with each
    problem's element and line, by resource, under ``details``."""
    status = next((CAMUNDA_STATUS[c] for c in type(exc).__mro__ if c in CAMUNDA_STATUS), status_for(exc))
    kind = next((CAMUNDA_TYPES[c] for c in type(exc).__mro__ if c in CAMUNDA_TYPES), "InvalidRequestException")
    if isinstance(exc, DiagramInvalid):
        lines = [f"* {p.message}" + (f" (element {p.element_id})" if p.element_id else "")
                 + f" | resource {p.file} | line {p.line if p.line is not None else '?'} | column 0"
                 for p in exc.problems]
        details: dict[str, dict] = {}
        for p in exc.problems:
            details.setdefault(p.file, {"errors": [], "warnings": []})["errors"].append(
                {"message": p.message, "line": p.line, "column": 0, "mainElementId": p.element_id,
                 "elementIds": [p.element_id] if p.element_id else [], "code": p.code, "params": p.params})
        return {"type": kind, "message": "ENGINE-09005 Could not parse BPMN process. Errors: \n" + "\n".join(lines),
                "details": details}, status
    if isinstance(exc, FormInvalid):
        return {"type": kind, "message": str(exc), "errors": exc.errors}, status
    return {"type": kind, "message": str(exc)}, status


def _page(status: int, message: str):
    from flask_babel import gettext as _

    titles = {400: _("Bad request"), 401: _("Please log in"), 403: _("Not allowed"), 404: _("Not found"),
              405: _("Not allowed"), 409: _("Changed meanwhile"), 422: _("Invalid input"), 429: _("Locked for a while"),
              500: _("Something went wrong"),
              503: _("Service unavailable")}
    return render_template("error.html", title=titles.get(status, _("Error")), message=_plain(status, message)), status


def _plain(status: int, message: str) -> str:
    """What a page says went wrong: the message in the page's language where it has a translation,
    else what the status means (an engine's English detail is for the API and the log)."""
    import re

    from flask_babel import gettext as _

    from .i18n import select_locale
    from .pages.labels import translate_error

    shown = translate_error(message)
    if shown != message or re.search(r"[\u3000-\u9fff]", message) or not select_locale().startswith("zh"):
        return shown
    said = {400: _("The request could not be read; go back and try again."),
            401: _("Please log in to continue."),
            403: _("Your groups may not see or change this."),
            404: _("This page, case or task does not exist (any more)."),
            405: _("This page cannot be used that way."),
            409: _("Someone changed this meanwhile; open it again to see what it is now."),
            422: _("Some values are not valid; go back and correct them."),
            429: _("Too many wrong passwords; wait a moment and try again."),
            503: _("The service is unavailable for a moment; nothing was changed. Try again shortly.")}
    error_id = re.search(r"error id (\w+)", message)
    if status >= 500 and status != 503:
        return _("Something went wrong; nothing was changed.") + (
            " " + _("Error id %(id)s.", id=error_id[1]) if error_id else "")
    return said.get(status, _("Something went wrong; nothing was changed."))


def _retry_after(exc: AftersalesError) -> dict:
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}


def register(app: Flask) -> None:
    @app.errorhandler(AftersalesError)
    def _ours(exc: AftersalesError):
        if _wants_page():
            page, status = _page(status_for(exc), str(exc))
            return page, status, _retry_after(exc)
        if _camunda():
            camunda, status = camunda_body(exc)
            response = jsonify(camunda)
            response.status_code = status
            response.headers.update(_retry_after(exc))
            return response
        body = exc.to_dict()
        if isinstance(exc, FormInvalid):  # each problem in the caller's language, naming the field's label
            from .pages.labels import field_messages

            body["messages"] = field_messages(exc.errors, exc.labels)
        response = jsonify(body)
        response.status_code = status_for(exc)
        response.headers.update(_retry_after(exc))
        if isinstance(exc, Unauthenticated):
            # Never "Basic": a browser would prompt, remember the credentials and send them with any
            # cross-site form post. Bearer challenges make no browser prompt (web/guards.py).
            response.headers["WWW-Authenticate"] = 'Bearer realm="aftersales"'
        return response

    @app.errorhandler(StaleDataError)
    @app.errorhandler(DataError)
    @app.errorhandler(IntegrityError)
    @app.errorhandler(OperationalError)
    def _database(exc):
        return database_failure(exc)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        """A page form whose session ended (logged out, signed in elsewhere, the browser's session
        gone): back to the form — through the login when needed — where the browser restores what was
        typed (web/static/app.js). Never a dead end that throws the input away."""
        from flask import flash, redirect, url_for
        from flask_babel import gettext as _
        from flask_login import current_user

        # A form that carries a token its session no longer knows (the session ended or was renewed);
        # a post without any token is no form of ours: 400.
        if _wants_page() and request.method == "POST" and request.form.get("csrf_token"):
            back = _same_site_path(request.referrer) or url_for("inbox.inbox")
            if not current_user.is_authenticated:
                flash(_("Your session ended. Log in again: what you typed is kept in this browser."), "error")
                return redirect(url_for("login.login", next=back))
            flash(_("The page was too old to send. What you typed is kept: check it and submit again."), "error")
            return redirect(back)
        return _http(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if _wants_page():
            return _page(exc.code or 500, exc.description or exc.name)
        if _camunda():
            return jsonify({"type": type(exc).__name__, "message": exc.description or exc.name}), exc.code
        return jsonify({"error": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        error_id = _error_id()
        log.exception("unexpected error [error id %s]", error_id)
        return _answer(500, f"internal error; nothing was changed (error id {error_id})", error_id)


def _same_site_path(url: str | None) -> str | None:
    """The path (and query) of a URL on this site, else None."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") else None


def _answer(status: int, message: str, error_id: str | None = None):
    if _wants_page():
        return _page(status, message)
    if _camunda():
        return jsonify({"type": "ProcessEngineException" if status >= 500 else "InvalidRequestException",
                        "message": message} | ({"error_id": error_id} if error_id else {})), status
    body = {"error": message} | ({"error_id": error_id} if error_id else {})
    return jsonify(body), status


def _error_id() -> str:
    import uuid

    return uuid.uuid4().hex[:12]


def database_failure(exc: Exception):
    """A failed statement or commit: the SQL goes to the log under an id, the user gets the id."""
    error_id = _error_id()
    if isinstance(exc, StaleDataError):
        log.info("concurrent change [error id %s]: %s", error_id, exc)
        return _answer(409, "changed by someone else at the same moment; reload and try again", error_id)
    if isinstance(exc, DataError):  # a value the column cannot hold (too long, out of range)
        log.warning("value refused by the database [error id %s]: %s", error_id, exc)
        return _answer(400, "a value is too long or out of range for where it is stored; nothing was changed", error_id)
    if isinstance(exc, IntegrityError) and _duplicate(exc):  # two requests wrote the same key at once
        log.warning("duplicate key [error id %s]: %s", error_id, exc)
        return _answer(409, "conflicting change; reload and try again", error_id)
    if isinstance(exc, IntegrityError):  # a missing value or a dangling reference: our bug, not a conflict
        log.error("integrity error [error id %s]: %s", error_id, exc)
        return _answer(500, f"internal error; nothing was changed (error id {error_id})", error_id)
    if isinstance(exc, OperationalError):
        log.error("database error [error id %s]: %s", error_id, exc)
        return _answer(503, "database unavailable; nothing was changed, try again shortly", error_id)
    log.error("database failure [error id %s]", error_id, exc_info=exc)
    return _answer(500, f"internal error; nothing was changed (error id {error_id})", error_id)


def _duplicate(exc: IntegrityError) -> bool:
    """A unique key violated (PostgreSQL SQLSTATE 23505, SQLite's UNIQUE / PRIMARY KEY message)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23505"
    text = str(exc.orig)
    return "UNIQUE constraint failed" in text or "duplicate key value violates unique constraint" in text

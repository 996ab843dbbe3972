"""Edges every request passes: cross-site request forgery on the API, text no column can hold.

API CSRF. The API authenticates each request by its ``Authorization`` header and never by cookie,
and it never answers ``WWW-Authenticate: Basic`` (see ``web/errors.py``), so a browser never
prompts for, nor remembers, API credentials. As a second wall, a state-changing call (anything but
GET/HEAD/OPTIONS) must carry ``Content-Type: application/json`` or a Bearer token: an HTML form on
another origin can only send ``application/x-www-form-urlencoded``, ``multipart/form-data`` or
``text/plain``, and a cross-origin script that sets ``application/json`` (or any non-simple header)
triggers a CORS preflight, which this service never grants. The multipart calls, uploading
diagrams (``POST /api/deployments``) and a holiday schedule (``POST /api/calendar/import``), are accepted with a Bearer token, or with an
``X-Requested-With`` header — a header no form can set and no cross-origin script can send without
the preflight. Everything else answers 415, before the body is read or anything is stored.

``/engine-rest`` (Camunda's REST for its Modeler and workers, which send neither header) asks instead
for an ``Authorization`` header on every state-changing call: sent by a program, never by a form.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType

from engine import limits
from engine.errors import InvalidRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UPLOAD_ENDPOINTS = frozenset({"api.definitions.deploy", "api.calendar.import_schedule"})


def _bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def check_api_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    if request.path.startswith("/engine-rest/"):
        # Camunda's clients post multipart (Camunda Modeler's deploy) and JSON with an Authorization
        # header and nothing else: that header is the wall — no form can set it, a cross-origin script
        # only after a preflight this service never grants, and no browser remembers it for us.
        if not request.headers.get("Authorization"):
            raise UnsupportedMediaType("calls to /engine-rest that change something need an 'Authorization' header "
                                       "(HTTP Basic or a Bearer token)")
        return
    if not request.path.startswith("/api/") or _bearer():
        return
    if request.mimetype == "application/json":
        return
    if request.mimetype == "multipart/form-data" and request.endpoint in UPLOAD_ENDPOINTS \
            and request.headers.get("X-Requested-With"):
        return
    if request.endpoint in UPLOAD_ENDPOINTS:
        raise UnsupportedMediaType("upload files as multipart/form-data with a Bearer token or an "
                                   "'X-Requested-With' header")
    raise UnsupportedMediaType("state-changing API calls need 'Content-Type: application/json' or a Bearer token")


def check_text() -> None:
    """Query parameters and form fields: NUL or lone surrogates are a 400, not a database error."""
    pairs = [("query parameter", k, v) for k, v in request.args.items(multi=True)]
    if request.method not in SAFE_METHODS and request.mimetype in ("application/x-www-form-urlencoded",
                                                                   "multipart/form-data"):
        pairs += [("form field", k, v) for k, v in request.form.items(multi=True)]
    for source, key, value in pairs:
        key, value = key or "", value or ""
        problem = limits.text_problem(key + value, f"{source} '{key[:40]}'")
        if problem:
            raise InvalidRequest(problem)


def register(app: Flask) -> None:
    app.before_request(check_api_csrf)
    app.before_request(check_text)

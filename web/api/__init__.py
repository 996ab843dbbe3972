"""The JSON API under ``/api``: one blueprint per area."""

from __future__ import annotations

from flask import Blueprint

from . import (
    access_log,
    calendar,
    definitions,
    incidents,
    instances,
    kpis,
    messages,
    openapi,
    people,
    retention,
    tasks,
    tokens,
    versions,
)


def blueprint() -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api")
    for module in (definitions, instances, tasks, messages, tokens, calendar, versions, access_log, incidents,
                   retention, kpis, people, openapi):
        bp.register_blueprint(module.bp)
    return bp

"""The staff inbox: server-rendered pages (Flask + Jinja) with a little JavaScript."""

from __future__ import annotations

from flask import Flask

from . import account, admin, calendar, cases, inbox, incidents, labels, login, people, tasks


def register(app: Flask) -> None:
    login.init(app)
    labels.init(app)
    for module in (login, inbox, tasks, cases, admin, calendar, account, incidents, people):
        app.register_blueprint(module.bp)
    app.jinja_env.globals["calendar_warning_years"] = calendar.warning_years
    app.jinja_env.globals["incident_counts"] = incident_counts


def incident_counts() -> dict[str, int]:
    """The menu badge for supervisors: cases in error and overdue tasks."""
    from engine import incidents

    from ..context import db, engine
    from .login import actor

    return incidents.counts(db(), actor(), engine().clock.now())

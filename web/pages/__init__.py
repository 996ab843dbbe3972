"""The staff inbox: server-rendered pages (Flask + Jinja) with a little JavaScript."""

from __future__ import annotations

from flask import Flask

from . import (
    account,
    admin,
    calendar,
    cases,
    dashboard,
    inbox,
    incidents,
    labels,
    login,
    people,
    receiving,
    retention,
    tasks,
)


def register(app: Flask) -> None:
    login.init(app)
    labels.init(app)
    for module in (login, inbox, tasks, cases, admin, calendar, account, incidents, retention, dashboard, receiving, people):
        app.register_blueprint(module.bp)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.globals["calendar_warning_years"] = calendar.warning_years
    app.jinja_env.globals["incident_counts"] = incident_counts
    app.jinja_env.globals["receiving_count"] = receiving_count


def favicon():
    """The tab icon browsers ask for at /favicon.ico (``web/static/favicon.svg``, as an .ico); no login."""
    from flask import current_app, send_from_directory

    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


def incident_counts() -> dict[str, int]:
    """The menu badge for supervisors: cases in error and overdue tasks."""
    from engine import incidents

    from ..context import db, engine
    from .login import actor

    return incidents.counts(db(), actor(), engine().clock.now())


def receiving_count() -> int | None:
    """The menu badge for those who record goods received: cases waiting for it; None: no such menu."""
    from engine import access, staff_messages

    from ..context import db
    from .login import actor

    if not access.messages_recorded_by(actor()):
        return None
    return staff_messages.count(db(), actor())

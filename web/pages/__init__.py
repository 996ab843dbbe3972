"""The staff inbox: server-rendered pages (Flask + Jinja) with a little JavaScript."""

from __future__ import annotations

from flask import Flask

from . import account, admin, calendar, cases, inbox, labels, login, tasks


def register(app: Flask) -> None:
    login.init(app)
    labels.init(app)
    for module in (login, inbox, tasks, cases, admin, calendar, account):
        app.register_blueprint(module.bp)
    app.jinja_env.globals["calendar_warning_years"] = calendar.warning_years

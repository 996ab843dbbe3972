"""The Flask application: ``create_app`` is the only place a ``Flask`` object is made."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify

import handlers
from engine.wiring import build

from . import context, errors


def make_sender():
    """SMTP when ``SMTP_HOST`` is set, else the console (the demo)."""
    from engine.notifications import ConsoleSender, SmtpSender

    host = os.environ.get("SMTP_HOST")
    if not host:
        return ConsoleSender()
    return SmtpSender(host, int(os.environ.get("SMTP_PORT", "25")), sender=os.environ.get("SMTP_FROM", "aftersales@localhost"),
                      username=os.environ.get("SMTP_USER"), password=os.environ.get("SMTP_PASSWORD"),
                      starttls=os.environ.get("SMTP_STARTTLS", "") in ("1", "true", "yes"))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        CLOCK=None,
        SETTINGS={},
        TIMERS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if test_config:
        app.config.update(test_config)
    engine, sessions, db = build(handlers.default_registry(), app.config["DATABASE_URL"],
                                 clock=app.config["CLOCK"], settings=app.config["SETTINGS"])
    app.extensions["aftersales"] = {"engine": engine, "sessions": sessions, "db": db}

    from .api import blueprint

    app.register_blueprint(blueprint())
    context.register(app)
    errors.register(app)

    @app.get("/health")
    def health():
        return jsonify({"status": "ok"})

    if app.config["TIMERS"]:
        from web.scheduler import TimerScheduler

        scheduler = TimerScheduler(engine, sessions, sender=make_sender())
        scheduler.start()
        app.extensions["aftersales"]["scheduler"] = scheduler
    return app

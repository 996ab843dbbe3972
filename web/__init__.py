"""The Flask application: ``create_app`` is the only place a ``Flask`` object is made."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

import handlers
from engine.wiring import build

from . import context, errors, guards, security_headers


def make_sender():
    """SMTP when ``SMTP_HOST`` is set, else the console (the demo)."""
    from engine.notifications import ConsoleSender, SmtpSender

    host = os.environ.get("SMTP_HOST")
    if not host:
        return ConsoleSender()
    return SmtpSender(host, int(os.environ.get("SMTP_PORT", "25")), sender=os.environ.get("SMTP_FROM", "aftersales@localhost"),
                      username=os.environ.get("SMTP_USER"), password=os.environ.get("SMTP_PASSWORD"),
                      starttls=os.environ.get("SMTP_STARTTLS", "") in ("1", "true", "yes"))


def secret_key(app: Flask) -> str:
    """``AFTERSALES_SECRET_KEY``, else one made once and kept in the instance folder (never in git)."""
    if os.environ.get("AFTERSALES_SECRET_KEY"):
        return os.environ["AFTERSALES_SECRET_KEY"]
    import secrets

    path = os.path.join(app.instance_path, "secret_key")
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        os.makedirs(app.instance_path, exist_ok=True)
        key = secrets.token_hex(32)
        with open(path, "w") as f:
            f.write(key)
        os.chmod(path, 0o600)
        return key


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        CLOCK=None,
        SETTINGS={},
        TIMERS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # Served over HTTPS (AFTERSALES_HTTPS=1): cookies only over HTTPS.
        SESSION_COOKIE_SECURE=os.environ.get("AFTERSALES_HTTPS", "") in ("1", "true", "yes"),
        REMEMBER_COOKIE_SECURE=os.environ.get("AFTERSALES_HTTPS", "") in ("1", "true", "yes"),
        # Lockout counts in Redis when set (e.g. redis://127.0.0.1:6379/0), else in the database.
        RATELIMIT_STORAGE_URI=os.environ.get("AFTERSALES_RATELIMIT_STORAGE") or None,
        # A page's CSRF token is good for as long as the login session (Flask-WTF's default is one
        # hour: a form left open over lunch was refused and its input lost, issue 11).
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if test_config:
        app.config.update(test_config)
    engine, sessions, db = build(handlers.default_registry(), app.config["DATABASE_URL"],
                                 clock=app.config["CLOCK"], settings=app.config["SETTINGS"])
    from engine.db import make_read_session_factory

    app.extensions["aftersales"] = {"engine": engine, "sessions": sessions, "db": db,
                                    "read_sessions": make_read_session_factory(db)}

    from flask_wtf.csrf import CSRFProtect

    from . import auth, i18n, pages
    from .api import blueprint

    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or secret_key(app)
    i18n.init(app)
    auth.init(app)
    # Every page form carries a CSRF token; the APIs (/api, /engine-rest) authenticate each request
    # themselves (Basic/Bearer, no cookie), so it is not checked there (web/guards.py has their wall).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.before_request
    def _csrf():
        from flask import request

        if app.config.get("WTF_CSRF_ENABLED", True) and not request.path.startswith(("/api/", "/engine-rest/")):
            csrf.protect()

    guards.register(app)
    security_headers.register(app)
    app.register_blueprint(blueprint())
    from .engine_rest import blueprint as engine_rest

    app.register_blueprint(engine_rest())  # Camunda 7's REST API, for Camunda Modeler and external workers
    pages.register(app)
    context.register(app, errors.database_failure)
    errors.register(app)

    from .health import bp as health

    app.register_blueprint(health)

    if app.config["TIMERS"]:
        from web.scheduler import TimerScheduler

        scheduler = TimerScheduler(engine, sessions, sender=make_sender(),
                                   read_sessions=app.extensions["aftersales"]["read_sessions"])
        scheduler.start()
        app.extensions["aftersales"]["scheduler"] = scheduler
    return app

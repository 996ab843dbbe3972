"""Log in and out (Flask-Login, session cookie HttpOnly + SameSite, CSRF on every form)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine import users
from engine.models import User
from engine.users import Actor

from ..context import db
from ..i18n import COOKIE, LANGUAGES

bp = Blueprint("login", __name__)


class SessionUser(UserMixin):
    def __init__(self, user: User):
        self.id = str(user.id)
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.groups = user.group_list

    @property
    def actor(self) -> Actor:
        return Actor(self.username, frozenset(self.groups))


def init(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "login.login"
    manager.login_message = None

    @manager.user_loader
    def load(user_id: str):
        user = db().get(User, int(user_id)) if user_id.isdigit() else None
        return SessionUser(user) if user is not None and user.active else None

    @app.context_processor
    def _globals():
        return {"languages": LANGUAGES}


def actor() -> Actor:
    return current_user.actor


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("inbox.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = users.authenticate(db(), request.form.get("username", "").strip(), request.form.get("password", ""))
        if user is None:
            error = _("Wrong user name or password.")
        else:
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=request.form.get("username", "")), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have logged out."))
    return redirect(url_for("login.login"))


@bp.get("/lang/<code>")
def language(code: str):
    response = redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    g.pop("lang", None)
    return response

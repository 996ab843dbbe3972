"""Log in and out (Flask-Login, session cookie HttpOnly + SameSite, CSRF on every form).

The session remembers the user's ``session_epoch`` next to the id: logout, a password change or
disabling the account raise the epoch, and every cookie issued before stops working.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine import login_guard, users
from engine.errors import TooManyAttempts
from engine.login_guard import UserRow
from engine.models import User
from engine.users import Actor

from ..auth import check_password
from ..context import db, engine
from ..errors import Unauthenticated
from ..i18n import COOKIE, LANGUAGES

bp = Blueprint("login", __name__)


class SessionUser(UserMixin):
    def __init__(self, user: User | UserRow):
        self.user_id = user.id
        self.id = f"{user.id}:{user.session_epoch or 0}"
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.groups = sorted(user.groups) if isinstance(user, UserRow) else user.group_list

    @property
    def actor(self) -> Actor:
        return Actor(self.username, frozenset(self.groups))


def init(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "login.login"
    manager.login_message = None

    @manager.user_loader
    def load(session_id: str):
        user_id, _sep, epoch = session_id.partition(":")
        user = users.session_row(db(), int(user_id)) if user_id.isdigit() and epoch.isdigit() else None
        if user is None or not user.active or (user.session_epoch or 0) != int(epoch):
            return None  # logged out, password changed or disabled since this cookie was issued
        return SessionUser(user)

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
    error, status = None, 200
    if request.method == "POST":
        try:
            row = check_password(request.form.get("username", "").strip(), request.form.get("password", ""), "login")
        except TooManyAttempts as exc:
            error, status = str(exc), 429
        except Unauthenticated as exc:
            error, status = str(exc), 401
        else:
            if row is None:
                error, status = _("Wrong user name or password."), 401
            else:
                login_user(SessionUser(row))
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=request.form.get("username", "")), status


@bp.post("/logout")
@login_required
def logout():
    user = db().get(User, current_user.user_id)
    if user is not None:
        users.end_sessions(db(), user)  # copies of this cookie stop working too
        login_guard.record(db(), engine().clock.now(), user.username, request.remote_addr or "", "session", "logout")
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

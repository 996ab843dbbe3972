"""My account, under the user menu: API tokens (create, list, revoke) and changing the password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from engine import login_guard, users
from engine.errors import AftersalesError, NotFound, TooManyAttempts
from engine.models import User

from ..auth import check_password
from ..context import db, engine
from .login import SessionUser

bp = Blueprint("account", __name__)


def _me() -> User:
    user = db().get(User, current_user.user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def _page(new_token: str | None = None, error: str | None = None, status: int = 200):
    return render_template("account.html", tokens=users.tokens_of(db(), _me()), new_token=new_token, error=error,
                           now=engine().clock.now()), status


@bp.get("/account")
@login_required
def account():
    return _page()


@bp.post("/account/tokens")
@login_required
def new_token():
    user, now = _me(), engine().clock.now()
    address = request.remote_addr or ""
    try:
        current_app.extensions["aftersales"]["guard"].may_issue_token(db(), user.username, address, now)
    except TooManyAttempts:
        return _page(error=_("Too many new tokens in the last hour; try again later."), status=429)
    row = users.issue_token(db(), user, now=now, label=request.form.get("label", "").strip()[:120])
    login_guard.record(db(), now, user.username, address, "token", "token_issued")
    return _page(new_token=row.secret)  # type: ignore[attr-defined]


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    user, now = _me(), engine().clock.now()
    users.revoke_token(db(), user, token_id, now)
    login_guard.record(db(), now, user.username, request.remote_addr or "", "token", "token_revoked")
    flash(_("Token revoked."))
    return redirect(url_for("account.account"))


@bp.post("/account/password")
@login_required
def change_password():
    username = current_user.username
    new = request.form.get("new_password", "")
    if new != request.form.get("repeat_password", ""):
        return _page(error=_("The two new passwords differ."), status=422)
    db().rollback()  # no transaction (on SQLite: no write lock) while the old password is checked
    try:
        row = check_password(username, request.form.get("password", ""), "login")
    except (TooManyAttempts, AftersalesError) as exc:
        return _page(error=str(exc), status=429 if isinstance(exc, TooManyAttempts) else 401)
    if row is None:
        return _page(error=_("The current password is wrong."), status=401)
    if len(new) < 8:
        return _page(error=_("The new password needs at least 8 characters."), status=422)
    user = _me()
    users.set_password(db(), user, new)  # every other session of this user ends here
    login_guard.record(db(), engine().clock.now(), user.username, request.remote_addr or "", "session",
                       "password_changed")
    login_user(SessionUser(user))  # this browser stays logged in, with the new epoch
    flash(_("Password changed; your other sessions have been logged out."))
    return redirect(url_for("account.account"))

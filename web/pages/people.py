"""人员与组 / People and groups (admins): create groups, put users in and out, create and disable
users, reset passwords — the same engine calls as ``/api/groups`` and ``/api/users``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine import access, groups, login_guard, users
from engine.errors import Conflict, FieldsInvalid, NotPermitted

from ..context import db, engine
from .labels import translate_error
from .login import actor

bp = Blueprint("people", __name__, url_prefix="/admin/people")


@bp.before_request
@login_required
def _only_admins():
    if not access.may(actor(), "manage_users"):
        raise NotPermitted(_("Only admins manage users and groups."))


def _render(errors: dict | None = None, status: int = 200):
    all_groups = groups.all_groups(db())
    return render_template("admin/people.html", groups=all_groups, users=users.all_users(db()),
                           members={g.id: groups.members(db(), g.id) for g in all_groups},
                           names={g.id: g.name_zh for g in all_groups}, errors=errors or {},
                           new_group=request.values.get("group", ""), form=request.form), status


def _refused(exc: FieldsInvalid | Conflict):
    db().rollback()
    errors = exc.errors if isinstance(exc, FieldsInvalid) else {"id": str(exc)}
    return _render({k: translate_error(v) for k, v in errors.items()}, 400 if isinstance(exc, FieldsInvalid) else 409)


@bp.get("/")
def show():
    return _render()


@bp.post("/groups")
def add_group():
    try:
        groups.add_group(db(), request.form.get("id", ""), request.form.get("name_zh", ""),
                         request.form.get("name_en", ""), now=engine().clock.now())
    except (FieldsInvalid, Conflict) as exc:
        return _refused(exc)
    flash(_("Group created."))
    return redirect(url_for("people.show"))


@bp.post("/users")
def add_user():
    now = engine().clock.now()
    try:
        user = users.create_user(db(), {"username": request.form.get("username", "").strip(),
                                        "password": request.form.get("password", ""),
                                        "groups": request.form.getlist("groups"),
                                        "display_name": request.form.get("display_name", "")}, now=now)
    except (FieldsInvalid, Conflict) as exc:
        return _refused(exc)
    login_guard.record(db(), now, user.username, request.remote_addr or "", "admin", "created")
    flash(_("User created."))
    return redirect(url_for("people.show"))


@bp.post("/users/<name>")
def change_user(name: str):
    body: dict = {"groups": request.form.getlist("groups"), "active": request.form.get("active") == "on"}
    if request.form.get("password"):
        body["password"] = request.form["password"]
    now = engine().clock.now()
    try:
        users.update_user(db(), name, body, by=actor().username)
    except (FieldsInvalid, Conflict) as exc:
        return _refused(exc)
    if "password" in body:
        login_guard.record(db(), now, name, request.remote_addr or "", "admin", "password_reset")
    flash(_("Saved."))
    return redirect(url_for("people.show"))

"""Users and groups (admins): list, create, change groups, disable, reset a password (issue 13)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine import access, groups, login_guard, users
from engine.instances import iso
from engine.models import Group, User

from ..auth import address, current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("people", __name__)


def _admin() -> str:
    actor = current_actor()
    access.require(access.may(actor, "manage_users"), "only admins manage users and groups")
    return actor.username


def user_view(user: User) -> dict:
    """A user as admins see it: never the password hash."""
    return {"username": user.username, "display_name": user.display_name, "email": user.email, "region": user.region,
            "active": bool(user.active), "groups": user.all_groups, "created_at": iso(user.created_at)}


def group_view(group: Group, members: list[User] | None = None) -> dict:
    view = {"id": group.id, "name_zh": group.name_zh, "name_en": group.name_en, "active": bool(group.active),
            "created_at": iso(group.created_at)}
    if members is not None:
        view["members"] = [m.username for m in members]
        view["active_members"] = sum(1 for m in members if m.active)
    return view


@bp.get("/groups")
@login_required
def list_groups():
    _admin()
    return jsonify([group_view(g, groups.members(db(), g.id)) for g in groups.all_groups(db())])


@bp.post("/groups")
@login_required
def add_group():
    _admin()
    body = json_body()
    group = groups.add_group(db(), body.get("id"), body.get("name_zh"), body.get("name_en"), now=engine().clock.now())
    return jsonify(group_view(group, [])), 201


@bp.get("/users")
@login_required
def list_users():
    _admin()
    return jsonify([user_view(u) for u in users.all_users(db())])


@bp.post("/users")
@login_required
def add_user():
    _admin()
    now = engine().clock.now()
    user = users.create_user(db(), json_body(), now=now)
    login_guard.record(db(), now, user.username, address(), "admin", "created")
    return jsonify(user_view(user)), 201


@bp.put("/users/<name>")
@login_required
def change_user(name: str):
    by = _admin()
    body = json_body()
    now = engine().clock.now()
    user = users.update_user(db(), name, body, by=by)
    for field, outcome in (("password", "password_reset"), ("active", "enabled" if body.get("active") else "disabled")):
        if field in body:
            login_guard.record(db(), now, name, address(), "admin", outcome)
    return jsonify(user_view(user))

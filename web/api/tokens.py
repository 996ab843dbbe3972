"""API tokens for scripts and integrations: ask with Basic auth, use as Bearer."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from engine import users

from ..auth import login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("tokens", __name__)


@bp.post("/tokens")
@login_required
def issue():
    label = str(json_body().get("label", ""))[:120]
    token = users.issue_token(db(), g.user, now=engine().clock.now(), label=label)
    return jsonify({"token": token, "user": g.user.username, "groups": g.user.group_list}), 201


@bp.get("/me")
@login_required
def me():
    return jsonify({"user": g.user.username, "groups": g.user.group_list})

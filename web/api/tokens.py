"""API tokens for scripts and integrations: ask with Basic auth, use as Bearer; list and revoke."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from engine import login_guard, users
from engine.errors import InvalidRequest
from engine.instances import iso
from engine.models import ApiToken

from ..auth import address, current_actor, current_user_row, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("tokens", __name__)


def token_view(row: ApiToken) -> dict:
    return {"id": row.id, "label": row.label, "created_at": iso(row.created_at), "expires_at": iso(row.expires_at),
            "revoked_at": iso(row.revoked_at)}


@bp.post("/tokens")
@login_required
def issue():
    body = json_body()
    days = body.get("days", users.TOKEN_DAYS)
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRequest("'days' must be a whole number of days (default 90)")
    user, now = current_user_row(), engine().clock.now()
    current_app.extensions["aftersales"]["guard"].may_issue_token(db(), user.username, address(), now)
    row = users.issue_token(db(), user, now=now, label=str(body.get("label", ""))[:120], days=days)
    login_guard.record(db(), now, user.username, address(), "token", "token_issued")
    return jsonify({"token": row.secret, **token_view(row), "user": user.username,  # type: ignore[attr-defined]
                    "groups": user.group_list}), 201


@bp.get("/tokens")
@login_required
def list_tokens():
    return jsonify([token_view(t) for t in users.tokens_of(db(), current_user_row())])


@bp.delete("/tokens/<int:token_id>")
@login_required
def revoke(token_id: int):
    user, now = current_user_row(), engine().clock.now()
    users.revoke_token(db(), user, token_id, now)
    login_guard.record(db(), now, user.username, address(), "token", "token_revoked")
    return "", 204


@bp.get("/me")
@login_required
def me():
    actor = current_actor()
    return jsonify({"user": actor.username, "groups": sorted(actor.groups)})

"""Messages from outside (a courier's arrival scan, a web-shop callback) to waiting cases."""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine.errors import InvalidRequest

from .. import views
from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("messages", __name__)


@bp.post("/messages")
@login_required
def correlate():
    body = json_body()
    name = body.get("name")
    correlation = body.get("correlation") or {}
    variables = body.get("variables") or {}
    if not isinstance(name, str) or not name:
        raise InvalidRequest("message 'name' is required")
    if not isinstance(correlation, dict) or not isinstance(variables, dict):
        raise InvalidRequest("'correlation' and 'variables' must be objects")
    message_id = body.get("message_id")
    if message_id is not None and not isinstance(message_id, str):
        raise InvalidRequest("'message_id' must be a string")
    found, duplicate = engine().correlate_message(db(), name, correlation, variables, current_actor(), message_id)
    return jsonify({"instances": [views.summary_for(engine(), db(), i, current_actor(), "api:message")
                                  for i in found], "duplicate": duplicate})

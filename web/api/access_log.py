"""Who read which customer's data, and when (R29): admins only."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db
from .body import query_int

bp = Blueprint("access_log", __name__)


@bp.get("/access-log")
@login_required
def customer_data_reads():
    access.require(access.may(current_actor(), "read_access_log"), "only admins read the access log")
    rows = access.reads(db(), instance_id=query_int("instance"), username=request.args.get("user") or None)
    return jsonify([{"user": r.username, "instance_id": r.instance_id, "at": iso(r.at), "via": r.via} for r in rows])

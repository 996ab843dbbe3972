"""Incidents for supervisors: cases in error, overdue tasks; correcting a case's variables."""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine import incidents
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("incidents", __name__)


@bp.get("/incidents")
@login_required
def list_incidents():
    now = engine().clock.now()
    found = incidents.listing(db(), current_actor(), now)
    return jsonify({
        "errors": [{"id": i.id, "key": i.key, "business_key": i.business_key, "element_id": i.error_element,
                    "message": i.error_message, "started_at": iso(i.started_at)} for i in found["errors"]],
        "overdue": [{"id": t.id, "name": t.name, "element_id": t.element_id, "instance_id": t.instance_id,
                     "assignee": t.assignee, "due_at": iso(t.due_at)} for t in found["overdue"]],
        "unstaffed": [{"id": t.id, "name": t.name, "element_id": t.element_id, "instance_id": t.instance_id,
                       "candidate_groups": [g for g in t.candidate_groups.split(",") if g],
                       "candidate_users": [u for u in t.candidate_users.split(",") if u], "assignee": t.assignee}
                      for t in found["unstaffed"]],
        "counts": incidents.counts(db(), current_actor(), now),
    })


@bp.post("/process-instances/<int:instance_id>/variables")
@login_required
def correct(instance_id: int):
    """``{"variables": {...}, "reason": "..."}``: a supervisor's correction of a case in error."""
    body = json_body()
    clean = engine().correct_variables(db(), instance_id, current_actor(), body.get("variables"), body.get("reason"))
    return jsonify({"id": instance_id, "corrected": clean})

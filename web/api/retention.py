"""Retention (admins): the settings, what the next run removes and anonymises, the log of runs, and
a case's legal hold. The cleanup itself runs at night (``web/jobs.py``) or by ``aftersales retention run``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access, retention, retention_runs
from engine.errors import InvalidRequest
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body, query_int

bp = Blueprint("retention", __name__)


def _admin() -> None:
    access.require(access.may(current_actor(), "manage_retention"), "only admins see and change retention")


def overview() -> dict:
    settings = retention.load(db())
    now = engine().clock.now()
    as_of = retention.next_window(settings, now)
    return {"settings": settings.to_dict(), "next_run": iso(as_of) if settings.enabled else None,
            "next": retention.plan(db(), settings, as_of).to_dict(),
            "runs": [retention_runs.run_view(r, retention_runs.last_batches(db(), r.id)) for r in retention_runs.runs(db(), limit=20)]}


@bp.get("/retention")
@login_required
def show():
    _admin()
    return jsonify(overview())


@bp.post("/retention/settings")
@login_required
def change_settings():
    _admin()
    body = json_body()
    retention.save(db(), current_actor(), body, engine().clock.now())
    return jsonify(overview())


@bp.get("/retention/due")
@login_required
def due():
    """One page of the cases the next run removes (``what=remove``), anonymises or keeps because held."""
    _admin()
    what = request.args.get("what", "remove")
    if what not in ("remove", "anonymise", "held"):
        raise InvalidRequest("what must be remove, anonymise or held")
    limit = query_int("limit") or 50
    if limit > 500:
        raise InvalidRequest("limit must be at most 500")
    settings = retention.load(db())
    as_of = retention.next_window(settings, engine().clock.now())
    cases, following = retention.due_cases(db(), settings, as_of, what, after=query_int("after"), limit=limit)
    return jsonify({"as_of": iso(as_of), "cases": [
        {"id": c.id, "key": c.key, "business_key": c.business_key, "state": c.state, "ended_at": iso(c.ended_at),
         "legal_hold": c.legal_hold} for c in cases], "next": following})


@bp.post("/process-instances/<int:instance_id>/legal-hold")
@login_required
def legal_hold(instance_id: int):
    """``{"hold": true|false, "reason": "…"}``: keep a case whatever the retention periods say (admins)."""
    body = json_body()
    hold = body.get("hold", True)
    if not isinstance(hold, bool):
        raise InvalidRequest("hold must be true or false")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise InvalidRequest("reason must be a text")
    inst = retention.set_legal_hold(db(), current_actor(), instance_id, hold, reason, engine().clock.now())
    return jsonify({"id": inst.id, "business_key": inst.business_key, "legal_hold": inst.legal_hold,
                    "legal_hold_reason": inst.legal_hold_reason})

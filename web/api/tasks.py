"""Open tasks: list, open, claim, unclaim, assign, complete."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access, users
from engine.errors import InvalidRequest

from .. import paging, views
from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body, query_int

bp = Blueprint("tasks", __name__)


@bp.get("/tasks")
@login_required
def list_tasks():
    """One page of open tasks, oldest first: ``{"items": [...], "next": cursor | null}``; pass ``next`` as
    ``after`` for the following page. One query per page (engine ``task_page``). ``nobody=1``: the tasks
    that name nobody, for admins and process owners to claim or assign (403 for anyone else)."""
    instance = query_int("instance")
    mine, group = request.args.get("mine") in ("1", "true"), request.args.get("group") or None
    audience = None
    if request.args.get("nobody") in ("1", "true"):
        if mine or group:
            raise InvalidRequest("'nobody' lists the tasks that name nobody: leave out 'mine' and 'group'")
        audience = access.unassigned_audience(current_actor())
    rows, more = engine().task_page(db(), current_actor(), mine=mine, group=group, audience=audience,
                                    instance_id=instance,
                                    after=paging.task_after(request.args.get("after")),
                                    limit=paging.limit(request.args.get("limit")))
    now = engine().clock.now()
    return jsonify({"items": [views.task_item(r, now) for r in rows],
                    "next": paging.task_cursor(rows[-1].created_at, rows[-1].id) if more else None})


@bp.get("/tasks/<task_id>")
@login_required
def get_task(task_id: str):
    task = engine().get_task(db(), task_id, current_actor())
    return jsonify(views.task_view(engine(), db(), task, with_form=True))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    return jsonify(views.task_view(engine(), db(), engine().claim(db(), task_id, current_actor())))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    return jsonify(views.task_view(engine(), db(), engine().unclaim(db(), task_id, current_actor())))


@bp.post("/tasks/<task_id>/assign")
@login_required
def assign(task_id: str):
    name = json_body().get("user")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("give the user to assign as {\"user\": \"name\"}")
    target = users.assignee(db(), name)
    return jsonify(views.task_view(engine(), db(), engine().assign(db(), task_id, current_actor(), target)))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str):
    body = json_body()
    variables = body.get("variables", {})
    inst = engine().complete_task(db(), task_id, current_actor(), variables)
    return jsonify({"instance": views.summary_for(engine(), db(), inst, current_actor(), "api:complete", history=False)})

"""A task: the form the diagram defines, the case so far beside it, errors next to each field."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine import access
from engine.errors import Conflict, FormInvalid
from engine.forms import FormField
from engine.models import OpenTask

from .. import views
from ..context import db, engine, writes
from .login import actor

bp = Blueprint("tasks", __name__)


def submitted(fields: list[FormField]) -> dict:
    """Form posts are strings; checkboxes post a hidden "false" then, when ticked, "true"."""
    values: dict = {}
    for f in fields:
        if f.readonly:
            continue
        if f.type == "parts":  # picker rows: a part from stock and a quantity each; empty rows are skipped
            parts, qtys = request.form.getlist(f.id + ".part"), request.form.getlist(f.id + ".qty")
            if parts or qtys:
                values[f.id] = [{"part_no": p, "quantity": (qtys[i] if i < len(qtys) else "1").strip() or "1"}
                                for i, p in enumerate(parts) if p.strip()]
            continue
        posted = request.form.getlist(f.id)
        if not posted:
            continue
        values[f.id] = posted[-1] if f.type == "boolean" else posted[0]
    return values


def _page(task: OpenTask, values: dict, errors: dict, status: int = 200):
    e = engine()
    a = actor()
    instance = e.get_instance(db(), task.instance_id)
    view = views.task_view(e, db(), task, with_form=True)
    # The case so far, as the policy lets this actor see it (a technician's pool task: not until claimed).
    # The latest entries only (constant size); the case page has the whole history in pages.
    history = views.recent_history(e, db(), instance, a, "page:task")[0] if access.may_see_case(db(), a, instance) else []
    fields = e.task_form(db(), task)
    from handlers import documents as case_documents

    summary = e.case_summary(db(), task, a)
    attachments = case_documents.of_case(db(), instance.id) if access.may_see_case(db(), a, instance) else []
    return render_template("task.html", task=view, fields=fields, values=values, errors=errors,
                           summary=summary, attachments=attachments,
                           choices=e.field_options(db(), fields),
                           instance=instance, history=history, may_act=access.may_act(task, a),
                           labels=e.field_labels(db(), instance),
                           now=e.clock.now()), status


@bp.get("/tasks/<task_id>")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def show(task_id: str):
    task = engine().get_task(db(), task_id, actor())
    data = engine().task_data(db(), task)
    fields = engine().task_form(db(), task)
    # each round of a loop starts from the diagram's defaults, not last round's decision (issue 11)
    fresh = engine().repeated_round(db(), task)
    values = {f.id: f.default if fresh and not f.readonly else data.get(f.id, f.default) for f in fields}
    return _page(task, values, {})


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str):
    e = engine()
    try:
        task = e.get_task(db(), task_id, actor())
    except Conflict:
        flash(_("This task was already completed; nothing was changed."), "error")
        return redirect(url_for("inbox.inbox"))
    fields = e.task_form(db(), task)
    values = submitted(fields)
    instance_id = task.instance_id
    try:
        e.complete_task(db(), task_id, actor(), values)
    except FormInvalid as exc:
        db().rollback()
        task = e.get_task(db(), task_id, actor())
        data = e.task_data(db(), task)
        shown = {f.id: values.get(f.id, data.get(f.id, f.default)) for f in fields}
        return _page(task, shown, exc.errors, 422)
    except Conflict as exc:
        db().rollback()
        flash(_("Not saved: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("cases.show", instance_id=instance_id))
    flash(_("Task completed."))
    mine = [t for t in e.list_tasks(db(), actor(), instance_id=instance_id) if access.may_act(t, actor())
            and t.assignee in (None, actor().username)]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(url_for("inbox.inbox"))

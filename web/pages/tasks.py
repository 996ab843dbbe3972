"""A task: the form the diagram defines, the case so far beside it, errors next to each field.

No input is lost: a colleague's claimed task is shown read-only, naming who holds it; what is typed
is kept in the browser (``web/static/app.js``, per task id) until the server confirms the task was
completed (``draft_done`` in the session, read by ``base.html``), so it survives an expired session
and a new login; a task that was completed meanwhile (Back after completing) says so and links to
its case. Task pages are ``no-store``: Back asks the server again instead of showing a stale form."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import access
from engine.errors import Conflict, FormInvalid
from engine.forms import FormField
from engine.models import OpenTask, User

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


def display_name(username: str | None) -> str:
    if not username:
        return ""
    user = db().scalars(select(User).where(User.username == username)).first()
    return (user.display_name or user.username) if user is not None else username


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


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
    holder = access.held_by_other(task, a)
    html = render_template("task.html", task=view, fields=fields, values=values, errors=errors,
                           summary=summary, attachments=attachments,
                           choices=e.field_options(db(), fields),
                           instance=instance, history=history, may_act=access.may_act(task, a),
                           may_complete=access.may_complete(task, a), may_release=access.may_release(task, a),
                           holder=holder, holder_name=display_name(holder),
                           labels=e.field_labels(db(), instance),
                           now=e.clock.now())
    return _no_store(make_response(html, status))


def _done(task_id: str):
    """A task no longer open — completed (perhaps by this user a moment ago: Back) or withdrawn."""
    e = engine()
    entry = e.completed_task(db(), task_id)
    instance = e.get_instance(db(), entry.instance_id) if entry is not None else None
    case_visible = instance is not None and access.may_see_case(db(), actor(), instance)
    html = render_template("task_done.html", entry=entry, instance=instance if case_visible else None,
                           completed_by=display_name(entry.completed_by) if entry is not None else "",
                           task_id=task_id)
    return _no_store(make_response(html, 200))


@bp.get("/tasks/<task_id>")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def show(task_id: str):
    try:
        task = engine().get_task(db(), task_id, actor())
    except Conflict:
        return _done(task_id)
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
        return redirect(url_for("tasks.show", task_id=task_id))
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
        if e.completed_task(db(), task_id) is not None:  # completed meanwhile (another tab, a colleague)
            flash(_("This task was already completed; nothing was changed."), "error")
        elif "claimed by" in str(exc):  # a colleague took it meanwhile: the page shows it read-only
            flash(_("Not saved: someone else claimed the task meanwhile. What you typed is kept in this browser."), "error")
        else:
            flash(_("Not saved: the case changed meanwhile. What you typed is kept; check it and submit again."), "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    flash(_("Task completed."))
    session["draft_done"] = task_id  # the browser drops what it kept of this form (web/static/app.js)
    mine = [t for t in e.list_tasks(db(), actor(), instance_id=instance_id) if access.may_complete(t, actor())]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(url_for("inbox.inbox"))

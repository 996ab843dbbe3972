"""The inbox: my tasks, my groups' tasks, cases I started; filters, saved filters, claim/assign."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from engine import access
from engine.db import as_utc
from engine.groups import member_ids
from engine.models import Definition, Instance, OpenTask, SavedFilter, User

from ..context import db, engine
from .labels import time_zone
from .login import actor

bp = Blueprint("inbox", __name__)
TABS = ("mine", "group", "started")
FILTERS = ("process", "case", "phone", "serial")


def _visible(a):
    return or_(OpenTask.assignee == a.username, OpenTask.candidate_users.contains(f",{a.username},"),
               *[OpenTask.candidate_groups.contains(f",{g},") for g in a.groups])


def _filtered(q, f: dict):
    if f.get("phone") and not access.sees_contact(actor()):
        f = {**f, "phone": ""}  # who may not see phone numbers may not look cases up by them either
    if f.get("process"):
        q = q.where(Instance.key == f["process"])
    if f.get("case"):
        q = q.where(Instance.business_key.contains(f["case"].strip()))
    if f.get("phone"):
        q = q.where(Instance.customer_phone.contains(f["phone"].strip()))
    if f.get("serial"):
        q = q.where(Instance.serial_no.contains(f["serial"].strip()))
    return q


def task_rows(tab: str, f: dict, limit: int = 300):
    a = actor()
    q = select(OpenTask, Instance).join(Instance, Instance.id == OpenTask.instance_id)
    if tab == "mine":
        q = q.where(OpenTask.assignee == a.username)
    else:
        q = q.where(_visible(a))
    q = _filtered(q, f).order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at).limit(limit)
    return db().execute(q).all()


def started_rows(f: dict, limit: int = 300):
    q = select(Instance).where(Instance.started_by == actor().username)
    return list(db().scalars(_filtered(q, f).order_by(Instance.id.desc()).limit(limit)))


def marks(task: OpenTask, now: datetime) -> dict:
    due = as_utc(task.due_at)
    if due is None:
        return {"overdue": False, "today": False}
    return {"overdue": due < now, "today": due >= now and due.astimezone(time_zone()).date() == now.astimezone(time_zone()).date()}


def colleagues(task: OpenTask) -> list[str]:
    groups = [g for g in task.candidate_groups.split(",") if g]
    if not groups:
        return []
    users = db().scalars(select(User.username).where(User.active.is_(True), User.id.in_(member_ids(groups))))
    return sorted(set(users))


@bp.get("/")
@login_required
def inbox():
    tab = request.args.get("tab", "group")
    if tab not in TABS:
        tab = "group"
    f = {k: request.args.get(k, "").strip() for k in FILTERS}
    now = engine().clock.now()
    a = actor()
    lists = {"mine": task_rows("mine", f), "group": task_rows("group", f), "started": started_rows(f)}
    counts = {name: len(found) for name, found in lists.items()}
    rows = lists[tab] if tab != "started" else []
    cases = lists["started"] if tab == "started" else []
    processes = db().execute(select(Definition.key, Definition.name).where(Definition.kind == "bpmn")
                             .group_by(Definition.key, Definition.name).order_by(Definition.key)).all()
    shown = {inst.id for _task, inst in lists["mine"] + lists["group"]} | {inst.id for inst in lists["started"]}
    # contact data only where the policy lets the actor see the case (not a technician's pool work orders)
    contact = set(db().scalars(access.visible(select(Instance.id).where(Instance.id.in_(shown)), a))) \
        if access.sees_contact(a) and shown else set()
    saved = db().scalars(select(SavedFilter).where(SavedFilter.username == a.username).order_by(SavedFilter.name)).all()
    template = "_inbox_body.html" if request.args.get("partial") else "inbox.html"
    return render_template(template, tab=tab, f=f, rows=rows, cases=cases, counts=counts, now=now, marks=marks,
                           processes=processes, saved=saved, colleagues=colleagues, contact=contact,
                           query=urlencode(
                               {k: v for k, v in {"tab": tab, **f}.items() if v}))


def _back():
    target = request.form.get("back") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("inbox.inbox"))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    engine().claim(db(), task_id, actor())
    flash(_("Task claimed."))
    return _back()


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    engine().unclaim(db(), task_id, actor())
    flash(_("Task released to the group."))
    return _back()


@bp.post("/tasks/<task_id>/assign")
@login_required
def assign(task_id: str):
    from engine import users

    name = request.form.get("user", "")
    target = users.actor_of(users.get_user(db(), name))
    engine().assign(db(), task_id, actor(), target)
    flash(_("Task assigned to %(user)s.", user=name))
    return _back()


@bp.post("/inbox/filters")
@login_required
def save_filter():
    name = request.form.get("name", "").strip()[:120]
    query = request.form.get("query", "")[:1000]
    if not name:
        flash(_("Give the filter a name."), "error")
    else:
        db().add(SavedFilter(username=current_user.username, name=name, query=query))
        flash(_("Filter saved."))
    return redirect(url_for("inbox.inbox") + ("?" + query if query else ""))


@bp.post("/inbox/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int):
    row = db().get(SavedFilter, filter_id)
    if row is None or row.username != current_user.username:
        abort(404)
    db().delete(row)
    flash(_("Filter deleted."))
    return redirect(url_for("inbox.inbox"))

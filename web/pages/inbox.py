"""The inbox: my tasks, my groups' tasks, cases I started, and for admins and process owners the tasks
that name nobody (无人负责); filters, saved filters, claim/assign."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, select

from engine import access, case_search, users
from engine.db import as_utc
from engine.errors import InvalidRequest, NotFound, NotPermitted
from engine.models import Definition, Group, Instance, Membership, SavedFilter, User

from .. import paging
from ..context import db, engine
from .labels import person_name, time_zone
from .login import actor

bp = Blueprint("inbox", __name__)
TABS = ("mine", "group", "started", "nobody")
FILTERS = ("process", "case", "phone", "serial")
PAGE = paging.PAGE


def _filters(f: dict):
    """The filters as one WHERE clause on ``Instance`` through the search index (engine/case_search.py)."""
    dialect = db().get_bind().dialect.name
    clauses = []
    if f.get("process"):
        clauses.append(Instance.key == f["process"])
    for name, field in (("case", "case"), ("phone", "phone"), ("serial", "serial")):
        # who may not see phone numbers may not look cases up by them either
        if f.get(name) and (field not in case_search.CONTACT or access.sees_contact(actor())):
            clauses.append(case_search.matching(dialect, f[name], [field]))
    return and_(*clauses) if clauses else None


def task_rows(tab: str, f: dict, after: str | None, limit: int = PAGE):
    """One page of the tab's tasks (oldest first) in one query, and the cursor of the next page."""
    a = actor()
    if tab == "nobody":
        audience = access.unassigned_audience(a)
    else:
        audience = None if tab == "mine" else access.task_audience(a, everything=False)
    rows, more = engine().task_page(db(), a, mine=tab == "mine", where=_filters(f), audience=audience,
                                    after=paging.task_after(after), limit=limit)
    return rows, (paging.task_cursor(rows[-1].created_at, rows[-1].id) if more else None)


def started_rows(f: dict, after: str | None, limit: int = PAGE):
    a = actor()
    where = Instance.started_by == a.username
    if (found := _filters(f)) is not None:
        where = and_(where, found)
    rows, more = engine().instance_page(db(), a, where=where, after=paging.case_after(after), limit=limit)
    return rows, (paging.case_cursor(rows[-1].id) if more else None)


def marks(task, now: datetime) -> dict:
    due = as_utc(task.due_at)
    if due is None:
        return {"overdue": False, "today": False}
    return {"overdue": due < now, "today": due >= now and due.astimezone(time_zone()).date() == now.astimezone(time_zone()).date()}


def colleagues(rows) -> dict[str, list[str]]:
    """Who each task could be assigned to (its active groups' active members), for a whole page in one query."""
    groups = {t.id: [g for g in t.candidate_groups.split(",") if g] for t in rows}
    wanted = sorted({g for gs in groups.values() for g in gs})
    if not wanted:
        return {}
    members: dict[str, set[str]] = {g: set() for g in wanted}
    for name, group in db().execute(
            select(User.username, Membership.group_id).join(Membership, Membership.user_id == User.id)
            .join(Group, Group.id == Membership.group_id)
            .where(User.active.is_(True), Group.active.is_(True), Membership.group_id.in_(wanted))):
        members[group].add(name)
    return {tid: sorted(set().union(*[members[g] for g in gs])) for tid, gs in groups.items() if gs}


def active_people() -> list[str]:
    """Whom a task naming nobody may be assigned to: every active user (the nobody tab's one list per page)."""
    return list(db().scalars(select(User.username).where(User.active.is_(True))
                             .order_by(User.display_name, User.username)))


@bp.get("/")
@login_required
def inbox():
    tab = request.args.get("tab", "group")
    if tab not in TABS:
        tab = "group"
    hands_out = access.hands_out_unassigned(actor())
    if tab == "nobody" and not hands_out:
        raise NotPermitted(_("Only admins and process owners see the tasks that name nobody."))
    f = {k: request.args.get(k, "").strip() for k in FILTERS}
    after = request.args.get("after", "")
    now = engine().clock.now()
    a = actor()
    # only the open tab is read (one page, one query); the others load when chosen
    try:
        size = paging.limit(request.args.get("limit"))
        rows, cases, more = [], [], None
        if tab == "started":
            cases, more = started_rows(f, after, size)
        else:
            rows, more = task_rows(tab, f, after, size)
    except InvalidRequest:  # a cursor or page size that is not ours: the first page
        return redirect(url_for("inbox.inbox", **{k: v for k, v in {"tab": tab, **f}.items() if v}))
    shown = [r.instance_id for r in rows] + [c.id for c in cases]
    counts = {"mine": engine().count_tasks(db(), a, mine=True), tab: f"{len(shown)}+" if more else len(shown)}
    processes = db().execute(select(Definition.key, Definition.name).where(Definition.kind == "bpmn")
                             .group_by(Definition.key, Definition.name).order_by(Definition.key)).all()
    # contact data only where the policy lets the actor see the case (not a technician's pool work orders)
    contact = set(db().scalars(access.visible(select(Instance.id).where(Instance.id.in_(shown)), a))) \
        if access.sees_contact(a) and shown else set()
    saved = db().scalars(select(SavedFilter).where(SavedFilter.username == a.username).order_by(SavedFilter.name)).all()
    # the nobody tab links a case only where the policy lets the actor open it (a process owner's are few)
    openable = set(db().scalars(access.visible(select(Instance.id).where(Instance.id.in_(shown)), a))) \
        if tab == "nobody" and access.case_filter(a) is not None and shown else None
    template = "_inbox_body.html" if request.args.get("partial") else "inbox.html"
    base = {k: v for k, v in {"tab": tab, **f, "limit": request.args.get("limit", "")}.items() if v}
    return render_template(template, tab=tab, f=f, rows=rows, cases=cases, counts=counts, now=now, marks=marks,
                           processes=processes, saved=saved, people_of=colleagues(rows), contact=contact,
                           hands_out=hands_out, openable=openable,
                           everyone=active_people() if tab == "nobody" and rows else [],
                           next_page=url_for("inbox.inbox", **base, after=more) if more else None,
                           first_page=url_for("inbox.inbox", **base) if after else None,
                           query=urlencode({k: v for k, v in base.items() if k != "limit"}), here=urlencode({**base, **({"after": after} if after else {})}))


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
    name = request.form.get("user", "").strip()
    if not name:
        flash(_("Choose a colleague to assign the task to."), "error")
        return _back()
    try:
        target = users.assignee(db(), name)
    except (NotFound, InvalidRequest):  # gone or disabled since the page was drawn: say so, back to the list
        flash(_("There is no active user “%(user)s”: nothing was assigned.", user=name), "error")
        return _back()
    engine().assign(db(), task_id, actor(), target)
    flash(_("Task assigned to %(user)s.", user=person_name(name)))
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

"""待收货 / To receive: the cases waiting for a message staff record on a page — returned goods
arriving at the warehouse — and the action that records it (``engine/staff_messages.py``; who may,
``engine/access.py``). The case page offers the same action."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine import access, staff_messages
from engine.errors import Conflict, FormInvalid

from ..context import db, engine
from .labels import field_messages
from .login import actor
from .tasks import submitted

bp = Blueprint("receiving", __name__)


def _options(keys: set[str]) -> dict[str, dict[str, dict[str, str]]]:
    """For each process: enum field -> value id -> its label (a return's reason, refund or exchange)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for key in keys:
        out[key] = {f.id: {o["id"]: o["name"] for o in f.options} for f in engine().start_form(db(), key) if f.options}
    return out


def render(errors_for: dict | None = None, posted: dict | None = None, status: int = 200):
    a = actor()
    access.require(bool(access.messages_recorded_by(a)), "nothing to receive for your groups")
    rows = staff_messages.awaiting(db(), a)
    return render_template("receiving.html", rows=rows, messages=staff_messages.MESSAGES,
                           options=_options({r["instance"].key for r in rows}),
                           errors_for=errors_for or {}, posted=posted or {}), status


@bp.get("/receiving")
@login_required
def show():
    return render()


@bp.post("/cases/<int:instance_id>/messages/<name>")
@login_required
def record(instance_id: int, name: str):
    """Record the message for this case (goods received); then the next task of this user in the
    case (inspection), else back where the action was offered."""
    e = engine()
    a = actor()
    access.require(access.may_record_message(a, name), f"{a.username} does not record '{name}'")
    message = staff_messages.MESSAGES.get(name)
    values = submitted(list(message.fields)) if message is not None else {}
    back = request.form.get("back") or ""
    back = back if back.startswith("/") and not back.startswith("//") else url_for("receiving.show")
    try:
        instance = e.record_message(db(), instance_id, name, a, values)
    except FormInvalid as exc:
        db().rollback()
        flash(_("Not recorded: %(reason)s", reason="; ".join(field_messages(exc.errors, exc.labels).values())), "error")
        return redirect(back)
    except Conflict:  # received meanwhile (a colleague, another tab), cancelled, or not a return at all
        db().rollback()
        flash(_("Not recorded: this case no longer waits for it."), "error")
        return redirect(back)
    flash(_("Goods received recorded for %(case)s.", case=instance.business_key or instance.id))
    mine = [t for t in e.list_tasks(db(), a, instance_id=instance_id) if access.may_complete(t, a)]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(back)

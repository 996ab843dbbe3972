"""Incidents (supervisors): cases stuck in error with a way out — correct the values the failed
step reads (recorded with who and why) and retry — and overdue tasks."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine import access, groups, incidents
from engine.errors import FormInvalid

from ..context import db, engine
from .labels import translate_error
from .login import actor
from .tasks import submitted

bp = Blueprint("incidents", __name__)


def _render(errors_for: dict | None = None, posted: dict | None = None, status: int = 200):
    e = engine()
    now = e.clock.now()
    found = incidents.listing(db(), actor(), now)
    cases = []
    for inst in found["errors"]:
        where, fields, values = e.correction_form(db(), inst)
        if posted and posted.get("id") == inst.id:
            values = {**values, **posted["values"]}
        cases.append({"instance": inst, "where": where, "fields": fields, "current": values,
                      "choices": e.field_options(db(), fields),
                      "errors": (errors_for or {}).get(inst.id, {})})
    return render_template("incidents.html", cases=cases, overdue=found["overdue"], unstaffed=found["unstaffed"],
                           group_names=groups.names(db()), now=now), status


@bp.get("/incidents")
@login_required
def show():
    return _render()


@bp.post("/incidents/<int:instance_id>")
@login_required
def correct_and_retry(instance_id: int):
    """Correct the variables (when any were changed) and retry the failed step, in one transaction."""
    access.require(access.supervises(actor()), "only supervisors and admins correct a case")
    e = engine()
    instance = e.get_instance(db(), instance_id)
    _where, fields, current = e.correction_form(db(), instance)
    values = submitted(fields)
    changes = {k: v for k, v in values.items() if str(v) != str(current.get(k))}
    reason = request.form.get("reason", "")
    if changes:
        try:
            e.correct_variables(db(), instance_id, actor(), changes, reason)
        except FormInvalid as exc:
            db().rollback()
            return _render({instance_id: exc.errors}, {"id": instance_id, "values": values}, 422)
    e.retry(db(), instance_id, actor())
    if instance.state == "error":
        flash(_("Retried, but the case stopped again: %(reason)s", reason=translate_error(instance.error_message or "")),
              "error")
    else:
        flash(_("Case %(case)s runs again.", case=instance.business_key or instance.id))
    return redirect(url_for("incidents.show"))

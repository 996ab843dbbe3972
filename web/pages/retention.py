"""The retention page for admins (``/admin/retention``): the periods and the night window, what the
next run removes and anonymises (counts and the case numbers, paged), the cases under legal hold and
the log of runs. Setting a case's legal hold is a form on the case page that posts here."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from engine import access, retention, retention_runs
from engine.errors import FormInvalid, NotPermitted
from engine.models import Definition

from ..context import db, engine
from .labels import translate_error
from .login import actor

bp = Blueprint("retention_page", __name__, url_prefix="/admin/retention")

SETTINGS = {"notifications_days": _l("Delivered notifications kept (days)"),
            "history_days": _l("Case history and documents kept (days), when the diagram sets no historyTimeToLive"),
            "personal_data_days": _l("Customer personal data kept after a case ends (days)"),
            "window": _l("Night window (local time)"), "timezone": _l("Time zone of the window"),
            "batch_size": _l("Cases per batch"), "enabled": _l("Nightly cleanup on")}
LISTS = {"remove": _l("History and documents removed"), "anonymise": _l("Personal data anonymised"),
         "held": _l("Kept: legal hold or open complaint")}
PAGE = 50


@bp.before_request
@login_required
def _only_admins():
    if not access.may(actor(), "manage_retention"):
        raise NotPermitted(_("Only admins manage retention."))


def _after(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    settings = retention.load(db())
    now = engine().clock.now()
    as_of = retention.next_window(settings, now)
    what = request.args.get("what", "remove")
    what = what if what in LISTS else "remove"
    cases, following = retention.due_cases(db(), settings, as_of, what, after=_after("after"), limit=PAGE)
    runs = retention_runs.runs(db(), limit=30)
    return render_template(
        "admin/retention.html", settings=settings, values=values or settings.to_dict(), errors=errors or {},
        labels=SETTINGS, lists=LISTS, what=what, cases=cases, following=following, as_of=as_of,
        in_window=retention.in_window(settings, now), plan=retention.plan(db(), settings, as_of),
        changed=retention.changed(db()), runs=runs, held=retention.held_cases(db()),
        batch_log={r.id: [retention_runs.batch_view(b) for b in retention_runs.last_batches(db(), r.id, limit=10)] for r in runs},
        versions=db().scalars(select(Definition).where(Definition.kind == "bpmn")
                              .order_by(Definition.key, Definition.version)).all()), status


@bp.get("/")
def show():
    return _page()


@bp.post("/settings")
def save():
    form = {name: request.form.get(name, "").strip() for name in retention.DEFAULTS if name != "enabled"}
    form["enabled"] = "1" if request.form.get("enabled") else "0"
    try:
        retention.save(db(), actor(), form, engine().clock.now())
    except FormInvalid as exc:
        db().rollback()
        return _page({k: translate_error(v) for k, v in exc.errors.items()}, form, 422)
    flash(_("Retention settings saved."))
    return redirect(url_for("retention_page.show"))


@bp.post("/hold/<int:instance_id>")
def hold(instance_id: int):
    wanted = request.form.get("hold", "1") == "1"
    try:
        retention.set_legal_hold(db(), actor(), instance_id, wanted, request.form.get("reason", ""),
                                 engine().clock.now())
    except FormInvalid:
        db().rollback()
        flash(_("Not changed: say why (a complaint number, a court case, …)."), "error")
        return redirect(url_for("cases.show", instance_id=instance_id))
    flash(_("Legal hold set: the case is kept.") if wanted else _("Legal hold released."))
    return redirect(url_for("cases.show", instance_id=instance_id))

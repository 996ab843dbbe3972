"""Cases: start one from a diagram's start form, the case page (diagram, timeline, documents), search."""

from __future__ import annotations

import json
import pathlib

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import access, case_search, deployments, diagram_xml, staff_messages, start_menu
from engine.diagram_labels import element_names
from engine.errors import FormInvalid, NotPermitted
from engine.models import Definition, Instance
from handlers import case_archive
from handlers import documents as case_documents

from .. import views
from ..context import db, engine, writes
from . import labels
from .login import actor
from .tasks import submitted

bp = Blueprint("cases", __name__)
VENDOR = pathlib.Path(__file__).resolve().parents[2] / "node_modules"


def startable() -> list[Definition]:
    """The flows staff start by hand, each in the version new cases start on: the diagram says which
    (``engine/start_menu.py``: a plain start event, not marked "not startable"); flows the system
    starts — a timer start, a call activity, a handler — are not offered."""
    latest = db().execute(select(Definition.key).where(Definition.kind == "bpmn").group_by(Definition.key)).scalars()
    found = [deployments.get_definition(db(), key) for key in sorted(latest)]
    return [d for d in found if start_menu.started_by_hand(d.xml, d.key)]


def visible_case(instance_id: int) -> Instance:
    instance = engine().get_instance(db(), instance_id)
    if not access.may_see_case(db(), actor(), instance):
        raise NotPermitted(_("This case is not yours to see."))
    return instance


@bp.get("/start")
@login_required
def pick():
    return render_template("start_pick.html", processes=startable(), about=labels.process_about)


@bp.route("/start/<key>", methods=["GET", "POST"])
@login_required
def start(key: str):
    e = engine()
    definition = deployments.get_definition(db(), key)
    if not start_menu.started_by_hand(definition.xml, key):
        raise NotPermitted(_("“%(flow)s” is started by the system, not by hand. %(about)s",
                             flow=labels.process_name(key), about=labels.process_about(key)).strip())
    fields = e.start_form(db(), key)
    values = {f.id: f.default for f in fields}
    errors: dict = {}
    if request.method == "POST":
        values = submitted(fields)
        try:
            instance = e.start(db(), key, actor(), variables=values)
        except FormInvalid as exc:
            db().rollback()
            errors = exc.errors
        else:
            return redirect(url_for("cases.show", instance_id=instance.id, new=1))
    status = 422 if errors else 200
    return render_template("start.html", definition=definition, fields=fields, values=values, errors=errors), status


def _elements(xml: bytes) -> set[str]:
    root = diagram_xml.parse_stored(xml)
    return {str(i) for i in root.xpath("//*[local-name()='process']//@id")}


@bp.get("/cases/<int:instance_id>")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def show(instance_id: int):
    e = engine()
    instance = visible_case(instance_id)
    view = views.view_for(e, db(), instance, actor(), "page:case", history=False)
    # The timeline in pages (``?after=<entry id>``), however long the case ran.
    after = request.args.get("after", "")
    history = views.history_page(e, db(), instance, actor(), "page:case",
                                 int(after) if after.isascii() and after.isdigit() and len(after) < 19 else None,
                                 views.HISTORY_PAGE)
    definition = db().get(Definition, instance.definition_id)
    drawn = _elements(definition.xml)
    done = sorted(e.history_elements(db(), instance.id) & drawn)
    open_here = sorted({t["element_id"] for t in view["tasks"] if t["element_id"] in drawn})
    if any(t["element_id"] not in drawn for t in view["tasks"]):  # waiting inside a called process
        root = diagram_xml.parse_stored(definition.xml)
        open_here += [str(i) for i in root.xpath("//*[local-name()='callActivity']/@id") if str(i) not in done]
    documents = case_documents.of_case(db(), instance_id)
    return render_template(
        "case.html", case=view, history=history, instance=instance, documents=documents,
        archive=any(d.kind in case_archive.KINDS for d in documents),
        highlight=json.dumps({"done": done, "open": open_here}), supervisor=access.may(actor(), "cancel"),
        contact=access.sees_contact(actor()), retention_admin=access.may(actor(), "manage_retention"),
        labels={"legal_hold": _("Legal hold"), "reason": _("Reason"), **e.field_labels(db(), instance)},
        receivable=staff_messages.waiting_for(db(), instance.id, actor()) if instance.state == "running" else [],
        is_new=request.args.get("new") == "1", element_names=element_names(definition.xml))


@bp.get("/cases/<int:instance_id>/diagram.xml")
@login_required
def diagram(instance_id: int):
    instance = visible_case(instance_id)
    definition = db().get(Definition, instance.definition_id)
    return Response(definition.xml, mimetype="application/xml")


@bp.get("/cases/<int:instance_id>/documents/<number>")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def document(instance_id: int, number: str):
    instance = visible_case(instance_id)
    found = next((d for d in case_documents.of_case(db(), instance_id) if d.number == number), None)
    if found is None:
        abort(404)
    data = access.document_data(db(), actor(), instance, [found], engine().clock.now(), "page:document")[0]
    return render_template("document.html", doc=found, data=data, instance=instance)


@bp.get("/cases/<int:instance_id>/archive.pdf")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def archive_pdf(instance_id: int):
    """The case archive (R13) as one PDF, as ``GET /api/process-instances/<id>/archive.pdf`` answers it."""
    from .. import archive_pdf as archive

    return archive.response(instance_id, actor(), "page:archive")


@bp.post("/cases/<int:instance_id>/cancel")
@login_required
def cancel(instance_id: int):
    engine().cancel(db(), instance_id, actor())
    flash(_("Case cancelled."))
    return redirect(url_for("cases.show", instance_id=instance_id))


@bp.get("/search")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def search():
    q = request.args.get("q", "").strip()
    found: list = []
    a = actor()
    contact = access.sees_contact(a)
    if q:
        # through the search index (engine/case_search.py); who may not see contact data may not search by it
        fields = [f for f in case_search.FIELDS if contact or f not in case_search.CONTACT]
        # who has exactly that value through the plain indexes first, who contains it only when nobody does
        exact = case_search.whole_ids(db(), q, fields, limit=101)
        if exact:
            found, _more = engine().instance_page(db(), a, where=Instance.id.in_(exact), limit=100)
        if not found:
            found, _more = engine().instance_page(db(), a, where=case_search.matching(db().get_bind().dialect.name, q,
                                                                                        fields), limit=100)
        now = engine().clock.now()
        for i in found:
            if contact and (i.customer_name or i.customer_phone):
                access.log_read(db(), a, i.id, now, "page:search")
    return render_template("search.html", q=q, found=found, contact=contact)


@bp.get("/vendor/<path:filename>")
def vendor(filename: str):
    """Front-end libraries installed from the npm registry (package-lock.json), never a CDN."""
    allowed = ("bpmn-js/dist/",)
    if not filename.startswith(allowed):
        abort(404)
    return send_from_directory(VENDOR, filename, max_age=86400)

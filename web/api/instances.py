"""Process instances: list, inspect, cancel, retry; a case's documents and its archive (PDF)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access
from engine.instances import iso

from .. import paging, views
from ..auth import current_actor, login_required
from ..context import db, engine, writes
from .body import query_int

bp = Blueprint("instances", __name__)


@bp.get("/process-instances")
@login_required
def list_instances():
    """One page of the cases the caller may see, newest first: ``{"items": [...], "next": cursor | null}``."""
    rows, more = engine().instance_page(db(), current_actor(), key=request.args.get("key") or None,
                                        state=request.args.get("state") or None,
                                        business_key=request.args.get("business_key") or None,
                                        after=paging.case_after(request.args.get("after")),
                                        limit=paging.limit(request.args.get("limit")))
    return jsonify({"items": [views.case_item(r) for r in rows],
                    "next": paging.case_cursor(rows[-1].id) if more else None})


@bp.get("/process-instances/<int:instance_id>")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def get_instance(instance_id: int):
    """The case without its history (constant size; the history is ``…/history`` in pages)."""
    return jsonify(views.view_for(engine(), db(), engine().get_instance(db(), instance_id), current_actor(), "api:case",
                                  history=False))


@bp.get("/process-instances/<int:instance_id>/history")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def history(instance_id: int):
    """One page of the case's history, oldest first: ``?after=<entry id>&limit=N`` (default 100, at most 500)."""
    return jsonify(views.history_page(engine(), db(), engine().get_instance(db(), instance_id), current_actor(),
                                      "api:history", query_int("after"), query_int("limit")))


@bp.post("/process-instances/<int:instance_id>/cancel")
@login_required
def cancel(instance_id: int):
    inst = engine().cancel(db(), instance_id, current_actor())
    return jsonify(views.view_for(engine(), db(), inst, current_actor(), "api:cancel", history=False))


@bp.post("/process-instances/<int:instance_id>/retry")
@login_required
def retry(instance_id: int):
    inst = engine().retry(db(), instance_id, current_actor())
    return jsonify(views.summary_for(engine(), db(), inst, current_actor(), "api:retry"))


@bp.get("/process-instances/<int:instance_id>/documents")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def documents(instance_id: int):
    from handlers import documents as docs

    instance = engine().get_instance(db(), instance_id)
    found = docs.of_case(db(), instance_id)
    shown = access.document_data(db(), current_actor(), instance, found, engine().clock.now(), "api:documents")
    return jsonify([{"kind": d.kind, "number": d.number, "data": data, "created_at": iso(d.created_at),
                     "archived_at": iso(d.archived_at)} for d, data in zip(found, shown, strict=True)])


@bp.get("/process-instances/<int:instance_id>/archive.pdf")
@writes  # records who read customer contact data (engine/access.py)
@login_required
def archive_pdf(instance_id: int):
    """The case archive (R13) as one PDF: an A4 page per document (web/archive_pdf.py); 409 before
    the case has any of its documents."""
    from .. import archive_pdf as archive

    return archive.response(instance_id, current_actor(), "api:archive")

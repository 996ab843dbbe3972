"""Deployments and process definitions."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import func, select

from engine import access, deployments, versions
from engine.errors import DiagramInvalid, InvalidRequest, Problem
from engine.instances import iso as _iso
from engine.models import Definition

from .. import views
from ..auth import current_actor, login_required
from ..context import db, engine
from ..downloads import content_disposition
from .body import flag, json_body, query_int

bp = Blueprint("definitions", __name__)

MAX_FILE = 5 * 1024 * 1024


def _definition(d: Definition) -> dict:
    return {"key": d.key, "version": d.version, "kind": d.kind, "name": d.name, "filename": d.filename,
            "deployed_at": _iso(d.deployed_at), "deployed_by": d.deployed_by, "comment": d.comment}


@bp.post("/deployments")
@login_required
def deploy():
    access.require(access.may(current_actor(), "deploy"), "only admin and process_owner may deploy")
    uploads = request.files.getlist("file")
    if not uploads:
        raise InvalidRequest("send the diagrams as multipart field 'file' (one or more .bpmn/.dmn)")
    files = {}
    for upload in uploads:
        data = upload.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise DiagramInvalid([Problem(upload.filename or "?", None, None, "file larger than 5 MB")])
        files[upload.filename or f"upload{len(files)}.bpmn"] = data
    dry_run = request.args.get("dry_run") in ("1", "true")
    result = engine().deploy(db(), files, current_actor(), comment=request.form.get("comment", ""), dry_run=dry_run,
                             java_as_external=flag("java_as_external"))
    body = {"deployment_id": result.deployment_id, "definitions": [d.to_dict() for d in result.definitions],
            "warnings": [w.to_dict() for w in result.warnings]}
    if dry_run:
        return jsonify({"valid": True, "dry_run": True, **body})
    return jsonify(body), (201 if result.changed else 200)


@bp.get("/process-definitions")
@login_required
def list_definitions():
    latest = (select(Definition.key, func.max(Definition.version).label("v")).group_by(Definition.key).subquery())
    rows = db().scalars(select(Definition).join(latest, (Definition.key == latest.c.key) &
                                                (Definition.version == latest.c.v)).order_by(Definition.key))
    return jsonify([_definition(d) for d in rows])


@bp.get("/process-definitions/<key>")
@login_required
def get_definition(key: str):
    d = deployments.get_definition(db(), key)
    body = _definition(d)
    body["current_version"] = d.version
    body["versions"] = [{**v, "deployed_at": _iso(v["deployed_at"])} for v in versions.versions_with_counts(db(), key)]
    if d.kind == "bpmn":
        body["start_form"] = {"fields": [f.to_dict() for f in engine().start_form(db(), key)]}
    return jsonify(body)


@bp.get("/process-definitions/<key>/xml")
@login_required
def get_xml(key: str):
    version = query_int("version")
    d = deployments.get_definition(db(), key, version)
    return Response(d.xml, mimetype="application/xml",
                    headers={"Content-Disposition": content_disposition("inline", d.filename, f"{d.key}.{d.kind}")})


@bp.post("/process-definitions/<key>/start")
@login_required
def start(key: str):
    body = json_body()
    business_key = body.get("business_key")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidRequest("business_key must be a string")
    inst = engine().start(db(), key, current_actor(), business_key=business_key, variables=body.get("variables"))
    return jsonify(views.summary_for(engine(), db(), inst, current_actor(), "api:start")), 201

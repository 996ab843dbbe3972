"""``GET /version``, ``GET /deployment``, ``POST /deployment/create``: what Camunda Modeler's Deploy
dialog calls (it checks the connection with ``GET /deployment?maxResults=0``, then posts the diagram
as multipart: ``deployment-name``, ``deployment-source``, ``enable-duplicate-filtering`` or
``deploy-changed-only``, optional ``tenant-id``, and the file under its own name as the field name).
Our own field ``aftersales-java-as-external=true`` runs a service task naming Java code with no Python
handler as an external task of that name (``java_as_external`` of ``POST /api/deployments``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from engine import access
from engine.errors import DiagramInvalid, InvalidRequest, Problem
from engine.models import Definition, Deployment

from ..api.body import flag
from ..auth import current_actor, login_required
from ..context import db, engine
from .dates import camunda_time

bp = Blueprint("deployment", __name__)

VERSION = "7.22.0"  # the Camunda 7 REST API these routes answer as
MAX_FILE = 5 * 1024 * 1024
DEPLOYABLE = (".bpmn", ".dmn", ".bpmn20.xml")
# Form fields Camunda reads itself; every other field (of any name) is a resource to deploy.
JAVA_AS_EXTERNAL = "aftersales-java-as-external"
_FIELDS = {"deployment-name", "deployment-source", "deploy-changed-only", "enable-duplicate-filtering",
           "tenant-id", "deployment-activation-time", JAVA_AS_EXTERNAL}


@bp.get("/version")
@login_required
def version():
    return jsonify({"version": VERSION})


def definition_id(d: Definition) -> str:
    """Camunda's process definition id: ``key:version`` (unique, and readable)."""
    return f"{d.key}:{d.version}"


def _definition(d: Definition, deployment_id: str) -> dict:
    return {"id": definition_id(d), "key": d.key, "category": "http://bpmn.io/schema/bpmn", "description": None,
            "name": d.name, "version": d.version, "resource": d.filename, "deploymentId": deployment_id,
            "diagram": None, "suspended": False, "tenantId": None, "versionTag": None,
            "historyTimeToLive": d.history_ttl_days, "startableInTasklist": True}


def _deployment(row: Deployment | None, name: str, source: str | None) -> dict:
    deployment_id = str(row.id) if row is not None else None
    return {"links": [{"method": "GET", "href": f"{request.host_url.rstrip('/')}/engine-rest/deployment/{deployment_id}",
                       "rel": "self"}] if row is not None else [],
            "id": deployment_id, "name": name or None, "source": source, "tenantId": None,
            "deploymentTime": camunda_time(row.deployed_at) if row is not None else None}


@bp.get("/deployment")
@login_required
def deployments():
    """The newest deployments, newest first (``maxResults``, default 50; ``maxResults=0`` checks the connection)."""
    access.require(access.may(current_actor(), "deploy"), "only admin and process_owner may deploy")
    text = request.args.get("maxResults", "50")
    if not text.isdigit():
        raise InvalidRequest("'maxResults' must be a number")
    rows = db().scalars(select(Deployment).order_by(Deployment.id.desc()).limit(min(int(text), 200)))
    return jsonify([_deployment(r, r.comment, r.source) for r in rows])


@bp.post("/deployment/create")
@login_required
def create():
    access.require(access.may(current_actor(), "deploy"), "only admin and process_owner may deploy")
    files: dict[str, bytes] = {}
    for field, upload in request.files.items(multi=True):
        name = upload.filename or field
        if field in _FIELDS or not name.lower().endswith(DEPLOYABLE):
            continue  # forms, scripts, images a Camunda deployment may carry: nothing here runs them
        data = upload.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise DiagramInvalid([Problem(name, None, None, "file larger than 5 MB", "file_too_large")])
        files[name] = data
    if not files:
        raise InvalidRequest("no .bpmn or .dmn resource in the deployment (send each file as a multipart field)")
    name = request.form.get("deployment-name", "")[:500]
    source = (request.form.get("deployment-source") or "engine-rest")[:40]
    result = engine().deploy(db(), files, current_actor(), comment=name, source=source,
                             java_as_external=flag(JAVA_AS_EXTERNAL))
    # Unchanged files are not deployed again (as with deploy-changed-only); their current definitions are
    # listed all the same, so that a client can start the process it just sent.
    keys = [(d.key, d.version) for d in result.definitions if d.kind == "bpmn"]
    rows = [db().scalars(select(Definition).where(Definition.key == k, Definition.version == v)).one() for k, v in keys]
    deployment_id = result.deployment_id or (rows[0].deployment_id if rows else None)
    row = db().get(Deployment, deployment_id) if deployment_id is not None else None
    body = _deployment(row, name, source)
    body |= {"deployedProcessDefinitions": {definition_id(d): _definition(d, body["id"]) for d in rows} or None,
             "deployedCaseDefinitions": None, "deployedDecisionDefinitions": None,
             "deployedDecisionRequirementsDefinitions": None,
             "warnings": [w.to_dict() for w in result.warnings]}
    return jsonify(body)

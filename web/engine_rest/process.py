"""Starting cases, correlating messages, listing and completing user tasks, as Camunda 7's REST does."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import and_

from engine import deployments, limits
from engine.errors import InvalidRequest
from engine.models import Instance, OpenTask

from ..api.body import json_body
from ..auth import current_actor, login_required
from ..context import db, engine
from .dates import camunda_time
from .variables import plain, typed

bp = Blueprint("process", __name__)


def _instance(instance: Instance, with_variables: bool = False) -> dict:
    body = {"links": [{"method": "GET", "rel": "self",
                       "href": f"{request.host_url.rstrip('/')}/engine-rest/process-instance/{instance.id}"}],
            "id": str(instance.id), "definitionId": f"{instance.key}:{instance.version}",
            "businessKey": instance.business_key, "caseInstanceId": None,
            "ended": instance.state in ("completed", "cancelled"), "suspended": False, "tenantId": None}
    if with_variables:
        body["variables"] = typed(engine().variables(db(), instance))
    return body


def _start(key: str):
    body = json_body()
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidRequest("'businessKey' must be text")
    instance = engine().start(db(), key, current_actor(), business_key=business_key,
                              variables=plain(body.get("variables")))
    return jsonify(_instance(instance, body.get("withVariablesInReturn") is True))


@bp.post("/process-definition/key/<key>/start")
@login_required
def start_by_key(key: str):
    return _start(key)


@bp.post("/process-definition/<definition_id>/start")
@login_required
def start_by_id(definition_id: str):
    """By id (``key:version``, as ``/deployment/create`` gives it): only the version new cases start on."""
    key, _, version = definition_id.rpartition(":")
    if not key or not version.isdigit():
        raise InvalidRequest(f"'{definition_id}' is not a process definition id (key:version)")
    current = deployments.get_definition(db(), key)
    if current.version != int(version):
        raise InvalidRequest(f"new cases of '{key}' start on version {current.version}, not {version}")
    return _start(key)


@bp.post("/message")
@login_required
def correlate():
    """``messageName`` to the case(s) waiting for it whose ``businessKey`` and ``correlationKeys`` match;
    ``processVariables`` are set on them. Without ``all`` exactly one case must match."""
    body = json_body()
    name = body.get("messageName")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("'messageName' is required")
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise InvalidRequest("'businessKey' must be text")
    correlation = plain(body.get("correlationKeys"), "correlationKeys")
    variables = plain(body.get("processVariables"), "processVariables")
    found, _duplicate = engine().correlate_message(db(), name, correlation, variables, current_actor(),
                                                   business_key=business_key)
    if len(found) > 1 and body.get("all") is not True:
        raise InvalidRequest(f"Cannot correlate message '{name}': {len(found)} cases match; "
                             "send \"all\": true to reach every one")
    if body.get("resultEnabled") is not True:
        return "", 204
    return jsonify([{"resultType": "Execution", "execution": {"id": str(i.id), "processInstanceId": str(i.id),
                                                               "ended": i.state in ("completed", "cancelled"),
                                                               "tenantId": None},
                     "processInstance": None, **({"variables": typed(engine().variables(db(), i))}
                                                 if body.get("variablesInResultEnabled") is True else {})}
                    for i in found])


def _task(row) -> dict:
    return {"id": row.id, "name": row.name, "assignee": row.assignee, "created": camunda_time(row.created_at),
            "due": camunda_time(row.due_at), "followUp": None, "lastUpdated": None, "delegationState": None,
            "description": None, "executionId": str(row.instance_id), "owner": None, "parentTaskId": None,
            "priority": 50, "processDefinitionId": None, "processInstanceId": str(row.instance_id),
            "taskDefinitionKey": row.element_id, "caseExecutionId": None, "caseInstanceId": None,
            "caseDefinitionId": None, "suspended": False, "formKey": None, "camundaFormRef": None, "tenantId": None}


_FILTERS = {"processInstanceId": OpenTask.instance_id, "taskDefinitionKey": OpenTask.element_id,
            "assignee": OpenTask.assignee, "processDefinitionKey": Instance.key,
            "processInstanceBusinessKey": Instance.business_key}


@bp.get("/task")
@login_required
def list_tasks():
    """Open tasks the caller may work, oldest first: filters ``processInstanceId``, ``processDefinitionKey``,
    ``processInstanceBusinessKey``, ``taskDefinitionKey``, ``assignee``, ``candidateGroup``; ``maxResults`` (≤ 200)."""
    clauses = []
    for name, column in _FILTERS.items():
        value = request.args.get(name)
        if value is None:
            continue
        if name == "processInstanceId":
            if not value.isdigit() or not limits.valid_id(int(value)):
                raise InvalidRequest("'processInstanceId' must be a case id")
            clauses.append(column == int(value))
        else:
            clauses.append(column == value)
    group = request.args.get("candidateGroup")
    if group:
        clauses.append(OpenTask.candidate_groups.contains(f",{group},"))
    text = request.args.get("maxResults", "50")
    if not text.isdigit() or not 1 <= int(text) <= 200:
        raise InvalidRequest("'maxResults' must be between 1 and 200")
    rows, _more = engine().task_page(db(), current_actor(), where=and_(*clauses) if clauses else None,
                                     limit=int(text))
    return jsonify([_task(r) for r in rows])


@bp.post("/task/<task_id>/complete")
@login_required
def complete_task(task_id: str):
    body = json_body()
    instance = engine().complete_task(db(), task_id, current_actor(), plain(body.get("variables")))
    if body.get("withVariablesInReturn") is True:
        return jsonify(typed(engine().variables(db(), instance)))
    return "", 204

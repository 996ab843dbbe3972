"""The external task protocol: workers fetch and lock tasks by topic, then complete them, report a
failure or a BPMN error, extend or give back their lock. Only the group ``external_worker`` and admins
(the access policy's ``work_external_tasks``).

``fetchAndLock`` long-polls: with ``asyncResponseTimeout`` it looks again every ``POLL_SECONDS`` until
a task is there or the time is up, committing after each look so that no transaction stays open while
it waits; the wait is bounded by ``MAX_WAIT_SECONDS`` whatever the worker asks."""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Blueprint, jsonify

from engine import access, external_runs, external_tasks
from engine.errors import InvalidRequest
from engine.external_tasks import TopicRequest

from ..api.body import json_body
from ..auth import current_actor, login_required
from ..context import db, engine
from .dates import camunda_time
from .variables import plain, typed

bp = Blueprint("external_task", __name__)

POLL_SECONDS = 0.2
MAX_WAIT_SECONDS = float(os.environ.get("AFTERSALES_LONG_POLL_SECONDS", "60"))
MAX_TASKS = 100


def _worker() -> None:
    access.require(access.may(current_actor(), "work_external_tasks"),
                   "only accounts of the group external_worker (and admins) work external tasks")


def _text(body: dict, name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidRequest(f"'{name}' is required (text, at most 200 characters)")
    return value


def _int(body: dict, name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be a whole number")
    return value


def _topics(body: dict) -> list[TopicRequest]:
    topics = body.get("topics")
    if not isinstance(topics, list) or not topics:
        raise InvalidRequest("'topics' must be a list of {\"topicName\", \"lockDuration\"}")
    found = []
    for t in topics:
        if not isinstance(t, dict):
            raise InvalidRequest("each topic must be an object with 'topicName' and 'lockDuration'")
        names = t.get("variables")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise InvalidRequest("a topic's 'variables' must be a list of variable names")
        keys = t.get("processDefinitionKeyIn") or ([t["processDefinitionKey"]] if t.get("processDefinitionKey") else [])
        wanted = t.get("processVariables") or {}
        if not isinstance(wanted, dict) or not isinstance(keys, list):
            raise InvalidRequest("'processVariables' must be an object, 'processDefinitionKeyIn' a list")
        external_tasks.lock_duration(t.get("lockDuration"))
        found.append(TopicRequest(_text(t, "topicName") or "", t["lockDuration"],
                                  tuple(names) if names is not None else None, t.get("businessKey"),
                                  tuple(str(k) for k in keys), wanted))
    return found


def _locked_view(row, instance, topic: TopicRequest, variables: dict[str, Any]) -> dict:
    return {"activityId": row.element_id, "activityInstanceId": f"{row.element_id}:{row.id}",
            "errorMessage": row.error_message, "errorDetails": row.error_details,
            "executionId": row.id, "id": row.id, "lockExpirationTime": camunda_time(row.lock_expires_at),
            "createTime": camunda_time(row.created_at),
            "processDefinitionId": f"{instance.key}:{instance.version}", "processDefinitionKey": instance.key,
            "processDefinitionVersionTag": None, "processInstanceId": str(instance.id), "tenantId": None,
            "retries": row.retries, "workerId": row.worker_id, "priority": row.priority, "topicName": row.topic,
            "businessKey": instance.business_key, "extensionProperties": {},
            "variables": typed(variables, list(topic.variables) if topic.variables is not None else None)}


@bp.post("/external-task/fetchAndLock")
@login_required
def fetch_and_lock():
    _worker()
    body = json_body()
    worker_id = _text(body, "workerId") or ""
    max_tasks = _int(body, "maxTasks", 1)
    if not 1 <= max_tasks <= MAX_TASKS:
        raise InvalidRequest(f"'maxTasks' must be between 1 and {MAX_TASKS}")
    topics = _topics(body)
    wait = body.get("asyncResponseTimeout") or 0
    if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
        raise InvalidRequest("'asyncResponseTimeout' must be a number of milliseconds")
    deadline = time.monotonic() + min(wait / 1000, MAX_WAIT_SECONDS)
    session = db()
    while True:
        locked = external_tasks.fetch_and_lock(session, worker_id, max_tasks, topics, engine().clock.now(),
                                               use_priority=body.get("usePriority", True) is not False)
        views = [_locked_view(row, instance, topic, external_runs.task_variables(engine(), session, instance, row.id))
                 for row, instance, topic in locked]
        session.commit()  # each look is its own short transaction: nothing stays open while waiting
        if views or time.monotonic() >= deadline:
            return jsonify(views)
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _report() -> tuple[dict, str]:
    """What a worker's report on its task (complete, failure, bpmnError) starts with: the worker's
    account, the JSON body and its ``workerId``."""
    _worker()
    body = json_body()
    return body, _text(body, "workerId") or ""


def _texts(body: dict, *names: str) -> list[str | None]:
    """Optional text fields of a report (``errorMessage``, ``errorDetails``)."""
    values = [body.get(name) for name in names]
    if any(v is not None and not isinstance(v, str) for v in values):
        raise InvalidRequest(" and ".join(f"'{n}'" for n in names) + " must be text")
    return values


@bp.post("/external-task/<task_id>/complete")
@login_required
def complete(task_id: str):
    body, worker_id = _report()
    variables = plain(body.get("variables")) | plain(body.get("localVariables"), "localVariables")
    external_runs.complete(engine(), db(), task_id, worker_id, variables, current_actor())
    return "", 204


@bp.post("/external-task/<task_id>/failure")
@login_required
def failure(task_id: str):
    body, worker_id = _report()
    message, details = _texts(body, "errorMessage", "errorDetails")
    external_runs.failure(engine(), db(), task_id, worker_id, message or "", details,
                          _int(body, "retries", 0), _int(body, "retryTimeout", 0))
    return "", 204


@bp.post("/external-task/<task_id>/bpmnError")
@login_required
def bpmn_error(task_id: str):
    body, worker_id = _report()
    (message,) = _texts(body, "errorMessage")
    external_runs.bpmn_error(engine(), db(), task_id, worker_id, _text(body, "errorCode") or "", message,
                             plain(body.get("variables")), current_actor())
    return "", 204


@bp.post("/external-task/<task_id>/extendLock")
@login_required
def extend_lock(task_id: str):
    _worker()
    body = json_body()
    external_tasks.extend_lock(db(), task_id, _text(body, "workerId") or "", body.get("newDuration"),
                               engine().clock.now())
    return "", 204


@bp.post("/external-task/<task_id>/unlock")
@login_required
def unlock(task_id: str):
    _worker()
    external_tasks.unlock(db(), task_id)
    return "", 204

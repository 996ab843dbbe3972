"""What an external worker reports about a task it locked: each is one step of the case, one transaction.

- :func:`complete`: the worker's variables go into the task's data and the case moves on, as when a
  person completes a user task.
- :func:`failure`: with retries left the task is fetchable again after ``retryTimeout``; with none
  left the case is in ``error`` (an incident, on ``/incidents``) and *retry* gives the worker a fresh round.
- :func:`bpmn_error`: thrown at the task exactly as a Python handler's ``BpmnError`` is
  (:mod:`engine.bpmn_errors`): the catching error boundary event interrupts it and the case follows
  that path; without one the case is in ``error``, naming the code.

See :mod:`engine.external_tasks` for how tasks are offered and locked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import bpmn_errors, limits, notifications, state
from .errors import Conflict, InvalidRequest, NotFound
from .external_tasks import owned
from .models import Instance
from .state import clean_data
from .steps import Step, StepHost, StepScriptEngine
from .users import SYSTEM, Actor

log = logging.getLogger(__name__)


def _load(engine: StepHost, session: Session, task_id: str, worker_id: str, actor: Actor):
    """The worker's row, its case and a step on it, the workflow and the task waiting for the worker."""
    row = owned(session, task_id, worker_id)
    instance = session.get(Instance, row.instance_id)
    if instance is None or instance.state != "running":
        raise Conflict(f"the case of external task {row.id} is {instance.state if instance else 'gone'}")
    step = Step(engine, session, instance, actor)
    wf = step.load()
    task = next((t for t in wf.get_tasks(state=TaskState.STARTED) if str(t.id) == row.id), None)
    if task is None:
        raise NotFound(f"external task {row.id} no longer waits (the case moved on)")
    return row, instance, step, wf, task


def task_variables(engine: StepHost, session: Session, instance: Instance, task_id: str) -> dict:
    """The variables as the waiting task sees them (what a worker is handed), read without changing anything."""
    if instance.workflow is None:
        return {}
    specs = engine.spec_for(session, instance)
    wf = state.load(instance.workflow, specs.spec, specs.subprocess_specs,
                    StepScriptEngine(Step(engine, session, instance, SYSTEM)))
    task = next((t for t in wf.get_tasks(state=TaskState.STARTED) if str(t.id) == task_id), None)
    return clean_data(task.data) if task is not None else {}


def complete(engine: StepHost, session: Session, task_id: str, worker_id: str, variables: dict,
             actor: Actor) -> Instance:
    _row, instance, step, wf, task = _load(engine, session, task_id, worker_id, actor)
    values = clean_data(variables)
    task.data.update(values)
    limits.check_case_size(task.data, str(instance.business_key or instance.id))
    task.internal_data["external_done"] = True
    task._set_state(TaskState.READY)
    # what runs as it completes may fail (a multi-instance over a collection the worker did not set, an
    # output mapping): the case stops in ``error`` there, as when a person completes a task
    if step.complete_manual(wf, task):
        step.record(task, "ServiceTask", actor.username, {"worker": worker_id, **values})
        step.advance(wf)
    step.save(wf)  # deletes the row: the task no longer waits
    return instance


def failure(engine: StepHost, session: Session, task_id: str, worker_id: str, message: str, details: str | None,
            retries: int, retry_timeout_ms: int) -> str:
    """Record a failure the worker reports; returns ``retry`` or ``incident``."""
    now = engine.clock.now()
    row = owned(session, task_id, worker_id)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidRequest("'retries' must be a number of retries left, 0 or more")
    if isinstance(retry_timeout_ms, bool) or not isinstance(retry_timeout_ms, int) or retry_timeout_ms < 0:
        raise InvalidRequest("'retryTimeout' must be a number of milliseconds, 0 or more")
    row.retries = retries
    row.error_message = (message or "")[:2000] or None
    row.error_details = details
    row.worker_id = None
    row.lock_expires_at = None
    if retries > 0:
        row.next_attempt_at = now + timedelta(milliseconds=retry_timeout_ms)
        return "retry"
    row.next_attempt_at = None
    instance = session.get(Instance, row.instance_id)
    if instance is not None and instance.state == "running":
        _in_error(session, instance, row.element_id,
                  f"external worker '{worker_id}' failed on topic '{row.topic}' with no retries left: {message or '?'}",
                  now)
    return "incident"


def bpmn_error(engine: StepHost, session: Session, task_id: str, worker_id: str, code: str, message: str | None,
               variables: dict, actor: Actor) -> Instance:
    """The worker's BPMN error, thrown at the task as a handler's is (:func:`engine.bpmn_errors.throw`).
    Uncaught, the case is in ``error`` and the task offers no more rounds until *retry*."""
    if not isinstance(code, str) or not code:
        raise InvalidRequest("'errorCode' is required")
    row, instance, step, wf, task = _load(engine, session, task_id, worker_id, actor)
    try:
        bpmn_errors.throw(step, task, code, message, variables, actor.username, worker=worker_id)
    except bpmn_errors.UncaughtBpmnError as exc:
        row.worker_id, row.lock_expires_at, row.retries = None, None, 0
        step.stopped(wf, exc, task)
        log.warning("instance %s in error at %s: %s", instance.id, exc.element_id, exc.message)
    else:
        step.advance(wf)
    step.save(wf)
    return instance


def _in_error(session: Session, instance: Instance, element: str, message: str, now: datetime) -> None:
    instance.state = "error"
    instance.error_element = element
    instance.error_message = message
    notifications.case_in_error(session, instance, element, message, now)
    log.warning("instance %s in error at %s: %s", instance.id, element, message)

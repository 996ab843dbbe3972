"""Asynchronous service tasks: ``camunda:asyncBefore="true"`` on a service task.

The step that reaches the task stops in front of it (SpiffWorkflow keeps it STARTED) and
``Step.save`` writes an :class:`AsyncJob` row in the same transaction. A worker then takes the job
(:func:`claim`, its own short transaction: a lease), runs the handler in a fresh step
(:func:`run`, one transaction) and moves the case on. A failing handler is retried after the interval
of ``camunda:failedJobRetryTimeCycle`` (``R3/PT10S``: three tries in all, ten seconds apart; the
default); after the last try the case is in ``error`` (an incident) and ``retry`` queues the job again.
The instance revision makes a job run twice (a redelivered message, a worker killed after its commit)
a :class:`Conflict` for the second run, whose writes are rolled back: an exactly-once effect.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import isodate
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from .clock import use_clock
from .errors import HandlerFailed
from .models import AsyncJob, Instance
from .users import SYSTEM

if TYPE_CHECKING:
    from .instances import ProcessEngine

log = logging.getLogger(__name__)
DEFAULT_TRIES, DEFAULT_INTERVAL = 3, 10
# Longer than a handler may take; a dead worker's job is due again after it.
LEASE = timedelta(seconds=float(os.environ.get("AFTERSALES_JOB_LEASE_SECONDS", "300")))
_CYCLE = re.compile(r"^R(\d+)/(P\S+)$")


def retry_policy(cycle: str | None) -> tuple[int, int]:
    """``R5/PT1M`` -> (5 tries, 60 s apart); None -> the default (3 tries, 10 s)."""
    if not cycle:
        return DEFAULT_TRIES, DEFAULT_INTERVAL
    match = _CYCLE.match(cycle.strip())
    if not match:
        raise ValueError(f"failedJobRetryTimeCycle '{cycle}' is not R<tries>/<ISO duration>, e.g. R3/PT10S")
    duration = isodate.parse_duration(match.group(2))
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration.totimedelta(
        start=datetime(2000, 1, 1)).total_seconds()
    return max(1, int(match.group(1))), max(0, int(seconds))


def waiting(wf) -> list:
    """Tasks of ``wf`` parked in front of an asynchronous handler."""
    return [t for t in wf.get_tasks(state=TaskState.STARTED) if getattr(t.task_spec, "async_before", False)]


def job_rows(tasks, instance_id: int, now: datetime) -> list[dict]:
    rows = []
    for task in tasks:
        tries, interval = retry_policy(task.task_spec.retry_cycle)
        rows.append({"instance_id": instance_id, "task_id": str(task.id), "element_id": task.task_spec.bpmn_id,
                     "attempts": 0, "max_attempts": tries, "retry_seconds": interval, "next_attempt_at": now,
                     "created_at": now, "last_error": None})
    return rows


def due(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(session.scalars(select(AsyncJob.id).where(AsyncJob.next_attempt_at <= now)
                                .order_by(AsyncJob.next_attempt_at).limit(limit)))


def claim(session: Session, job_id: int, now: datetime) -> bool:
    """Lease the job to the caller (who commits) if it is still due; False when another worker has it."""
    result = cast(CursorResult, session.execute(
        update(AsyncJob).where(AsyncJob.id == job_id, AsyncJob.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE).execution_options(synchronize_session=False)))
    return result.rowcount == 1


def run(engine: ProcessEngine, session: Session, job_id: int) -> str:
    """Run a claimed job's handler and move the case on. Returns done | retry | incident | gone."""
    from .steps import Step

    job = session.get(AsyncJob, job_id)
    if job is None:
        return "gone"
    instance = session.get(Instance, job.instance_id)
    if instance is None or instance.state != "running":
        session.delete(job)
        return "gone"
    step = Step(engine, session, instance, SYSTEM)
    wf = step.load()
    task = next((t for t in waiting(wf) if str(t.id) == job.task_id), None)
    if task is None:
        session.delete(job)
        return "gone"
    task.internal_data["async_run"] = True
    task._set_state(TaskState.READY)
    try:
        with use_clock(engine.clock):
            task.run()
    except HandlerFailed as exc:
        return _failed(session, job, instance, exc, step.now)
    session.delete(job)
    step.advance(wf)
    step.save(wf)
    return "done"


def _failed(session: Session, job: AsyncJob, instance: Instance, exc: HandlerFailed, now: datetime) -> str:
    job.attempts += 1
    job.last_error = exc.message
    if job.attempts < job.max_attempts:
        job.next_attempt_at = now + timedelta(seconds=job.retry_seconds)
        log.info("async %s of instance %s failed (try %s of %s), again at %s: %s", job.element_id, instance.id,
                 job.attempts, job.max_attempts, job.next_attempt_at, exc.message)
        return "retry"
    # The stored workflow still waits in front of the handler; retry() queues the job again.
    session.delete(job)
    instance.state = "error"
    instance.error_element = job.element_id
    instance.error_message = f"{exc.message} (after {job.attempts} tries)"
    log.warning("async %s of instance %s failed %s times: incident", job.element_id, instance.id, job.attempts)
    return "incident"

"""Asynchronous service tasks: ``camunda:asyncBefore="true"`` on a service task.

The step that reaches the task stops in front of it (SpiffWorkflow keeps it STARTED) and
``Step.save`` writes an :class:`AsyncJob` row in the same transaction. A worker then takes the job
(:func:`claim`, its own short transaction: a lease), runs the handler in a fresh step
(:func:`engine.async_runs.run`, one transaction) and moves the case on. A failing handler is retried after the interval
of ``camunda:failedJobRetryTimeCycle`` (``R3/PT10S``: three tries in all, ten seconds apart; the
default); after the last try the case is in ``error`` (an incident) and ``retry`` queues the job again.
The instance revision makes a job run twice (a redelivered message, a worker killed after its commit)
a :class:`Conflict` for the second run, whose writes are rolled back: an exactly-once effect.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import cast

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from .models import AsyncJob
from .retries import retry_policy

# Longer than a handler may take; a dead worker's job is due again after it.
LEASE = timedelta(seconds=float(os.environ.get("AFTERSALES_JOB_LEASE_SECONDS", "300")))


def waiting(wf) -> list:
    """Tasks of ``wf`` parked in front of an asynchronous handler."""
    return [t for t in wf.get_tasks(state=TaskState.STARTED) if getattr(t.task_spec, "async_before", False)]


def in_diagram(wf) -> bool:
    """Whether ``wf``'s diagram (its subprocesses included) has an asynchronous task at all."""
    return any(getattr(spec, "async_before", False)
               for process in (wf.spec, *wf.subprocess_specs.values()) for spec in process.task_specs.values())


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

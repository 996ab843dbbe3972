"""Running a claimed asynchronous job: the handler in a fresh step, then the case moves on.

A failing handler is retried after the interval of its retry cycle; after the last try the case is
in ``error`` (an incident). See :mod:`engine.async_tasks` for how jobs are written and claimed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from .async_tasks import waiting
from .clock import use_clock
from .errors import HandlerFailed
from .models import AsyncJob, Instance
from .steps import Step, StepHost
from .users import SYSTEM

log = logging.getLogger(__name__)


def run(engine: StepHost, session: Session, job_id: int) -> str:
    """Run a claimed job's handler and move the case on. Returns done | retry | incident | gone."""
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

"""External tasks: a service task whose topic has no Python handler waits for an external worker.

The step that reaches such a task leaves it STARTED (``HandlerTask`` gets no handler from the
registry) and :func:`sync`, called by ``Step.save``, writes an :class:`ExternalTask` row in the same
transaction; the step that moves past it deletes the row. Workers speak Camunda 7's external task
protocol (``web/engine_rest``): :func:`fetch_and_lock` locks due rows of the asked topics with a
conditional update each (two workers never hold one task), a lock that expires returns the task to
the pool, and ``engine.external_runs`` applies what a worker reports (complete, failure, BPMN error),
each as one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, Table, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from .db import as_utc
from .errors import InvalidRequest, NotFound
from .models import ExternalTask, Instance

_TABLE = cast(Table, ExternalTask.__table__)
# Longest lock a worker may ask for (Camunda has no limit; a day keeps a dead worker's task from
# staying out of the pool for longer).
MAX_LOCK = timedelta(days=1)


def waiting(wf, registered: set[str]) -> list:
    """Tasks of ``wf`` parked at a service task whose topic has no Python handler (``asyncBefore`` on
    such a task changes nothing: an external task is asynchronous anyway)."""
    return [t for t in wf.get_tasks(state=TaskState.STARTED)
            if getattr(t.task_spec, "topic", None) and t.task_spec.topic not in registered]


def sync(session: Session, instance: Instance, wf, finished: bool, now: datetime, registered: set[str],
         before: frozenset[str]) -> frozenset[str]:
    """The rows of ``instance`` as the saved workflow says: one per task waiting for a worker.
    ``before`` are the ids waiting when the step loaded the workflow; a step that neither had nor has
    any asks the database nothing. Returns the ids waiting now."""
    present = {} if finished else {str(t.id): t for t in waiting(wf, registered)}
    if not present and not before:
        return frozenset()
    gone = [tid for tid in before if tid not in present]
    if gone:
        session.execute(delete(_TABLE).where(_TABLE.c.id.in_(gone)))
    fresh = [{"id": tid, "instance_id": instance.id, "element_id": t.task_spec.bpmn_id, "topic": t.task_spec.topic,
              "priority": 0, "created_at": now} for tid, t in present.items() if tid not in before]
    if fresh:
        session.execute(insert(_TABLE), fresh)
    if instance.state == "running" and present:
        # a case retried after an incident: its worker gets a fresh round of retries
        session.execute(update(_TABLE).where(_TABLE.c.instance_id == instance.id, _TABLE.c.retries == 0)
                        .values(retries=None, next_attempt_at=None, worker_id=None, lock_expires_at=None)
                        .execution_options(synchronize_session=False))
    return frozenset(present)


# --- fetching and locking --------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRequest:
    """One topic of a fetch: how long to lock, which variables to hand out (None: all), and optional
    filters on the case (business key, process keys, variable values)."""

    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None
    business_key: str | None = None
    process_keys: tuple[str, ...] = ()
    process_variables: dict[str, Any] = field(default_factory=dict)


def _due(now: datetime):
    """Rows a worker may lock now: not locked (or the lock expired), no retry pending, retries left."""
    return and_(or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
                or_(ExternalTask.next_attempt_at.is_(None), ExternalTask.next_attempt_at <= now),
                or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))


def fetch_and_lock(session: Session, worker_id: str, max_tasks: int, topics: list[TopicRequest], now: datetime,
                   use_priority: bool = True) -> list[tuple[ExternalTask, Instance, TopicRequest]]:
    """Lock up to ``max_tasks`` due tasks of ``topics`` for ``worker_id``; the caller commits at once."""
    locked: list[tuple[ExternalTask, Instance, TopicRequest]] = []
    for topic in topics:
        if len(locked) >= max_tasks:
            break
        q = (select(ExternalTask, Instance).join(Instance, Instance.id == ExternalTask.instance_id)
             .where(ExternalTask.topic == topic.name, Instance.state == "running", _due(now)))
        if topic.business_key is not None:
            q = q.where(Instance.business_key == topic.business_key)
        if topic.process_keys:
            q = q.where(Instance.key.in_(topic.process_keys))
        q = q.order_by(*([ExternalTask.priority.desc()] if use_priority else []), ExternalTask.created_at,
                       ExternalTask.id)
        # a few more than needed: some may be taken by another worker between the read and the update
        for row, instance in session.execute(q.limit((max_tasks - len(locked)) * 2 + 5)).all():
            if len(locked) >= max_tasks:
                break
            if topic.process_variables and not _matches(session, instance, topic.process_variables):
                continue
            taken = cast(CursorResult, session.execute(
                update(ExternalTask).where(ExternalTask.id == row.id, _due(now))
                .values(worker_id=worker_id, lock_expires_at=now + timedelta(milliseconds=topic.lock_ms))
                .execution_options(synchronize_session=False)))
            if taken.rowcount == 1:
                session.refresh(row)
                locked.append((row, instance, topic))
    return locked


def _matches(session: Session, instance: Instance, wanted: dict[str, Any]) -> bool:
    from .models import MessageKey
    from .state import key_value

    keys = dict(session.execute(select(MessageKey.key, MessageKey.value).where(MessageKey.instance_id == instance.id)))
    return all(keys.get(k) == key_value(v) for k, v in wanted.items()) if keys else False


def owned(session: Session, task_id: str, worker_id: str) -> ExternalTask:
    """The task last locked by ``worker_id``; NotFound or InvalidRequest (as Camunda answers) otherwise.
    As in Camunda, a worker whose lock expired may still report on the task until another worker locks it."""
    row = session.get(ExternalTask, task_id) if isinstance(task_id, str) and len(task_id) <= 36 else None
    if row is None:
        raise NotFound(f"external task {task_id} does not exist (completed, cancelled or never there)")
    if row.worker_id != worker_id:
        raise InvalidRequest(f"external task {task_id} is locked by worker '{row.worker_id}', not by '{worker_id}'"
                             if row.worker_id else f"external task {task_id} is not locked by '{worker_id}'")
    return row


def extend_lock(session: Session, task_id: str, worker_id: str, new_duration_ms: int, now: datetime) -> None:
    row = owned(session, task_id, worker_id)
    expires = as_utc(row.lock_expires_at)
    if expires is None or expires <= now:
        raise InvalidRequest(f"the lock of worker '{worker_id}' on external task {task_id} has expired; fetch it again")
    row.lock_expires_at = now + lock_duration(new_duration_ms, "newDuration")


def unlock(session: Session, task_id: str) -> None:
    row = session.get(ExternalTask, task_id) if isinstance(task_id, str) and len(task_id) <= 36 else None
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    row.worker_id = None
    row.lock_expires_at = None


def lock_duration(value: Any, name: str = "lockDuration") -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequest(f"'{name}' must be a positive number of milliseconds")
    duration = timedelta(milliseconds=value)
    if duration > MAX_LOCK:
        raise InvalidRequest(f"'{name}' may be at most {int(MAX_LOCK.total_seconds() * 1000)} ms (a day)")
    return duration

"""Background jobs, each a job edge (it commits): fire due timers, start scheduled cases, deliver the
outbox, run an asynchronous service task. The embedded thread (``web/scheduler.py``) and the Celery
worker (``web/celery_app.py``) call these same functions. Every job is safe to run twice or on two
workers at once: timers and starts go through the instance revision or a conditional update, outbox
rows are leased (see ``engine.notifications``), so at-least-once delivery has an exactly-once effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine import async_tasks, notifications, retention, retention_runs
from engine.errors import Conflict
from engine.instances import ProcessEngine, due_timers_query
from engine.models import AsyncJob, ScheduledStart
from engine.notifications import Sender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueWork:
    starts: bool
    timers: bool
    async_jobs: bool
    overdue: bool
    outbox: bool

    def __bool__(self) -> bool:
        return self.starts or self.timers or self.async_jobs or self.overdue or self.outbox


def due_work(engine: ProcessEngine, read_sessions) -> DueWork:
    """Which parts of the background round have anything due: one read-only statement of five
    indexed EXISTS probes (no write lock on SQLite), so an idle round costs the same at a million
    finished cases as on an empty database (issue 17). It runs on a plain Core connection of the read
    sessions' engine: an ORM session around one statement cost an idle round 6.0 ms of CPU against
    3.6 ms (measured cold, as a round every 0.25 s runs), about 1 % of a core."""
    with read_sessions.kw["bind"].connect() as conn:
        row = conn.execute(_DUE_WORK, {"now": engine.clock.now()}).one()
    return DueWork(*(bool(v) for v in row))


# Built once, the moment a bound parameter: an idle server asks this four times a second, and building
# the statement anew each round cost ten times running it (~10 ms of CPU a round, 4 % of a core idle).
_NOW = bindparam("now")
_DUE_WORK = select(
    exists(select(ScheduledStart.key).where(ScheduledStart.next_due < _NOW)),
    exists(due_timers_query(_NOW)),
    exists(select(AsyncJob.id).where(AsyncJob.next_attempt_at <= _NOW)),
    notifications.any_overdue_unnotified(_NOW),
    exists(notifications.undelivered_due(_NOW)),
)


def due_timer_instances(engine: ProcessEngine, sessions, limit: int = 100) -> list[int]:
    with sessions() as session:
        return engine.due_timers(session, limit=limit)


def fire_timer(engine: ProcessEngine, sessions, instance_id: int) -> bool:
    """Fire what is due on one instance; False when nothing was due or another worker fired it."""
    with sessions() as session:
        try:
            if engine.fire_timers(session, instance_id):
                session.commit()
                return True
        except (Conflict, StaleDataError):
            session.rollback()  # another worker fired it first
        except OperationalError as exc:
            session.rollback()
            log.warning("timer for instance %s not fired, database unavailable: %s", instance_id, exc)
    return False


def fire_due_timers(engine: ProcessEngine, sessions) -> int:
    return sum(fire_timer(engine, sessions, i) for i in due_timer_instances(engine, sessions))


def due_scheduled_starts(engine: ProcessEngine, sessions) -> list[str]:
    with sessions() as session:
        return [row.key for row in engine.due_starts(session)]


def start_scheduled(engine: ProcessEngine, sessions, key: str) -> bool:
    """Start the case a timer start event of ``key`` asks for, if still due (the row is claimed)."""
    with sessions() as session:
        try:
            row = session.scalars(select(ScheduledStart).where(ScheduledStart.key == key)).first()
            if row is not None and engine.start_scheduled(session, row) is not None:
                session.commit()
                return True
            session.rollback()
        except (Conflict, StaleDataError):
            session.rollback()
        except Exception:  # a broken start must not stop the other schedules
            session.rollback()
            log.exception("scheduled start of %s failed", key)
    return False


def run_scheduled_starts(engine: ProcessEngine, sessions) -> int:
    return sum(start_scheduled(engine, sessions, key) for key in due_scheduled_starts(engine, sessions))


def queue_overdue(engine: ProcessEngine, sessions) -> int:
    with sessions() as session:
        count = notifications.queue_overdue(session, engine.clock.now())
        session.commit()
        return count


def deliver_notifications(engine: ProcessEngine, sessions, sender: Sender, limit: int = 50) -> tuple[int, int]:
    """Lease due outbox rows (commit), send them with no transaction open, record the outcome (commit)."""
    with sessions() as session:
        claimed = notifications.claim(session, engine.clock.now(), limit)
        session.commit()
    if not claimed:
        return 0, 0
    outcome = notifications.send(sender, claimed)
    with sessions() as session:
        result = notifications.finish(session, outcome, engine.clock.now())
        session.commit()
    return result


def deliver_due_notifications(engine: ProcessEngine, sessions, sender: Sender, budget_seconds: float = 5.0,
                              limit: int = 50) -> tuple[int, int]:
    """Deliver batches of ``limit`` until no row is due or ``budget_seconds`` are spent: one relay tick
    empties a backlog (1,000 notices from timers that fell due at once) instead of sending 50 a tick."""
    import time

    deadline = time.monotonic() + budget_seconds
    sent = failed = 0
    while True:
        batch_sent, batch_failed = deliver_notifications(engine, sessions, sender, limit)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent + batch_failed < limit or time.monotonic() >= deadline:
            return sent, failed


def due_async_jobs(engine: ProcessEngine, sessions, limit: int = 100) -> list[int]:
    with sessions() as session:
        return async_tasks.due(session, engine.clock.now(), limit)


def run_async_job(engine: ProcessEngine, sessions, job_id: int) -> str:
    """Lease the job (commit), then run its handler and move the case on (commit).

    Returns done | retry | incident | gone | taken (another worker has it) | conflict | unavailable."""
    try:
        with sessions() as session:
            if not async_tasks.claim(session, job_id, engine.clock.now()):
                session.rollback()
                return "taken"
            session.commit()
        with sessions() as session:
            try:
                outcome = engine.run_job(session, job_id)
                session.commit()
                return outcome
            except (Conflict, StaleDataError):
                session.rollback()  # the case moved meanwhile (or another run won): try again at once
        with sessions() as session:
            job = session.get(AsyncJob, job_id)
            if job is not None:
                job.next_attempt_at = engine.clock.now()
                session.commit()
        return "conflict"
    except OperationalError as exc:
        log.warning("async job %s not run, database unavailable: %s", job_id, exc)
        return "unavailable"


def run_due_async_jobs(engine: ProcessEngine, sessions) -> int:
    return sum(run_async_job(engine, sessions, j) in ("done", "incident")
               for j in due_async_jobs(engine, sessions))


# --- retention (engine/retention.py) -------------------------------------------------------------


def retention_batches(engine: ProcessEngine, sessions, run_id: int, budget_seconds: float | None = None) -> bool:
    """Run batches of a retention run, each its own short transaction, until nothing is left (True)
    or ``budget_seconds`` are spent (False: the next call goes on where this one stopped)."""
    import time

    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    while True:
        with sessions() as session:
            settings = retention.load(session)
            try:
                more = retention_runs.next_batch(session, run_id, settings, engine.clock.now())
                session.commit()
            except (StaleDataError, OperationalError) as exc:  # another worker had the rows; next time
                session.rollback()
                log.warning("retention batch of run %s not done: %s", run_id, exc)
                return False
        if not more:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def retention_run(engine: ProcessEngine, sessions, by: str) -> int:
    """A whole run now, outside the window too (``aftersales retention run``); returns the run's id."""
    with sessions() as session:
        run = retention_runs.start_run(session, retention.load(session), by, engine.clock.now())
        session.commit()
        run_id = run.id
    retention_batches(engine, sessions, run_id)
    return run_id


def retention_round(engine: ProcessEngine, sessions, budget_seconds: float = 5.0) -> int | None:
    """The nightly cleanup: inside the window, tonight's run (made once, whichever worker comes first)
    goes on for ``budget_seconds``; outside the window, or once tonight's run ended, nothing happens.
    Returns the id of the run worked on, or None."""
    now = engine.clock.now()
    with sessions() as session:
        settings = retention.load(session)
        if not settings.enabled or not retention.in_window(settings, now):
            return None
        night = retention.night_of(settings, now)
        run = retention_runs.night_run(session, night)
        if run is not None and run.ended_at is not None:
            return None
        if run is None:
            try:
                run = retention_runs.start_run(session, settings, "system", now, night=night)
                session.commit()
            except IntegrityError:  # another worker started tonight's run first
                session.rollback()
                run = retention_runs.night_run(session, night)
                if run is None or run.ended_at is not None:
                    return None
        run_id = run.id
    retention_batches(engine, sessions, run_id, budget_seconds)
    return run_id

"""Background work on Celery, when ``CELERY_BROKER_URL`` is set (RabbitMQ ``amqp://…`` or Redis
``redis://…``): ``aftersales worker`` runs the tasks below, ``aftersales beat`` (or ``worker --beat``)
sends the relay every second, which hands each due timer, scheduled start, asynchronous service
task (``camunda:asyncBefore``) and the outbox to the workers. Messages carry ids only; the database stays the source of truth and every task is the job
function of ``web/jobs.py``, safe to run twice (acknowledged late: a worker killed mid-task leaves
its message to another worker). Without a broker the embedded thread runs the same jobs.
"""

from __future__ import annotations

import logging
import os
import time
from functools import cache

from celery import Celery

from . import jobs

log = logging.getLogger(__name__)
RELAY_SECONDS = float(os.environ.get("AFTERSALES_RELAY_SECONDS", "1"))
EXPIRES = 60  # a relayed job not started within a minute is relayed again anyway


def broker_url() -> str | None:
    return os.environ.get("CELERY_BROKER_URL") or None


def queue_name() -> str:
    return os.environ.get("AFTERSALES_QUEUE", "aftersales")


def make_celery() -> Celery:
    app = Celery("aftersales", broker=broker_url(), set_as_current=False)
    app.conf.update(
        task_default_queue=queue_name(),
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        beat_schedule={"relay": {"task": "aftersales.relay", "schedule": RELAY_SECONDS,
                                 "options": {"expires": max(RELAY_SECONDS * 5, 5)}}},
    )
    return app


celery = make_celery()


@cache
def runtime():
    """This worker process's engine, sessions and sender (made after the fork, once)."""
    import handlers
    from engine.wiring import build

    from . import make_sender

    engine, sessions, _db = build(handlers.default_registry(), os.environ.get("DATABASE_URL"))
    return engine, sessions, make_sender()


@cache
def read_sessions():
    from engine.db import make_read_session_factory

    _engine, sessions, _sender = runtime()
    return make_read_session_factory(sessions.kw["bind"])


@celery.task(name="aftersales.relay")
def relay() -> dict:
    engine, sessions, _sender = runtime()
    reads = read_sessions()
    # One read-only probe first: an idle relay takes no write lock and reads no backlog (issue 17).
    due = jobs.due_work(engine, reads)
    timers = jobs.due_timer_instances(engine, reads, limit=1000) if due.timers else []
    for instance_id in timers:
        fire_timer.apply_async((instance_id,), expires=EXPIRES)
    starts = jobs.due_scheduled_starts(engine, reads) if due.starts else []
    for key in starts:
        start_scheduled.apply_async((key,), expires=EXPIRES)
    async_jobs = jobs.due_async_jobs(engine, reads, limit=1000) if due.async_jobs else []
    for job_id in async_jobs:
        run_async_job.apply_async((job_id,), expires=EXPIRES)
    if due.overdue:
        jobs.queue_overdue(engine, sessions)
    if due.overdue or due.outbox:
        deliver_notifications.apply_async(expires=EXPIRES)
    if time.monotonic() - _retention_relayed[0] >= RETENTION_SECONDS:  # the nightly cleanup, once a minute
        _retention_relayed[0] = time.monotonic()
        run_retention.apply_async(expires=EXPIRES)
    return {"timers": len(timers), "starts": len(starts), "async_jobs": len(async_jobs)}


RETENTION_SECONDS = 60
_retention_relayed = [float("-inf")]


@celery.task(name="aftersales.retention")
def run_retention() -> int | None:
    """Tonight's retention run, 20 s of batches at a time (nothing outside the window)."""
    engine, sessions, _sender = runtime()
    return jobs.retention_round(engine, sessions, budget_seconds=20)


@celery.task(name="aftersales.fire_timer")
def fire_timer(instance_id: int) -> bool:
    engine, sessions, _sender = runtime()
    return jobs.fire_timer(engine, sessions, instance_id)


@celery.task(name="aftersales.start_scheduled")
def start_scheduled(key: str) -> bool:
    engine, sessions, _sender = runtime()
    return jobs.start_scheduled(engine, sessions, key)


@celery.task(name="aftersales.deliver_notifications")
def deliver_notifications() -> list[int]:
    engine, sessions, sender = runtime()
    sent, failed = jobs.deliver_due_notifications(engine, sessions, sender)
    return [sent, failed]


@celery.task(name="aftersales.run_async_job")
def run_async_job(job_id: int) -> str:
    engine, sessions, _sender = runtime()
    return jobs.run_async_job(engine, sessions, job_id)

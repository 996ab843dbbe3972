"""The worker tier for real: a Celery worker process on RabbitMQ (or ``CELERY_BROKER_URL``) fires due
timers and delivers the outbox; the web process then does no background work."""

from __future__ import annotations

import pytest

from engine.models import HistoryEntry, Notification
from engine.users import Actor
from tests.production import Processes, broker_or_skip, wait_for

CS = Actor("customer_service", frozenset({"customer_service"}))


@pytest.fixture
def processes(tmp_path, database_url):
    procs = Processes(tmp_path, database_url, broker_or_skip())
    yield procs
    procs.stop_all()


def test_a_celery_worker_fires_the_timer_runs_the_async_task_and_sends_the_notices(live, processes):
    engine, sessions = live
    with sessions() as s:
        iid = engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 10}).id  # PT2S timer
        asynchronous = engine.start(s, "async_notice", CS, variables={"customer_phone": "13800138000"})
        s.commit()
        assert (asynchronous.state, engine.list_tasks(s, CS, instance_id=asynchronous.id)) == ("running", [])
    processes.worker("--beat")

    def state():
        with sessions() as s:
            fired = s.query(HistoryEntry).filter_by(instance_id=iid, element_id="Event_remind").count()
            chase = [t.element_id for t in engine.list_tasks(s, Actor("s", frozenset({"supervisor"})))]
            call = [t.element_id for t in engine.list_tasks(s, CS, instance_id=asynchronous.id)]
            unsent = s.query(Notification).filter(Notification.sent_at.is_(None)).count()
            sent = sorted(n.recipient for n in s.query(Notification).filter(Notification.sent_at.is_not(None)))
        return (fired, chase, call, sent) if fired and call and len(sent) == 4 and unsent == 0 else None

    fired, chase, call, sent = wait_for(state, 60, "timer fired, async task run, notices sent by the worker", processes)
    assert (fired, chase, call) == (1, ["Activity_chase"], ["call"])
    # claim review, its reminder, the SMS the async task queued, the call-back task
    assert sent == ["group:customer_service", "group:customer_service", "group:supervisor", "phone:13800138000"]


def test_without_a_broker_the_worker_refuses_to_start(tmp_path, database_url, monkeypatch):
    from click.testing import CliRunner

    from web.cli import main

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    r = CliRunner().invoke(main, ["worker"])
    assert r.exit_code == 1 and "set CELERY_BROKER_URL" in r.output


@pytest.mark.parametrize(("broker", "scheduler"), [(None, True), ("amqp://guest:guest@127.0.0.1:5672//", False)])
def test_serve_runs_background_work_only_without_a_worker_tier(database_url, monkeypatch, broker, scheduler):
    import waitress

    from web.cli import _serve

    served = []
    monkeypatch.setenv("DATABASE_URL", database_url)
    if broker:
        monkeypatch.setenv("CELERY_BROKER_URL", broker)
    else:
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.append(app))
    _serve("127.0.0.1", 0)
    (app,) = served
    assert ("scheduler" in app.extensions["aftersales"]) is scheduler
    if scheduler:
        app.extensions["aftersales"]["scheduler"].stop()

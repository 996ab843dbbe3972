"""Faults of the worker tier, bounded to fit CI: a Celery worker killed with kill -9 in the middle
of the work loses nothing and duplicates nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func

from engine.models import AsyncJob, HistoryEntry, Notification, OpenTask
from engine.users import Actor
from tests.production import Processes, broker_or_skip, wait_for

CS = Actor("customer_service", frozenset({"customer_service"}))
ADMIN = Actor("o", frozenset({"admin"}))


def _start_many(engine, sessions, key: str, n: int, variables: dict) -> list[int]:
    ids = []
    with sessions() as s:
        for _ in range(n):
            ids.append(engine.start(s, key, CS, variables=dict(variables)).id)
        s.commit()
    return ids


def _count(sessions, model, *where) -> int:
    with sessions() as s:
        return s.query(func.count()).select_from(model).filter(*where).scalar()


KILL_CASES = 150  # enough that the kill lands mid-batch even when the test's own queries wait for the workers


def test_a_worker_killed_mid_work_loses_nothing_and_duplicates_nothing(live, tmp_path, database_url):
    engine, sessions = live
    procs = Processes(tmp_path, database_url, broker_or_skip())
    procs.env["AFTERSALES_JOB_LEASE_SECONDS"] = "3"  # a dead worker's leases end soon
    ids = _start_many(engine, sessions, "async_notice", KILL_CASES, {"customer_phone": "13800138000"})
    try:
        first = procs.worker("--beat", "--concurrency", "2")
        wait_for(lambda: _count(sessions, HistoryEntry, HistoryEntry.element_id == "tell") >= 5, 60,
                 "the first worker under way", procs)
        procs.kill(first)  # kill -9 the worker's whole process group in the middle of the batch
        done_when_killed = _count(sessions, HistoryEntry, HistoryEntry.element_id == "tell")
        procs.worker("--beat", "--concurrency", "2")
        wait_for(lambda: _count(sessions, OpenTask, OpenTask.element_id == "call") == KILL_CASES
                 and _count(sessions, Notification, Notification.sent_at.is_(None)) == 0, 120,
                 "every case moved on and every notice sent", procs)
    finally:
        procs.stop_all()
    assert done_when_killed < KILL_CASES  # the kill happened in the middle
    with sessions() as s:
        tells = dict(s.query(HistoryEntry.instance_id, func.count()).filter(HistoryEntry.element_id == "tell")
                     .group_by(HistoryEntry.instance_id))
        sms = s.query(func.count()).select_from(Notification).filter(Notification.recipient == "phone:13800138000")
        print(f"\nworker kill -9 after {done_when_killed}/{KILL_CASES}: duplicates {sum(c - 1 for c in tells.values())}, "
              f"lost {sum(1 for i in ids if i not in tells)}, SMS rows {sms.scalar()}")
        assert tells == {i: 1 for i in ids}  # each handler's effect exactly once
        assert sms.scalar() == KILL_CASES
        assert s.query(AsyncJob).count() == 0


# --- several workers, a broker outage, a database restart (scenarios in tests/faults.py; the full-size
# runs with figures are benchmarks/faults.py) ---------------------------------------------------------

SUITE_TIMERS = 300  # benchmarks/faults.py fires 1,000 and measures their lateness


def _wait_ready(procs: Processes, n: int, timeout: float = 60) -> None:
    wait_for(lambda: sum(p.read_text(errors="replace").count(" ready.") for p in procs.tmp_path.glob("worker*.log")) >= n,
             timeout, f"{n} workers ready", procs)


def test_three_workers_fire_each_due_timer_exactly_once(database_url, tmp_path):
    from tests import faults

    procs = Processes(tmp_path, database_url, broker_or_skip())
    engine, sessions, db = faults.build_live(database_url)
    try:
        # due after they are all created (else a case started late fires in its own start step)
        fire_at = faults.soon(SUITE_TIMERS / 50 + 2)
        ids = faults.start_timers(engine, sessions, SUITE_TIMERS, fire_at)
        procs.worker("--beat", "--concurrency", "1")
        procs.worker("--concurrency", "1")
        procs.worker("--concurrency", "1")
        _wait_ready(procs, 3)
        ready_at = max(fire_at, faults.now())  # lateness printed from here
        wait_for(lambda: faults.timers_done(sessions, ids), 120, "every timer fired and its notice sent", procs)
        figures = faults.exactly_once(sessions, ids, "wait")
        late = faults.lateness(sessions, ids, "wait", fire_at)
        after_ready = faults.lateness(sessions, ids, "wait", ready_at)
    finally:
        procs.stop_all()
        db.dispose()
    print(f"\n{SUITE_TIMERS} timers on 3 workers: {figures}; fired after due (and the workers ready): "
          f"p50 {faults.quantile(after_ready, .5):.2f} s, p99 {faults.quantile(after_ready, .99):.2f} s")
    assert figures == {"cases": SUITE_TIMERS, "history_duplicates": 0, "history_lost": 0, "task_duplicates": 0,
                       "task_lost": 0, "notification_duplicates": 0, "notifications_unsent": 0,
                       "notifications_sent_twice": 0}
    assert len(late) == SUITE_TIMERS


def test_work_due_while_the_broker_is_unreachable_is_done_once_it_is_back(database_url, tmp_path):
    from kombu.utils.url import url_to_parts

    from tests import faults

    broker = broker_or_skip()
    _scheme, host, port, *_rest = url_to_parts(broker)
    proxy = faults.TcpProxy(host or "127.0.0.1", port or 5672)
    proxy.start()
    procs = Processes(tmp_path, database_url, proxy.url(broker))
    engine, sessions, db = faults.build_live(database_url)
    try:
        procs.worker("--beat", "--concurrency", "1")
        procs.worker("--concurrency", "1")
        _wait_ready(procs, 2)
        before = faults.start_timers(engine, sessions, 5, faults.soon(1))
        wait_for(lambda: faults.timers_done(sessions, before), 60, "timers fired through the proxy", procs)
        proxy.cut()  # the broker is gone for the worker tier
        cut_at = faults.now()
        # due 3 s on: a case started past its moment fires in its own start step, not on a worker (on a
        # loaded 2-core machine, starting these 20 took over a second, and 6 fired so during the cut)
        timers = faults.start_timers(engine, sessions, 20, faults.soon(3))
        asynchronous = faults.start_async(engine, sessions, 20)
        time.sleep(4)
        fired_meanwhile = faults.count(sessions, HistoryEntry, HistoryEntry.instance_id.in_(timers + asynchronous),
                                       HistoryEntry.element_id.in_(["wait", "tell"]))
        proxy.restore()
        wait_for(lambda: faults.timers_done(sessions, timers) and faults.async_done(sessions, asynchronous), 90,
                 "the work queued during the outage done", procs)
        figures = {"timers": faults.exactly_once(sessions, timers, "wait"),
                   "async": faults.exactly_once(sessions, asynchronous, "tell")}
        late = faults.lateness(sessions, timers, "wait", cut_at)
    finally:
        procs.stop_all()
        proxy.stop()
        db.dispose()
    print(f"\nbroker cut 4 s: {figures}; timers fired {min(late):.1f}–{max(late):.1f} s after the cut")
    assert fired_meanwhile == 0  # the cut really stopped the worker tier
    assert faults.clean(figures["timers"]) and faults.clean(figures["async"]), figures
    assert figures["timers"]["cases"] == figures["async"]["cases"] == 20
    with sessions() as s:
        assert s.query(Notification).filter(Notification.recipient == f"phone:{faults.PHONE}").count() == 20  # one SMS each


def _http(base: str, method: str, path: str, body: dict | None = None) -> tuple[int | None, dict | None, str]:
    import base64
    import json
    import urllib.error
    import urllib.request

    headers = {"Authorization": "Basic " + base64.b64encode(b"customer_service:demo").decode(),
               "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read().decode()
            return r.status, json.loads(raw), raw
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode()
        try:
            return exc.code, json.loads(raw), raw
        except ValueError:
            return exc.code, None, raw
    except OSError as exc:
        return None, None, str(exc)


UNAVAILABLE = "database unavailable; nothing was changed, try again shortly"


def test_a_database_restart_answers_503_then_the_service_and_the_workers_recover_by_themselves(tmp_path):
    from tests import faults
    from tests.production import free_port

    broker = broker_or_skip()
    try:
        pg = faults.PrivatePostgres()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    procs = None
    db = None
    try:
        pg.init()
        engine, sessions, db = faults.build_live(pg.url)
        procs = Processes(tmp_path, pg.url, broker)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        procs.start("serve", "--port", str(port), "--workers", "2", name="web")
        procs.worker("--beat", "--concurrency", "1")
        wait_for(lambda: _http(base, "GET", "/health")[0] == 200, 60, "web up", procs)
        _wait_ready(procs, 1)
        assert _http(base, "GET", "/api/tasks")[0] == 200
        due_in_outage = faults.start_timers(engine, sessions, 5, faults.soon(4))

        pg.stop()
        answers = [_http(base, "GET", "/api/tasks"),
                   _http(base, "POST", "/api/process-definitions/async_notice/start", {"variables": {}}),
                   _http(base, "GET", "/health")]
        time.sleep(5)  # the timers fall due while the database is down
        pg.start()
        refused_after_restart: list = []

        def recovered():
            status, body, _raw = _http(base, "POST", "/api/process-definitions/async_notice/start",
                                       {"variables": {"customer_phone": faults.PHONE}})
            if status != 201:
                refused_after_restart.append(status)
            return body["id"] if status == 201 else None

        started = [wait_for(recovered, 30, "the web processes answer again", procs) for _ in range(4)]
        wait_for(lambda: faults.timers_done(sessions, due_in_outage) and faults.async_done(sessions, started), 60,
                 "the worker fired the timers that fell due and ran the new cases' async tasks", procs)
        figures = {"timers": faults.exactly_once(sessions, due_in_outage, "wait"),
                   "async": faults.exactly_once(sessions, started, "tell")}
        health = _http(base, "GET", "/health")
    finally:
        if procs is not None:
            procs.stop_all()
        if db is not None:
            db.dispose()
        pg.destroy()
    print(f"\ndatabase restart: answers while down {[a[0] for a in answers]}, refused after the restart "
          f"{refused_after_restart}, {figures}")
    (tasks, start, down) = answers
    for status, body, raw in (tasks, start):
        assert (status, body) == (503, {"error": UNAVAILABLE, "error_id": body["error_id"] if body else None}), raw
        assert "SELECT" not in raw and "psycopg" not in raw and "INSERT" not in raw
    assert down[0] == 503 and down[1]["database"]["status"] == "down"
    assert health[0] == 200 and health[1]["database"]["status"] == "ok"
    assert faults.clean(figures["timers"]) and faults.clean(figures["async"]), figures

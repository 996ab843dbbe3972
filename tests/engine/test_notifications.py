"""Notifications go through the outbox: nothing is lost while the sender is down."""

from __future__ import annotations

from engine import notifications
from engine.models import Notification, OpenTask, User
from engine.users import Actor
from tests.conftest import DATA
from web.scheduler import TimerScheduler

CS = Actor("customer_service", frozenset({"customer_service"}))


class Recorder:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send(self, address, subject, body):
        if self.fail:
            raise ConnectionRefusedError("smtp down")
        self.sent.append((address, subject))


def test_assignment_and_overdue_notices_survive_a_sender_outage(core, clock):
    engine, sessions = core
    with sessions() as s:
        for u in s.query(User):
            u.email = f"{u.username}@example.com"
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 10})
        s.commit()
    down = Recorder(fail=True)
    worker = TimerScheduler(engine, sessions, sender=down)
    assert worker.run_notifications() == (0, 1)
    with sessions() as s:
        (row,) = s.query(Notification).all()
        assert row.sent_at is None and row.attempts == 1 and "smtp down" in row.last_error
        assert row.recipient == "group:customer_service"
    clock.advance(minutes=2)
    up = Recorder()
    worker.sender = up
    assert worker.run_notifications() == (1, 0)
    assert up.sent == [("customer_service@example.com", up.sent[0][1])] and "Review claim" in up.sent[0][1]
    assert worker.run_notifications() == (0, 0)  # sent once


def test_overdue_tasks_are_announced_once(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        engine.start(s, "lanes", CS, variables={"picker": "bob"})
        s.commit()
    clock.advance(hours=2)
    with sessions() as s:
        assert notifications.queue_overdue(s, clock.now()) == 1
        assert notifications.queue_overdue(s, clock.now()) == 0
        s.commit()
        overdue = s.query(Notification).filter_by(kind="task_overdue").one()
        assert overdue.recipient == "group:customer_service" and "Call back" in overdue.subject


def _outbox(sessions, now, n):
    with sessions() as s:
        for i in range(n):
            notifications.queue(s, kind="customer", recipient=f"email:c{i}@example.com", subject=f"notice {i}",
                                body="", now=now)
        s.commit()


class Slow(Recorder):
    def __init__(self, lock):
        super().__init__()
        self.lock = lock

    def send(self, address, subject, body):
        import time

        time.sleep(0.005)
        with self.lock:
            self.sent.append((address, subject))


def test_two_workers_never_send_one_notification_twice(core, clock, database_url):
    """Two servers on one database, each with its own connections, draining one outbox at once."""
    import threading

    import handlers
    from engine.wiring import build

    engine, sessions = core
    _outbox(sessions, clock.now(), 60)
    other_engine, other_sessions, other_db = build(handlers.default_registry(), database_url, clock=clock)
    lock = threading.Lock()
    a, b = Slow(lock), Slow(lock)
    workers = [TimerScheduler(engine, sessions, sender=a), TimerScheduler(other_engine, other_sessions, sender=b)]
    barrier = threading.Barrier(2)
    totals = []

    def drain(worker):
        barrier.wait()
        total = 0
        while (sent := worker.run_notifications()[0]) > 0:
            total += sent
        totals.append(total)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other_db.dispose()
    subjects = sorted(subject for _address, subject in a.sent + b.sent)
    assert subjects == sorted(f"notice {i}" for i in range(60))  # each once, none lost
    assert sum(totals) == 60
    with sessions() as s:
        assert s.query(Notification).filter(Notification.sent_at.is_(None)).count() == 0
        assert {r.attempts for r in s.query(Notification)} == {1}


def test_a_slow_mail_server_holds_no_database_transaction(core, clock):
    import threading
    import time

    from handlers.records import Part

    engine, sessions = core
    _outbox(sessions, clock.now(), 1)
    sending, release = threading.Event(), threading.Event()

    class Stuck(Recorder):
        def send(self, address, subject, body):
            sending.set()
            release.wait(10)
            super().send(address, subject, body)

    stuck = Stuck()
    worker = threading.Thread(target=TimerScheduler(engine, sessions, sender=stuck).run_notifications)
    worker.start()
    assert sending.wait(10)
    started = time.monotonic()
    with sessions() as s:  # a writer and a reader while the mail server hangs
        s.get(Part, "P-100").on_hand = 11
        s.commit()
        assert s.query(Notification).one().sent_at is None
    waited = time.monotonic() - started
    release.set()
    worker.join(10)
    assert waited < 1.0, f"a writer waited {waited:.2f}s for the outbox"
    assert [subject for _a, subject in stuck.sent] == ["notice 0"]
    with sessions() as s:
        assert s.query(Notification).one().sent_at is not None


def test_one_delivery_job_empties_a_backlog_larger_than_a_batch(core, clock):
    """1,000 timers falling due at once queue 1,000 notices: the worker's job sends batch after batch
    (until none is due or its time budget is spent), not one batch of 50 per relay tick."""
    from web import jobs

    engine, sessions = core
    _outbox(sessions, clock.now(), 130)
    recorder = Recorder()
    assert jobs.deliver_due_notifications(engine, sessions, recorder, limit=50) == (130, 0)
    assert sorted(subject for _a, subject in recorder.sent) == sorted(f"notice {i}" for i in range(130))
    with sessions() as s:
        assert s.query(Notification).filter(Notification.sent_at.is_(None)).count() == 0


def test_an_overdue_task_is_notified_once_however_many_rounds_pass(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        engine.start(s, "lanes", CS, variables={"picker": "bob"})
        s.commit()
    clock.advance(hours=2)
    counts = []
    for _ in range(20):
        with sessions() as s:
            counts.append(notifications.queue_overdue(s, clock.now()))
            s.commit()
        clock.advance(minutes=30)
    assert counts == [1] + [0] * 19
    with sessions() as s:
        assert s.query(Notification).filter_by(kind="task_overdue").count() == 1
        # the round reads nothing once the task is marked: no unnotified overdue task is left
        assert s.query(OpenTask).filter(OpenTask.overdue_notified_at.is_(None), OpenTask.due_at < clock.now()).count() == 0


def test_a_task_that_names_nobody_opens_without_a_notice(core):
    """Issue 16: a user task with neither assignee nor candidates is simply unassigned, as in Camunda;
    starting its case used to fail on an empty batch of notices (answered as a 409 conflict)."""
    engine, sessions = core
    admin = Actor("admin", frozenset({"admin"}))
    with sessions() as s:
        engine.deploy(s, {"nobody.bpmn": (DATA / "nobody_named.bpmn").read_bytes()}, admin)
        s.commit()
    with sessions() as s:
        iid = engine.start(s, "nobody_named", CS).id
        s.commit()
    with sessions() as s:
        (task,) = s.query(OpenTask).filter_by(instance_id=iid).all()
        assert (task.element_id, task.assignee) == ("check", None)
        assert task.candidate_groups.strip(",") == task.candidate_users.strip(",") == ""
        assert s.query(Notification).filter_by(instance_id=iid).count() == 0
        engine.complete_task(s, task.id, admin, {})
        s.commit()
    with sessions() as s:
        assert engine.get_instance(s, iid).state == "completed"


def test_the_next_task_gets_its_own_overdue_notice(core, clock):
    """A click turns the closed task's row into the next task's: the next task must not inherit the
    closed one's overdue mark, or it is never announced when it is late in turn."""
    engine, sessions = core
    ts = Actor("tech_support", frozenset({"tech_support"}))
    with sessions() as s:
        iid = engine.start(s, "repair", CS, variables={
            "customer_name": "王五", "customer_phone": "13900000000", "product_model": "KX-200",
            "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}).id
        s.commit()
    clock.advance(days=10)
    with sessions() as s:
        assert notifications.queue_overdue(s, clock.now()) == 1  # check_scope, late
        s.commit()
    with sessions() as s:
        (task,) = engine.list_tasks(s, CS, instance_id=iid)
        engine.complete_task(s, task.id, CS, {"identity_confirmed": True, "in_scope": True, "in_warranty": True})
        s.commit()
    with sessions() as s:
        (diagnose,) = engine.list_tasks(s, ts, instance_id=iid)
        assert diagnose.element_id == "diagnose" and diagnose.overdue_notified_at is None
    clock.advance(days=10)
    with sessions() as s:
        assert notifications.queue_overdue(s, clock.now()) == 1  # diagnose, late in turn
        s.commit()
    with sessions() as s:
        notices = s.query(Notification).filter_by(kind="task_overdue").order_by(Notification.id).all()
        assert [n.subject for n in notices] == ["任务已超时 Task overdue: 核实身份与保修范围",
                                                "任务已超时 Task overdue: 故障诊断与远程指导"]

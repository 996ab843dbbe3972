"""Retention (issue 17): delivered notices pruned, finished cases' history removed after the diagram's
historyTimeToLive, personal data anonymised after its period, held cases kept, the KPI figures of the
case rows unchanged, only in the night window, and a run does exactly what its dry run said."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine import retention, retention_runs
from engine.db import as_utc
from engine.errors import DiagramInvalid, FormInvalid, NotPermitted
from engine.models import Definition, HistoryEntry, Instance, Notification, RetentionBatch, RetentionRun
from engine.users import Actor
from handlers.records import Document
from web import jobs

ADMIN = Actor("admin", frozenset({"admin"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
CUSTOMER = {"customer_name": "王五", "customer_phone": "13912345678", "customer_address": "上海市徐汇区漕溪北路 88 号",
            "product_model": "KX-200", "serial_no": "SN-RET-1"}
NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: outside the night window
NIGHT = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 02:30 on the 24th in Shanghai: inside 01:00-05:00


def diagram(key: str, ttl: str | None) -> bytes:
    """A small case: the customer's data on the start form, a complaint-style record document
    (``complaint.register`` writes the name and phone into it), one task, two end events."""
    attr = f' camunda:historyTimeToLive="{ttl}"' if ttl is not None else ""
    fields = "".join(f'<camunda:formField id="{f}" label="{f}" type="string" />' for f in CUSTOMER)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  id="Defs_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="{key}" isExecutable="true"{attr}>
    <bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>{fields}</camunda:formData></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="record" />
    <bpmn:serviceTask id="record" name="Record" camunda:type="external" camunda:topic="complaint.register" />
    <bpmn:sequenceFlow id="f2" sourceRef="record" targetRef="close" />
    <bpmn:userTask id="close" name="Close" camunda:candidateGroups="customer_service">
      <bpmn:extensionElements><camunda:formData><camunda:formField id="solved" label="solved" type="boolean" /></camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="close" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f_no" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_solved"><bpmn:conditionExpression>solved</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_unsolved" />
    <bpmn:endEvent id="end_solved" />
    <bpmn:endEvent id="end_unsolved" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def finish(engine, sessions, key: str, solved: bool = True, **customer) -> int:
    with sessions() as s:
        inst = engine.start(s, key, CS, variables={**CUSTOMER, **customer})
        task = engine.open_tasks(s, inst.id)[0]
        engine.complete_task(s, task.id, CS, {"solved": solved})
        s.commit()
        return inst.id


def all_cases(sessions) -> list[Instance]:
    with sessions() as s:
        return list(s.scalars(select(Instance).order_by(Instance.id)))


def kpi(sessions) -> dict:
    return retention.kpi_figures(all_cases(sessions))


def settings(sessions):
    with sessions() as s:
        return retention.load(s)


def dry_run(sessions, when, what) -> set[int]:
    found, after = set(), None
    with sessions() as s:
        conf = retention.load(s)
        while True:
            page, after = retention.due_cases(s, conf, when, what, after=after, limit=2)
            found |= {c.id for c in page}
            if after is None:
                return found


def shows_customer(sessions, instance_id: int) -> bool:
    """Whether any stored row of the case still holds the customer's name, phone or address."""
    with sessions() as s:
        inst = s.get(Instance, instance_id)
        stored = [inst.customer_name, inst.customer_phone, inst.variables,
                  [h.data for h in s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id))],
                  [d.data for d in s.scalars(select(Document).where(Document.instance_id == instance_id))],
                  [(n.recipient, n.subject, n.body) for n in
                   s.scalars(select(Notification).where(Notification.instance_id == instance_id))]]
    text = json.dumps(stored, ensure_ascii=False, default=str)
    return any(CUSTOMER[f] in text for f in ("customer_name", "customer_phone", "customer_address"))


@pytest.fixture
def cases(core, clock):
    """Finished cases of three process versions: historyTimeToLive P30D, a plain 60, and none (default)."""
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"ttl30.bpmn": diagram("ttl30", "P30D"), "ttl60.bpmn": diagram("ttl60", "60"),
                          "plain.bpmn": diagram("plain", None)}, ADMIN)
        s.commit()
    clock.set(NOON - timedelta(days=400))
    return engine, sessions


def test_the_diagrams_history_time_to_live_is_stored_with_the_version(cases):
    _engine, sessions = cases
    with sessions() as s:
        ttl = {d.key: d.history_ttl_days for d in s.scalars(select(Definition).where(Definition.key.in_(
            ["ttl30", "ttl60", "plain"])))}
    assert ttl == {"ttl30": 30, "ttl60": 60, "plain": None}


def test_a_history_time_to_live_that_is_no_number_of_days_is_refused(core):
    engine, sessions = core
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"bad.bpmn": diagram("bad_ttl", "P1M")}, ADMIN)
    assert "historyTimeToLive 'P1M' is not a number of days" in caught.value.problems[0].message
    assert caught.value.problems[0].element_id == "bad_ttl"


def test_history_goes_after_the_diagrams_time_to_live_and_personal_data_after_its_period(cases, clock):
    engine, sessions = cases
    old30 = finish(engine, sessions, "ttl30")
    old60 = finish(engine, sessions, "ttl60", solved=False)
    old_plain = finish(engine, sessions, "plain")
    clock.set(NOON - timedelta(days=45))
    recent30 = finish(engine, sessions, "ttl30")  # 45 days: past 30, not 60
    recent60 = finish(engine, sessions, "ttl60")
    clock.set(NOON - timedelta(days=1))
    fresh = finish(engine, sessions, "ttl30")
    with sessions() as s:  # personal data after 300 days, default history after 1000
        retention.save(s, ADMIN, {"personal_data_days": 300, "history_days": 1000}, NOON)
        s.commit()
    clock.set(NOON)
    assert dry_run(sessions, NOON, "remove") == {old30, old60, recent30}
    assert dry_run(sessions, NOON, "anonymise") == {old_plain}  # 400 days old, its default history 1000 days
    assert recent60 not in dry_run(sessions, NOON, "remove") | dry_run(sessions, NOON, "anonymise")

    with sessions() as s:
        run_id = jobs.retention_run(engine, sessions, "test")
        run = s.get(RetentionRun, run_id)
        assert (run.removed, run.anonymised, run.ended_at is not None) == (3, 1, True)
        for iid in (old30, old60, recent30):
            assert s.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.instance_id == iid)) == 0
            assert s.scalars(select(Document).where(Document.instance_id == iid)).all() == []
        kept = s.get(Instance, old30)
        assert kept.figures == {"completed": {"record": 1, "close": 1, "end_solved": 1}}
        assert kept.variables == {"solved": True, "rounds": 0}  # numbers and yes/no answers only
        # the anonymised case keeps its history and documents, without the customer in them
        assert s.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.instance_id == old_plain)) > 0
        doc = s.scalars(select(Document).where(Document.instance_id == old_plain)).one()
        assert doc.data["customer_name"] is None and doc.data["serial_no"] == CUSTOMER["serial_no"]
    for iid in (old30, old60, recent30, old_plain):
        assert not shows_customer(sessions, iid)
    for iid in (recent60, fresh):
        assert shows_customer(sessions, iid)


def test_kpi_figures_of_the_case_rows_are_the_same_before_and_after(cases, clock):
    engine, sessions = cases
    for key, solved in (("ttl30", True), ("ttl30", False), ("ttl30", True), ("ttl60", False), ("plain", True)):
        finish(engine, sessions, key, solved=solved)
    clock.set(NOON + timedelta(days=2000))
    before = kpi(sessions)
    assert before["ttl30"]["finished"] == 3 and before["ttl30"]["outcomes"] == {"end_solved": 2, "end_unsolved": 1}
    jobs.retention_run(engine, sessions, "test")
    assert all(c.history_removed_at is not None for c in all_cases(sessions) if c.key in ("ttl30", "ttl60", "plain"))
    assert kpi(sessions) == before


def test_held_cases_are_kept_legal_hold_and_open_complaint(cases, clock):
    engine, sessions = cases
    held = finish(engine, sessions, "ttl30")
    complained = finish(engine, sessions, "ttl30", customer_phone="13700000000", serial_no="SN-C")
    free = finish(engine, sessions, "ttl30", customer_phone="13700000001", serial_no="SN-F")
    clock.set(NOON)
    with sessions() as s:
        with pytest.raises(NotPermitted):
            retention.set_legal_hold(s, CS, held, True, "dispute", NOON)
        with pytest.raises(FormInvalid):
            retention.set_legal_hold(s, ADMIN, held, True, "  ", NOON)
        retention.set_legal_hold(s, ADMIN, held, True, "客户起诉 (2026)沪01民初123号", NOON)
        # an open complaint about the same unit (serial number) keeps the other case
        engine.start(s, "complaint", CS, variables={"customer_name": "某", "customer_phone": "13800000009",
                                                     "product_model": "KX-200", "serial_no": "SN-C",
                                                     "complaint_text": "again", "severity": "normal", "channel": "phone"})
        s.commit()
        entry = s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == held, HistoryEntry.kind == "LegalHold")).one()
        assert (entry.completed_by, entry.data["reason"]) == ("admin", "客户起诉 (2026)沪01民初123号")
    assert dry_run(sessions, NOON, "remove") == {free}
    assert dry_run(sessions, NOON, "held") == {held, complained}
    jobs.retention_run(engine, sessions, "test")
    assert shows_customer(sessions, held) and shows_customer(sessions, complained)
    assert not shows_customer(sessions, free)
    with sessions() as s:  # released: the next run takes it
        retention.set_legal_hold(s, ADMIN, held, False, "判决生效 judgement final", NOON)
        s.commit()
    jobs.retention_run(engine, sessions, "test")
    assert not shows_customer(sessions, held) and shows_customer(sessions, complained)


def test_delivered_notifications_are_pruned_after_their_days(core, clock):
    engine, sessions = core
    with sessions() as s:
        for i, sent in enumerate([NOON - timedelta(days=31), NOON - timedelta(days=29), None]):
            s.add(Notification(kind="task_assigned", recipient="group:x", subject=f"n{i}", body="", created_at=NOON,
                               next_attempt_at=NOON, sent_at=sent, attempts=1 if sent else 0))
        s.commit()
        assert retention.plan(s, retention.load(s), NOON).notifications == 1
    clock.set(NOON)
    jobs.retention_run(engine, sessions, "test")
    with sessions() as s:  # the undelivered one is never pruned, the 29-day-old one not yet
        assert sorted(n.subject for n in s.scalars(select(Notification))) == ["n1", "n2"]


def test_the_job_runs_only_in_the_night_window_once_a_night_and_a_rerun_changes_nothing(cases, clock):
    engine, sessions = cases
    iid = finish(engine, sessions, "ttl30")
    clock.set(NOON)
    assert jobs.retention_round(engine, sessions) is None  # noon: outside 01:00-05:00 Shanghai
    with sessions() as s:
        assert s.scalars(select(RetentionRun)).all() == []
    assert shows_customer(sessions, iid)
    clock.set(NIGHT)
    run_id = jobs.retention_round(engine, sessions, budget_seconds=60)
    assert run_id is not None and not shows_customer(sessions, iid)
    clock.advance(minutes=30)
    assert jobs.retention_round(engine, sessions) is None  # tonight's run has ended
    before = [(c.id, c.history_removed_at, c.anonymised_at, c.revision) for c in all_cases(sessions)]
    jobs.retention_run(engine, sessions, "test")  # by hand, again: nothing left to do
    assert [(c.id, c.history_removed_at, c.anonymised_at, c.revision) for c in all_cases(sessions)] == before
    with sessions() as s:
        runs = s.scalars(select(RetentionRun).order_by(RetentionRun.id)).all()
        assert [(r.night is not None, r.removed, r.batch_count) for r in runs] == [(True, 1, 1), (False, 0, 0)]


def test_batches_are_small_and_logged(cases, clock):
    engine, sessions = cases
    ids = [finish(engine, sessions, "ttl30") for _ in range(5)]
    with sessions() as s:
        retention.save(s, ADMIN, {"batch_size": 2}, NOON)
        s.commit()
    clock.set(NOON)
    run_id = jobs.retention_run(engine, sessions, "test")
    with sessions() as s:
        assert [(b.kind, b.count) for b in retention_runs.last_batches(s, run_id)] == [("remove", 2), ("remove", 2),
                                                                               ("remove", 1)]
    assert not any(shows_customer(sessions, i) for i in ids)


def test_settings_are_checked_and_nothing_is_stored_when_one_is_wrong(core):
    _engine, sessions = core
    with sessions() as s:
        with pytest.raises(FormInvalid) as caught:
            retention.save(s, ADMIN, {"notifications_days": 7, "window": "05:00-05:00", "timezone": "Mars/Base",
                                      "batch_size": 0}, NOON)
        assert set(caught.value.errors) == {"window", "timezone", "batch_size"}
        s.rollback()
        assert retention.load(s).notifications_days == 30
        with pytest.raises(NotPermitted):
            retention.save(s, CS, {"notifications_days": 7}, NOON)


def test_the_window_may_run_past_midnight(core):
    conf = retention.Settings(**{**retention.DEFAULTS, "window": "23:00-02:00"})
    shanghai = conf.tz
    at = lambda h, m=0: datetime(2026, 11, 24, h, m, tzinfo=shanghai)  # noqa: E731
    assert [retention.in_window(conf, at(h)) for h in (22, 23, 0, 1, 2, 12)] == [False, True, True, True, False, False]
    assert retention.night_of(conf, at(1)) == at(1).date() - timedelta(days=1)
    assert retention.next_window(conf, at(12)) == at(23)


def test_a_long_run_logs_a_row_per_batch_shows_progress_and_does_exactly_what_its_dry_run_listed(cases, clock):
    """batch_size 1: every case is a batch of its own, and a batch looks at 4 candidates at most, so the
    held case and the ttl60 cases (not due for removal) are passed over from the run's cursor."""
    engine, sessions = cases
    clock.set(NOON - timedelta(days=45))
    made = [finish(engine, sessions, key) for key in ("ttl30", "ttl60", "ttl60", "ttl60", "ttl60", "ttl60", "ttl30",
                                                     "ttl30", "ttl60", "ttl30")]
    held = made[6]
    with sessions() as s:
        retention.set_legal_hold(s, ADMIN, held, True, "dispute", NOON)
        retention.save(s, ADMIN, {"batch_size": 1, "personal_data_days": 40}, NOON)
        s.add_all(Notification(kind="customer", recipient="phone:x", subject=f"n{i}", body="", created_at=NOON,
                               next_attempt_at=NOON, sent_at=NOON - timedelta(days=60 - i), attempts=1) for i in range(9))
        s.commit()
    clock.set(NOON)
    with sessions() as s:
        planned = retention.plan(s, retention.load(s), NOON)
    remove, anonymise = dry_run(sessions, NOON, "remove"), dry_run(sessions, NOON, "anonymise")
    assert remove == {made[0], made[7], made[9]} and anonymise == {m for m in made if m not in remove | {held}}
    with sessions() as s:
        run_id = retention_runs.start_run(s, retention.load(s), "test", NOON).id
        s.commit()
    seen = []  # what another session reads on the run row after each committed batch
    while True:
        with sessions() as s:
            more = retention_runs.next_batch(s, run_id, retention.load(s), clock.now())
            s.commit()
        with sessions() as s:
            run = s.get(RetentionRun, run_id)
            seen.append((run.notifications, run.removed, run.anonymised, run.batch_count))
        if not more:
            break
    # notices (due: the 9 sent 52-60 days ago; 5 per batch) first, then removals, then anonymisation;
    # the 4th batch looks at made[1..4] (ttl60, not due for removal) and removes none
    assert seen == [(5, 0, 0, 1), (9, 0, 0, 2), (9, 1, 0, 3), (9, 1, 0, 4), (9, 2, 0, 5), (9, 3, 0, 6),
                    (9, 3, 1, 7), (9, 3, 2, 8), (9, 3, 3, 9), (9, 3, 4, 10), (9, 3, 5, 11), (9, 3, 6, 12),
                    (9, 3, 6, 12)]
    assert planned.notifications == 9 and planned.remove == 3 and planned.anonymise == 6
    with sessions() as s:
        batches = s.scalars(select(RetentionBatch).where(RetentionBatch.run_id == run_id).order_by(RetentionBatch.id)).all()
        assert [(b.kind, b.count) for b in batches] == [("notifications", 5), ("notifications", 4), ("remove", 1),
                                                        ("remove", 0), ("remove", 1), ("remove", 1)] + [("anonymise", 1)] * 6
        assert all(b.ms > 0 for b in batches)
        run = s.get(RetentionRun, run_id)
        assert (run.phase, run.cursor_at, as_utc(run.ended_at)) == ("done", None, NOON)
        removed = {i.id for i in s.scalars(select(Instance).where(Instance.history_removed_at.is_not(None)))}
        anonymised = {i.id for i in s.scalars(select(Instance).where(Instance.anonymised_at.is_not(None)))}
        # the 9 delivered ones are gone; of the cases' own (undelivered) notices only the held case's are left
        assert {(n.instance_id, n.sent_at) for n in s.scalars(select(Notification))} == {(held, None)}
    assert removed == remove and anonymised == remove | anonymise
    assert shows_customer(sessions, held)


def test_the_batch_log_of_older_runs_is_pruned_and_their_totals_stay(cases, clock, monkeypatch):
    engine, sessions = cases
    monkeypatch.setattr(retention_runs, "KEEP_BATCH_LOGS", 2)
    with sessions() as s:
        retention.save(s, ADMIN, {"batch_size": 1}, NOON)
        s.commit()
    clock.set(NOON)
    run_ids = []
    for _ in range(3):
        clock.set(NOON - timedelta(days=45))
        finish(engine, sessions, "ttl30")
        finish(engine, sessions, "ttl30")
        clock.set(NOON)
        run_ids.append(jobs.retention_run(engine, sessions, "test"))
    with sessions() as s:
        logged = {r: s.scalar(select(func.count()).select_from(RetentionBatch).where(RetentionBatch.run_id == r))
                  for r in run_ids}
        totals = [(s.get(RetentionRun, r).removed, s.get(RetentionRun, r).batch_count) for r in run_ids]
    assert logged == {run_ids[0]: 0, run_ids[1]: 2, run_ids[2]: 2}
    assert totals == [(2, 2), (2, 2), (2, 2)]

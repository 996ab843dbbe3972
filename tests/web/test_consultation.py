"""Customer questions (R1, R30) through the API with the injected clock: a first response within 1
working hour, the full answer within 24 hours (1 working day) of the question, the supervisor when
either is missed; a question not answered at once stays open until it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.models import Notification
from tests.conftest import start_case

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
QUESTION = dict(customer_name="周八", customer_phone="13700000000", product_model="KX-200", channel="phone",
                question="冷柜能否放在室外使用？")


@pytest.fixture
def cq(running, clock):
    clock.set(MONDAY_10)
    return running


def record(api, iid):
    (doc,) = api.get("admin", f"/api/process-instances/{iid}/documents").json
    assert doc["kind"] == "consultation_record"
    return doc


def staff_notices(api, iid):
    with api.sessions() as s:
        return [(n.recipient, n.subject) for n in s.query(Notification).filter_by(instance_id=iid, kind="staff")]


def test_r1_question_answered_at_once_is_recorded_with_its_answer(cq):
    inst = start_case(cq, "consultation", QUESTION)
    iid = inst["id"]
    assert inst["business_key"] == "CQ-20261123-0001"
    (task,) = inst["tasks"]
    assert (task["element_id"], task["candidate_groups"]) == ("first_response", ["customer_service"])
    assert task["due_at"] == "2026-11-23T03:00:00+00:00"  # R1: 1 working hour
    done = cq.complete("customer_service", iid, "first_response", first_response_text="可以，需加装防雨罩",
                       answered_now=True)
    assert done["state"] == "completed" and done["tasks"] == []
    data = record(cq, iid)["data"]
    assert (data["question"], data["answer"], data["answered_by"]) == ("冷柜能否放在室外使用？", "可以，需加装防雨罩",
                                                                       "customer_service")
    assert data["asked_at"] == "2026-11-23T02:00:00+00:00"


def test_r30_question_not_answered_at_once_stays_open_until_answered(cq, clock):
    iid = start_case(cq, "consultation", QUESTION)["id"]
    clock.set(datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    inst = cq.complete("customer_service", iid, "first_response", first_response_text="已记录，需查询厂家资料",
                       answered_now=False)
    assert inst["state"] == "running"
    (task,) = inst["tasks"]
    # R1: 24 hours from the question (Tuesday 10:00), not from the first response
    assert (task["element_id"], task["due_at"]) == ("full_answer", "2026-11-24T02:00:00+00:00")
    inbox = cq.get("customer_service", "/api/tasks?group=customer_service").json["items"]
    assert [(t["element_id"], t["business_key"]) for t in inbox] == [("full_answer", "CQ-20261123-0001")]
    assert "answer" not in record(cq, iid)["data"]  # R30: tracked, not yet answered
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    done = cq.complete("customer_service", iid, "full_answer", answer_text="室外使用需加装防雨罩，环境温度不超过 38℃")
    assert done["state"] == "completed"
    data = record(cq, iid)["data"]
    assert data["first_response"] == "已记录，需查询厂家资料"
    assert data["answer"] == "室外使用需加装防雨罩，环境温度不超过 38℃"
    assert data["answered_at"] == "2026-11-23T08:00:00+00:00"
    assert staff_notices(cq, iid) == []  # both in time: nobody escalated


def test_r1_first_response_missed_goes_to_the_supervisor(cq, clock):
    iid = start_case(cq, "consultation", QUESTION)["id"]
    clock.set(datetime(2026, 11, 23, 2, 59, 59, tzinfo=UTC))
    cq.scheduler.run_once()
    assert cq.get("supervisor", f"/api/tasks?instance={iid}").json["items"] == []
    clock.set(datetime(2026, 11, 23, 3, 0, 1, tzinfo=UTC))
    cq.scheduler.run_once()
    tasks = cq.get("supervisor", f"/api/process-instances/{iid}").json["tasks"]
    assert sorted((t["element_id"], t["candidate_groups"][0], t["overdue"]) for t in tasks) == [
        ("first_late_escalation", "supervisor", False), ("first_response", "customer_service", True)]
    assert staff_notices(cq, iid) == [
        ("group:supervisor", "咨询首次答复超时 Question not responded to within 1 working hour (R1): CQ-20261123-0001")]
    cq.complete("customer_service", iid, "first_response", first_response_text="抱歉久等，可以", answered_now=True)
    done = cq.complete("supervisor", iid, "first_late_escalation", escalation_action="提醒客服按时答复")
    assert done["state"] == "completed"
    assert [h["element_id"] for h in cq.history("admin", iid) if h["kind"] == "EndEvent"] == ["end", "end_first_escalated"]


def test_r1_full_answer_missed_goes_to_the_supervisor_and_the_question_stays_open(cq, clock):
    iid = start_case(cq, "consultation", QUESTION)["id"]
    cq.complete("customer_service", iid, "first_response", first_response_text="需查询", answered_now=False)
    clock.set(datetime(2026, 11, 24, 2, 0, 1, tzinfo=UTC))  # Tuesday 10:00:01
    cq.scheduler.run_once()
    tasks = cq.get("supervisor", f"/api/process-instances/{iid}").json["tasks"]
    assert sorted((t["element_id"], t["overdue"]) for t in tasks) == [("answer_late_escalation", False),
                                                                      ("full_answer", True)]
    assert staff_notices(cq, iid) == [
        ("group:supervisor", "咨询解答超时 Question not answered within 24 hours (R1): CQ-20261123-0001")]
    cq.complete("supervisor", iid, "answer_late_escalation", escalation_action="转技术支持协助")
    inst = cq.get("customer_service", f"/api/process-instances/{iid}").json
    assert inst["state"] == "running" and [t["element_id"] for t in inst["tasks"]] == ["full_answer"]  # R30
    done = cq.complete("customer_service", iid, "full_answer", answer_text="可以室外使用")
    assert done["state"] == "completed"

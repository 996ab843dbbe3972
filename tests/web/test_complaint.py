"""Complaint escalation (R19-R21) through the API with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.records import Approval
from tests.conftest import start_case

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
COMPLAINT = dict(customer_name="孙七", customer_phone="13600000000", product_model="KX-200",
                 complaint_text="维修三次仍未修好，态度差", severity="normal", channel="phone")
PLAN = dict(plan_text="更换整机并致歉", compensation_goods="KX-200 整机", gift=True, compensation_amount=0)


@pytest.fixture
def cx(running, clock):
    clock.set(MONDAY_10)
    return running


def start(api, **over):
    return start_case(api, "complaint", {**COMPLAINT, **over})


def docs(api, iid):
    return [d for d in api.get("admin", f"/api/process-instances/{iid}/documents").json]


def test_complaint_handled_within_deadlines_until_satisfied(cx):
    inst = start(cx)
    iid = inst["id"]
    record = docs(cx, iid)[0]
    assert record["kind"] == "complaint_record" and record["data"]["recorded_by"] == "customer_service"  # R19
    (fwd,) = inst["tasks"]
    assert fwd["element_id"] == "forward" and fwd["due_at"] == "2026-11-24T02:00:00+00:00"  # 1 working day
    inst = cx.complete("customer_service", iid, "forward", responsible="tech_support")
    assert inst["tasks"][0]["due_at"] == "2026-11-25T02:00:00+00:00"  # verify: 2 working days
    inst = cx.complete("tech_support", iid, "verify", substantiated=True, findings="压缩机批次缺陷")
    assert inst["tasks"][0]["element_id"] == "plan" and inst["tasks"][0]["due_at"] == "2026-11-26T02:00:00+00:00"
    cx.complete("tech_support", iid, "plan", **PLAN)
    inst = cx.complete("supervisor", iid, "approve_plan", plan_approved=False, approval_comment="补偿不足")
    assert [t["element_id"] for t in inst["tasks"]] == ["plan"]
    cx.complete("tech_support", iid, "plan", **PLAN)
    cx.complete("supervisor", iid, "approve_plan", plan_approved=True)
    inst = cx.complete("customer_service", iid, "customer_agreement", customer_accepts=True, agreement_signed=True)
    # the agreement's goods and gift are real tasks of the warehouse and marketing
    assert sorted((t["element_id"], t["candidate_groups"][0]) for t in inst["tasks"]) == [
        ("send_gift", "marketing"), ("ship_compensation", "warehouse")]
    task = cx.task("warehouse", iid, "ship_compensation")
    form = cx.get("warehouse", f"/api/tasks/{task['id']}").json["form"]["fields"]
    assert [(f["id"], f["readonly"]) for f in form] == [
        ("compensation_goods", True), ("goods_sent", False), ("compensation_tracking_no", False)]
    assert inst["variables"]["compensation_goods"] == "KX-200 整机"  # shown read-only: what the agreement promised
    r = cx.post("warehouse", f"/api/tasks/{task['id']}/complete", {"variables": {"goods_sent": "KX-200 整机"}})
    assert r.status_code == 422 and r.json["errors"] == {"compensation_tracking_no": "is required"}
    inst = cx.complete("warehouse", iid, "ship_compensation", goods_sent="KX-200 整机", compensation_tracking_no="SF123")
    assert [t["element_id"] for t in inst["tasks"]] == ["send_gift"]  # the join waits for marketing
    inst = cx.complete("marketing", iid, "send_gift", gift_item="保温杯")
    v = inst["variables"]
    assert v["compensation_shipped"] is True and v["gift_sent"] is True
    assert [t["element_id"] for t in inst["tasks"]] == ["reply"]
    shipment, gift = [d["data"] for d in docs(cx, iid) if d["kind"] in ("compensation_shipment", "gift")]
    assert (shipment["goods"], shipment["tracking_no"], shipment["by"]) == ("KX-200 整机", "SF123", "warehouse")
    assert (gift["gift"], gift["tracking_no"], gift["by"]) == ("保温杯", None, "marketing")
    inst = cx.complete("customer_service", iid, "reply", reply_text="已更换整机", satisfied=False)
    assert [t["element_id"] for t in inst["tasks"]] == ["plan"]  # R20: follow up until satisfied
    cx.complete("tech_support", iid, "plan", **{**PLAN, "compensation_goods": "", "gift": False, "compensation_amount": 300})
    cx.complete("supervisor", iid, "approve_plan", plan_approved=True)
    inst = cx.complete("customer_service", iid, "customer_agreement", customer_accepts=True, agreement_signed=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["reply"]  # money only: no task for warehouse or marketing
    done = cx.complete("customer_service", iid, "reply", reply_text="已补偿 300 元", satisfied=True)
    assert done["state"] == "completed"
    kinds = [d["kind"] for d in docs(cx, iid)]
    assert kinds == ["complaint_record", "settlement_agreement", "compensation_shipment", "gift", "settlement_agreement"]
    with cx.sessions() as s:
        assert [a.approved for a in s.query(Approval).filter_by(instance_id=iid).order_by(Approval.id)] == [False, True, True]


def test_major_complaint_goes_to_the_emergency_team_at_once(cx):
    inst = start(cx, severity="quality_incident")
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [("emergency_response", ["emergency_team"])]
    assert cx.get("customer_service", f"/api/tasks?instance={inst['id']}").json["items"] == []  # R21: not the normal queue
    inst = cx.complete("emergency_team", inst["id"], "emergency_response", emergency_actions="召回同批次", contained=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["plan"]


def test_unsubstantiated_complaint_is_answered(cx):
    iid = start(cx)["id"]
    cx.complete("customer_service", iid, "forward", responsible="logistics")
    # the chosen department verifies (issue 11: it was always tech support)
    assert [t["candidate_groups"] for t in cx.get("logistics", f"/api/tasks?instance={iid}").json["items"]] == [["logistics"]]
    assert cx.get("tech_support", f"/api/tasks?instance={iid}").json["items"] == []
    inst = cx.complete("logistics", iid, "verify", substantiated=False, findings="运输延误属实但已解决")
    assert [t["element_id"] for t in inst["tasks"]] == ["reply"]
    assert cx.complete("customer_service", iid, "reply", reply_text="说明情况", satisfied=True)["state"] == "completed"


def test_missed_deadline_escalates_to_the_supervisor(cx, clock):
    iid = start(cx)["id"]
    clock.set(datetime(2026, 11, 24, 1, 59, tzinfo=UTC))
    assert cx.scheduler.run_once() == 0
    clock.set(datetime(2026, 11, 24, 2, 1, tzinfo=UTC))
    assert cx.scheduler.run_once() == 1
    inst = cx.get("supervisor", f"/api/process-instances/{iid}").json
    assert sorted(t["element_id"] for t in inst["tasks"]) == ["deadline_escalation", "forward"]
    # the forward task is still there, and done late it carries on as usual
    inst = cx.complete("customer_service", iid, "forward", responsible="tech_support")
    assert sorted(t["element_id"] for t in inst["tasks"]) == ["deadline_escalation", "verify"]


def test_customer_refusing_the_plan_sends_it_back(cx):
    iid = start(cx)["id"]
    cx.complete("customer_service", iid, "forward", responsible="tech_support")
    cx.complete("tech_support", iid, "verify", substantiated=True, findings="属实")
    cx.complete("tech_support", iid, "plan", **PLAN)
    cx.complete("supervisor", iid, "approve_plan", plan_approved=True)
    inst = cx.complete("customer_service", iid, "customer_agreement", customer_accepts=False, agreement_signed=False)
    assert [t["element_id"] for t in inst["tasks"]] == ["plan"]
    assert [d["kind"] for d in docs(cx, iid)] == ["complaint_record"]  # no agreement, nothing shipped

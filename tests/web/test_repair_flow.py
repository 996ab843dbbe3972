"""The repair case through the JSON API, branch by branch (domain.md "Repair", rules cited).

Every step is a separate request, so every step is saved to the database and restored again.
"""

from __future__ import annotations

import pytest

from handlers.records import Approval, Part, Procurement

REQUEST = dict(customer_name="张三", customer_phone="13800138000", customer_address="杭州市西湖区文三路 1 号",
               product_model="KX-200 冷柜", serial_no="SN-88001", purchase_date="2026-06-01",
               purchase_proof="INV-5531", channel="phone", fault_description="不制冷，压缩机异响")


@pytest.fixture
def db(app):
    sessions = app.extensions["aftersales"]["sessions"]

    def part(part_no):
        with sessions() as s:
            p = s.get(Part, part_no)
            return p.on_hand, p.reserved

    def rows(model, **where):
        with sessions() as s:
            return list(s.query(model).filter_by(**where).order_by(model.id))

    part.rows = rows
    return part


def start(api, **overrides):
    r = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": {**REQUEST, **overrides}})
    assert r.status_code == 201, r.json
    inst = r.json
    assert inst["business_key"].startswith("RX-")  # case number shown at once
    return inst


def diagnose(api, iid, **over):
    values = dict(fault_cause="压缩机主板损坏", fault_nature="quality", solution="更换主板", remote_fixed=False,
                  plan="onsite", parts_needed="P-100:2", estimated_amount=600)
    values.update(over)
    return api.complete("tech_support", iid, "diagnose", **values)


def through_dispatch(api, iid, parts_used="P-100:1", old=1):
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    inst = api.get("supervisor", f"/api/process-instances/{iid}").json
    if inst["variables"].get("slip_no"):
        api.complete("warehouse", iid, "issue_parts", parts_handed_over=True)
    return api.complete("technician", iid, "onsite_repair", repair_steps="拆机更换主板", repair_result="制冷恢复",
                        tested_ok=True, parts_used=parts_used, old_parts_returned=old)


def follow_up(api, iid):
    return api.complete("customer_service", iid, "follow_up", satisfaction_quality=5, satisfaction_timeliness=4,
                        satisfaction_attitude=5, follow_up_comments="满意")


def documents(api, iid):
    r = api.get("supervisor", f"/api/process-instances/{iid}/documents")
    assert r.status_code == 200
    return r.json


def test_out_of_scope_is_recorded_explained_and_closed(deployed):
    api = deployed
    inst = start(api)
    iid = inst["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=False, in_warranty=False,
                 scope_reason="人为损坏，超出服务范围")
    done = api.complete("customer_service", iid, "notify_out_of_scope", customer_informed=True)
    assert done["state"] == "completed"
    assert [h["element_id"] for h in api.history("customer_service", iid)] == [
        "register", "check_scope", "notify_out_of_scope", "end_out_of_scope"]
    assert api.history("customer_service", iid)[1]["data"]["scope_reason"] == "人为损坏，超出服务范围"
    assert [d["kind"] for d in documents(api, iid)] == ["repair_request"]  # R27: recorded even when refused


def test_fixed_remotely_goes_straight_to_follow_up(deployed, db):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    inst = diagnose(api, iid, remote_fixed=True, parts_needed="")
    assert [t["element_id"] for t in inst["tasks"]] == ["follow_up"]  # R9: remote first, no dispatch
    done = follow_up(api, iid)
    assert done["state"] == "completed"
    assert [d["kind"] for d in documents(api, iid)] == ["repair_request", "follow_up"]
    assert db.rows(Approval, instance_id=iid) == []
    assert db("P-100") == (10, 0)


def test_on_site_first_time_pass(deployed, db):
    api = deployed
    inst = start(api)
    iid, case_no = inst["id"], inst["business_key"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid)
    # R10: nothing is dispatched before the supervisor approves
    assert documents(api, iid)[-1]["kind"] == "repair_request"
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True, approval_comment="同意")
    # R11: parts reserved against an outbound slip, not yet issued
    assert db("P-100") == (10, 2)
    assert inst["variables"]["slip_no"].startswith("OS-")
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    api.complete("warehouse", iid, "issue_parts", parts_handed_over=True)
    assert db("P-100") == (8, 0)
    # the on-site visit goes to the technician who signed the work order; a colleague sees it as taken
    onsite = api.task("technician2", iid, "onsite_repair")
    assert onsite["assignee"] == "technician"
    r = api.post("technician2", f"/api/tasks/{onsite['id']}/complete", {"variables": {}})
    assert r.status_code == 409 and "claimed by technician" in r.json["error"]
    api.complete("technician", iid, "onsite_repair", repair_steps="更换主板", repair_result="正常", tested_ok=True,
                 parts_used="P-100:1", old_parts_returned=1)
    # R12: the unused part goes back to stock
    assert db("P-100") == (9, 0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    inst = api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    assert inst["variables"]["fee_amount"] == 0 and inst["variables"]["fee_basis"] == "free_quality"  # R7
    assert [t["element_id"] for t in inst["tasks"]] == ["follow_up"]
    done = follow_up(api, iid)
    assert done["state"] == "completed"
    docs = documents(api, iid)
    # R13: the four documents, archived together
    assert [d["kind"] for d in docs] == ["repair_request", "work_order", "outbound_slip", "follow_up"]
    assert all(d["archived_at"] for d in docs)
    assert docs[0]["number"] == case_no
    slip = docs[2]["data"]
    assert slip["status"] == "reconciled" and slip["used"] == {"P-100": 1} and slip["unused_returned"] == {"P-100": 1}
    assert slip["issued_by"] == "warehouse" and slip["drawn_by"] == "technician"
    assert docs[1]["data"]["technician"] == "technician"
    assert docs[3]["data"]["satisfaction_quality"] == 5
    approvals = db.rows(Approval, instance_id=iid)
    assert [(a.level, a.approved, a.decided_by, a.comment) for a in approvals] == [("supervisor", True, "supervisor", "同意")]
    users = [h["completed_by"] for h in api.history("customer_service", iid) if h["kind"] == "UserTask"]
    assert users == ["customer_service", "tech_support", "supervisor", "technician", "warehouse", "technician",
                     "supervisor", "customer_service", "customer_service"]


def test_qc_fails_then_passes(deployed, db):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid, parts_used="", old=0)
    inst = api.complete("supervisor", iid, "qc", qc_passed=False, qc_comment="噪音仍大")  # R16
    assert [t["element_id"] for t in inst["tasks"]] == ["rework"]
    api.complete("technician", iid, "rework", repair_steps="重新固定压缩机", repair_result="噪音正常")
    inst = api.complete("supervisor", iid, "qc", qc_passed=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["sign_off"]
    qc = [h["data"]["qc_passed"] for h in api.history("supervisor", iid, limit=2) if h["element_id"] == "qc"]
    assert qc == [False, True]


def test_not_solved_escalates_and_dispatches_again(deployed, db):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="P-200:1")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid, parts_used="P-200:1")
    api.complete("supervisor", iid, "qc", qc_passed=True)
    inst = api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=False,
                        signoff_comment="仍不制冷")
    # R17: escalated, re-analysed, re-dispatched
    assert inst["variables"]["escalations"] == 1
    assert [t["element_id"] for t in inst["tasks"]] == ["diagnose"]
    diagnose(api, iid, fault_cause="冷媒泄漏", parts_needed="P-200:1")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid, parts_used="P-200:1")
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    done = follow_up(api, iid)
    assert done["state"] == "completed"
    orders = [d for d in documents(api, iid) if d["kind"] == "work_order"]
    assert [o["data"]["visit"] for o in orders] == [1, 2]
    assert db("P-200") == (48, 0)
    assert any(h["element_id"] == "escalate" for h in api.history("customer_service", iid))


def test_parts_short_goes_to_procurement(deployed, db):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="P-400:1")
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    # R22: stock 0 -> procurement request, the warehouse receives and inspects
    assert [t["element_id"] for t in inst["tasks"]] == ["procure_parts"]
    assert inst["variables"]["shortage"] == [{"part_no": "P-400", "quantity": 1}]
    procurement = db.rows(Procurement, instance_id=iid)
    assert [(p.status, p.lines) for p in procurement] == [("requested", [{"part_no": "P-400", "quantity": 1}])]
    # inspection fails: stock unchanged, a new procurement is raised
    inst = api.complete("warehouse", iid, "procure_parts", inspection_passed=False, receipt_note="外壳破损")
    assert db("P-400") == (0, 0)
    assert [t["element_id"] for t in inst["tasks"]] == ["procure_parts"]
    inst = api.complete("warehouse", iid, "procure_parts", inspection_passed=True)
    assert db("P-400") == (1, 1)  # received, then reserved for this case
    assert [t["element_id"] for t in inst["tasks"]] == ["accept_work_order"]
    assert [p.status for p in db.rows(Procurement, instance_id=iid)] == ["rejected", "received"]


def test_big_plan_needs_finance_and_a_refusal_goes_back_to_diagnosis(deployed, db):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=False)
    diagnose(api, iid, estimated_amount=8000, fault_nature="misuse", parts_needed="")
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["finance_approve"]  # R23: over the threshold
    inst = api.complete("finance", iid, "finance_approve", finance_approved=False, finance_comment="先报价")
    assert [t["element_id"] for t in inst["tasks"]] == ["diagnose"]
    diagnose(api, iid, estimated_amount=800, fault_nature="misuse", parts_needed="")
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["accept_work_order"]
    levels = [(a.level, a.approved) for a in db.rows(Approval, instance_id=iid)]
    assert levels == [("supervisor", True), ("finance", False), ("supervisor", True)]
    through_dispatch(api, iid, parts_used="", old=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    inst = api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    # R7: out of warranty is charged at standard rates -> fee settlement signed by the customer
    assert inst["variables"]["fee_basis"] == "out_of_warranty" and inst["variables"]["fee_amount"] == 280
    task = api.task("customer_service", iid, "settle_fee")
    form = api.get("customer_service", f"/api/tasks/{task['id']}").json["form"]["fields"]
    assert [f["id"] for f in form] == ["fee_amount", "fee_settled"] and form[0]["readonly"]
    r = api.post("customer_service", f"/api/tasks/{task['id']}/complete", {"variables": {"fee_amount": 1, "fee_settled": True}})
    assert r.status_code == 422 and r.json["errors"] == {"fee_amount": "is read-only"}
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    assert follow_up(api, iid)["state"] == "completed"


def test_depot_plan_uses_transfer_request(deployed):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, plan="depot", parts_needed="")
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [("depot_transfer", ["logistics"])]
    api.complete("logistics", iid, "depot_transfer", ship_date="2026-11-24", arrival_date="2026-12-01",
                 unit_returns_to_customer=True)
    inst = api.complete("technician", iid, "depot_repair", repair_steps="返厂检修", repair_result="修复", tested_ok=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["qc"]


def test_work_order_not_taken_within_a_working_hour_alerts_the_supervisor(deployed, clock, app):
    """R8: dispatch within 1 hour; a late one is flagged overdue and the supervisor is told."""
    from datetime import UTC, datetime

    from engine.models import Notification
    from web.scheduler import TimerScheduler

    api = deployed
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    task = api.task("technician", iid, "accept_work_order")
    assert task["due_at"] == "2026-11-23T03:00:00+00:00" and task["overdue"] is False
    ext = app.extensions["aftersales"]
    clock.set(datetime(2026, 11, 23, 3, 0, 1, tzinfo=UTC))
    TimerScheduler(ext["engine"], ext["sessions"]).run_once()
    assert api.task("technician", iid, "accept_work_order")["overdue"] is True
    with ext["sessions"]() as s:
        (notice,) = s.query(Notification).filter_by(instance_id=iid, kind="staff").all()
        assert notice.recipient == "group:supervisor" and "R8" in notice.subject
    through_dispatch(api, iid, parts_used="", old=0)  # the case carries on
    assert api.task("supervisor", iid, "qc")


def test_r8_work_order_clock_starts_at_the_report_not_at_the_approval(deployed, clock, app):
    """R8: a work order within 1 working hour of the report. Approved 50 minutes after the report, it is
    due 10 working minutes after the approval; the supervisor hears of it then, not an hour later."""
    from datetime import UTC, datetime

    from engine.models import Notification
    from web.scheduler import TimerScheduler

    api = deployed
    ext = app.extensions["aftersales"]
    worker = TimerScheduler(ext["engine"], ext["sessions"])
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # reported Monday 10:00 Shanghai
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    clock.set(datetime(2026, 11, 23, 2, 50, tzinfo=UTC))  # approved at 10:50
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert inst["variables"]["dispatch_clock_from"] == "2026-11-23T02:00:00+00:00"
    task = api.task("technician", iid, "accept_work_order")
    assert task["due_at"] == "2026-11-23T03:00:00+00:00"  # 11:00: 10 working minutes after the approval
    clock.set(datetime(2026, 11, 23, 3, 0, 1, tzinfo=UTC))
    worker.run_once()
    assert api.task("technician", iid, "accept_work_order")["overdue"] is True
    with ext["sessions"]() as s:
        (notice,) = s.query(Notification).filter_by(instance_id=iid, kind="staff").all()
        assert "R8" in notice.subject


def test_r8_report_late_in_the_day_counts_working_time_only(deployed, clock):
    """Reported at 17:30 Monday, approved 09:20 Tuesday: 30 working minutes were used on Monday, so the
    work order is due at 09:30 Tuesday."""
    from datetime import UTC, datetime

    api = deployed
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))  # Monday 17:30 Shanghai
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    clock.set(datetime(2026, 11, 24, 1, 20, tzinfo=UTC))  # Tuesday 09:20
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert api.task("technician", iid, "accept_work_order")["due_at"] == "2026-11-24T01:30:00+00:00"


def test_r8_r17_re_dispatch_after_an_escalation_counts_from_the_escalation(deployed, clock):
    """Not solved at sign-off (R17): the new work order's hour counts from the escalation, not from the
    original report (which would make it late before anyone could take it)."""
    from datetime import UTC, datetime

    api = deployed
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 Shanghai
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid, parts_used="", old=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))  # Tuesday 14:00: the customer says it is not solved
    inst = api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=False)
    assert inst["variables"]["escalated_at"] == "2026-11-24T06:00:00+00:00"
    clock.set(datetime(2026, 11, 24, 6, 30, tzinfo=UTC))
    diagnose(api, iid, parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    task = api.task("technician", iid, "accept_work_order")
    assert task["due_at"] == "2026-11-24T07:00:00+00:00" and task["overdue"] is False  # 15:00

"""Business rules as decision tables process owners can read and change (processes/*.dmn): the repair fee
(R7), the finance approval threshold (R23) and the return fees (R6), and what a new version changes."""

from __future__ import annotations

import re

from handlers.records import Approval
from tests.conftest import PROCESSES
from tests.web.test_pages import login
from tests.web.test_repair_flow import db, diagnose, follow_up, start, through_dispatch

__all__ = ["db"]  # the fixture, shared with the repair flow's tests


def to_sign_off(api, iid, in_warranty: bool, **diagnosis):
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=in_warranty)
    diagnose(api, iid, **diagnosis)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid, parts_used=diagnosis.get("parts_needed", "P-100:1"), old=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    return api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)


def tasks(inst):
    return [t["element_id"] for t in inst["tasks"]]


def test_r7_in_warranty_misuse_is_charged_at_the_standard_rate(deployed):
    api = deployed
    iid = start(api)["id"]
    inst = to_sign_off(api, iid, True, fault_nature="misuse", parts_needed="P-100:2")
    # labour 200 + travel 80 + two compressor boards at 300 (repair_fee.dmn, rule 5)
    assert (inst["variables"]["fee_basis"], inst["variables"]["fee_amount"]) == ("misuse", 880)
    assert tasks(inst) == ["settle_fee"]


def test_r7_in_warranty_quality_defect_is_free(deployed):
    api = deployed
    iid = start(api)["id"]
    inst = to_sign_off(api, iid, True, fault_nature="quality", parts_needed="P-100:2", plan="onsite")
    assert (inst["variables"]["fee_basis"], inst["variables"]["fee_amount"]) == ("free_quality", 0)
    assert tasks(inst) == ["follow_up"]


def test_r7_accident_fee_is_negotiated_agreed_by_the_customer_and_approved_by_the_supervisor(deployed, db):
    api = deployed
    iid = start(api)["id"]
    inst = to_sign_off(api, iid, True, fault_nature="accident", parts_needed="")
    assert (inst["variables"]["fee_basis"], inst["variables"]["fee_amount"]) == ("accident_negotiated", 0)
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [("negotiate_fee", ["customer_service"])]
    api.complete("customer_service", iid, "negotiate_fee", negotiated_fee=450, customer_agreed=False,
                 negotiation_note="客户认为偏高")
    task = api.task("supervisor", iid, "approve_fee")
    form = api.get("supervisor", f"/api/tasks/{task['id']}").json["form"]["fields"]
    assert [(f["id"], f["readonly"]) for f in form] == [("negotiated_fee", True), ("customer_agreed", True),
                                                        ("negotiation_note", True), ("fee_approved", False),
                                                        ("fee_approval_comment", False)]
    # approved by the supervisor, but the customer has not agreed: negotiate again
    inst = api.complete("supervisor", iid, "approve_fee", fee_approved=True)
    assert tasks(inst) == ["negotiate_fee"] and inst["variables"]["fee_amount"] == 0
    api.complete("customer_service", iid, "negotiate_fee", negotiated_fee=450, customer_agreed=True)
    inst = api.complete("supervisor", iid, "approve_fee", fee_approved=False, fee_approval_comment="超出标准太多")
    assert tasks(inst) == ["negotiate_fee"]
    api.complete("customer_service", iid, "negotiate_fee", negotiated_fee=300, customer_agreed=True)
    inst = api.complete("supervisor", iid, "approve_fee", fee_approved=True)
    assert inst["variables"]["fee_amount"] == 300 and tasks(inst) == ["settle_fee"]  # signed by the customer next
    decided = [(a.approved, a.amount, a.decided_by) for a in db.rows(Approval, instance_id=iid, subject="negotiated_fee")]
    assert decided == [(True, 450, "supervisor"), (False, 450, "supervisor"), (True, 300, "supervisor")]
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    assert follow_up(api, iid)["state"] == "completed"


def _out_of_warranty_fee(api, iid):
    return to_sign_off(api, iid, False, fault_nature="misuse", parts_needed="")["variables"]["fee_amount"]


def test_r7_a_new_fee_table_prices_cases_registered_after_it_and_not_those_already_running(deployed, app):
    api = deployed
    before = start(api)["id"]
    xml = (PROCESSES / "repair_fee.dmn").read_bytes().replace(b"200 + ", b"260 + ")
    r = api.deploy("owner", {"repair_fee.dmn": xml}, comment="人工费调整为 260 元")
    assert r.status_code == 201, r.json
    assert [(d["key"], d["version"]) for d in r.json["definitions"]] == [("repair_fee", 2)]
    after = start(api)["id"]
    assert _out_of_warranty_fee(api, after) == 260 + 80
    assert _out_of_warranty_fee(api, before) == 200 + 80  # the rates in force when the case was registered
    owner = login(app, "owner")
    listed = owner.get("/admin/").get_data(as_text=True)
    assert '<tr data-key="repair_fee"><td>' in listed and "<td>v2</td><td>2</td><td>dmn</td>" in listed
    page = owner.get("/admin/definitions/repair_fee/diff?from=1&to=2")
    assert page.status_code == 200
    row = r'<tr data-change="(\w+)"><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>'
    changed = [c for c in re.findall(row, page.get_data(as_text=True)) if c[1] != "description"]  # cells, not notes
    assert changed == [(f"Rule_{n}", "then 费用(元) Fee (yuan)", old, old.replace("200", "260"))
                       for n, old in ((1, "200 + 80 + parts_cost"), (2, "200 + parts_cost"),
                                      (5, "200 + 80 + parts_cost"), (6, "200 + parts_cost"))]


def test_r23_the_finance_threshold_is_a_decision_table(deployed):
    api = deployed
    xml = (PROCESSES / "finance_approval.dmn").read_bytes().replace(b"&gt; 5000", b"&gt; 1000")
    assert api.deploy("owner", {"finance_approval.dmn": xml}).status_code == 201
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, estimated_amount=1500)
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert tasks(inst) == ["finance_approve"] and inst["variables"]["needs_finance"] is True
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, estimated_amount=1000)
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert tasks(inst) == ["accept_work_order"] and inst["variables"]["needs_finance"] is False


def test_r23_a_plan_without_an_amount_needs_only_the_supervisor(deployed):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    values = dict(fault_cause="主板", fault_nature="quality", solution="换主板", remote_fixed=False, plan="onsite",
                  parts_needed="P-100:1")
    api.complete("tech_support", iid, "diagnose", **values)  # no estimated amount
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert tasks(inst) == ["accept_work_order"] and inst["variables"]["estimated_amount"] == 0

"""Travel expense claims (R24) through the API: filed by the technician after a visit with the repair
case attached, approved by the supervisor (a refusal goes back with the reason), paid by finance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.records import Approval
from tests.conftest import start_case
from tests.web.test_repair_flow import diagnose, start, through_dispatch

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
CLAIM = dict(trip_date="2026-11-23", destination="杭州市西湖区", transport_cost=120, lodging_cost=0, allowance=50,
             expense_note="往返出租车")


@pytest.fixture
def visited(running, clock):
    """A repair case the user ``technician`` visited: ``(api, case_no)``."""
    clock.set(MONDAY_10)
    inst = start(running)
    iid = inst["id"]
    running.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(running, iid, parts_needed="")
    running.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(running, iid, parts_used="", old=0)
    return running, inst["business_key"]


def claim_doc(api, iid):
    (doc,) = api.get("admin", f"/api/process-instances/{iid}/documents").json
    assert doc["kind"] == "travel_expense_claim"
    return doc


def test_r24_claim_with_the_repair_request_attached_is_approved_and_paid(visited):
    api, case_no = visited
    inst = start_case(api, "travel_expense", {**CLAIM, "case_no": case_no}, user="technician")
    iid = inst["id"]
    assert inst["business_key"].startswith("TE-20261123-")
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [("approve_claim", ["supervisor"])]
    doc = claim_doc(api, iid)
    assert doc["data"]["repair_request_no"] == case_no  # the repair request travels with the claim
    assert (doc["data"]["technician"], doc["data"]["total_amount"], doc["data"]["status"]) == ("technician", 170, "filed")
    api.complete("supervisor", iid, "approve_claim", expense_approved=True, approval_comment="同意")
    assert api.get("technician", f"/api/tasks?instance={iid}").json["items"] == []
    done = api.complete("finance", iid, "pay_claim", payment_ref="PZ-2026-1188")
    assert done["state"] == "completed"
    data = claim_doc(api, iid)["data"]
    assert (data["status"], data["payment_ref"], data["paid_by"]) == ("paid", "PZ-2026-1188", "finance")
    with api.sessions() as s:
        (approval,) = s.query(Approval).filter_by(instance_id=iid).all()
        assert (approval.subject, approval.approved, approval.decided_by, approval.amount) == (
            "travel_expense", True, "supervisor", 170)


def test_r24_refused_claim_goes_back_to_the_technician_with_the_reason(visited):
    api, case_no = visited
    iid = start_case(api, "travel_expense", {**CLAIM, "case_no": case_no}, user="technician")["id"]
    inst = api.complete("supervisor", iid, "approve_claim", expense_approved=False, approval_comment="补助标准为 30 元")
    (task,) = inst["tasks"]
    assert (task["element_id"], task["assignee"]) == ("revise_claim", "technician")
    assert inst["variables"]["approval_comment"] == "补助标准为 30 元"
    assert claim_doc(api, iid)["data"]["status"] == "refused"
    inst = api.complete("technician", iid, "revise_claim", case_no=case_no, transport_cost=120, lodging_cost=0,
                        allowance=30, withdraw_claim=False)
    assert [t["element_id"] for t in inst["tasks"]] == ["approve_claim"]
    assert inst["variables"]["total_amount"] == 150
    docs = api.get("admin", f"/api/process-instances/{iid}/documents").json
    assert [(d["kind"], d["data"]["total_amount"]) for d in docs] == [("travel_expense_claim", 150)]  # one claim, revised
    api.complete("supervisor", iid, "approve_claim", expense_approved=True, approval_comment="同意")
    assert api.complete("finance", iid, "pay_claim", payment_ref="PZ-1")["state"] == "completed"


def test_r24_claim_must_name_an_existing_case_the_technician_worked_on(visited):
    api, case_no = visited
    inst = start_case(api, "travel_expense", {**CLAIM, "case_no": "RX-20990101-0001"}, user="technician")
    iid = inst["id"]
    assert inst["variables"]["case_valid"] is False and inst["variables"]["case_problem"] == "unknown_case"
    assert [(t["element_id"], t["assignee"]) for t in inst["tasks"]] == [("revise_claim", "technician")]
    assert api.get("admin", f"/api/process-instances/{iid}/documents").json == []  # nothing filed yet
    inst = api.complete("technician", iid, "revise_claim", case_no=case_no, transport_cost=120, lodging_cost=0,
                        allowance=50, withdraw_claim=False)
    assert [t["element_id"] for t in inst["tasks"]] == ["approve_claim"]

    # technician2 never worked on the case: the claim is not accepted for it
    other = start_case(api, "travel_expense", {**CLAIM, "case_no": case_no}, user="technician2")
    assert other["variables"]["case_problem"] == "not_your_case"
    assert [(t["element_id"], t["assignee"]) for t in other["tasks"]] == [("revise_claim", "technician2")]
    done = api.complete("technician2", other["id"], "revise_claim", case_no=case_no, transport_cost=0, lodging_cost=0,
                        allowance=0, withdraw_claim=True)
    assert done["state"] == "completed"
    assert [h["element_id"] for h in api.history("admin", other["id"]) if h["kind"] == "EndEvent"] == ["end_withdrawn"]


def test_r24_revise_page_says_in_chinese_what_is_wrong_with_the_case(visited, app):
    from tests.web.test_pages import login

    api, _case_no = visited
    inst = start_case(api, "travel_expense", {**CLAIM, "case_no": "RX-20990101-0001"}, user="technician")
    (task,) = inst["tasks"]
    page = login(app, "technician").get(f"/tasks/{task['id']}").data.decode()
    assert "报修案件问题" in page and "没有这个编号的报修案件" in page
    assert "unknown_case" not in page  # the value as its label, never the id

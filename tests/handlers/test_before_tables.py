"""Cases started before the fees and the finance threshold became decision tables (issue 12) finish
as they began: their diagrams still call ``fees.calculate`` / ``fees.return`` and read
``needs_finance`` from the supervisor's approval (``handlers/before_tables.py``). The diagrams in
``tests/data/before_tables`` are the shipped ones of that time, deployed as the newest version here so
that new cases start on them, as the running cases of a site upgraded that day did."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DATA
from tests.web.test_repair_flow import diagnose, follow_up, start, through_dispatch
from tests.web.test_return_exchange import REQUEST as RETURN

BEFORE = DATA / "before_tables"


def test_a_repair_on_the_version_before_the_tables_needs_finance_and_is_charged_as_then(deployed):
    api = deployed
    assert api.deploy("admin", {"repair.bpmn": (BEFORE / "repair.bpmn").read_bytes()}).status_code == 201
    inst = start(api)
    iid = inst["id"]
    assert b"fees.calculate" in (BEFORE / "repair.bpmn").read_bytes()
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=False)
    diagnose(api, iid, estimated_amount=8000, fault_nature="misuse", parts_needed="")
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["finance_approve"]  # R23, over 5000 as then
    inst = api.complete("finance", iid, "finance_approve", finance_approved=True, finance_comment="同意")
    assert [t["element_id"] for t in inst["tasks"]] == ["accept_work_order"]
    through_dispatch(api, iid, parts_used="", old=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    inst = api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    assert (inst["state"], inst["variables"]["fee_basis"], inst["variables"]["fee_amount"]) == (
        "running", "out_of_warranty", 280)  # labour 200 + travel 80, the rates of then
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    assert follow_up(api, iid)["state"] == "completed"


def test_a_return_on_the_version_before_the_tables_charges_shipping_as_then(running, clock):
    api = running
    clock.set(datetime(2026, 9, 30, 8, 0, tzinfo=UTC))
    assert api.deploy("admin", {"return_exchange.bpmn": (BEFORE / "return_exchange.bpmn").read_bytes()}).status_code == 201
    r = api.post("customer_service", "/api/process-definitions/return_exchange/start", {"variables": dict(RETURN)})
    assert r.status_code == 201, r.json
    iid, rma = r.json["id"], r.json["variables"]["rma_no"]
    api.complete("customer_service", iid, "review", review_approved=True)
    r = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": rma}})
    assert r.status_code == 200
    inst = api.complete("warehouse", iid, "inspect", inspection_passed=True)
    v = inst["variables"]
    assert (inst["state"], v["customer_pays_shipping"], v["shipping_fee"]) == ("running", True, 15)  # R6 as then

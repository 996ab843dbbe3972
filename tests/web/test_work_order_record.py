"""Issue 11 item 6: the archived work order carries the repair record the technician filled in (steps,
result, tested OK) and the customer's signature. The technician signs the work order when taking it,
before the repair, so the on-site form's values are written onto it after the repair
(``work_order.record`` in processes/dispatch.bpmn) and brought up to date when the case is archived."""

from __future__ import annotations

from tests.web.test_repair_flow import diagnose, documents, follow_up, start


def _to_dispatch(api) -> int:
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    return iid


def _work_orders(api, iid) -> list[dict]:
    return [d for d in documents(api, iid) if d["kind"] == "work_order"]


def test_the_archived_work_order_has_steps_result_tested_ok_and_the_signature(deployed):
    api = deployed
    iid = _to_dispatch(api)
    api.complete("technician", iid, "onsite_repair", repair_steps="拆机，更换压缩机启动电容", repair_result="制冷恢复正常",
                 tested_ok=True, parts_used="", old_parts_returned=0)
    order = _work_orders(api, iid)[0]["data"]  # on the work order as soon as the repair is done
    assert (order["repair_steps"], order["result"], order["tested_ok"]) == ("拆机，更换压缩机启动电容", "制冷恢复正常", True)
    api.complete("supervisor", iid, "qc", qc_passed=False, qc_comment="噪音仍大")
    api.complete("technician", iid, "rework", repair_steps="重新固定压缩机", repair_result="噪音正常")
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    assert follow_up(api, iid)["state"] == "completed"
    [archived] = _work_orders(api, iid)
    assert archived["archived_at"]
    data = archived["data"]
    assert {k: data[k] for k in ("repair_steps", "result", "tested_ok", "customer_signed", "technician", "appointment")} == {
        "repair_steps": "重新固定压缩机", "result": "噪音正常", "tested_ok": True, "customer_signed": True,
        "technician": "technician", "appointment": "2026-11-25"}


def test_each_visit_keeps_its_own_repair_record(deployed):
    api = deployed
    iid = _to_dispatch(api)
    api.complete("technician", iid, "onsite_repair", repair_steps="补充冷媒", repair_result="暂时恢复", tested_ok=True,
                 parts_used="", old_parts_returned=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=False, signoff_comment="仍不制冷")
    diagnose(api, iid, fault_cause="冷媒泄漏", parts_needed="")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-26", travel_mode="company_car")
    api.complete("technician", iid, "onsite_repair", repair_steps="焊补泄漏点并充冷媒", repair_result="制冷正常",
                 tested_ok=True, parts_used="", old_parts_returned=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    follow_up(api, iid)
    first, second = (o["data"] for o in _work_orders(api, iid))
    assert (first["visit"], first["repair_steps"], first["result"]) == (1, "补充冷媒", "暂时恢复")
    assert (second["visit"], second["repair_steps"], second["result"]) == (2, "焊补泄漏点并充冷媒", "制冷正常")

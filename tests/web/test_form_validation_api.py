"""Issue 11 item 8 through the JSON API: whitespace is no value, a phone must be a phone, dates within
their bounds — 422 with each problem named by the field's label, in the caller's language, and nothing
stored."""

from __future__ import annotations

from engine.models import Instance
from tests.web.test_repair_flow import REQUEST, diagnose, start


def _cases(app) -> int:
    with app.extensions["aftersales"]["sessions"]() as s:
        return s.query(Instance).count()


def test_a_repair_request_with_blank_name_bad_phone_and_future_purchase_is_refused(deployed, app):
    bad = {**REQUEST, "customer_name": "   ", "customer_phone": "hello", "purchase_date": "2026-12-01"}
    r = deployed.post("customer_service", "/api/process-definitions/repair/start", {"variables": bad})
    assert r.status_code == 422
    assert r.json["errors"] == {"customer_name": "is required", "customer_phone": "must be a mainland China phone number",
                                "purchase_date": "must be on or before 2026-11-23"}
    assert r.json["messages"] == {
        "customer_name": "客户姓名：为必填项",
        "customer_phone": "联系电话：须为有效的中国大陆手机号或固定电话（如 13800138000、0571-88886666）",
        "purchase_date": "购买日期：不能晚于 2026-11-23"}
    assert _cases(app) == 0


def test_messages_follow_the_callers_language(deployed):
    r = deployed.client.post("/api/process-definitions/repair/start",
                             headers={**deployed._headers("customer_service"), "Accept-Language": "en"},
                             json={"variables": {**REQUEST, "customer_phone": "12345"}})
    assert r.status_code == 422
    assert r.json["messages"] == {"customer_phone": "Phone: must be a mainland China phone number"}


def test_text_is_stored_trimmed(deployed):
    inst = start(deployed, customer_name="  张三  ", customer_phone=" 138 0013 8000 ")
    case = deployed.get("supervisor", f"/api/process-instances/{inst['id']}").json
    assert (case["variables"]["customer_name"], case["variables"]["customer_phone"]) == ("张三", "138 0013 8000")


def test_an_appointment_in_2020_or_beyond_30_days_is_refused_and_today_is_fine(deployed, clock):
    iid = start(deployed)["id"]
    deployed.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(deployed, iid)
    deployed.complete("supervisor", iid, "approve_plan", plan_approved=True)
    task = deployed.task("technician", iid, "accept_work_order")
    url = f"/api/tasks/{task['id']}/complete"
    for day, problem in (("2020-05-01", "预约上门日期：不能早于 2026-11-23"), ("2026-12-24", "预约上门日期：不能晚于 2026-12-23")):
        r = deployed.post("technician", url, {"variables": {"appointment_date": day, "travel_mode": "company_car"}})
        assert r.status_code == 422
        assert r.json["messages"] == {"appointment_date": problem}
    assert deployed.task("technician", iid, "accept_work_order")["id"] == task["id"]  # still open, unchanged
    clock.advance(days=1)  # the bound moves with the day
    r = deployed.post("technician", url, {"variables": {"appointment_date": "2026-12-24", "travel_mode": "company_car"}})
    assert r.status_code == 200, r.json


def test_a_return_with_a_future_purchase_date_or_a_bad_phone_is_refused(deployed):
    from tests.web.test_return_exchange import REQUEST as RETURN

    r = deployed.post("customer_service", "/api/process-definitions/return_exchange/start", {"variables": {
        **RETURN, "purchase_date": "2027-01-01", "contact_phone": "电话 hello"}})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"purchase_date", "contact_phone"}


def test_a_deployment_with_a_broken_constraint_names_the_field(deployed):
    from tests.conftest import process_files

    xml = process_files()["dispatch.bpmn"].decode().replace('config="today+30d"', 'config="next month"')
    r = deployed.deploy("admin", {"dispatch.bpmn": xml.encode()})
    assert r.status_code == 400
    assert any("appointment_date" in e["message"] and "next month" in e["message"] for e in r.json["errors"]), r.json

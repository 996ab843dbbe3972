"""R29: customer data only for staff who need it — in the API and on the pages alike — and every read logged."""

from __future__ import annotations

import json

from tests.web.test_repair_flow import REQUEST, diagnose, start

PHONE = REQUEST["customer_phone"]
CONTACT = {"customer_name", "customer_phone", "customer_address"}


def _to_issue_parts(api) -> int:
    """A repair case waiting for the warehouse to issue parts (tech support, supervisor and the
    technician have each done their task)."""
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True, approval_comment="同意")
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    return iid


def _login(app, user):
    client = app.test_client()
    from tests.web.test_logins import _login as login

    assert login(client, user).status_code == 302
    return client


def test_each_group_reads_the_case_as_the_policy_table_says(deployed):
    api = deployed
    iid = _to_issue_parts(api)
    other = start(api)["id"]  # a second case nobody but customer service has touched
    seen = {}
    for user in ("customer_service", "tech_support", "technician", "technician2", "warehouse", "supervisor", "finance",
                 "logistics", "marketing", "emergency_team", "regional_manager", "admin", "owner"):
        r = api.get(user, f"/api/process-instances/{iid}")
        listed = [i["id"] for i in api.get(user, "/api/process-instances").json["items"]]
        body = r.get_data(as_text=True)
        seen[user] = (r.status_code, PHONE in body, iid in listed, other in listed)
    assert seen == {
        # status, contact data in the answer, case in the list, the untouched case in the list
        "customer_service": (200, True, True, True),
        "supervisor": (200, True, True, True),
        "admin": (200, True, True, True),
        "tech_support": (200, True, True, False),  # diagnosed it
        "technician": (200, True, True, False),  # their work order
        "technician2": (403, False, False, False),  # a colleague's work order
        "warehouse": (200, False, True, False),  # issues the parts: sees the case, not the customer
        "finance": (403, False, False, False),
        "logistics": (403, False, False, False),
        "marketing": (403, False, False, False),
        "emergency_team": (403, False, False, False),
        "regional_manager": (403, False, False, False),  # only a cross-region settlement to approve (R23)
        "owner": (403, False, False, False),  # process owner: diagrams, not customers
    }
    case = api.get("warehouse", f"/api/process-instances/{iid}").json
    assert CONTACT & set(case["variables"]) == set()
    history = api.get("warehouse", f"/api/process-instances/{iid}/history").json["entries"]
    assert "history" not in case and history and all(CONTACT & set(h["data"] or {}) == set() for h in history)
    assert case["variables"]["product_model"] == REQUEST["product_model"]
    docs = api.get("warehouse", f"/api/process-instances/{iid}/documents").json
    assert PHONE not in json.dumps(docs, ensure_ascii=False) and REQUEST["customer_name"] not in json.dumps(docs, ensure_ascii=False)
    assert docs[0]["data"]["serial_no"] == REQUEST["serial_no"]


def test_pages_leave_out_what_the_api_leaves_out(deployed, app):
    api = deployed
    iid = _to_issue_parts(api)
    warehouse = _login(app, "warehouse")
    case_page = warehouse.get(f"/cases/{iid}").get_data(as_text=True)
    assert PHONE not in case_page and REQUEST["customer_name"] not in case_page and REQUEST["customer_address"] not in case_page
    assert "压缩机主板损坏" in case_page  # the diagnosis, in the timeline
    inbox = warehouse.get("/").get_data(as_text=True)
    assert "issue_parts" in inbox and PHONE not in inbox and REQUEST["customer_name"] not in inbox
    task = api.task("warehouse", iid, "issue_parts")
    assert PHONE not in warehouse.get(f"/tasks/{task['id']}").get_data(as_text=True)
    # who may not see phone numbers cannot find cases by them either
    assert f"/cases/{iid}" not in warehouse.get(f"/search?q={PHONE}").get_data(as_text=True)
    assert f"/cases/{iid}" in warehouse.get(f"/search?q={REQUEST['serial_no']}").get_data(as_text=True)
    assert f"/cases/{iid}" in _login(app, "customer_service").get(f"/search?q={PHONE}").get_data(as_text=True)


def test_a_technician_sees_pool_work_orders_but_no_customer_until_taking_one(deployed, app):
    api = deployed
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True, approval_comment="同意")
    order = api.task("technician2", iid, "accept_work_order")  # open to the whole group
    assert order["assignee"] is None
    colleague = _login(app, "technician2")
    inbox = colleague.get("/?tab=group").get_data(as_text=True)
    assert "accept_work_order" in inbox and PHONE not in inbox
    assert colleague.get(f"/cases/{iid}").status_code == 403
    assert api.post("technician2", f"/api/tasks/{order['id']}/claim").status_code == 200
    assert PHONE in colleague.get(f"/cases/{iid}").get_data(as_text=True)


def test_reading_customer_data_is_logged_and_admins_list_the_log(deployed, app, clock):
    api = deployed
    iid = start(api)["id"]
    api.get("supervisor", f"/api/process-instances/{iid}")
    _login(app, "customer_service").get(f"/cases/{iid}")
    api.get("warehouse", f"/api/process-instances/{iid}")  # refused: nothing read, nothing logged
    log = api.get("admin", f"/api/access-log?instance={iid}").json
    assert [(e["user"], e["via"]) for e in log] == [("customer_service", "page:case"), ("supervisor", "api:case"),
                                                    ("customer_service", "api:start")]
    assert log[0]["at"] == clock.now().isoformat()
    assert api.get("supervisor", "/api/access-log").status_code == 403
    admin = _login(app, "admin")
    admin.set_cookie("lang", "zh_CN")
    page = admin.get(f"/admin/access-log?instance={iid}").get_data(as_text=True)
    assert "客户信息访问记录" in page and "工单页面" in page and page.count(f'data-read="{iid}"') == 3

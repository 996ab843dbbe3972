"""Issue 11 in a real browser: the parts picker (no free text), the incidents view that gets a
stuck case moving again, and the case summary above task forms — on a 1366×900 desktop and an
820×1180 tablet, zh-CN, with axe-core finding no serious or critical violation."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from handlers.records import Part

DESKTOP, TABLET = (1366, 900), (820, 1180)
REQUEST = {"customer_name": "张三", "customer_phone": "13800138000", "customer_address": "杭州市西湖区文三路 1 号",
           "product_model": "KX-200 冷柜", "serial_no": "SN-88001", "channel": "phone", "fault_description": "不制冷，压缩机异响"}


class Api:
    def __init__(self, app):
        self.client = app.test_client()

    def call(self, user, method, path, body=None, status=200):
        """One API call that must succeed: 200, or ``status`` (201 for a started case)."""
        auth = "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()
        r = self.client.open(path, method=method, headers={"Authorization": auth}, json=body if method == "POST" else None)
        assert r.status_code == status, r.json
        return r.json

    def complete(self, user, iid, element_id, **variables):
        task = next(t for t in self.call(user, "GET", f"/api/tasks?instance={iid}")["items"] if t["element_id"] == element_id)
        return self.call(user, "POST", f"/api/tasks/{task['id']}/complete", {"variables": variables})


def open_task(person, element_id: str):
    page = person.go("/?tab=group")
    row = page.locator(f"tr[data-task='{element_id}']")
    expect(row).to_have_count(1)
    row.locator("td a").first.click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    return page


def to_diagnosis(api) -> int:
    iid = api.call("customer_service", "POST", "/api/process-definitions/repair/start", {"variables": REQUEST}, 201)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    return iid


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_diagnosis_shows_the_case_and_picks_parts_from_stock(people, live_app, viewport):
    api = Api(live_app)
    iid = to_diagnosis(api)
    ts = people("tech_support", viewport=viewport)
    page = open_task(ts, "diagnose")
    summary = page.locator("[data-summary]")
    expect(summary.locator("[data-field='fault_description'] dd")).to_have_text("不制冷，压缩机异响")
    expect(summary.locator("[data-field='product_model'] dd")).to_have_text("KX-200 冷柜")
    expect(summary.locator("[data-field='serial_no'] dd")).to_have_text("SN-88001")
    expect(summary.locator("[data-field='case_no'] dd")).to_have_text(re.compile(r"RX-\d{8}-\d{4}"))
    expect(summary.locator("dt").first).not_to_contain_text("Case")  # one language at a time
    # no free text: a picker of stock with what is available
    expect(page.locator("input#f_parts_needed")).to_have_count(0)
    option = page.locator("#f_parts_needed_part0 option[value='P-100']")
    expect(option).to_contain_text("可用 10")
    page.fill("#f_fault_cause", "压缩机主板损坏")
    page.select_option("#f_fault_nature", "quality")
    page.fill("#f_solution", "更换主板")
    page.check("#f_remote_fixed_no")
    page.select_option("#f_parts_needed_part0", "P-100")
    page.fill("#f_parts_needed_qty0", "0")
    page.fill("#f_estimated_amount", "600")
    page.click("button.primary")
    expect(page.locator("#f_parts_needed_err")).to_have_text("每项数量须为不小于 1 的整数")
    expect(page.locator("#f_parts_needed_part0")).to_have_value("P-100")  # what was typed survives
    assert ts.axe() == []
    ts.shot(f"11-diagnosis-picker-{viewport[0]}")
    page.fill("#f_parts_needed_qty0", "2")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/(cases/\d+|)$"))
    case = api.call("supervisor", "GET", f"/api/process-instances/{iid}")
    assert case["variables"]["parts_needed"] == [{"part_no": "P-100", "quantity": 2}]


def test_technician_sees_address_and_phone_once_the_work_order_is_theirs(people, live_app):
    api = Api(live_app)
    iid = to_diagnosis(api)
    api.complete("tech_support", iid, "diagnose", fault_cause="主板", fault_nature="quality", solution="换主板",
                 remote_fixed=False, plan="onsite", parts_needed=[], estimated_amount=300)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    tech = people("technician", viewport=TABLET)
    page = open_task(tech, "accept_work_order")
    summary = page.locator("[data-summary]")
    expect(summary.locator("[data-field='fault_description'] dd")).to_have_text("不制冷，压缩机异响")
    expect(summary.locator("[data-field='customer_phone']")).to_have_count(0)  # a pool task: not yet theirs
    expect(summary.locator("[data-contact-hidden]")).to_have_text("认领任务后显示联系方式。")
    task = next(t for t in api.call("technician", "GET", f"/api/tasks?instance={iid}")["items"]
                if t["element_id"] == "accept_work_order")
    api.call("technician", "POST", f"/api/tasks/{task['id']}/claim", {})
    page.reload()
    expect(summary.locator("[data-field='customer_address'] dd")).to_have_text("杭州市西湖区文三路 1 号")
    expect(summary.locator("[data-field='customer_phone'] a[href='tel:13800138000']")).to_have_count(1)
    assert tech.axe() == []
    tech.shot("11-work-order-tablet")


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_a_stuck_case_is_corrected_and_retried_from_the_incidents_view(people, live_app, viewport):
    api = Api(live_app)
    sessions = live_app.extensions["aftersales"]["sessions"]
    with sessions() as s:
        s.add(Part(part_no="P-OLD", name="旧型号主板", on_hand=3, quota=0, unit_price=100))
        s.commit()
    iid = to_diagnosis(api)
    api.complete("tech_support", iid, "diagnose", fault_cause="主板", fault_nature="quality", solution="换主板",
                 remote_fixed=False, plan="onsite", parts_needed=[{"part_no": "P-OLD", "quantity": 1}],
                 estimated_amount=300)
    with sessions() as s:  # withdrawn from the catalogue before the plan is approved
        s.execute(delete(Part).where(Part.part_no == "P-OLD"))
        s.commit()
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert api.call("supervisor", "GET", f"/api/process-instances/{iid}")["state"] == "error"

    sup = people("supervisor", viewport=viewport)
    page = sup.go("/")
    expect(page.locator("nav a[data-incidents]")).to_have_attribute("data-incidents", "1")
    page.click("nav a[data-incidents]")
    incident = page.locator(f"[data-incident='{iid}']")
    expect(incident.locator("[data-error]")).to_have_text("库存目录中没有：P-OLD")
    assert sup.axe() == []
    sup.shot(f"11-incidents-{viewport[0]}")
    incident.locator("select[name='parts_needed.part']").first.select_option("P-100")
    incident.locator("button.primary").click()  # no reason given
    incident = page.locator(f"[data-incident='{iid}']")
    expect(incident.locator(f"#reason_{iid}_err")).to_have_text("为必填项")
    incident.locator(f"#reason_{iid}").fill("旧型号停产，改用 P-100")
    incident.locator("button.primary").click()
    expect(page.locator(".flash")).to_contain_text("已恢复运行")
    expect(page.locator(f"[data-incident='{iid}']")).to_have_count(0)
    expect(page.locator("nav a[data-incidents]")).to_have_attribute("data-incidents", "0")
    case = api.call("supervisor", "GET", f"/api/process-instances/{iid}")
    assert case["state"] == "running" and case["variables"]["slip_no"].startswith("OS-")
    history = api.call("supervisor", "GET", f"/api/process-instances/{iid}/history")["entries"]
    correction = [h for h in history if h["kind"] == "Correction"]
    assert [(h["completed_by"], h["data"]["correction_reason"]) for h in correction] == [("supervisor", "旧型号停产，改用 P-100")]


def test_routes_are_explicit_choices_and_a_new_round_starts_empty(people, live_app):
    api = Api(live_app)
    iid = api.call("customer_service", "POST", "/api/process-definitions/repair/start", {"variables": REQUEST}, 201)["id"]
    cs = people("customer_service", viewport=TABLET)
    page = open_task(cs, "check_scope")
    expect(page.locator("input[name='in_scope']:checked")).to_have_count(0)  # nothing chosen beforehand
    page.click("button.primary")  # nothing chosen: not sent out of scope, but asked
    expect(page.locator(".field.invalid")).to_have_count(3)
    assert api.call("customer_service", "GET", f"/api/process-instances/{iid}")["tasks"][0]["element_id"] == "check_scope"
    page.check("#f_identity_confirmed")
    page.check("#f_in_scope")
    page.check("#f_in_warranty")
    page.click("button.primary")
    page.wait_for_url(cs.base + "/")
    diagnosis = dict(fault_cause="主板", fault_nature="quality", solution="换主板", remote_fixed=False, plan="onsite",
                     parts_needed=[], estimated_amount=300)
    api.complete("tech_support", iid, "diagnose", **diagnosis)
    api.complete("supervisor", iid, "approve_plan", plan_approved=False, approval_comment="方案不合理，请重新诊断")
    api.complete("tech_support", iid, "diagnose", **diagnosis)
    sup = people("supervisor")
    page = open_task(sup, "approve_plan")
    expect(page.locator("#f_approval_comment")).to_have_value("")  # not last round's rejection
    expect(page.locator("input[name='plan_approved']:checked")).to_have_count(0)
    page.check("#f_plan_approved")
    page.click("button.primary")
    case = api.call("supervisor", "GET", f"/api/process-instances/{iid}")
    assert case["variables"]["approval_comment"] == ""
    assert sup.axe() == []


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_axe_finds_nothing_serious_on_inbox_case_incidents_and_admin_pages(people, live_app, viewport):
    api = Api(live_app)
    iid = to_diagnosis(api)
    admin = people("admin", viewport=viewport)
    found = {}
    for path in ("/", f"/cases/{iid}", "/incidents", "/admin/", "/start"):
        admin.go(path)
        admin.page.wait_for_load_state("networkidle")
        found[path] = admin.axe()
    assert found == dict.fromkeys(found, [])

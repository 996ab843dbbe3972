"""Issue 11 items 5–8 in a real browser (zh-CN; a 1366×900 desktop and an 820×1180 tablet): the
warehouse receives returned goods from its 待收货 list, the archived work order carries the repair
record, no typed input is lost (a colleague's task read-only, a form that survives a new login, Back
after completing), and forms refuse blank, malformed and out-of-range values naming the field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_task_pages import DESKTOP, REQUEST, TABLET, Api, open_task, to_diagnosis

RETURN = {"order_no": "SO-778", "product": "实木餐桌 Dining table", "quantity": 1, "reason": "no_longer_wanted",
          "request_type": "refund", "purchase_date": "2026-11-20", "unused": True, "packaging_intact": True,
          "has_proof": True, "channel": "store", "contact_name": "赵六", "contact_phone": "13700000000"}


def to_work_order(api) -> int:
    iid = to_diagnosis(api)
    api.complete("tech_support", iid, "diagnose", fault_cause="主板", fault_nature="quality", solution="换主板",
                 remote_fixed=False, plan="onsite", parts_needed=[], estimated_amount=300)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    return iid


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_warehouse_receives_returned_goods_from_its_list(people, live_app, viewport):
    api = Api(live_app)
    iid = api.call("customer_service", "POST", "/api/process-definitions/return_exchange/start",
                   {"variables": RETURN}, 201)["id"]
    api.complete("customer_service", iid, "review", review_approved=True)
    wh = people("warehouse", viewport=viewport)
    page = wh.go("/")
    expect(page.locator("nav a[data-receiving]")).to_have_attribute("data-receiving", "1")
    page.click("nav a[data-receiving]")
    row = page.locator(f"[data-awaiting='{iid}']")
    expect(row.locator("[data-field='product'] dd")).to_have_text("实木餐桌")
    expect(row.locator("[data-field='reason'] dd")).to_have_text("不想要了")
    assert wh.axe() == []
    wh.shot(f"11-to-receive-{viewport[0]}")
    row.locator("h3 a").click()  # the warehouse may open the RMA case
    page.wait_for_url(re.compile(rf".*/cases/{iid}$"))
    box = page.locator("[data-receivable='goods_received']")
    box.locator("input[name='goods_received_note']").fill("外箱完好，商品无损")
    box.locator("button.primary").click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))  # straight on to the inspection
    expect(page.locator("h1")).to_contain_text("验货")
    expect(page.locator(".flash").first).to_contain_text("已确认")
    page.check("#f_inspection_passed")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/$"))
    case = api.call("supervisor", "GET", f"/api/process-instances/{iid}")
    assert case["variables"]["goods_received_note"] == "外箱完好，商品无损"
    assert [t["element_id"] for t in case["tasks"]] == ["refund"]
    expect(wh.go("/receiving").locator(f"[data-awaiting='{iid}']")).to_have_count(0)


def test_the_archived_work_order_shows_the_repair_record(people, live_app):
    api = Api(live_app)
    iid = to_work_order(api)
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    tech = people("technician", viewport=TABLET)
    page = open_task(tech, "onsite_repair")
    page.fill("#f_repair_steps", "拆机，更换压缩机启动电容")
    page.fill("#f_repair_result", "制冷恢复正常")
    page.check("#f_tested_ok")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/$"))
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    api.complete("customer_service", iid, "follow_up", satisfaction_quality=5, satisfaction_timeliness=5,
                 satisfaction_attitude=5)
    sup = people("supervisor", viewport=DESKTOP)
    page = sup.go(f"/cases/{iid}")
    page.locator("[data-doc='work_order']").click()
    doc = page.locator("table.doc")
    expect(page.locator("article.document header")).to_contain_text("归档")
    expect(doc.locator("tr:has(th:text-is('维修步骤')) td")).to_have_text("拆机，更换压缩机启动电容")
    expect(doc.locator("tr:has(th:text-is('结果')) td")).to_have_text("制冷恢复正常")
    expect(doc.locator("tr:has(th:text-is('测试合格')) td")).to_have_text("✔")
    expect(doc.locator("tr:has(th:text-is('客户签字')) td")).to_have_text("✔")
    sup.shot("11-archived-work-order")


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_a_colleagues_task_is_read_only_and_says_who_holds_it(people, live_app, viewport):
    api = Api(live_app)
    iid = to_work_order(api)
    task = next(t for t in api.call("technician", "GET", f"/api/tasks?instance={iid}")["items"]
                if t["element_id"] == "accept_work_order")
    api.call("technician", "POST", f"/api/tasks/{task['id']}/claim", {})
    other = people("technician2", viewport=viewport)
    page = other.go(f"/tasks/{task['id']}")
    expect(page.locator("[data-held-by='technician']")).to_have_text(re.compile(r"^由 .+ 认领 — 请其释放$"))
    expect(page.locator("[data-read-only] #f_appointment_date")).to_be_disabled()
    expect(page.locator("button.primary")).to_have_count(0)  # nothing to submit that would fail
    assert other.axe() == []
    other.shot(f"11-claimed-by-colleague-{viewport[0]}")


def test_typed_input_survives_a_new_login_and_back_after_completing_says_done(people, live_app):
    api = Api(live_app)
    iid = to_diagnosis(api)
    ts = people("tech_support", viewport=TABLET)
    page = open_task(ts, "diagnose")
    task_url = page.url
    page.fill("#f_fault_cause", "压缩机启动电容损坏")
    page.fill("#f_solution", "更换启动电容")
    page.select_option("#f_fault_nature", "quality")
    ts.context.clear_cookies()  # the session ends (logged out elsewhere, the browser's session gone)
    page.check("#f_remote_fixed_no")
    page.fill("#f_estimated_amount", "200")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    expect(page.locator(".flash.error")).to_contain_text("会话已结束")
    page.fill("#username", "tech_support")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(task_url)
    expect(page.locator("[data-draft-restored]")).to_be_visible()
    expect(page.locator("#f_fault_cause")).to_have_value("压缩机启动电容损坏")
    expect(page.locator("#f_fault_nature")).to_have_value("quality")
    expect(page.locator("#f_remote_fixed_no")).to_be_checked()
    expect(page.locator("#f_estimated_amount")).to_have_value("200")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/$"))
    assert api.call("supervisor", "GET", f"/api/process-instances/{iid}")["variables"]["fault_cause"] == "压缩机启动电容损坏"
    page.go_back()  # Back after completing: the task is done, not "changed by someone else"
    page.wait_for_url(task_url)
    expect(page.locator("[data-task-done] h1")).to_have_text("此任务已完成")
    expect(page.locator("[data-case-link]")).to_have_attribute("href", f"/cases/{iid}")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('draft:'))") == []
    assert ts.axe() == []
    ts.shot("11-task-done")


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_blank_malformed_and_out_of_range_values_are_refused_naming_the_field(people, live_app, viewport):
    cs = people("customer_service", viewport=viewport)
    page = cs.go("/start/repair")
    page.fill("#f_customer_name", "   ")
    page.fill("#f_customer_phone", "hello")
    page.fill("#f_product_model", REQUEST["product_model"])
    page.fill("#f_serial_no", REQUEST["serial_no"])
    page.fill("#f_purchase_date", "2027-01-01")
    page.fill("#f_fault_description", REQUEST["fault_description"])
    expect(page.locator("#f_purchase_date")).to_have_attribute("max", "2026-11-23")
    page.click("button.primary")
    summary = page.locator("[data-error-summary]")
    expect(summary.locator("li")).to_have_text(["客户姓名：为必填项",
                                                "联系电话：须为有效的中国大陆手机号或固定电话（如 13800138000、0571-88886666）",
                                                "购买日期：不能晚于 2026-11-23"])
    expect(page.locator("#f_customer_phone_err")).to_contain_text("中国大陆手机号")
    assert cs.axe() == []
    cs.shot(f"11-validation-{viewport[0]}")
    page.fill("#f_customer_name", "张三")
    page.fill("#f_customer_phone", "138 0013 8000")
    page.fill("#f_purchase_date", "2026-06-01")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/cases/\d+\?new=1"))
    # an appointment in 2020 is refused too, and the date picker offers only today to 30 days ahead
    api = Api(live_app)
    iid = int(re.search(r"/cases/(\d+)", page.url)[1])
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    api.complete("tech_support", iid, "diagnose", fault_cause="主板", fault_nature="quality", solution="换主板",
                 remote_fixed=False, plan="onsite", parts_needed=[], estimated_amount=300)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    tech = people("technician", viewport=viewport)
    page = open_task(tech, "accept_work_order")
    expect(page.locator("#f_appointment_date")).to_have_attribute("min", "2026-11-23")
    expect(page.locator("#f_appointment_date")).to_have_attribute("max", "2026-12-23")
    page.fill("#f_appointment_date", "2020-05-01")
    page.select_option("#f_travel_mode", "company_car")
    page.click("button.primary")
    expect(page.locator("[data-error-summary] li")).to_have_text(["预约上门日期：不能早于 2026-11-23"])

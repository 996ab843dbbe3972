"""A repair case walked across roles in a real browser (issue 3): each step checks what the person
sees — the task in the right inbox and only there, the case page marking the right element — and
leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def open_task(person, element_id: str):
    page = person.go("/?tab=group")
    row = page.locator(f"tr[data-task='{element_id}']")
    expect(row).to_have_count(1)
    row.locator("td a").first.click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    return page


def not_in_inbox(person, element_id: str):
    page = person.go("/?tab=group")
    expect(page.locator(f"tr[data-task='{element_id}']")).to_have_count(0)


def case_marks(person, case_id: str, element_id: str):
    page = person.go(f"/cases/{case_id}")
    expect(page.locator("#diagram[data-ready='1']")).to_have_count(1)
    expect(page.locator(f".djs-element.open[data-element-id='{element_id}']")).to_have_count(1)
    return page


def test_repair_case_across_roles(people):
    cs = people("customer_service")
    page = cs.go("/start")
    page.click("a[data-process='repair']")
    expect(page.locator("h1")).to_contain_text("设备报修")
    page.fill("#f_customer_name", "张三")
    page.fill("#f_customer_phone", "13800138000")
    page.fill("#f_customer_address", "杭州市西湖区")
    page.fill("#f_product_model", "KX-200 冷柜")
    page.fill("#f_serial_no", "SN-88001")
    page.fill("#f_fault_description", "不制冷")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/cases/\d+\?new=1"))
    case_no = page.locator("[data-case-no]").get_attribute("data-case-no")
    assert re.fullmatch(r"RX-\d{8}-\d{4}", case_no)
    expect(page.locator(".flash")).to_contain_text(case_no)  # the case number is shown at once
    case_id = re.search(r"/cases/(\d+)", page.url)[1]
    cs.shot("01-registered")

    page = open_task(cs, "check_scope")
    page.check("#f_identity_confirmed")
    page.check("#f_in_scope")
    page.check("#f_in_warranty")
    page.click("button.primary")
    page.wait_for_url(cs.base + "/")

    ts = people("tech_support")
    not_in_inbox(cs, "diagnose")  # only tech support sees the diagnosis
    page = open_task(ts, "diagnose")
    page.fill("#f_fault_cause", "压缩机启动电容损坏")
    page.select_option("#f_fault_nature", "quality")
    page.fill("#f_solution", "上门更换电容")
    page.check("#f_remote_fixed_no")  # a required yes/no is an explicit choice (issue 11)
    ts.shot("02-diagnosis")
    page.fill("#f_estimated_amount", "300")
    task_url = page.url
    page.click("button.primary")
    page.wait_for_url(lambda url: url != task_url)  # the form is sent before the next page is opened
    case_marks(ts, case_id, "approve_plan")

    sup = people("supervisor")
    not_in_inbox(ts, "approve_plan")
    page = open_task(sup, "approve_plan")
    page.check("#f_plan_approved")
    page.fill("#f_approval_comment", "同意上门")
    page.click("button.primary")
    sup.go(f"/cases/{case_id}")
    sup.shot("03-approved")

    tech = people("technician")
    not_in_inbox(cs, "accept_work_order")
    page = open_task(tech, "accept_work_order")
    page.fill("#f_appointment_date", "2026-11-25")
    page.select_option("#f_travel_mode", "company_car")
    page.click("button.primary")
    # the next task of mine in this case opens by itself: the on-site visit
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    expect(page.locator("h1")).to_contain_text("上门维修")
    page.fill("#f_repair_steps", "更换启动电容")
    page.fill("#f_repair_result", "制冷恢复")
    page.check("#f_tested_ok")
    page.fill("#f_old_parts_returned", "-1")  # wrong on purpose
    page.click("button.primary")
    expect(page.locator(".field.invalid .error-text")).to_have_text("不能小于 0")
    expect(page.locator("#f_repair_steps")).to_have_value("更换启动电容")  # the input is kept
    expect(page.locator("#f_tested_ok")).to_be_checked()
    tech.shot("04-onsite-error")
    page.fill("#f_old_parts_returned", "1")
    page.click("button.primary")
    page.wait_for_url(tech.base + "/")
    case_marks(tech, case_id, "qc")

    page = open_task(sup, "qc")
    page.check("#f_qc_passed")
    page.click("button.primary")

    page = open_task(cs, "sign_off")
    page.check("#f_customer_signed")
    page.check("#f_solved")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/tasks/.*"))  # straight on to the follow-up call, also mine
    expect(page.locator("h1")).to_contain_text("回访")
    page.fill("#f_satisfaction_quality", "5")
    page.fill("#f_satisfaction_timeliness", "4")
    page.fill("#f_satisfaction_attitude", "5")
    page.click("button.primary")

    page = cs.go(f"/cases/{case_id}")
    expect(page.locator(".badge.state-completed")).to_have_count(1)
    expect(page.locator("#diagram[data-ready='1']")).to_have_count(1)
    expect(page.locator(".djs-element.done[data-element-id='follow_up']")).to_have_count(1)
    kinds = page.locator("[data-doc]").evaluate_all("els => els.map(e => e.dataset.doc)")
    assert kinds == ["repair_request", "work_order", "follow_up"]
    cs.shot("05-case-completed")
    page.locator("[data-doc='work_order']").click()
    expect(page.locator("article.document h1")).to_have_text("设备维修单（派工单）")
    cs.shot("06-work-order")


def test_outsider_gets_a_page_not_a_stack_trace(people, live_app):
    cs = people("customer_service")
    page = cs.go("/start/repair")
    for field, value in {"#f_customer_name": "李四", "#f_customer_phone": "13900000000", "#f_product_model": "M",
                         "#f_serial_no": "S", "#f_fault_description": "坏了"}.items():
        page.fill(field, value)
    page.click("button.primary")
    page = cs.go("/?tab=group")
    href = page.locator("tr[data-task='check_scope'] td a").first.get_attribute("href")
    wh = people("warehouse")
    response = wh.page.goto(wh.base + href)
    assert response.status == 403
    expect(wh.page.locator("h1")).to_have_text("无权操作")
    response = wh.page.goto(wh.base + "/tasks/00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    wh.shot("07-forbidden")


def test_english_is_one_click_away_and_remembered(people):
    cs = people("customer_service", locale="en-US")
    page = cs.go("/")
    expect(page.locator("nav.tabs")).to_contain_text("My tasks")  # chosen from the browser's language
    page.click("a.lang")  # 中文
    expect(page.locator("nav.tabs")).to_contain_text("我的任务")
    page = cs.go("/start")
    expect(page.locator("h1")).to_have_text("新建案件")  # remembered
    cs.shot("08-language")

"""Issue 5 in a real browser: open a deployed diagram in the modeler, change a task's name and
candidate group in the Camunda properties panel, deploy, and see the diff mark that task. Issue 11:
axe-core on the modeler, diff, calendar and migration pages at a desktop and a tablet width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.users import Actor
from tests.conftest import DATA


def test_modeler_edit_deploy_and_diff(people, live_app):
    ext = live_app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"warranty_claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()},
                             Actor("admin", frozenset({"admin"})))
        s.commit()
    admin = people("admin")
    page = admin.go("/admin/definitions/warranty_claim")
    page.click("text=在建模器中打开")
    expect(page.locator("#canvas[data-ready='1']")).to_have_count(1)
    page.click(".djs-element[data-element-id='Activity_review']")
    page.click("[data-group-id='group-general'] .bio-properties-panel-group-header")
    page.fill("#bio-properties-panel-name", "审核索赔 Review the claim")
    page.click("[data-group-id='group-CamundaPlatform__UserAssignment'] .bio-properties-panel-group-header")
    page.fill("#bio-properties-panel-candidateGroups", "supervisor")
    page.fill("#comment", "审核交给主管")
    admin.shot("09-modeler-edited")
    page.click("#validate")
    expect(page.locator("#modeler-status .status-title")).to_have_text("校验通过。")
    expect(page.locator("#modeler-status")).to_contain_text("“Warranty claim” 第 2 版 · 有改动")
    page.click("#deploy")
    page.wait_for_url(re.compile(r".*/admin/definitions/warranty_claim/diff.*"))
    expect(page.locator(".diagram[data-side='new'][data-ready='1']")).to_have_count(1)
    expect(page.locator(".diagram[data-side='new'] .djs-element.diff-changed[data-element-id='Activity_review']")).to_have_count(1)
    expect(page.locator(".diagram[data-side='old'] .djs-element.diff-changed[data-element-id='Activity_review']")).to_have_count(1)
    rows = page.locator("tr[data-change='Activity_review']")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("camunda:candidateGroups")
    expect(rows.nth(0)).to_contain_text("supervisor")
    expect(rows.nth(1)).to_contain_text("审核索赔 Review the claim")
    admin.shot("10-diff")
    # the new version runs with the new group
    r = ext["engine"]
    with ext["sessions"]() as s:
        inst = r.start(s, "warranty_claim", Actor("customer_service", frozenset({"customer_service"})),
                       variables={"customer": "Acme", "amount": 5})
        s.commit()
        assert inst.version == 2
        (task,) = r.list_tasks(s, Actor("supervisor", frozenset({"supervisor"})), instance_id=inst.id)
        assert task.name == "审核索赔 Review the claim"


def test_broken_upload_shows_the_report_and_changes_nothing(people, tmp_path):
    admin = people("admin")
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes((DATA / "warranty_claim.bpmn").read_bytes().replace(b"</bpmn:process>", b""))
    page = admin.go("/admin/deploy")
    page.set_input_files("#file", str(broken))
    page.click("button[value='deploy']")
    expect(page.locator("table.report")).to_contain_text("broken.bpmn")
    expect(page.locator("table.report")).to_contain_text("文件不是格式正确的 XML，无法读取流程图。")
    expect(page.locator("table.report")).not_to_contain_text("not well-formed")
    admin.shot("11-deploy-report")
    page = admin.go("/admin/")
    expect(page.locator("tr[data-key='warranty_claim']")).to_have_count(0)


def _due_date(page, element_id: str, text: str) -> None:
    page.click(f".djs-element[data-element-id='{element_id}']")
    field = page.locator("#bio-properties-panel-dueDate")
    if not field.is_visible():
        page.click("[data-group-id='group-CamundaPlatform__UserAssignment'] .bio-properties-panel-group-header")
    field.fill(text)


def test_modeler_status_says_every_problem_in_chinese_by_step_name(people, live_app):
    """Issue 11: 校验 on a diagram with two due dates that can never be counted lists both, each by the
    step's name and line, in Chinese — no element id, no engine English; fixed, it reads 校验通过 with
    the flow's name and version."""
    from tests.web.test_migrate_page import chinese

    ext = live_app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"warranty_claim.bpmn": chinese((DATA / "warranty_claim.bpmn").read_bytes())},
                             Actor("admin", frozenset({"admin"})))
        s.commit()
    admin = people("admin")
    page = admin.go("/admin/modeler?key=warranty_claim")
    expect(page.locator("#canvas[data-ready='1']")).to_have_count(1)
    _due_date(page, "Activity_review", "下周")
    _due_date(page, "Activity_pay", "月底前")
    page.click("text=校验")
    status = page.locator("#modeler-status")
    expect(status.locator(".status-title")).to_have_text("校验未通过：发现 2 个问题，未保存任何内容。")
    problems = status.locator("li[data-problem='due_date_invalid']")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_have_text(re.compile(r"^审核索赔（第 \d+ 行）：到期时间“下周”无法计算："))
    expect(problems.nth(1)).to_have_text(re.compile(r"^付款（第 \d+ 行）：到期时间“月底前”无法计算："))
    shown = status.inner_text()
    assert not re.search(r"due date|neither|Activity_|warranty_claim|[A-Za-z]+ [a-z]+ [a-z]+", shown.replace(
        "${working_days(2)}", "")), shown
    expect(status.locator("details")).to_have_count(0)
    admin.shot("12-modeler-status-problems")

    _due_date(page, "Activity_review", "${working_days(1)}")
    _due_date(page, "Activity_pay", "")
    page.click("text=校验")
    expect(status.locator(".status-title")).to_have_text("校验通过。")
    expect(status).to_contain_text(re.compile(r"“保修索赔” 第 \d 版 · (有改动|未改动)"))
    expect(status.locator("li[data-problem]")).to_have_count(0)


def test_staff_cannot_reach_admin_pages(people):
    cs = people("customer_service")
    response = cs.page.goto(cs.base + "/admin/")
    assert response.status == 403


DESKTOP, TABLET = (1366, 900), (820, 1180)


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_axe_finds_nothing_serious_on_modeler_diff_calendar_and_migrate_pages(people, live_app, viewport):
    """The admin pages of issue 11's last part, as an admin sees them in zh-CN: the modeler with a
    task's properties open, the diff of two versions, the working calendar and a migration's dry run."""
    ext = live_app.extensions["aftersales"]
    admin_actor = Actor("admin", frozenset({"admin"}))
    v1 = (DATA / "warranty_claim.bpmn").read_bytes()
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"warranty_claim.bpmn": v1}, admin_actor)
        case = ext["engine"].start(s, "warranty_claim", admin_actor, variables={"customer": "Acme", "amount": 5})
        ext["engine"].deploy(s, {"warranty_claim.bpmn": v1.replace(b'name="Review claim"', b'name="Review the claim"')},
                             admin_actor)
        s.commit()
    admin = people("admin", viewport=viewport)
    found = {}
    width = viewport[0]

    page = admin.go("/admin/modeler?key=warranty_claim")
    expect(page.locator("#canvas[data-ready='1']")).to_have_count(1)
    page.click(".djs-element[data-element-id='Activity_review']")
    expect(page.locator("#panel .bio-properties-panel")).to_have_count(1)
    found["modeler"] = admin.axe()
    admin.shot(f"12-modeler-{width}")

    page = admin.go("/admin/definitions/warranty_claim/diff?from=1&to=2")
    expect(page.locator(".diagram[data-ready='1']")).to_have_count(2)
    expect(page.locator("tr[data-change='Activity_review']")).to_have_count(1)
    found["diff"] = admin.axe()
    admin.shot(f"12-diff-{width}")

    page = admin.go("/admin/calendar/")
    expect(page.locator("h1")).to_contain_text("工作日历")
    found["calendar"] = admin.axe()
    admin.shot(f"12-calendar-{width}")

    page = admin.go("/admin/definitions/warranty_claim/migrate")
    page.select_option("#from_version", "1")
    page.select_option("#to_version", "2")
    page.click("button[value='dry_run']")
    expect(page.locator(f"tr[data-instance='{case.id}']")).to_have_count(1)
    found["migrate"] = admin.axe()
    admin.shot(f"12-migrate-{width}")
    assert found == dict.fromkeys(found, [])


def test_decision_table_edited_in_the_browser_and_deployed(people, live_app):
    """Issue 12: a process owner changes the repair fee table (R7) in the in-browser modeler (dmn-js);
    the new version lists its changed cell on the diff page."""
    from tests.conftest import PROCESSES

    ext = live_app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"repair_fee.dmn": (PROCESSES / "repair_fee.dmn").read_bytes()},
                             Actor("admin", frozenset({"admin"})))
        s.commit()
    owner = people("admin")
    page = owner.go("/admin/definitions/repair_fee")
    page.click("text=在建模器中打开")
    expect(page.locator("#canvas[data-ready='1']")).to_have_count(1)
    cell = page.locator("td[data-row-id='Rule_1'][data-col-id='Output_fee_amount'] [contenteditable]")
    expect(cell).to_have_text("200 + 80 + parts_cost")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("210 + 80 + parts_cost")
    page.fill("#comment", "人工费 210 元")
    owner.shot("12-decision-table-edited")
    page.click("#validate")
    expect(page.locator("#modeler-status .status-title")).to_have_text("校验通过。")
    page.click("#deploy")
    page.wait_for_url(re.compile(r".*/admin/definitions/repair_fee/diff.*"))
    row = page.locator("tr[data-change='Rule_1']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("200 + 80 + parts_cost")
    expect(row).to_contain_text("210 + 80 + parts_cost")
    owner.shot("13-decision-table-diff")

"""Issue 16 in a real browser: a process owner opens the inbox's 无人负责 tab, assigns a task that names
nobody to a technician, an admin claims another; the technician finds his in 我的任务. The tab passes
axe-core at both sizes and leaves screenshots in test-artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.users import Actor
from tests.conftest import DATA


def _start_checks(live_app, n: int) -> None:
    ext = live_app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"unassigned_check.bpmn": (DATA / "unassigned_check.bpmn").read_bytes()},
                             Actor("owner", frozenset({"process_owner"})))
        for i in range(n):
            ext["engine"].start(s, "unassigned_check", Actor("customer_service", frozenset({"customer_service"})),
                                business_key=f"SC-{i + 1}")
        s.commit()


def test_owner_assigns_and_admin_claims_from_the_nobody_tab(people, live_app, clock):
    _start_checks(live_app, 3)
    clock.advance(hours=2)
    owner = people("owner")
    page = owner.go("/")
    page.click("a[data-tab='nobody']")
    expect(page.locator("a[data-tab='nobody'][aria-current='page']")).to_have_text(re.compile("无人负责"))
    rows = page.locator("table[data-list='nobody'] tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("登记抽检结果")
    expect(rows.first).to_contain_text("产品抽检")
    expect(rows.first).to_contain_text("2 小时前")
    assert owner.axe() == []
    owner.shot("nobody-named-tab")

    first = rows.first
    first.locator("select").select_option("technician")
    first.locator("button", has_text="分派").click()
    expect(page.locator(".flash")).to_contain_text("technician")
    expect(page.locator("table[data-list='nobody'] tbody tr")).to_have_count(2)

    admin = people("admin", viewport=(820, 1180))
    page = admin.go("/?tab=nobody")
    page.locator("table[data-list='nobody'] tbody tr").first.locator("button", has_text="认领").click()
    expect(page.locator("table[data-list='nobody'] tbody tr")).to_have_count(1)
    assert admin.axe() == []
    admin.shot("nobody-named-tab-tablet")
    page = admin.go("/?tab=mine")
    expect(page.locator("tr[data-task='record_check']")).to_have_count(1)

    tech = people("technician")
    page = tech.go("/?tab=mine")
    expect(page.locator("tr[data-task='record_check']")).to_have_count(1)
    expect(page.locator("a[data-tab='nobody']")).to_have_count(0)

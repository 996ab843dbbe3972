"""The KPI dashboard in a real browser (R25): charts drawn under the CSP, the period changed, a number
followed to the cases it counts. Leaves test-artifacts/dashboard.png (the README's screenshot)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.conftest import Api, start_case
from tests.web.test_dashboard import COMPLAINT, THURSDAY_14, repair


def test_dashboard_period_and_drill_down(live_app, clock, people):
    api = Api(live_app.test_client())
    a = repair(api, clock, address="杭州市西湖区文三路 1 号", product="KX-200")
    repair(api, clock, address="上海市浦东新区世纪大道 1 号", product="KX-300", qc_fails=1,
           late_by=timedelta(hours=2), scores=(3, 3, 3))
    start_case(api, "complaint", COMPLAINT)
    clock.set(THURSDAY_14)

    boss = people("supervisor")
    page = boss.go("/")
    page.click("nav a[href='/dashboard']")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    expect(page.locator("h1")).to_have_text("指标看板")
    expect(page.locator("html[data-charts-ready='1']")).to_have_count(1)  # Chart.js ran under the CSP
    total = page.locator("table[data-table='quality'] tr[data-row='__total__']")
    expect(total.locator("td[data-figure='complaint_rate']")).to_have_text("50.0%")  # 1 complaint ÷ 2 repairs
    expect(total.locator("td[data-figure='first_time_fix_rate']")).to_have_text("50.0%")
    expect(total.locator("td[data-figure='satisfaction']")).to_have_text("3.5")
    assert boss.axe() == []
    boss.shot("dashboard")

    # an earlier period: nothing was reported or closed in October
    page.fill("#from", "2026-10-01")
    page.fill("#to", "2026-10-31")
    page.click("form[data-period] button[type=submit]")
    page.wait_for_url(re.compile(r".*from=2026-10-01.*"))
    total = page.locator("table[data-table='quality'] tr[data-row='__total__']")
    expect(total.locator("td[data-figure='service_cases']")).to_have_text("0")

    # back to November, rows by week; follow the first-time fixes of that week
    page.fill("#from", "2026-11-01")
    page.fill("#to", "2026-11-30")
    page.select_option("#by", "week")
    page.click("form[data-period] button[type=submit]")
    page.wait_for_url(re.compile(r".*by=week.*"))
    week = page.locator("table[data-table='quality'] tr[data-row='2026-11-23']")
    expect(week.locator("th")).to_have_text("2026-11-23 起一周")
    week.locator("a[data-drill='first_time_fixes']").click()
    page.wait_for_url(re.compile(r".*/dashboard/cases\?.*metric=first_time_fixes.*"))
    expect(page.locator("tr[data-case]")).to_have_count(1)
    expect(page.locator(f"tr[data-case='{a}']")).to_have_count(1)
    boss.shot("dashboard-drill-down")

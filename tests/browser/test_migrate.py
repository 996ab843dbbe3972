"""Issue 11: an admin moves running cases to a new version in zh-CN, at a desktop and a tablet width —
a dry run in the diagram's words, nothing moved until the confirmation is ticked, a case stopped by
an error moved only when ticked; axe-core finds nothing serious."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine.models import Instance
from tests.conftest import Api
from tests.web.test_migrate_page import setup_cases

DESKTOP, TABLET = (1366, 900), (820, 1180)


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_dry_run_confirm_and_an_error_case_moved_only_when_ticked(people, live_app, viewport):
    sessions = live_app.extensions["aftersales"]["sessions"]
    cases = setup_cases(Api(live_app.test_client()), sessions)

    def versions():
        with sessions() as s:
            return {name: s.get(Instance, iid).version for name, iid in cases.items()}

    admin = people("admin", viewport=viewport)
    page = admin.go("/admin/definitions/warranty_claim/migrate")
    expect(page.locator("button[value='execute']")).to_have_count(0)
    page.select_option("#from_version", "1")
    page.select_option("#to_version", "2")
    page.click("button[value='dry_run']")
    table = page.locator("table.migration")
    expect(table).to_be_visible()
    text = table.inner_text()
    assert "Activity_" not in text and "can move" not in text
    expect(page.locator(f"tr[data-instance='{cases['review']}']")).to_contain_text("审核索赔")
    expect(page.locator(f"tr[data-instance='{cases['fix']}']")).to_contain_text("版本 2 中没有这一步")
    error_row = page.locator(f"tr[data-instance='{cases['error']}']")
    expect(error_row).to_contain_text("出错停在「审核索赔」：库存目录中没有：P-999")
    # the renamed payment step: picked by its name, then a second dry run
    page.select_option(f"tr[data-instance='{cases['pay']}'] select", label="财务付款")
    page.click("button[value='dry_run']")
    expect(page.locator(f"tr[data-instance='{cases['pay']}'] .verdict")).to_contain_text("可迁移")
    assert admin.axe() == []
    admin.shot(f"13-migrate-dry-run-{viewport[0]}")

    page.click("button[value='execute']")  # not confirmed: the browser keeps the form
    expect(page.locator("#confirm:invalid")).to_have_count(1)
    assert set(versions().values()) == {1}

    page.check(f"#move-error-{cases['error']}")
    page.check("#confirm")
    page.click("button[value='execute']")
    expect(page.locator("h2#plan-title")).to_have_text("结果")
    expect(page.locator(f"tr[data-instance='{cases['error']}'] .verdict")).to_contain_text("已迁移")
    expect(page.locator(f"tr[data-instance='{cases['fix']}'] .verdict")).to_contain_text("不能迁移")
    assert versions() == {"review": 2, "fix": 1, "pay": 2, "error": 2}
    assert admin.axe() == []
    admin.shot(f"13-migrate-moved-{viewport[0]}")

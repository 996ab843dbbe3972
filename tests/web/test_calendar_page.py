"""The admins' calendar page: the year in months, the coverage banner, changes in plain Chinese."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest

from tests.conftest import DATA
from tests.web.test_pages import csrf, login

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def site(app, deployed, clock):
    app.config["WTF_CSRF_ENABLED"] = True
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    return app


def page(client, path):
    r = client.get(path, headers=ZH)
    return r.status_code, r.data.decode()


def test_the_year_in_months_with_the_banner_for_a_year_without_official_data(site):
    admin = login(site, "admin")
    status, html = page(admin, "/admin/calendar/?year=2027")
    assert status == 200 and "工作日历 2027" in html
    assert 'data-calendar-warning="2027"' in html and "2027 年的节假日只是按规则推算" in html
    assert re.search(r'data-day="2027-02-09" data-working="no" data-source="estimated"\s+title="春节（补假）', html)
    assert 'data-setting="time_zone">Asia/Shanghai<' in html and 'data-setting="working_hours">09:00-18:00<' in html
    status, html = page(admin, "/admin/calendar/?year=2026")
    assert re.search(r'data-day="2026-10-10" data-working="yes" data-source="official"', html)  # 调休上班
    assert 'data-coverage="official"' in html
    assert page(login(site, "customer_service"), "/admin/calendar/")[0] == 403


def test_changes_from_the_page_in_chinese_and_refusals_that_say_why(site):
    admin = login(site, "admin")
    token = csrf(admin, "/admin/calendar/")
    r = admin.post("/admin/calendar/days", data={"day": "2026-11-24", "kind": "closed", "reason": "盘点",
                                                 "csrf_token": token}, headers=ZH, follow_redirects=True)
    html = r.data.decode()
    assert "日历已修改；已重新计算 0 个任务期限和 0 个定时器。" in html
    assert 'data-company-day="2026-11-24"' in html and 'data-change="add_day"' in html
    r = admin.post("/admin/calendar/days", data={"day": "2026-10-01", "kind": "closed", "csrf_token": token},
                   headers=ZH, follow_redirects=True)
    assert "未修改：2026-10-01 本来就是休息日（国庆节）" in r.data.decode()
    bad = io.BytesIO(b"2027-02-05,holiday\n2027-02-05,working\n")
    r = admin.post("/admin/calendar/import", data={"file": (bad, "bad.csv"), "csrf_token": token}, headers=ZH,
                   content_type="multipart/form-data")
    html = r.data.decode()
    assert r.status_code == 400 and "bad.csv 未导入，日历没有任何改动" in html
    assert "第 2 行: 2027-02-05 重复出现（第一次在第 1 行）" in html
    good = io.BytesIO((DATA / "calendar" / "schedule_2027_test.ics").read_bytes())
    r = admin.post("/admin/calendar/import", data={"file": (good, "2027.ics"), "csrf_token": token}, headers=ZH,
                   content_type="multipart/form-data", follow_redirects=True)
    html = r.data.decode()
    assert 'data-imported="2027"' in html and 'data-coverage="imported"' in html
    assert 'data-calendar-warning="2027"' not in html


def test_the_case_timeline_shows_a_moved_deadline_in_local_time(site):
    from tests.conftest import Api
    from tests.web.test_calendar import DUE

    api = Api(site.test_client())
    assert api.deploy("owner", {"lanes.bpmn": DUE}).status_code == 201
    iid = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json["id"]
    assert api.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed"}).status_code == 201
    status, html = page(login(site, "admin"), f"/cases/{iid}")
    assert status == 200 and 'data-kind="due_moved"' in html
    assert "日历变更，期限已调整：2026-11-24 10:00 → 2026-11-25 10:00" in html

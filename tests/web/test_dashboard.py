"""The KPI dashboard (R25): figures against hand-counted cases driven through the real engine.

Four cases on Monday 2026-11-23, looked at on Thursday 26th 14:00 (Shanghai):
- A repair fixed the first time, work order taken on time, follow-up 5/4/3 (mean 4.0), 杭州 → 浙江.
- B repair whose quality check failed once (rework), work order taken two hours late (R8), follow-up 3/3/3, 上海.
- D repair still waiting for its scope check (due in 2 working days, R2: overdue on Thursday), 广州 → 广东.
- C complaint still waiting to be forwarded (due in 1 working day, R19: overdue), no address → 未知.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from tests.conftest import start_case
from tests.web.test_repair_flow import REQUEST

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
THURSDAY_14 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
COMPLAINT = dict(customer_name="孙七", customer_phone="13600000000", product_model="KX-200",
                 complaint_text="维修三次仍未修好", severity="normal", channel="phone")


def repair(api, clock, *, address, product, qc_fails=0, late_by=None, scores=(5, 4, 3)):
    iid = start_case(api, "repair", {**REQUEST, "customer_address": address, "product_model": product})["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    api.complete("tech_support", iid, "diagnose", fault_cause="主板损坏", fault_nature="quality", solution="更换主板",
                 remote_fixed=False, plan="onsite", parts_needed="P-200:1", estimated_amount=100)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True, approval_comment="同意")
    if late_by:
        clock.advance(seconds=late_by.total_seconds())
    api.complete("technician", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    api.complete("warehouse", iid, "issue_parts", parts_handed_over=True)
    api.complete("technician", iid, "onsite_repair", repair_steps="更换主板", repair_result="正常", tested_ok=True,
                 parts_used="P-200:1", old_parts_returned=1)
    for _ in range(qc_fails):
        api.complete("supervisor", iid, "qc", qc_passed=False)
        api.complete("technician", iid, "rework", repair_steps="再次调试", repair_result="正常")
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    q, t, a = scores
    done = api.complete("customer_service", iid, "follow_up", satisfaction_quality=q, satisfaction_timeliness=t,
                        satisfaction_attitude=a, follow_up_comments="")
    assert done["state"] == "completed"
    return iid


@pytest.fixture
def seeded(deployed, clock):
    api = deployed
    clock.set(MONDAY_10)
    a = repair(api, clock, address="杭州市西湖区文三路 1 号", product="KX-200")
    b = repair(api, clock, address="上海市浦东新区世纪大道 1 号", product="KX-300", qc_fails=1,
               late_by=timedelta(hours=2), scores=(3, 3, 3))
    d = start_case(api, "repair", {**REQUEST, "customer_address": "广州市天河区体育西路 2 号", "product_model": "KX-300"})["id"]
    c = start_case(api, "complaint", COMPLAINT)["id"]
    clock.set(THURSDAY_14)
    return api, {"A": a, "B": b, "C": c, "D": d}


def kpis(api, query="", user="supervisor"):
    r = api.get(user, f"/api/kpis?{query}")
    assert r.status_code == 200, r.json
    return r.json


def drilled(api, metric, query="", key=None):
    extra = "" if key is None else f"&key={key}"
    r = api.get("supervisor", f"/api/kpis/cases?metric={metric}{extra}&{query}")
    assert r.status_code == 200, r.json
    return sorted(c["id"] for c in r.json["cases"])


def test_the_figures_of_the_month_are_the_hand_counted_ones(seeded):
    api, ids = seeded
    found = kpis(api, "by=month")
    assert found["from"] == "2026-06-01" and found["to"] == "2026-11-26"  # six months up to today
    (month,) = found["rows"]
    assert month["key"] == "2026-11"
    total = found["total"]
    for r in (month, total):
        assert (r["service_cases"], r["complaints"], r["complaint_rate"]) == (3, 1, 0.3333)
        assert (r["work_orders"], r["work_orders_on_time"], r["work_orders_late"], r["on_time_rate"]) == (2, 1, 1, 0.5)
        assert (r["repairs_checked"], r["first_time_fixes"], r["first_time_fix_rate"]) == (2, 1, 0.5)
        assert (r["rated_cases"], r["satisfaction"]) == (2, 3.5)
        assert r["breaches"] == {"R2": 1, "R3": 0, "R4": 0, "R8": 1, "R19": 1}
        assert r["open"] == {"0-1": 0, "1-3": 0, "3-7": 2, "7-30": 0, "30+": 0}


def test_every_figure_drills_down_to_exactly_its_cases(seeded):
    api, ids = seeded
    a, b, c, d = ids["A"], ids["B"], ids["C"], ids["D"]
    assert drilled(api, "service_cases") == sorted([a, b, d])
    assert drilled(api, "complaints") == [c]
    assert drilled(api, "work_orders") == sorted([a, b])
    assert drilled(api, "work_orders_on_time") == [a]
    assert drilled(api, "work_orders_late") == [b]
    assert drilled(api, "first_time_fixes") == [a]
    assert drilled(api, "not_first_time") == [b]
    assert drilled(api, "rated_cases") == sorted([a, b])
    assert drilled(api, "breach_R8") == [b]
    assert drilled(api, "breach_R2") == [d]
    assert drilled(api, "breach_R19") == [c]
    assert drilled(api, "breach_R4") == []
    assert drilled(api, "open_3-7") == sorted([c, d])
    assert drilled(api, "first_time_fixes", "by=month", key="2026-11") == [a]


def test_rows_by_region_technician_and_team(seeded):
    api, ids = seeded
    regions = {r["key"]: r for r in kpis(api, "by=region")["rows"]}
    assert list(regions) == ["上海", "广东", "浙江", ""]  # "" = the complaint names no address: 未知
    assert (regions["浙江"]["first_time_fixes"], regions["上海"]["first_time_fixes"]) == (1, 0)
    assert regions["上海"]["breaches"]["R8"] == 1 and regions["广东"]["breaches"]["R2"] == 1
    assert (regions[""]["complaints"], regions[""]["breaches"]["R19"]) == (1, 1)
    assert drilled(api, "complaints", "by=region", key="") == [ids["C"]]
    people = {r["key"]: r for r in kpis(api, "by=technician")["rows"]}
    assert (people["technician"]["work_orders"], people["technician"]["work_orders_late"]) == (2, 1)
    assert people["technician"]["breaches"]["R8"] == 1  # the one who took the work order late
    teams = {r["key"]: r for r in kpis(api, "by=group")["rows"]}
    assert teams["technician"]["first_time_fix_rate"] == 0.5
    assert teams["customer_service"]["breaches"] == {"R2": 1, "R3": 0, "R4": 0, "R8": 0, "R19": 1}
    products = {r["key"]: r for r in kpis(api, "by=product")["rows"]}
    assert (products["KX-200"]["service_cases"], products["KX-200"]["complaints"]) == (1, 1)
    assert (products["KX-300"]["service_cases"], products["KX-300"]["satisfaction"]) == (2, 3.0)


def test_a_period_before_the_cases_counts_none_of_them(seeded):
    api, ids = seeded
    found = kpis(api, "from=2026-10-01&to=2026-10-31&by=week")
    assert [(r["key"], r["open_total"], r["service_cases"]) for r in found["rows"]] == [("after", 2, 0)]
    assert drilled(api, "open_3-7", "from=2026-10-01&to=2026-10-31&by=week", key="after") == sorted([ids["C"], ids["D"]])
    assert drilled(api, "open_3-7", "from=2026-10-01&to=2026-10-31&by=week", key="2026-10-26") == []
    assert api.get("supervisor", "/api/kpis/cases?metric=complaints&by=week&key=2026-13").status_code == 400
    assert found["total"]["service_cases"] == 0 and found["total"]["breaches_total"] == 0
    assert found["total"]["open_total"] == 2  # open cases are counted as of now, whatever the period


def test_weeks_start_on_monday_local_time(seeded):
    api, _ids = seeded
    (week,) = [r for r in kpis(api, "by=week")["rows"] if r["service_cases"]]
    assert week["key"] == "2026-11-23" and week["service_cases"] == 3


def test_only_supervisors_and_admins_see_the_figures(seeded):
    api, _ids = seeded
    for user in ("technician", "customer_service", "finance"):
        assert api.get(user, "/api/kpis").status_code == 403
        assert api.get(user, "/api/kpis/cases?metric=complaints").status_code == 403
    assert api.get("admin", "/api/kpis").status_code == 200
    client = api.client
    login(client, "technician")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/export.xlsx").status_code == 403


@pytest.mark.parametrize(("query", "named"), [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("by=colour", "by"), ("from=2026-11-30&to=2026-11-01", "from"),
    ("from=2020-01-01&to=2026-11-01", "from"),
])
def test_bad_parameters_answer_400_naming_them(deployed, query, named):
    r = deployed.get("supervisor", f"/api/kpis?{query}")
    assert r.status_code == 400
    assert r.json["error"].startswith(f"{named}:")


def test_bad_metric_answers_400(deployed):
    r = deployed.get("supervisor", "/api/kpis/cases?metric=profit")
    assert r.status_code == 400 and r.json["error"].startswith("metric:")


def login(client, user="supervisor"):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
    assert client.post("/login", data={"username": user, "password": "demo", "csrf_token": token}).status_code == 302


def test_the_page_shows_the_numbers_with_links_to_their_cases(seeded):
    api, ids = seeded
    client = api.client
    login(client)
    page = client.get("/dashboard?by=month").get_data(as_text=True)
    assert "投诉率" in page and "一次修复率" in page and "33.3%" in page and "50.0%" in page
    assert 'data-drill="work_orders_late"' not in page  # on-time shown, late is its complement
    assert 'href="/dashboard/cases?from=2026-06-01&amp;to=2026-11-26&amp;by=month&amp;metric=first_time_fixes&amp;key=2026-11"' in page
    assert "build/dashboard.js" in page and "cdn" not in page.lower()
    listed = client.get("/dashboard/cases?from=2026-06-01&to=2026-11-26&by=month&metric=first_time_fixes&key=2026-11")
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert f'data-case="{ids["A"]}"' in text and f'data-case="{ids["B"]}"' not in text and 'data-count="1"' in text
    earlier = client.get("/dashboard?from=2026-10-01&to=2026-10-31&by=month").get_data(as_text=True)
    assert "本期之后报修" in earlier  # the open cases, reported after October
    bad = client.get("/dashboard?by=colour")
    assert bad.status_code == 400


def test_exports_parse(seeded):
    api, _ids = seeded
    client = api.client
    login(client)
    r = client.get("/dashboard/export.csv?by=region")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["地区", "报修案件", "投诉", "投诉率"]
    assert [row[0] for row in rows[1:]] == ["上海", "广东", "浙江", "未知", "合计"]
    assert rows[-1][1:3] == ["3", "1"]
    r = client.get("/dashboard/export.xlsx?by=month")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("月份", "报修案件", "投诉", "投诉率")
    assert values[1][:4] == ("2026年11月", 3, 1, 0.3333)
    assert values[-1][0] == "合计"


def test_the_figures_stay_the_same_after_retention_removes_history_and_personal_data(seeded, app, clock):
    """Issue 17: the nightly cleanup deletes a finished case's history and anonymises its customer, and
    the dashboard still counts exactly what it counted before."""
    from web import jobs

    api, ids = seeded
    clock.set(THURSDAY_14 + timedelta(days=2000))  # past the default 5 years of history, 3 of personal data
    query = "from=2026-11-01&to=2026-11-30&by=month"
    before = kpis(api, query)
    assert len(api.history("supervisor", ids["A"])) > 10
    ext = app.extensions["aftersales"]
    jobs.retention_run(ext["engine"], ext["sessions"], "test")
    for name in ("A", "B"):
        case = api.get("supervisor", f"/api/process-instances/{ids[name]}").json
        assert case["anonymised_at"] is not None and REQUEST["customer_phone"] not in str(case)
        assert api.history("supervisor", ids[name]) == []
    assert kpis(api, query) == before
    assert before["total"]["work_orders"] == 2 and before["total"]["first_time_fixes"] == 1

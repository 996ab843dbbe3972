"""The screenshots the README shows: ``docs/inbox.png`` (customer service's group inbox) and
``docs/task.png`` (tech support's diagnosis task: case summary, parts picker) in the user section,
``docs/dashboard.png`` (a supervisor's KPI dashboard over four months of repairs) in "Dashboard";
zh-CN, 1366×900, made the way the browser tests make theirs (``tests/browser/conftest.py``: a test
app on a temporary SQLite database, Debian's Chromium through Playwright).

Run from a checkout after ``npm ci`` and ``pip install -e ".[test]"``:
``.venv/bin/python tools/readme_screenshots.py``
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CUSTOMERS = [  # name, phone, address, product, serial, fault
    ("张三", "13800138000", "杭州市西湖区文三路 1 号", "KX-200 冷柜", "SN-88001", "不制冷，压缩机异响"),
    ("李娜", "13912345678", "苏州市工业园区星湖街 88 号", "KX-300 展示柜", "SN-90312", "柜门关不严，结霜严重"),
    ("王强", "13655556666", "上海市浦东新区张江路 200 号", "HX-50 制冰机", "SN-70455", "出冰慢，偶尔报警 E3"),
    ("赵敏", "13577778888", "南京市鼓楼区中山路 18 号", "KX-200 冷柜", "SN-88127", "温度显示不准"),
]
NAMES = {"customer_service": "陈静", "tech_support": "刘洋", "supervisor": "周明"}  # shown by name, as the demo's
# the dashboard's repairs: when reported (Monday 10:00 Shanghai), where, which model, how it went
REPAIRS = [  # (reported, address, product, quality checks failed, work order taken late by, follow-up scores)
    (datetime(2026, 8, 3, 2, 0, tzinfo=UTC), "杭州市西湖区文三路 1 号", "KX-200", 0, None, (5, 5, 4)),
    (datetime(2026, 8, 17, 2, 0, tzinfo=UTC), "上海市浦东新区世纪大道 1 号", "KX-300", 1, None, (3, 4, 3)),
    (datetime(2026, 9, 7, 2, 0, tzinfo=UTC), "苏州市工业园区星湖街 88 号", "HX-50", 0, timedelta(hours=2), (4, 3, 4)),
    (datetime(2026, 9, 21, 2, 0, tzinfo=UTC), "杭州市滨江区江南大道 3 号", "KX-200", 0, None, (5, 4, 5)),
    (datetime(2026, 10, 12, 2, 0, tzinfo=UTC), "南京市鼓楼区中山路 18 号", "KX-300", 0, None, (4, 4, 4)),
    (datetime(2026, 10, 26, 2, 0, tzinfo=UTC), "上海市徐汇区漕溪北路 5 号", "HX-50", 1, timedelta(hours=3), (2, 3, 3)),
    (datetime(2026, 11, 9, 2, 0, tzinfo=UTC), "杭州市西湖区文三路 1 号", "KX-200", 0, None, (5, 5, 5)),
    (datetime(2026, 11, 16, 2, 0, tzinfo=UTC), "宁波市鄞州区天童路 9 号", "KX-300", 0, None, (4, 5, 4)),
]


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from engine.clock import ManualClock
    from tests.browser.conftest import CHROMIUM, Person
    from tests.browser.test_task_pages import Api, open_task

    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
        clock.set(start)
        app, ext = _app(tmp, clock)
        api = Api(app)
        first = None
        for n, (name, phone, address, product, serial, fault) in enumerate(CUSTOMERS):
            clock.set(start + timedelta(minutes=40 * n))
            iid = api.call("customer_service", "POST", "/api/process-definitions/repair/start", {"variables": {
                "customer_name": name, "customer_phone": phone, "customer_address": address, "product_model": product,
                "serial_no": serial, "channel": "phone", "fault_description": fault}}, 201)["id"]
            first = first or iid
        api.complete("customer_service", first, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
        clock.set(start + timedelta(hours=3))
        server = _serve(app)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                cs = Person(browser, app, "customer_service", viewport=(1366, 900)).login()
                page = cs.go("/?tab=group")
                expect(page.locator("tr[data-task='check_scope']")).to_have_count(len(CUSTOMERS) - 1)
                page.screenshot(path=str(out / "inbox.png"))
                ts = Person(browser, app, "tech_support", viewport=(1366, 900)).login()
                page = open_task(ts, "diagnose")
                page.screenshot(path=str(out / "task.png"))
                _dashboard(browser, out)
                browser.close()
        finally:
            server.shutdown()
            ext["db"].dispose()
    for name in ("inbox.png", "task.png", "dashboard.png"):
        size = (out / name).stat().st_size
        print(f"docs/{name}: {size // 1024} KB")
        if size >= 300 * 1024:
            raise SystemExit(f"docs/{name} is {size // 1024} KB; the README's pictures stay under 300 KB")


def _app(tmp: str, clock):
    """A test app on a new SQLite database in ``tmp``: the demo's people (shown by name), the shipped diagrams."""
    from sqlalchemy import select

    from engine.models import User
    from engine.users import Actor
    from tests.conftest import process_files, seed
    from web import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/shots.db", "CLOCK": clock, "SECRET_KEY": "shots-only"})
    ext = app.extensions["aftersales"]
    seed(ext["sessions"], clock.now())
    with ext["sessions"]() as s:
        for user in s.scalars(select(User).where(User.username.in_(NAMES))):
            user.display_name = NAMES[user.username]
        s.commit()
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        s.commit()
    return app, ext


def _serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    return server


def _dashboard(browser, out: pathlib.Path) -> None:
    """docs/dashboard.png: the supervisor's dashboard on 2026-11-26 over the repairs of ``REPAIRS``
    (driven through the API as tests/web/test_dashboard.py drives its cases), two complaints and
    a repair still waiting for its scope check, in rows by month."""
    from playwright.sync_api import expect

    from engine.clock import ManualClock
    from tests.browser.conftest import Person
    from tests.conftest import Api, start_case
    from tests.web.test_dashboard import COMPLAINT
    from tests.web.test_repair_flow import REQUEST

    def repair(reported, address, product, qc_fails, late_by, scores):  # as tests/web/test_dashboard.py's
        iid = start_case(api, "repair", {**REQUEST, "customer_address": address, "product_model": product})["id"]
        api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
        api.complete("tech_support", iid, "diagnose", fault_cause="主板损坏", fault_nature="quality",
                     solution="更换主板", remote_fixed=False, plan="onsite", parts_needed="P-200:1",
                     estimated_amount=100)
        api.complete("supervisor", iid, "approve_plan", plan_approved=True, approval_comment="同意")
        if late_by:
            clock.advance(seconds=late_by.total_seconds())
        api.complete("technician", iid, "accept_work_order", travel_mode="company_car",
                     appointment_date=(reported + timedelta(days=2)).date().isoformat())
        api.complete("warehouse", iid, "issue_parts", parts_handed_over=True)
        api.complete("technician", iid, "onsite_repair", repair_steps="更换主板", repair_result="正常",
                     tested_ok=True, parts_used="P-200:1", old_parts_returned=1)
        for _ in range(qc_fails):
            api.complete("supervisor", iid, "qc", qc_passed=False)
            api.complete("technician", iid, "rework", repair_steps="再次调试", repair_result="正常")
        api.complete("supervisor", iid, "qc", qc_passed=True)
        api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
        q, t, a = scores
        api.complete("customer_service", iid, "follow_up", satisfaction_quality=q, satisfaction_timeliness=t,
                     satisfaction_attitude=a, follow_up_comments="")

    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        clock.set(REPAIRS[0][0])
        app, ext = _app(tmp, clock)
        api = Api(app.test_client())
        for reported, *how in REPAIRS:
            clock.set(reported)
            repair(reported, *how)
            if reported.month in (9, 11):
                start_case(api, "complaint", COMPLAINT)
        start_case(api, "repair", {**REQUEST, "customer_address": "广州市天河区体育西路 2 号", "product_model": "KX-300"})
        clock.set(datetime(2026, 11, 26, 6, 0, tzinfo=UTC))  # Thursday 14:00 in Shanghai
        server = _serve(app)
        try:
            boss = Person(browser, app, "supervisor", viewport=(1366, 900)).login()
            page = boss.go("/dashboard")
            expect(page.locator("html[data-charts-ready='1']")).to_have_count(1)
            page.wait_for_timeout(500)  # Chart.js's drawing animation
            page.screenshot(path=str(out / "dashboard.png"))
        finally:
            server.shutdown()
            ext["db"].dispose()


if __name__ == "__main__":
    main()

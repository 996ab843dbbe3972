"""The two screenshots the README's user section shows: ``docs/inbox.png`` (customer service's group
inbox) and ``docs/task.png`` (tech support's diagnosis task: case summary, parts picker), zh-CN,
1366×900, made the way the browser tests make theirs (``tests/browser/conftest.py``: a test app on a
temporary SQLite database, Debian's Chromium through Playwright).

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
NAMES = {"customer_service": "陈静", "tech_support": "刘洋"}  # people are shown by name, as `aftersales demo` seeds them


def main() -> None:
    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from engine.clock import ManualClock
    from engine.models import User
    from engine.users import Actor
    from tests.browser.conftest import CHROMIUM, Person
    from tests.browser.test_task_pages import Api, open_task
    from tests.conftest import process_files, seed
    from web import create_app

    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
        clock.set(start)
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
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        app.base_url = f"http://127.0.0.1:{server.server_port}"
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
                browser.close()
        finally:
            server.shutdown()
            ext["db"].dispose()
    for name in ("inbox.png", "task.png"):
        size = (out / name).stat().st_size
        print(f"docs/{name}: {size // 1024} KB")
        if size >= 300 * 1024:
            raise SystemExit(f"docs/{name} is {size // 1024} KB; the README's pictures stay under 300 KB")


if __name__ == "__main__":
    main()

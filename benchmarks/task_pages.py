"""Server time of the staff pages issue 11 touches: the inbox, a task page with its case summary and
parts picker, the case page and the incidents page, on SQLite through Flask's test client.

Run: ``python benchmarks/task_pages.py [--cases 50] [--reps 40]``. Prints p25/p50/p95 per page in
milliseconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import pathlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from engine.clock import ManualClock  # noqa: E402
from engine.users import Actor  # noqa: E402
from tests.conftest import process_files, seed  # noqa: E402

REQUEST = {"customer_name": "张三", "customer_phone": "13800138000", "customer_address": "杭州市西湖区",
           "product_model": "KX-200", "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


def auth(user):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    from web import create_app

    clock = ManualClock()
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "CLOCK": clock, "SECRET_KEY": "bench", "TESTING": True,
                          "WTF_CSRF_ENABLED": False})
        ext = app.extensions["aftersales"]
        seed(ext["sessions"], clock.now())
        with ext["sessions"]() as s:
            ext["engine"].deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
            s.commit()
        api = app.test_client()
        ids = []
        for _ in range(args.cases):
            r = api.post("/api/process-definitions/repair/start", headers=auth("customer_service"), json={"variables": REQUEST})
            ids.append(r.json["id"])
        for iid in ids:
            t = api.get(f"/api/tasks?instance={iid}", headers=auth("customer_service")).json["items"][0]
            api.post(f"/api/tasks/{t['id']}/complete", headers=auth("customer_service"),
                     json={"variables": {"identity_confirmed": True, "in_scope": True, "in_warranty": True}})
        task = api.get(f"/api/tasks?instance={ids[0]}", headers=auth("tech_support")).json["items"][0]["id"]
        pages = {}
        for user, path in (("tech_support", "/"), ("tech_support", f"/tasks/{task}"),
                           ("supervisor", f"/cases/{ids[0]}"), ("supervisor", "/incidents")):
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "demo"})
            times = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            q = statistics.quantiles(times, n=20)
            pages[path.split("/")[1] or "inbox"] = (q[4], statistics.median(times), q[18])
        print(f"{args.cases} open cases, {args.reps} requests per page (ms: p25 / p50 / p95)")
        for name, (p25, p50, p95) in pages.items():
            print(f"  {name:10s} {p25:7.1f} {p50:7.1f} {p95:7.1f}")
        ext["db"].dispose()


if __name__ == "__main__":
    main()

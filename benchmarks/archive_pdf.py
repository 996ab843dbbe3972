"""The case archive PDF (issue 12 part 4): how long rendering a full repair case takes, and what it
costs a colleague's request served by the same process meanwhile (WeasyPrint lays out in Python and
holds the GIL while it does).

Run: ``python benchmarks/archive_pdf.py [--reps 20]``. A repair case is run to its end (all four
documents) on SQLite through Flask's test client; prints the first archive (WeasyPrint imported, fonts
loaded) with its size, then p50/p95 of the archive in ms (wall and CPU time), and p50/p95 of ``GET /api/tasks``
alone and while another thread renders archives back to back. Asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import pathlib
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from engine.clock import ManualClock  # noqa: E402
from tests.conftest import Api, process_files, seed  # noqa: E402
from tests.web import test_repair_flow as flow  # noqa: E402


def auth(user: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


def ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20)
    return f"p50 {statistics.median(samples) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms"


def full_case(api: Api) -> int:
    iid = flow.start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=False)
    flow.diagnose(api, iid, fault_nature="misuse", parts_needed="P-100:1")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    flow.through_dispatch(api, iid)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    flow.follow_up(api, iid)
    return iid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    from web import create_app

    clock = ManualClock()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "CLOCK": clock, "SECRET_KEY": "bench",
                          "TESTING": True})
        seed(app.extensions["aftersales"]["sessions"], clock.now())
        api = Api(app.test_client())
        api.deploy("admin", process_files(), "bench")
        iid = full_case(api)
        url = f"/api/process-instances/{iid}/archive.pdf"
        client = app.test_client()
        started = time.perf_counter()
        first = client.get(url, headers=auth("customer_service"))
        print(f"first archive (WeasyPrint imported, fonts loaded): {(time.perf_counter() - started) * 1000:.0f} ms, "
              f"status {first.status_code}, {len(first.data) // 1024} KB")
        runs, cpu = [], []
        for _ in range(args.reps):
            started, used = time.perf_counter(), time.process_time()
            assert client.get(url, headers=auth("customer_service")).status_code == 200
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        # CPU time: what a render costs whatever else the machine runs (wall time grows with its load)
        print(f"archive of a full repair case (4 pages): wall {ms(runs)}; CPU {ms(cpu)}")

        other = app.test_client()

        def tasks() -> list[float]:
            took = []
            for _ in range(args.reps * 5):
                started = time.perf_counter()
                assert other.get("/api/tasks", headers=auth("supervisor")).status_code == 200
                took.append(time.perf_counter() - started)
            return took

        print(f"GET /api/tasks alone: {ms(tasks())}")
        stop = threading.Event()

        def render() -> None:
            renderer = app.test_client()
            while not stop.is_set():
                renderer.get(url, headers=auth("customer_service"))

        thread = threading.Thread(target=render)
        thread.start()
        try:
            print(f"GET /api/tasks while archives render in another thread: {ms(tasks())}")
        finally:
            stop.set()
            thread.join()


if __name__ == "__main__":
    main()

"""Lists and search with many open tasks (issue 17 items 2 and 3): ``GET /api/tasks`` first page, the
case list's first page, the HTML inbox, and search by case number, phone, serial and name — on SQLite
(or ``--database-url``) through Flask's test client, one keep-alive client, Bearer token / session.

Run: ``python benchmarks/lists.py [--cases 5000] [--reps 60]``: it seeds first, then takes
``/tmp/bench.lock`` (as ``flock`` does) only while it times. Every case is a real repair case started by
the engine (one open ``check_scope`` task for customer service each).
``--code DIR`` runs the same measures against another checkout (e.g. the code before this change,
``git archive main | tar -x -C DIR``); both list shapes (a bare array, ``{"items", "next"}``) are read.
Prints p25/p50/p95 in milliseconds and the response size; asserts nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import pathlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

ap = argparse.ArgumentParser()
ap.add_argument("--cases", type=int, default=5000)
ap.add_argument("--reps", type=int, default=60)
ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: a SQLite file)")
ap.add_argument("--code", default=str(pathlib.Path(__file__).resolve().parents[1]), help="checkout to measure")
ap.add_argument("--explain", action="store_true", help="print the search query plans")
ARGS = ap.parse_args()
sys.path.insert(0, ARGS.code)

from engine.clock import ManualClock  # noqa: E402
from engine.users import Actor  # noqa: E402
from tests.conftest import process_files, seed  # noqa: E402

SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def request(i: int) -> dict:
    return {"customer_name": SURNAMES[i % 10] + GIVEN[(i // 10) % 20] + GIVEN[(i // 200) % 20],
            "customer_phone": f"139{i:08d}", "customer_address": "杭州市西湖区文三路 1 号",
            "product_model": "KX-200", "serial_no": f"SN-{i * 7919 % 1000003:07d}", "channel": "phone",
            "fault_description": "不制冷"}


def timed(client, path: str, headers: dict, reps: int) -> tuple[float, float, float, int]:
    times, size = [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.data[:300])
        size = len(r.data)
    q = statistics.quantiles(times, n=20)
    return q[4], statistics.median(times), q[18], size


def main() -> None:
    from web import create_app

    clock = ManualClock()
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        url = ARGS.database_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"DATABASE_URL": url, "CLOCK": clock, "SECRET_KEY": "bench", "TESTING": True,
                          "WTF_CSRF_ENABLED": False})
        ext = app.extensions["aftersales"]
        seed(ext["sessions"], clock.now())
        engine = ext["engine"]
        cs = Actor("customer_service", frozenset({"customer_service"}))
        with ext["sessions"]() as s:
            engine.deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
            s.commit()
        began = time.perf_counter()
        numbers = {}
        for i in range(ARGS.cases):
            with ext["sessions"]() as s:
                inst = engine.start(s, "repair", cs, variables=request(i))
                s.commit()
                if i in (ARGS.cases // 3, ARGS.cases // 2):
                    numbers[i] = inst.business_key
            if i % 500 == 0:
                clock.advance(minutes=1)
        seeded = time.perf_counter() - began
        client = app.test_client()
        token = client.post("/api/tokens", headers={"Authorization": "Basic Y3VzdG9tZXJfc2VydmljZTpkZW1v"},
                            json={"label": "bench"}).json["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        page = app.test_client()
        page.post("/login", data={"username": "customer_service", "password": "demo"})
        one = ARGS.cases // 2
        phone, serial = request(one)["customer_phone"], request(one)["serial_no"]
        rows = {
            "GET /api/tasks?group= first page": (client, "/api/tasks?group=customer_service", bearer),
            "GET /api/tasks (mine+groups)": (client, "/api/tasks", bearer),
            "GET /api/process-instances first page": (client, "/api/process-instances", bearer),
            "inbox HTML (group tab)": (page, "/?tab=group", {}),
            "search case number (whole)": (page, f"/search?q={numbers[one]}", {}),
            "search case number (last 4)": (page, f"/search?q={numbers[ARGS.cases // 3][-4:]}", {}),
            "search phone (whole)": (page, f"/search?q={phone}", {}),
            "search phone (last 4)": (page, f"/search?q={phone[-4:]}", {}),
            "search serial": (page, f"/search?q={serial}", {}),
            "search name": (page, f"/search?q={request(one)['customer_name']}", {}),
        }
        import engine as measured

        first = client.get("/api/tasks?group=customer_service", headers=bearer).json
        listed = len(first["items"] if isinstance(first, dict) else first)
        print(f"{ARGS.cases} open repair cases ({url.split(':')[0]}, seeded in {seeded:.0f} s), "
              f"code {pathlib.Path(measured.__file__).parents[1]}")
        print(f"GET /api/tasks?group= lists {listed} tasks; {ARGS.reps} requests each (ms: p25 / p50 / p95, bytes)")
        with open("/tmp/bench.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two helpers never time at once
            for name, (c, path, headers) in rows.items():
                timed(c, path, headers, 3)  # warm
                p25, p50, p95, size = timed(c, path, headers, ARGS.reps)
                print(f"  {name:40s} {p25:7.1f} {p50:7.1f} {p95:7.1f} {size:9,d}")
        if ARGS.explain:
            explain(ext, phone[-4:], numbers[one])
        ext["db"].dispose()


def explain(ext, digits: str, number: str) -> None:
    """The plans of the search and the inbox query (the index, not a scan of every case)."""
    from sqlalchemy import select

    from engine import case_search
    from engine.models import Instance, OpenTask

    with ext["sessions"]() as s:
        dialect = s.get_bind().dialect.name
        for q, fields in ((digits, list(case_search.FIELDS)), (number, ["case"])):
            stmt = select(Instance.id).where(case_search.matching(dialect, q, fields)).order_by(Instance.id.desc()).limit(100)
            sql = str(stmt.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
            print(f"-- search {q!r} in {fields}\n{sql}")
            for row in s.connection().exec_driver_sql(prefix + sql):
                print("   ", " | ".join(str(c) for c in row))
        stmt = select(OpenTask.id).where(OpenTask.candidate_groups.contains(",customer_service,")) \
            .order_by(OpenTask.created_at, OpenTask.id).limit(51)
        sql = str(stmt.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        print(f"-- tasks first page\n{sql}")
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
        for row in s.connection().exec_driver_sql(prefix + sql):
            print("   ", " | ".join(str(c) for c in row))


if __name__ == "__main__":
    main()

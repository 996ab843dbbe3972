"""Every row of issue 10's table in one run: the speed of a click.

Run: ``python benchmarks/click_bench.py [--loops 1000] [--waiting 10000] [--cases 100]
[--pg postgresql://postgres@127.0.0.1:5432/DB] [--broker amqp://…]``. Prints figures, asserts nothing.

1. HTTP (``aftersales serve``, one waitress process, durable SQLite, one keep-alive client):
   task completion with a Bearer token at QC loop 0 and loop N of a repair case, and with HTTP Basic
   (after the first call) next to Bearer.
2. Engine API (durable SQLite): SQL statements per user-task step (a five-user-task diagram, and the
   repair path), repair cases/s (``repair_bench.py``'s driver), one message correlated with N cases
   waiting.
3. PostgreSQL over HTTP: ``benchmarks/load.py`` with ``serve --workers 1`` and ``--workers 2`` (gunicorn
   + a Celery worker), repair cases/s ratio. Skipped without ``--pg``.

4. With ``--scale sqlite|postgresql``: the group-inbox / search row at 100,000 open tasks and 1,000,000
   finished cases — ``benchmarks/scale.py`` (issue 17) against its seeded database (seeded on the first
   run, ~10 min, kept for later ones), worker running, without its cleanup run; its table is printed.

This machine is shared and noisy: every latency is printed as lower quartile / p50 / p95.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FIVE_TASKS = (ROOT / "tests" / "data" / "five_steps.bpmn").read_bytes()  # five user tasks in a row

# the work order's appointment lies from today to 30 days ahead (processes/dispatch.bpmn)
APPOINTMENT = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
WAIT_GOODS = (ROOT / "tests" / "data" / "goods_return.bpmn").read_bytes()

REQUEST = {"customer_name": "王五", "customer_phone": "13900000000", "customer_address": "上海市浦东新区",
           "product_model": "KX-200", "serial_no": "SN-0001", "channel": "phone", "fault_description": "不制冷"}
TO_QC = [
    ("register", {"identity_confirmed": True, "in_scope": True, "in_warranty": True}),
    (None, {"fault_cause": "compressor", "fault_nature": "quality", "solution": "replace board",
            "remote_fixed": False, "plan": "onsite", "parts_needed": "P-100:1", "estimated_amount": 300}),
    (None, {"plan_approved": True}),
    (None, {"appointment_date": APPOINTMENT, "travel_mode": "company_car"}),
    (None, {"parts_handed_over": True}),
    (None, {"repair_steps": "replaced", "repair_result": "works", "tested_ok": True, "parts_used": "P-100:1",
            "old_parts_returned": 1}),
]


def spread(samples: list[float]) -> str:
    if len(samples) < 4:
        return "n/a"
    q = statistics.quantiles(samples, n=20)
    return f"q1 {statistics.quantiles(samples, n=4)[0]:.2f} / p50 {statistics.median(samples):.2f} / p95 {q[18]:.2f} ms"


# --- 1. HTTP on SQLite -------------------------------------------------------------------------

class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.auth = ""

    def call(self, method: str, path: str, body: dict | None = None, auth: str | None = None) -> tuple[int, dict, float]:
        headers = {"Authorization": auth or self.auth, "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        t = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        ms = (time.perf_counter() - t) * 1000
        return r.status, (json.loads(payload) if payload else {}), ms


def open_tasks(answer: dict) -> list[dict]:
    return answer["instance"]["tasks"]


def http_rows(args) -> dict:
    import handlers
    from engine import users
    from engine.clock import SystemClock
    from engine.users import Actor
    from engine.wiring import build
    from tests.conftest import process_files, seed
    from tests.production import Processes, free_port, wait_for

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="aftersales-click-"))
    url = f"sqlite:///{tmp / 'click.db'}"
    engine, sessions, db = build(handlers.default_registry(), url)
    seed(sessions, SystemClock().now())
    with sessions() as s:
        engine.deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        users.add_user(s, "bench", "demo", ["customer_service", "tech_support", "supervisor", "technician",
                                            "warehouse"], now=SystemClock().now())
        s.commit()
    db.dispose()
    procs = Processes(tmp, url, None)
    port = free_port()
    out: dict = {}
    try:
        procs.start("serve", "--port", str(port), "--workers", "1", name="web")
        probe = Client(port)

        def up() -> bool:
            try:
                return probe.call("GET", "/health")[0] == 200
            except OSError:
                probe.conn.close()
                return False

        wait_for(up, 60, "web up", procs)
        c = Client(port)
        basic = "Basic " + base64.b64encode(b"bench:demo").decode()
        status, token, _ = c.call("POST", "/api/tokens", {"label": "bench"}, auth=basic)
        assert status == 201, (status, token)
        c.auth = f"Bearer {token['token']}"

        def case_at_qc() -> dict:
            status, inst, _ = c.call("POST", "/api/process-definitions/repair/start", {"variables": REQUEST})
            assert status == 201, (status, inst)
            tasks = inst["tasks"]
            for _element, values in TO_QC:
                status, done, _ = c.call("POST", f"/api/tasks/{tasks[0]['id']}/complete", {"variables": values})
                assert status == 200, (status, done)
                tasks = open_tasks(done)
            assert tasks[0]["element_id"] == "qc", tasks
            return tasks[0]

        window = args.window
        marks = sorted({0, 200, args.loops})
        samples: dict[int, list[float]] = {m: [] for m in marks}
        basic_ms: list[float] = []
        bearer_ms: list[float] = []
        qc = case_at_qc()
        for loop in range(args.loops + window):
            use_basic = loop < 2 * window and loop % 2 == 1
            status, done, ms = c.call("POST", f"/api/tasks/{qc['id']}/complete", {"variables": {"qc_passed": False}},
                                      auth=basic if use_basic else None)
            assert status == 200, (status, done)
            if loop < 2 * window and loop > 1:
                (basic_ms if use_basic else bearer_ms).append(ms)
            for m in marks:
                if m <= loop < m + window and not use_basic:
                    samples[m].append(ms)
            rework = open_tasks(done)[0]
            status, done, _ = c.call("POST", f"/api/tasks/{rework['id']}/complete",
                                     {"variables": {"repair_steps": "again", "repair_result": "retest"}})
            assert status == 200, (status, done)
            qc = open_tasks(done)[0]
        size = len(json.dumps(done).encode())
        status, page, _ = c.call("GET", f"/api/process-instances/{done['instance']['id']}")
        out["case_bytes"] = len(json.dumps(page).encode())
        out["complete_bytes"] = size
        out["samples"] = samples
        out["basic"] = basic_ms
        out["bearer"] = bearer_ms
    finally:
        procs.stop_all()
    return out


# --- 2. engine API on SQLite ---------------------------------------------------------------------

class StatementCounter:
    def __init__(self, db):
        from sqlalchemy import event

        self.n = 0
        event.listen(db, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.n += 1


def statement_rows(args) -> dict:
    from repair_bench import CS, SUP, TECH, Driver

    tmp = tempfile.mkdtemp(prefix="aftersales-stmts-")
    d = Driver(f"sqlite:///{tmp}/s.db")
    from engine.users import Actor

    admin = Actor("admin", frozenset({"admin"}))
    with d.Session() as s:
        d.engine.deploy(s, {"five_steps.bpmn": FIVE_TASKS}, admin)
        s.commit()
    counter = StatementCounter(d.db)

    def step(instance_id: int, actor, values: dict, element: str | None = None) -> int:
        with d.Session() as s:
            task = next(t for t in d.engine.list_tasks(s, actor, instance_id=instance_id)
                        if element is None or t.element_id == element)
            task_id = task.id
            s.commit()
        before = counter.n
        with d.Session() as s:  # what a completion request runs: the step and its commit
            d.engine.complete_task(s, task_id, actor, values)
            s.commit()
        return counter.n - before

    five: list[int] = []
    for _ in range(3):
        with d.Session() as s:
            inst = d.engine.start(s, "five_steps", CS)
            s.commit()
            i = inst.id
        five += [step(i, CS, {}) for _ in range(5)]
    repair: list[int] = []
    from repair_bench import TS, WH

    for _ in range(3):
        i = d.start()
        flow = [(CS, TO_QC[0][1], None), (TS, TO_QC[1][1], None), (SUP, TO_QC[2][1], None),
                (TECH, TO_QC[3][1], None), (WH, TO_QC[4][1], None), (TECH, TO_QC[5][1], None),
                (SUP, {"qc_passed": True}, "qc"), (CS, {"customer_signed": True, "solved": True}, None),
                (CS, {"satisfaction_quality": 5, "satisfaction_timeliness": 5, "satisfaction_attitude": 4}, None)]
        repair += [step(i, a, v, e) for a, v, e in flow]
    loop = []
    i = d.start()
    d.to_qc(i)
    for _ in range(20):
        loop.append(step(i, SUP, {"qc_passed": False}, "qc"))
        step(i, TECH, {"repair_steps": "again", "repair_result": "retest"}, "rework")
    return {"five": statistics.mean(five), "repair": statistics.mean(repair), "qc": statistics.mean(loop),
            "five_min_max": (min(five), max(five)), "repair_min_max": (min(repair), max(repair))}


def throughput_row(args) -> tuple[float, float]:
    from repair_bench import Driver

    tmp = tempfile.mkdtemp(prefix="aftersales-rate-")
    d = Driver(f"sqlite:///{tmp}/r.db")
    d.full_case()
    rates, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.cases):
            d.full_case()
        rates.append(args.cases / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) * 1000 / args.cases)
    return min(rates), statistics.median(rates), statistics.median(cpu)


def message_row(args) -> tuple[list[float], int]:
    from repair_bench import Driver

    from engine.users import Actor

    tmp = tempfile.mkdtemp(prefix="aftersales-msg-")
    d = Driver(f"sqlite:///{tmp}/m.db")
    admin = Actor("admin", frozenset({"admin"}))
    with d.Session() as s:
        d.engine.deploy(s, {"goods_return.bpmn": WAIT_GOODS}, admin)
        s.commit()
    n = args.waiting
    batch = 500
    for first in range(0, n, batch):
        with d.Session() as s:
            for k in range(first, min(n, first + batch)):
                d.engine.start(s, "goods_return", admin, variables={"rma_no": f"RMA-{k:06d}"})
            s.commit()
    samples = []
    for k in range(args.messages):
        with d.Session() as s:
            t = time.perf_counter()
            matched, _dup = d.engine.correlate_message(s, "goods_received", {"rma_no": f"RMA-{(k * 7919) % n:06d}"},
                                                       {"received": True}, admin)
            s.commit()
            samples.append((time.perf_counter() - t) * 1000)
            assert len(matched) == 1
    return samples, n


# --- 3. PostgreSQL, serve --workers 1 and 2 ---------------------------------------------------------

def workers_row(args) -> list[dict]:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--processes", "1", "2", "--seconds",
           str(args.pg_seconds), "--clients", str(args.pg_clients), "--database-url", args.pg, "--broker", args.broker]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if not rows:
        print(out.stdout, out.stderr[-3000:])
    return rows


def scale_rows(args) -> list[str]:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--db", args.scale, "--no-cleanup",
           "--finished", str(args.scale_finished), "--open", str(args.scale_open)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = out.stdout.splitlines()
    table = lines[next((i for i, line in enumerate(lines) if line.startswith("== ")), len(lines)):]
    if not table:
        return ["scale.py printed no table:", *lines[-10:], *out.stderr.splitlines()[-10:]]
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=1000)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--waiting", type=int, default=10000)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--pg", default=None, help="PostgreSQL database to empty and use for the workers row")
    ap.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    ap.add_argument("--pg-seconds", type=float, default=15)
    ap.add_argument("--pg-clients", type=int, default=8)
    ap.add_argument("--scale", choices=["sqlite", "postgresql"], default=None,
                    help="also print the inbox/search row at scale (benchmarks/scale.py on its seeded database)")
    ap.add_argument("--scale-finished", type=int, default=1_000_000)
    ap.add_argument("--scale-open", type=int, default=100_000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["http", "statements", "rate", "message", "workers"])
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores, shared with other work: latencies are lower quartile / p50 / p95")
    if "http" not in args.skip:
        h = http_rows(args)
        s = h["samples"]
        base = statistics.median(s[0])
        base_q1 = statistics.quantiles(s[0], n=4)[0]
        print(f"HTTP task completion, Bearer, loop 0: {spread(s[0])}")
        for m in sorted(s)[1:]:
            med, q1 = statistics.median(s[m]), statistics.quantiles(s[m], n=4)[0]
            print(f"HTTP task completion, Bearer, loop {m}: {spread(s[m])}  -> ÷ loop 0: p50 {med / base:.2f}x, "
                  f"q1 {q1 / base_q1:.2f}x")
        diff = statistics.median(h["basic"]) - statistics.median(h["bearer"])
        diff_q1 = statistics.quantiles(h["basic"], n=4)[0] - statistics.quantiles(h["bearer"], n=4)[0]
        print(f"HTTP Basic completion: {spread(h['basic'])}; Bearer alongside: {spread(h['bearer'])}  "
              f"-> Basic − Bearer: p50 {diff:.2f} ms, q1 {diff_q1:.2f} ms")
        print(f"bytes: completion answer at loop {args.loops + args.window}: {h['complete_bytes']}; "
              f"GET case: {h['case_bytes']}")
    if "statements" not in args.skip:
        st = statement_rows(args)
        print(f"SQL statements per user-task step (counting SQLite's BEGIN IMMEDIATE; COMMIT is no statement): five-task diagram {st['five']:.1f} "
              f"(min/max {st['five_min_max']}); repair path {st['repair']:.1f} (min/max {st['repair_min_max']}); "
              f"QC loop step {st['qc']:.1f}")
    if "rate" not in args.skip:
        low, med, cpu = throughput_row(args)
        print(f"repair cases/s, one process, engine API: lowest {low:.0f} / median {med:.0f} of 3 runs of "
              f"{args.cases} cases; CPU {cpu:.0f} ms per case (steadier than wall time on a shared machine)")
    if "message" not in args.skip:
        samples, n = message_row(args)
        print(f"one message correlated with {n} cases waiting: {spread(samples)} over {len(samples)} messages")
    if "workers" not in args.skip:
        if not args.pg:
            print("serve --workers 2 ÷ 1 (PostgreSQL): skipped, give --pg")
        else:
            rows = workers_row(args)
            for r in rows:
                cores = ", ".join(f"{part} {used:.2f}" for part, used in r["cores_used"].items())
                print(f"PostgreSQL over HTTP, serve --workers {r['processes']}: {r['cases_per_s']} repair cases/s, "
                      f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}; cores used: {cores}")
            if len(rows) == 2 and rows[0]["cases_per_s"]:
                print(f"serve --workers 2 ÷ 1: {rows[1]['cases_per_s'] / rows[0]['cases_per_s']:.2f}x")
    if args.scale:
        print(f"group inbox first page / search at {args.scale_open:,} open + {args.scale_finished:,} finished "
              f"({args.scale}, benchmarks/scale.py):")
        for line in scale_rows(args):
            print("  " + line)
    else:
        print("group inbox first page / search at 100,000 open + 1,000,000 finished: give --scale sqlite|postgresql")


if __name__ == "__main__":
    main()

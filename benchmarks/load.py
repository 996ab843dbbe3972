"""Load on the production shape: gunicorn (1, 2, 4 web processes) + a Celery worker on PostgreSQL and
RabbitMQ. Each client thread registers repair cases over HTTP and does the first task of each (the
scope check), as customer service would; prints cases/s, request latency p50/p99 and errors per
process count, and how many of the machine's cores each part used meanwhile (web processes, the
worker, PostgreSQL, the broker, this client): what bounds the ratio of two processes to one. Asserts nothing.

Run: ``python benchmarks/load.py [--processes 1 2 4] [--seconds 20] [--clients 16]
--database-url postgresql://postgres@127.0.0.1:5432/DB [--broker amqp://…]``.
The database is emptied for each process count. Every process is started here on a free port with
its own queue name and stopped by its pid.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.production import Processes, free_port, wait_for  # noqa: E402

REQUEST = {"customer_name": "王五", "customer_phone": "13900000000", "product_model": "KX-200",
           "serial_no": "SN-0001", "channel": "phone", "fault_description": "不制冷"}
BASIC = "Basic " + base64.b64encode(b"customer_service:demo").decode()
AUTH = {"Authorization": BASIC, "Content-Type": "application/json"}  # replaced by a Bearer token (as scripts do)


def reset(url: str) -> None:
    import handlers
    from engine.wiring import build
    from tests.conftest import empty_database, process_files, seed

    empty_database(url)
    engine, sessions, db = build(handlers.default_registry(), url)
    from engine.clock import SystemClock
    from engine.users import Actor

    seed(sessions, SystemClock().now())
    with sessions() as s:
        engine.deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        s.commit()
    db.dispose()


def call(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=AUTH)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, payload = r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, {}
    except OSError:
        status, payload = 599, {}
    return status, payload, (time.perf_counter() - started) * 1000


def _processes() -> dict[int, tuple[str, int, float]]:
    """Every process on the machine: pid -> (name, process group, CPU seconds used so far), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        found[int(entry)] = (name, int(fields[2]), (int(fields[11]) + int(fields[12])) / tick)
    return found


def _cores(before: dict, after: dict, groups: dict[str, int], elapsed: float) -> dict[str, float]:
    """Cores each part used between two ``_processes`` readings: the web and worker processes (by their
    process group), PostgreSQL, the broker, and this load client; what else ran, as ``other``."""
    used: dict[str, float] = {"web": 0.0, "worker": 0.0, "postgres": 0.0, "broker": 0.0, "client": 0.0, "other": 0.0}
    by_group = {pgid: part for part, pgid in groups.items()}
    for pid, (name, pgid, cpu) in after.items():
        spent = cpu - before.get(pid, (name, pgid, 0.0))[2]
        part = ("client" if pid == os.getpid() else by_group.get(pgid) or
                ("postgres" if name.startswith("postgres") else "broker" if name.startswith(("beam", "epmd")) else "other"))
        used[part] += spent
    return {part: round(seconds / elapsed, 2) for part, seconds in used.items()}


def client(base: str, until: float, latencies: list, errors: list, cases: list) -> None:
    while time.monotonic() < until:
        status, inst, ms = call(base, "POST", "/api/process-definitions/repair/start", {"variables": REQUEST})
        latencies.append(ms)
        if status != 201:
            errors.append(status)
            continue
        status, tasks, ms = call(base, "GET", f"/api/tasks?instance={inst['id']}")
        latencies.append(ms)
        if status != 200 or not tasks["items"]:
            errors.append(status)
            continue
        status, _done, ms = call(base, "POST", f"/api/tasks/{tasks['items'][0]['id']}/complete",
                                 {"variables": {"identity_confirmed": True, "in_scope": True, "in_warranty": True}})
        latencies.append(ms)
        if status != 200:
            errors.append(status)
            continue
        cases.append(1)


def run(n: int, args, tmp: pathlib.Path) -> dict:
    reset(args.database_url)
    procs = Processes(tmp, args.database_url, args.broker)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        web = procs.start("serve", "--port", str(port), "--workers", str(n), name=f"web{n}")
        worker = procs.worker("--beat", "--concurrency", "1")
        wait_for(lambda: call(base, "GET", "/health")[0] == 200, 60, "web up", procs)
        AUTH["Authorization"] = BASIC
        status, token, _ms = call(base, "POST", "/api/tokens", {"label": "load"})
        assert status == 201, status
        AUTH["Authorization"] = f"Bearer {token['token']}"
        latencies: list[float] = []
        errors: list[int] = []
        cases: list[int] = []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client, args=(base, until, latencies, errors, cases))
                   for _ in range(args.clients)]
        started, cpu_before = time.monotonic(), _processes()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        cores = _cores(cpu_before, _processes(), {"web": web.pid, "worker": worker.pid}, elapsed)
    finally:
        procs.stop_all()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 2 else [0.0] * 99
    return {"processes": n, "cases_per_s": round(len(cases) / elapsed, 1), "requests": len(latencies),
            "p50_ms": round(q[49], 1), "p99_ms": round(q[98], 1), "errors": len(errors),
            "error_statuses": sorted(set(errors)), "cores_used": cores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a PostgreSQL database to empty and use (default DATABASE_URL)")
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url (or DATABASE_URL): the database is emptied for each run")
    import tempfile

    print(f"# {args.clients} clients × {args.seconds:.0f} s per run, database {args.database_url.rsplit('@', 1)[-1]}, "
          f"{os.cpu_count()} cores (shared: figures are noisy)")
    for n in args.processes:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run(n, args, pathlib.Path(tmp))), flush=True)


if __name__ == "__main__":
    main()

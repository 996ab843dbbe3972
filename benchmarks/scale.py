"""A company after a few years: 1,000,000 finished and 100,000 open repair cases, the real server
with its background worker running, and the figures of issue 17 next to an empty database.

Run::

    python benchmarks/scale.py --db sqlite                       # full size, seeds once into --path
    python benchmarks/scale.py --db postgresql --finished 20000 --open 2000   # a quick run
    python benchmarks/scale.py --db sqlite --path /tmp/s.db --reseed

The cases are seeded by ``benchmarks/scale_seed.py`` (copies of rows the engine wrote, see there) into
a database kept for later runs (``--path`` / ``--pg-db``), which then skip seeding.

Then ``aftersales serve`` (what ``aftersales demo`` serves with, the background worker in-process) is
started on it and on an empty database, and p50/p95 are printed for the inbox API first page, the inbox
page, search by case number / phone / serial, the case list, starting a case and completing a task,
then the idle server CPU over ``--idle-seconds`` (from /proc/<pid>/stat) and the database size before
and after one cleanup run (``aftersales retention run``, when this build has it) and after
``aftersales retention vacuum --full`` (SQLite gives the freed pages back). Timed parts hold
``/tmp/bench.lock``. Asserts nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scale_seed import (  # noqa: E402
    AFTERSALES,
    FINISHED_BUCKETS,
    Copier,
    Target,
    Template,
    log,
    request,
    seed,
    seed_arguments,
    target_for,
)

# --------------------------------------------------------------------------- the server and its client

class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers: dict[str, str] = {}
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | str | None = None, headers: dict | None = None):
        h = dict(self.headers, **(headers or {}))
        if self.cookie:
            h["Cookie"] = self.cookie
        data = None
        if isinstance(body, dict):
            data, h["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            data, h["Content-Type"] = body.encode(), "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return resp.status, payload

    def json(self, method: str, path: str, body: dict | None = None):
        status, payload = self.request(method, path, body)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def bearer(self, user: str) -> Client:
        import base64

        basic = "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()
        status, payload = self.request("POST", "/api/tokens", {"label": "scale"}, {"Authorization": basic})
        if status != 201:
            raise RuntimeError(f"token for {user}: HTTP {status} {payload[:200]!r}")
        self.headers["Authorization"] = "Bearer " + json.loads(payload)["token"]
        return self

    def login(self, user: str) -> Client:
        _status, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        form = {"username": user, "password": "demo"} | ({"csrf_token": token.group(1).decode()} if token else {})
        status, _ = self.request("POST", "/login", urllib.parse.urlencode(form))
        if status not in (302, 303):
            raise RuntimeError(f"login {user}: HTTP {status}")
        return self


def items(answer) -> list:
    """Either answer shape of a list: a bare list, or a page ``{"items": [...], "next": ...}``."""
    return answer["items"] if isinstance(answer, dict) else answer


class Server:
    def __init__(self, target: Target, port: int):
        self.target, self.port = target, port
        self.env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
        self.env["DATABASE_URL"] = target.url
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="aftersales-scale-", suffix=".log", delete=False)

    def __enter__(self) -> Server:
        subprocess.run([AFTERSALES, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        self.proc = subprocess.Popen([AFTERSALES, "serve", "--port", str(self.port)], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status in (200, 503):
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"server did not start; see {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            if self.proc.poll() is None:
                self.proc.kill()

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = pathlib.Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def wait_until_idle(target: Target, limit: float = 900) -> float:
    """Wait for the worker to work off what is due (e.g. tasks of open copies that fell due since
    seeding); returns the seconds waited."""
    import handlers
    from engine.db import make_read_session_factory
    from engine.wiring import build
    from web import jobs

    engine, _s, db = build(handlers.default_registry(), target.url, create=False)
    reads = make_read_session_factory(db)
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit and jobs.due_work(engine, reads):
        time.sleep(1)
    db.dispose()
    return time.monotonic() - t0


def night_window_elsewhere(target: Target) -> str:
    """Move the retention night window 12 hours away from now: the server's own nightly cleanup would
    otherwise start during the timings when they are taken inside the default window (01:00–05:00
    Shanghai, 17:00–21:00 UTC), changing the seeded data and counting its work as "idle". The cleanup is
    measured by itself afterwards (``cleanup``). Returns the window set."""
    import handlers
    from engine import retention
    from engine.users import Actor
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), target.url, create=False)
    with sessions() as s:
        settings = retention.load(s)
        hour = (datetime.now(UTC).astimezone(settings.tz).hour + 12) % 24
        window = f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"
        retention.save(s, Actor("admin", frozenset({"admin"})), {"window": window}, datetime.now(UTC))
        s.commit()
    db.dispose()
    return window


def percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=20)
    return statistics.median(samples), q[18]


def timed(fn, reps: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def measure(target: Target, port: int, reps: int, idle_seconds: float, finished: int, open_: int) -> dict:
    out: dict = {}
    with Server(target, port) as server:
        waited = wait_until_idle(target)
        if waited > 2:
            log(f"  {target.label}: the worker worked off due work for {waited:.0f} s before timing")
        cs = Client(port).bearer("customer_service")
        sup = Client(port).bearer("supervisor")
        page = Client(port).login("customer_service")

        def inbox_api():
            status, body = cs.request("GET", "/api/tasks?group=customer_service")
            assert status == 200, status
            out["inbox_rows"], out["inbox_bytes"] = len(items(json.loads(body))), len(body)

        def inbox_page():
            status, _ = page.request("GET", "/")
            assert status == 200, status

        # a small group: no seeded task is finance's, so its first page is wherever its few tasks are
        fin = Client(port).bearer("finance")
        fin_page = Client(port).login("finance")

        def small_group_api():
            status, _ = fin.request("GET", "/api/tasks?group=finance")
            assert status == 200, status

        def small_group_page():
            status, _ = fin_page.request("GET", "/")
            assert status == 200, status

        rnd = random.Random(17)

        def search(kind: str):
            def run():
                n = rnd.randrange(finished) if finished else 0
                case, phone, serial = "RX-20261202-0001", "13900000001", "SN-TPL-0001"
                if finished:  # a copy: the template that copy number follows gives its tokens
                    t = next(t for t in target_templates(target, "finished") if n % FINISHED_BUCKETS in t["buckets"])
                    case, phone, serial, _name = Copier.copy_tokens(_tpl(t), n)
                q = {"case": case, "phone": phone, "serial": serial}[kind]
                status, body = page.request("GET", "/search?q=" + urllib.parse.quote(q))
                assert status == 200, status
                if finished:
                    out.setdefault(f"search_{kind}_found", 0)
                    out[f"search_{kind}_found"] += case.encode() in body
            return run

        def case_list():
            status, _ = sup.request("GET", "/api/process-instances")
            assert status == 200, status

        started: list[int] = []
        serial = iter(range(10**6))

        def start():
            req = request(0) | {"serial_no": f"SN-BENCH-{next(serial)}", "customer_phone": "13700000000"}
            started.append(cs.json("POST", "/api/process-definitions/repair/start", {"variables": req})["id"])

        tasks: list[str] = []

        def complete():
            task = tasks.pop()
            cs.json("POST", f"/api/tasks/{task}/complete",
                    {"variables": dict(identity_confirmed=True, in_scope=True, in_warranty=True)})

        out["inbox_api"] = timed(inbox_api, reps)
        out["inbox_page"] = timed(inbox_page, reps)
        out["small_group_api"] = timed(small_group_api, reps)
        out["small_group_page"] = timed(small_group_page, reps)
        for kind in ("case", "phone", "serial"):
            out[f"search_{kind}"] = timed(search(kind), reps)
        out["case_list"] = timed(case_list, reps)
        out["start"] = timed(start, reps)
        for iid in started:
            tasks += [t["id"] for t in items(cs.json("GET", f"/api/tasks?instance={iid}"))]
        out["complete"] = timed(complete, min(reps, len(tasks) - 1))
        wait_until_idle(target, 120)
        time.sleep(2)
        c0, t0 = server.cpu_seconds(), time.monotonic()
        time.sleep(idle_seconds)
        out["idle_cpu"] = 100 * (server.cpu_seconds() - c0) / (time.monotonic() - t0)
    return out


_TEMPLATES: dict[str, list[dict]] = {}


def target_templates(target: Target, kind: str) -> list[dict]:
    if target.label not in _TEMPLATES:
        _TEMPLATES[target.label] = (target.marker() or {}).get("templates", [])
    return [t for t in _TEMPLATES[target.label] if t["kind"] == kind]


def _tpl(info: dict) -> Template:
    return Template(info["kind"], info["ids"], {k: info[k] for k in ("case_no", "phone", "serial", "name")})


def _last_message(stderr: str) -> str:
    """The last line of a command's stderr that is not a log line: alembic (run by every command that
    opens the database) writes ``INFO  [alembic.runtime.migration] …`` there, which says nothing of a
    failure and was once reported as its reason."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip() and not re.match(r"^(INFO|DEBUG)\b", ln)]
    return lines[-1] if lines else "(nothing on stderr)"


def _exit_status(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def cleanup(target: Target) -> str:
    """One ``aftersales retention run``, then ``aftersales retention vacuum`` (SQLite: gives the freed pages
    back to the disk; a database seeded before auto_vacuum=INCREMENTAL needs ``--full`` once)."""
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"} | {"DATABASE_URL": target.url}
    probe = subprocess.run([AFTERSALES, "retention", "run", "--help"], env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        return "cleanup: not available"
    before = target.size()
    t0 = time.monotonic()
    run = subprocess.run([AFTERSALES, "retention", "run"], env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    if run.returncode != 0:
        return f"cleanup: failed after {took:.0f} s, {_exit_status(run.returncode)}: {_last_message(run.stderr)}"
    after = target.size()
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    t1 = time.monotonic()
    vacuum = subprocess.run([AFTERSALES, "retention", "vacuum", "--full"], env=env, capture_output=True, text=True)
    vacuumed = (f", after `retention vacuum --full` {target.size() / 1e9:.2f} GB ({time.monotonic() - t1:.0f} s)"
                if vacuum.returncode == 0 else f"; vacuum failed: {_last_message(vacuum.stderr)}")
    return (f"database size before / after one cleanup run: {before / 1e9:.2f} / {after / 1e9:.2f} GB{vacuumed} "
            f"({took:.0f} s; {summary})")


# --------------------------------------------------------------------------- the report

ROWS = [  # key, printed label, target
    ("inbox_api", "GET /api/tasks?group=… first page", "p95 ≤ 20 ms"),
    ("inbox_page", "HTML inbox", "p95 ≤ 50 ms"),
    ("small_group_api", "GET /api/tasks?group=finance (few tasks)", "p95 ≤ 20 ms"),
    ("small_group_page", "HTML inbox of finance (few tasks)", "p95 ≤ 50 ms"),
    ("search_case", "search by case number", "p95 ≤ 20 ms"),
    ("search_phone", "search by phone", "p95 ≤ 20 ms"),
    ("search_serial", "search by serial", "p95 ≤ 20 ms"),
    ("case_list", "GET /api/process-instances", "—"),
    ("start", "start a case", "—"),
    ("complete", "complete a task", "p95 ≤ 1.5× empty"),
]


def report(db: str, finished: int, open_: int, big: dict, empty: dict, size: int, cleanup_line: str,
           big_marker: dict | None) -> None:
    log("")
    log(f"== {db}: {finished:,} finished / {open_:,} open cases, worker running, p50 / p95 ms ==")
    log(f"{'measure':38s} {'seeded p50':>10s} {'p95':>8s}   {'empty p50':>9s} {'p95':>8s}   target")
    for key, label, target in ROWS:
        (b50, b95), (e50, e95) = big[key], empty[key]
        extra = f"  (p95 {b95 / e95:.1f}× empty)" if key == "complete" else ""
        log(f"{label:38s} {b50:10.1f} {b95:8.1f}   {e50:9.1f} {e95:8.1f}   {target}{extra}")
    log(f"inbox first page: {big.get('inbox_rows')} rows, {big.get('inbox_bytes', 0) / 1024:.0f} KB "
        f"(empty: {empty.get('inbox_rows')} rows)")
    for kind in ("case", "phone", "serial"):
        if f"search_{kind}_found" in big:
            log(f"search by {kind}: the copy searched for was found in {big[f'search_{kind}_found']} of the timed "
                f"searches")
    log(f"idle server CPU over the idle window: {big['idle_cpu']:.1f} % of a core (empty: {empty['idle_cpu']:.1f} %)"
        f"   target ≤ 2 %")
    info = big_marker or {}
    log(f"database size: {size / 1e9:.2f} GB (seeded in {info.get('seconds', '?')} s)")
    log(cleanup_line)


@contextlib.contextmanager
def bench_lock():
    with open("/tmp/bench.lock", "w") as fh:
        log("waiting for /tmp/bench.lock ...")
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def main() -> None:
    ap = seed_arguments(__doc__.split("\n")[0])
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--port", type=int, default=5917)
    ap.add_argument("--no-cleanup", action="store_true", help="skip the cleanup run (it changes the seeded data)")
    args = ap.parse_args()
    size_tag = f"{args.finished}_{args.open}"

    big, empty = target_for(args.db, size_tag, args.path, args.pg_db), target_for(args.db, "empty")
    big.label, empty.label = "seeded", "empty"
    seed(big, args.finished, args.open, args.reseed)
    seed(empty, 0, 0, True)
    if args.seed_only:
        return
    for t in (empty, big):
        log(f"  {t.label}: the night window of the cleanup moved to {night_window_elsewhere(t)} (local) while timing")
    with bench_lock():
        log(f"timing the empty database ({args.reps} requests per measure) ...")
        e = measure(empty, args.port, args.reps, args.idle_seconds, 0, 0)
        log(f"timing the seeded database ({args.reps} requests per measure) ...")
        b = measure(big, args.port, args.reps, args.idle_seconds, args.finished, args.open)
    size, marker = big.size(), big.marker()
    line = "cleanup: skipped (--no-cleanup)" if args.no_cleanup else cleanup(big)
    if not args.no_cleanup and not line.startswith("cleanup: not"):
        pathlib.Path(f"{big.path}.seed.json").unlink(missing_ok=True) if big.kind == "sqlite" else big.mark({})
    report(args.db, args.finished, args.open, b, e, size, line, marker)


if __name__ == "__main__":
    main()

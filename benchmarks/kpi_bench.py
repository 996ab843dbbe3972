"""The dashboard's time with 100,000 finished cases (issue 12, R25: target ≤ 300 ms).

Drives three cases through the real engine (a first-time fix, a QC failure with a late work order, a
complaint), then copies their rows — instances, history, late_tasks — set-based (``INSERT … SELECT``
over a counting CTE) into ``--cases`` finished cases with dates spread over the last year and varied
technicians, teams, products and regions. Times ``GET /dashboard`` (the HTML page) and ``GET /api/kpis``
through Flask's test client, for a six-month and a twelve-month period, by month and by product.

Run: ``flock /tmp/bench.lock python benchmarks/kpi_bench.py [--pg postgresql://…/db] [--cases 100000] [--reps 30]``.
Without ``--pg`` it runs on a temporary SQLite file. The PostgreSQL database is emptied first.
Prints p50/p95 in milliseconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from engine.users import Actor  # noqa: E402
from tests.conftest import Api, empty_database, process_files, seed, start_case  # noqa: E402
from tests.web.test_dashboard import COMPLAINT, repair  # noqa: E402

TECHNICIANS = 20
PRODUCTS = ["KX-100", "KX-200", "KX-300", "KX-500 冷柜", "FR-20", "FR-40", "AC-9", "AC-12", "WH-3", "WH-8"]
REGIONS = ["浙江", "上海", "江苏", "广东", "北京", "四川", "湖北", "山东"]
TEAMS = ["technician", "technician_east", "technician_south", "technician_north"]

_COPY = ["definition_id", "key", "version", "customer_name", "customer_phone", "serial_no", "bindings", "variables",
         "started_by"]


def _in(values: list[str], n: str) -> str:
    """SQL picking ``values[n % len]`` (portable: a CASE)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({n}) % {len(values)} {whens} END)"


def seed_cases(sessions, dialect: str, templates: dict[str, int], cases: int, now: datetime) -> float:
    """Copy the template cases into ``cases`` finished ones; returns the seconds it took."""
    began = time.perf_counter()
    plus = ("(:now - (g.n % 365) * INTERVAL '1 day' - (g.n % 9) * INTERVAL '1 hour')" if dialect == "postgresql"
            else "datetime(:now, '-' || (g.n % 365) || ' days', '-' || (g.n % 9) || ' hours')")
    ended = (f"({plus} + INTERVAL '2 days')" if dialect == "postgresql" else f"datetime({plus}, '+2 days')")
    complaints = cases // 20
    with sessions() as s:
        for label, n_rows, template in (("fix", cases - complaints, "fix"), ("complaint", complaints, "complaint")):
            t = templates[template]
            late = templates["late"]
            # every 5th repair is the QC failure with a late work order, the rest first-time fixes
            source = f"(CASE WHEN g.n % 5 = 0 THEN {late} ELSE {t} END)" if label == "fix" else str(t)
            tech = f"'tech' || ((g.n % {TECHNICIANS}) + 1)"
            s.execute(text(f"""
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :rows)
                INSERT INTO instances ({", ".join(_COPY)}, business_key, state, started_at, ended_at, revision,
                                       product_model, region, technician, team, work_orders, work_orders_late,
                                       first_time_fix, satisfaction)
                SELECT {", ".join("i." + c for c in _COPY)}, 'BENCH-{label}-' || g.n, 'completed', {plus}, {ended}, 1,
                       {_in(PRODUCTS, "g.n")}, {_in(REGIONS, "g.n / 3")},
                       CASE WHEN i.technician IS NULL THEN NULL ELSE {tech} END,
                       CASE WHEN i.technician IS NULL THEN NULL ELSE {_in(TEAMS, f"g.n % {TECHNICIANS}")} END,
                       i.work_orders, i.work_orders_late, i.first_time_fix,
                       CASE WHEN i.satisfaction IS NULL THEN NULL ELSE 1 + (g.n % 5) END
                FROM g JOIN instances i ON i.id = {source}
            """), {"rows": n_rows, "now": now.replace(tzinfo=None) if dialect != "postgresql" else now})
            s.execute(text(f"""
                INSERT INTO history (instance_id, task_id, element_id, name, kind, completed_by, completed_at, data)
                SELECT c.id, h.task_id, h.element_id, h.name, h.kind, h.completed_by, c.ended_at, h.data
                FROM instances c JOIN history h ON h.instance_id = (CASE WHEN c.first_time_fix = {_false(dialect)}
                                                                     THEN {late} ELSE {t} END)
                WHERE c.business_key LIKE 'BENCH-{label}-%'
            """))
        s.execute(text(f"""
            INSERT INTO late_tasks (instance_id, element_id, rule, candidate_groups, completed_by, due_at, completed_at,
                                    product_model, region)
            SELECT c.id, l.element_id, l.rule, l.candidate_groups, c.technician, c.started_at, c.ended_at,
                   c.product_model, c.region
            FROM instances c JOIN late_tasks l ON l.instance_id = {templates["late"]}
            WHERE c.business_key LIKE 'BENCH-fix-%' AND c.work_orders_late > 0
        """))
        s.commit()
        if dialect == "postgresql":
            # what autovacuum does after a bulk insert: statistics, and the visibility map index-only scans need
            s.commit()
            raw = s.connection().connection.dbapi_connection
            raw.autocommit = True
            raw.execute("VACUUM ANALYZE instances")
            raw.execute("VACUUM ANALYZE late_tasks")
            raw.autocommit = False
    return time.perf_counter() - began


def _false(dialect: str) -> str:
    return "false" if dialect == "postgresql" else "0"


def timed(client, path: str, reps: int) -> tuple[float, float, int]:
    client.get(path)  # warm
    samples = []
    status = 0
    for _ in range(reps):
        began = time.perf_counter()
        r = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        status = r.status_code
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", help="PostgreSQL URL (emptied first); default a temporary SQLite file")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    from web import create_app

    clock = ManualClock()
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{tmp}/bench.db"
        if args.pg:
            empty_database(url)
        app = create_app({"DATABASE_URL": url, "CLOCK": clock, "SECRET_KEY": "bench", "TESTING": True,
                          "WTF_CSRF_ENABLED": False})
        ext = app.extensions["aftersales"]
        seed(ext["sessions"], clock.now())
        with ext["sessions"]() as s:
            ext["engine"].deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
            s.commit()
        api = Api(app.test_client())
        templates = {
            "fix": repair(api, clock, address="杭州市西湖区文三路 1 号", product="KX-200"),
            "late": repair(api, clock, address="上海市浦东新区", product="KX-300", qc_fails=1,
                           late_by=timedelta(hours=2), scores=(3, 3, 3)),
            "complaint": start_case(api, "complaint", COMPLAINT)["id"],
        }
        with ext["sessions"]() as s:  # the complaint template as a finished case
            s.execute(text("UPDATE instances SET state = 'completed', ended_at = started_at WHERE id = :i"),
                      {"i": templates["complaint"]})
            s.commit()
        dialect = ext["db"].dialect.name
        seconds = seed_cases(ext["sessions"], dialect, templates, args.cases, clock.now())
        with ext["sessions"]() as s:
            counts = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("instances", "history", "late_tasks")}
        print(f"{dialect}: seeded {args.cases:,} finished cases in {seconds:.1f} s "
              f"({', '.join(f'{k} {v:,}' for k, v in counts.items())})")
        client = app.test_client()
        client.post("/login", data={"username": "supervisor", "password": "demo"})
        basic = Api(app.test_client())
        paths = [
            ("GET /dashboard (6 months, by month)", "/dashboard", client),
            ("GET /dashboard (12 months, by product)", "/dashboard?from=2025-11-24&to=2026-11-23&by=product", client),
            ("GET /api/kpis (6 months, by month)", "/api/kpis", basic),
            ("GET /api/kpis (12 months, by week)", "/api/kpis?from=2025-11-24&to=2026-11-23&by=week", basic),
            ("GET /api/kpis (12 months, by technician)", "/api/kpis?from=2025-11-24&to=2026-11-23&by=technician", basic),
        ]
        print(f"{'request':44} {'p50 ms':>8} {'p95 ms':>8}  status")
        for label, path, who in paths:
            if who is basic:
                get = _BasicGet(basic)
                p50, p95, status = timed(get, path, args.reps)
            else:
                p50, p95, status = timed(who, path, args.reps)
            print(f"{label:44} {p50:8.1f} {p95:8.1f}  {status}")
        ext["db"].dispose()


class _BasicGet:
    def __init__(self, api: Api):
        self.api = api

    def get(self, path: str):
        return self.api.get("supervisor", path)


if __name__ == "__main__":
    main()

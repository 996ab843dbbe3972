"""One retention run over many finished cases: per kind of work (delivered notices deleted, history
removed, personal data anonymised) rows per second and ms per batch (p50/p95) in the first and the
last tenth of its batches — flat is the claim — how long a reader's query takes meanwhile, the dry
run's time, the database size before, after the run and after ``aftersales retention vacuum``
(SQLite), and the time a run over 1,000,000 cases with issue 17's 9.7 delivered notices each would take.

Every case is a copy of rows the engine wrote for one real repair case (registered, refused as out of
scope: history, repair request document with the customer's data, final variables) with ``--notices``
delivered notices. Half the copies ended past the history period (removed), half only past the
personal-data period (anonymised); their end times are a second apart.

Run: ``flock /tmp/bench.lock python benchmarks/retention_run.py [--cases 20000] [--batch 50]
[--notices 10] [--database URL] [--explain]`` (default: a temporary SQLite file; a PostgreSQL database
is emptied first). ``--explain`` prints the plan of each statement of one batch of each kind, taken
mid-run. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pathlib
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, insert, select  # noqa: E402

import handlers  # noqa: E402
from engine import free_space, retention, retention_runs  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.models import HistoryEntry, Instance, Notification  # noqa: E402
from engine.users import Actor  # noqa: E402
from engine.wiring import build  # noqa: E402
from handlers.records import Document  # noqa: E402
from tests.conftest import process_files, seed  # noqa: E402

CS = Actor("customer_service", frozenset({"customer_service"}))
ADMIN = Actor("admin", frozenset({"admin"}))
REQUEST = {"customer_name": "张三", "customer_phone": "13800138000", "customer_address": "杭州市西湖区文三路 1 号",
           "product_model": "KX-200", "serial_no": "SN-1", "purchase_date": "2026-06-01", "purchase_proof": "INV-1",
           "channel": "phone", "fault_description": "不制冷"}


def one_real_case(engine, sessions) -> int:
    with sessions() as s:
        inst = engine.start(s, "repair", CS, variables=REQUEST)
        for values in ({"identity_confirmed": True, "in_scope": False, "in_warranty": False, "scope_reason": "人为损坏"},
                       {"customer_informed": True}):
            task = engine.open_tasks(s, inst.id)[0]
            engine.complete_task(s, task.id, CS, values)
        s.commit()
        return inst.id


def clone(sessions, template: int, copies: int, clock: ManualClock, notices: int, chunk: int = 1000) -> None:
    """``copies`` cases copied from the template's rows; ended 2,000 days (first half) or 1,200 days ago,
    a second apart; each with ``notices`` delivered notices, sent 90 days ago."""
    with sessions() as s:
        inst = s.get(Instance, template)
        row = {c.name: getattr(inst, c.key) for c in Instance.__table__.columns if c.name != "id"}
        history = [{c.name: getattr(h, c.key) for c in HistoryEntry.__table__.columns if c.name != "id"}
                   for h in s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == template))]
        docs = [{c.name: getattr(d, c.key) for c in Document.__table__.columns if c.name != "id"}
                for d in s.scalars(select(Document).where(Document.instance_id == template))]
        base = s.scalar(select(func.max(Instance.id))) or 0
    now = clock.now()
    for start in range(0, copies, chunk):
        with sessions() as s:
            n = min(chunk, copies - start)
            ids = range(base + start + 1, base + start + n + 1)
            rows = []
            for k, iid in enumerate(ids):
                ended = now - timedelta(days=2000 if start + k < copies // 2 else 1200) + timedelta(seconds=start + k)
                rows.append({**row, "id": iid, "business_key": f"RX-B-{iid}", "started_at": ended - timedelta(hours=2),
                             "ended_at": ended})
            s.execute(insert(Instance), rows)
            s.execute(insert(HistoryEntry), [{**h, "instance_id": iid} for iid in ids for h in history])
            s.execute(insert(Document), [{**d, "instance_id": iid, "number": f"{d['number']}-{iid}"}
                                         for iid in ids for d in docs])
            s.execute(insert(Notification), [{"kind": "customer", "recipient": f"phone:{REQUEST['customer_phone']}",
                                              "subject": "已受理", "body": "", "instance_id": iid,
                                              "created_at": now - timedelta(days=90), "next_attempt_at": now,
                                              "sent_at": now - timedelta(days=90, seconds=-(iid * notices + j)),
                                              "attempts": 1} for iid in ids for j in range(notices)])
            s.commit()


def reader(url: str, template: int, stop, queue) -> None:
    from engine.db import make_engine, make_read_session_factory

    db = make_engine(url)
    reads = make_read_session_factory(db)
    queue.put("ready")
    times = []
    while not stop.is_set():
        t = time.perf_counter()
        with reads() as s:
            s.scalar(select(func.count()).select_from(Instance).where(Instance.state == "running"))
            s.get(Instance, template)
        times.append(1000 * (time.perf_counter() - t))
        time.sleep(0.005)
    queue.put(times)
    db.dispose()


def size(db) -> int:
    return free_space.space(db).size


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def explain(db, statements: list[tuple[str, dict | tuple]]) -> None:
    """The plan of each SELECT/DELETE a batch ran, with its own parameters."""
    prefix = "EXPLAIN QUERY PLAN " if db.dialect.name == "sqlite" else "EXPLAIN "
    with db.connect() as conn:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith(("SELECT", "DELETE")) or "retention_runs" in sql:
                continue
            print("   ", " ".join(sql.split())[:160])
            for row in conn.exec_driver_sql(prefix + sql, params).all():
                print("       ", row[-1] if db.dialect.name == "sqlite" else row[0])


def figures(label: str, batches: list[tuple[str, int, float]]) -> None:
    """Rows per second and ms per batch (p50/p95), first tenth against last tenth, per kind."""
    for kind in ("notifications", "remove", "anonymise"):
        mine = [(n, ms) for k, n, ms in batches if k == kind]
        if not mine:
            continue
        rows, ms = sum(n for n, _ in mine), sum(t for _, t in mine)
        tenth = max(1, len(mine) // 10)

        def pct(part):
            times = sorted(t for _, t in part)
            return f"p50 {statistics.median(times):6.1f} p95 {times[min(len(times) - 1, int(0.95 * len(times)))]:6.1f}"
        print(f"{label}{kind:14s} {rows:9d} rows in {len(mine):6d} batches, {1000 * rows / ms:8.0f} rows/s; "
              f"ms per batch: first tenth {pct(mine[:tenth])}, last tenth {pct(mine[-tenth:])}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--notices", type=int, default=10, help="delivered notices per case (issue 17: 9.7)")
    ap.add_argument("--database", default=None)
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/retention.db"
    if url.startswith("postgresql"):
        from tests.conftest import empty_database

        empty_database(url)
    clock = ManualClock()
    engine, sessions, db = build(handlers.default_registry(), url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, process_files(), ADMIN)
        retention.save(s, ADMIN, {"batch_size": args.batch}, clock.now())
        s.commit()
    template = one_real_case(engine, sessions)
    t0 = time.perf_counter()
    clone(sessions, template, args.cases, clock, args.notices)
    if db.dialect.name == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    clock.advance(days=1)
    with sessions() as s:
        history = s.scalar(select(func.count()).select_from(HistoryEntry))
    before = size(db)
    print(f"{args.cases} finished cases copied from case {template} on {db.dialect.name} "
          f"({args.cases * args.notices} delivered notices, {history} history rows) in "
          f"{time.perf_counter() - t0:.0f} s; database {mb(before)}")

    with sessions() as s:
        settings = retention.load(s)
        t0 = time.perf_counter()
        plan = retention.plan(s, settings, clock.now())
        first_page, _next = retention.due_cases(s, settings, clock.now(), "remove", limit=50)
        print(f"dry run: {plan.remove} to remove, {plan.anonymise} to anonymise, {plan.notifications} notices; "
              f"counts + first page {1000 * (time.perf_counter() - t0):.0f} ms")

    # what an inbox request does meanwhile, in a process of its own (no shared GIL): short reads
    queue: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    reader_process = multiprocessing.Process(target=reader, args=(url, template, stop, queue))
    reader_process.start()
    queue.get()  # the reader is ready
    with sessions() as s:
        run = retention_runs.start_run(s, settings, "bench", clock.now())
        s.commit()
        run_id = run.id
    captured: list[tuple[str, dict | tuple]] = []
    capturing = False

    @event.listens_for(db, "before_cursor_execute")
    def _capture(_conn, _cursor, statement, parameters, _context, _many):
        if capturing:
            captured.append((statement, parameters))

    batches: list[tuple[str, int, float]] = []  # kind, rows or cases, wall ms (the batch's transaction)
    explained: dict[str, int] = {}
    t_run = time.perf_counter()
    while True:
        capturing = args.explain
        t = time.perf_counter()
        with sessions() as s:
            more = retention_runs.next_batch(s, run_id, settings, clock.now())
            s.commit()
        took = 1000 * (time.perf_counter() - t)
        capturing = False
        if not more:
            break
        with sessions() as s:
            last = retention_runs.last_batches(s, run_id, limit=1)[0]
        batches.append((last.kind, last.count, took))
        if args.explain:
            explained[last.kind] = explained.get(last.kind, 0) + 1
            if explained[last.kind] == 3:  # a batch with a cursor set, early in its kind
                print(f"plans of a {last.kind} batch:")
                explain(db, captured)
            captured.clear()
    total = time.perf_counter() - t_run
    stop.set()
    reader_ms = queue.get()
    reader_process.join()
    batch_ms = [ms for _k, _n, ms in batches]
    q = statistics.quantiles(batch_ms, n=20)
    r = statistics.quantiles(reader_ms, n=20) if len(reader_ms) > 20 else [max(reader_ms)] * 19
    print(f"run: {len(batches)} batches of ≤{args.batch} cases / ≤{args.batch * retention_runs.NOTICES_PER_CASE} notices "
          f"in {total:.1f} s")
    figures("  ", batches)
    print(f"write transaction per batch, all kinds: p50 {statistics.median(batch_ms):.0f} ms, p95 {q[18]:.0f} ms, "
          f"max {max(batch_ms):.0f} ms")
    print(f"a reader meanwhile ({len(reader_ms)} reads): p50 {statistics.median(reader_ms):.1f} ms, "
          f"p95 {r[18]:.1f} ms, max {max(reader_ms):.1f} ms")
    rate = {k: sum(n for kk, n, _ in batches if kk == k) / max(1e-9, sum(ms for kk, _, ms in batches if kk == k) / 1000)
            for k in ("notifications", "remove", "anonymise")}
    if all(rate.values()):
        # issue 17's database: 1M finished cases, 9.7M delivered notices; a night removes what is due
        minutes = (9_700_000 / rate["notifications"] + 1_000_000 / rate["remove"]) / 60
        print(f"at these rates 1,000,000 cases' history with 9.7M notices take {minutes:.0f} min "
              f"(or anonymised instead of removed: {(9_700_000 / rate['notifications'] + 1_000_000 / rate['anonymise']) / 60:.0f} min)")
    with sessions() as s:
        left = s.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.instance_id != template))
    after = size(db)
    t0 = time.perf_counter()
    _b, vacuumed = free_space.reclaim(db, tables=retention.cleaned_tables())
    print(f"history rows left (held or not yet due): {left}; database before {mb(before)}, after the run {mb(after)}, "
          f"after `retention vacuum` {mb(vacuumed.size)} ({vacuumed.auto_vacuum}, "
          f"{time.perf_counter() - t0:.1f} s)")
    db.dispose()


if __name__ == "__main__":
    main()

"""One retention run over many finished cases: how long its write transactions (batches) hold the
database, how long a reader's query takes meanwhile, cases per second, the dry run's time, and the
database size before and after.

Every case is a copy of rows the engine wrote for one real repair case (registered, refused as out of
scope: history, repair request document with the customer's data, final variables). Half the copies
ended past the history period (removed), half only past the personal-data period (anonymised).

Run: ``flock /tmp/bench.lock python benchmarks/retention_run.py [--cases 20000] [--batch 100]
[--database URL]`` (default: a temporary SQLite file). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

import handlers  # noqa: E402
from engine import retention  # noqa: E402
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


def clone(sessions, template: int, copies: int, clock: ManualClock, chunk: int = 1000) -> None:
    """``copies`` cases copied from the template's rows; ended 2,000 days (first half) or 1,200 days ago."""
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
                ended = now - timedelta(days=2000 if start + k < copies // 2 else 1200)
                rows.append({**row, "id": iid, "business_key": f"RX-B-{iid}", "started_at": ended - timedelta(hours=2),
                             "ended_at": ended})
            s.execute(insert(Instance), rows)
            s.execute(insert(HistoryEntry), [{**h, "instance_id": iid} for iid in ids for h in history])
            s.execute(insert(Document), [{**d, "instance_id": iid, "number": f"{d['number']}-{iid}"}
                                         for iid in ids for d in docs])
            s.execute(insert(Notification), [{"kind": "customer", "recipient": f"phone:{REQUEST['customer_phone']}",
                                              "subject": "已受理", "body": "", "instance_id": iid,
                                              "created_at": now - timedelta(days=90), "next_attempt_at": now,
                                              "sent_at": now - timedelta(days=90), "attempts": 1} for iid in ids])
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


def size(db, url: str) -> str:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        total = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
        return f"{total / 1e6:.1f} MB"
    with db.connect() as conn:
        return f"{conn.execute(text('SELECT pg_database_size(current_database())')).scalar() / 1e6:.1f} MB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/retention.db"
    clock = ManualClock()
    engine, sessions, db = build(handlers.default_registry(), url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, process_files(), ADMIN)
        retention.save(s, ADMIN, {"batch_size": args.batch}, clock.now())
        s.commit()
    template = one_real_case(engine, sessions)
    clone(sessions, template, args.cases, clock)
    clock.advance(days=1)
    print(f"{args.cases} finished cases copied from case {template} on {db.dialect.name}; database {size(db, url)}")

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
        run = retention.start_run(s, settings, "bench", clock.now())
        s.commit()
        run_id = run.id
    batch_ms = []
    t_run = time.perf_counter()
    while True:
        t = time.perf_counter()
        with sessions() as s:
            more = retention.next_batch(s, run_id, settings, clock.now())
            s.commit()
        batch_ms.append(1000 * (time.perf_counter() - t))
        if not more:
            break
    total = time.perf_counter() - t_run
    stop.set()
    reader_ms = queue.get()
    reader_process.join()
    q = statistics.quantiles(batch_ms, n=20)
    r = statistics.quantiles(reader_ms, n=20) if len(reader_ms) > 20 else [max(reader_ms)] * 19
    print(f"run: {len(batch_ms)} batches of ≤{args.batch} cases in {total:.1f} s = {args.cases / total:.0f} cases/s")
    print(f"write transaction per batch: p50 {statistics.median(batch_ms):.0f} ms, p95 {q[18]:.0f} ms, "
          f"max {max(batch_ms):.0f} ms")
    print(f"a reader meanwhile ({len(reader_ms)} reads): p50 {statistics.median(reader_ms):.1f} ms, "
          f"p95 {r[18]:.1f} ms, max {max(reader_ms):.1f} ms")
    with sessions() as s:
        left = s.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.instance_id != template))
        print(f"history rows left (held or not yet due): {left}; database {size(db, url)} "
              "(SQLite reuses freed pages; VACUUM returns them to the disk)")
    db.dispose()


if __name__ == "__main__":
    main()

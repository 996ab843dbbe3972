"""Full-size fault runs of the worker tier (the suite runs them smaller, in tests/web/test_worker_faults.py):

- ``timers``: 3 Celery workers and 1,000 timers falling due at one moment: duplicates and losses (history,
  tasks, notifications) and the lateness of each timer (fire time − due time: p25/p50/p95/p99/max).
- ``broker``: the worker tier's broker connection cut by a TCP proxy for 30 s while timers fall due and
  asynchronous service tasks and notices are queued; after it is back: duplicates, losses, how late.

Prints figures, asserts nothing. Run under ``flock /tmp/bench.lock``:
``python benchmarks/faults.py [timers|broker ...] --database-url postgresql://…/DB [--broker amqp://…]
[--timers 1000] [--workers 3] [--outage 30] [--repeat 1]``. The database is emptied for each run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.models import HistoryEntry  # noqa: E402
from tests import faults  # noqa: E402
from tests.production import Processes, wait_for  # noqa: E402


def reset(url: str) -> None:
    from tests.conftest import empty_database

    empty_database(url)


def _wait_ready(procs: Processes, n: int) -> None:
    wait_for(lambda: sum(p.read_text(errors="replace").count(" ready.") for p in procs.tmp_path.glob("worker*.log")) >= n,
             120, f"{n} workers ready", procs)


def _spread(late: list[float]) -> dict:
    return {f"p{int(q * 100)}_s": round(faults.quantile(late, q), 2) for q in (.25, .5, .95, .99)} | {
        "max_s": round(max(late), 2) if late else None}


def _tasks(logs: str, name: str, result: str) -> int:
    """How many ``name`` tasks the workers' logs say succeeded (with ``result``)."""
    return len(re.findall(rf"aftersales\.{name}\[[^]]+\] succeeded in [0-9.e-]+s: {result}", logs))


def timers(args, tmp: pathlib.Path) -> dict:
    reset(args.database_url)
    engine, sessions, db = faults.build_live(args.database_url)
    procs = Processes(tmp, args.database_url, args.broker)
    try:
        procs.worker("--beat", "--concurrency", "1")
        for _ in range(args.workers - 1):
            procs.worker("--concurrency", "1")
        _wait_ready(procs, args.workers)
        started = time.monotonic()
        fire_at = faults.soon(args.timers / 80 + 3)
        ids = faults.start_timers(engine, sessions, args.timers, fire_at)
        created_s = time.monotonic() - started
        committed_before_due = faults.now() < fire_at
        wait_for(lambda: faults.timers_done(sessions, ids), 600, "every timer fired", procs)
        done_after_due_s = (faults.now() - fire_at).total_seconds()
        figures = faults.exactly_once(sessions, ids, "wait")
        late = faults.lateness(sessions, ids, "wait", fire_at)
        logs = "".join(p.read_text(errors="replace") for p in tmp.glob("worker*.log"))
    finally:
        procs.stop_all()
        db.dispose()
    return {"scenario": "timers", "workers": args.workers, "timers": args.timers, "created_s": round(created_s, 1),
            "all_committed_before_due": committed_before_due, "all_done_s_after_due": round(done_after_due_s, 1),
            "lateness": _spread(late), **figures,
            "fire_timer_messages": {"fired": _tasks(logs, "fire_timer", "True"),
                                    "nothing_due": _tasks(logs, "fire_timer", "False")},
            "deliver_messages": _tasks(logs, "deliver_notifications", "")}


def broker(args, tmp: pathlib.Path) -> dict:
    from kombu.utils.url import url_to_parts

    reset(args.database_url)
    engine, sessions, db = faults.build_live(args.database_url)
    _scheme, host, port, *_rest = url_to_parts(args.broker)
    proxy = faults.TcpProxy(host or "127.0.0.1", port or 5672)
    proxy.start()
    procs = Processes(tmp, args.database_url, proxy.url(args.broker))
    n = args.outage_jobs
    try:
        procs.worker("--beat", "--concurrency", "1")
        procs.worker("--concurrency", "1")
        _wait_ready(procs, 2)
        warm = faults.start_timers(engine, sessions, 5, faults.soon(1))
        wait_for(lambda: faults.timers_done(sessions, warm), 60, "timers through the proxy", procs)
        proxy.cut()
        cut_at = faults.now()
        due = faults.start_timers(engine, sessions, n, faults.soon(1))
        asynchronous = faults.start_async(engine, sessions, n)
        time.sleep(max(0.0, args.outage - (faults.now() - cut_at).total_seconds()))
        done_meanwhile = faults.count(sessions, HistoryEntry, HistoryEntry.instance_id.in_(due + asynchronous),
                                      HistoryEntry.element_id.in_(["wait", "tell"]))
        proxy.restore()
        back_at = faults.now()
        wait_for(lambda: faults.timers_done(sessions, due) and faults.async_done(sessions, asynchronous), 600,
                 "the work queued during the outage", procs)
        all_done_s = (faults.now() - back_at).total_seconds()
        result = {"timers": faults.exactly_once(sessions, due, "wait"),
                  "async": faults.exactly_once(sessions, asynchronous, "tell")}
        after_back = faults.lateness(sessions, due, "wait", back_at)
        async_after_back = faults.lateness(sessions, asynchronous, "tell", back_at)
    finally:
        procs.stop_all()
        proxy.stop()
        db.dispose()
    return {"scenario": "broker", "outage_s": args.outage, "done_during_outage": done_meanwhile,
            "all_done_s_after_back": round(all_done_s, 1),
            "timers_fired_s_after_back": _spread(after_back), "async_done_s_after_back": _spread(async_after_back),
            **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["timers", "broker"], choices=["timers", "broker"])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a database to empty and use (default DATABASE_URL)")
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--outage", type=float, default=30)
    parser.add_argument("--outage-jobs", type=int, default=100, help="timers and async tasks each, queued in the outage")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url (or DATABASE_URL): the database is emptied for each run")
    print(f"# database {args.database_url.rsplit('@', 1)[-1]}, broker {args.broker.rsplit('@', 1)[-1]}, "
          f"{os.cpu_count()} cores (shared: figures are noisy)", flush=True)
    for _ in range(args.repeat):
        for name in args.scenarios:
            with tempfile.TemporaryDirectory() as tmp:
                print(json.dumps({"timers": timers, "broker": broker}[name](args, pathlib.Path(tmp))), flush=True)


if __name__ == "__main__":
    main()

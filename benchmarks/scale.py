"""A company after a few years: 1,000,000 finished and 100,000 open repair cases, the real server
with its background worker running, and the figures of issue 17 next to an empty database.

Run::

    python benchmarks/scale.py --db sqlite                       # full size, seeds once into --path
    python benchmarks/scale.py --db postgresql --finished 20000 --open 2000   # a quick run
    python benchmarks/scale.py --db sqlite --path /tmp/s.db --reseed

Every seeded row is a copy of one the engine wrote: a few real repair cases (finished ones with their
follow-up case run to the end; open ones stopped at each stage, some for days, so overdue notices went
out) run through the engine API, then their rows in every table that has an ``instance_id`` (instances,
open tasks, history, timers, documents, approvals, stock movements, outbox, …) are copied with fresh
ids, case numbers, names, phones, serial numbers and task ids by set-based ``INSERT … SELECT``; finished
copies are spread over the last 1,000 days. Open copies get their own workflow (the template's, its
task ids and customer data rewritten), so they can be worked on like any case. The seeded database is
kept (``--path`` / ``--pg-db``) and later runs skip seeding.

Then ``aftersales serve`` (what ``aftersales demo`` serves with, the background worker in-process) is
started on it and on an empty database, and p50/p95 are printed for the inbox API first page, the inbox
page, search by case number / phone / serial, the case list, starting a case and completing a task,
then the idle server CPU over ``--idle-seconds`` (from /proc/<pid>/stat) and the database size before
and after one cleanup run (``aftersales retention run``, when this build has it) and after
``aftersales retention vacuum --full`` (SQLite gives the freed pages back). Timed parts hold
``/tmp/bench.lock``. Asserts nothing.
"""

from __future__ import annotations

import argparse
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
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 50_000
DAYS_SPREAD = 1000  # finished copies ended over the last 1,000 days
FINISHED_BUCKETS = 20  # copy N of the finished cases follows template by N % 20 (weights below)
OPEN_BASE = 10_000_000  # copy numbers of open cases start here (finished ones at 0)
STRIDE = 4  # instance ids per copy: the repair case and the cases it started
AFTERSALES = str(pathlib.Path(sys.executable).parent / "aftersales")
NAMES = [a + b for a in "张王李赵刘陈杨黄吴周徐孙马朱胡郭何林高罗" for b in "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"]
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Columns that may hold a customer's name, phone, serial or the case number: only these are rewritten
# in the engine's own tables (other tables, e.g. ones a later revision adds, get every text column).
TOKEN_COLUMNS = {
    "instances": {"business_key", "customer_name", "customer_phone", "serial_no", "variables", "error_message"},
    "history": {"data"}, "documents": {"number", "data"}, "notifications": {"subject", "body", "recipient"},
    "procurements": {"number"}, "stock_movements": {"slip_no"}, "open_tasks": set(), "timers": set(),
    "message_waits": set(), "message_keys": {"value"}, "approvals": set(), "async_jobs": set(),
    "customer_data_reads": set(),
}
TASK_ID_COLUMNS = {("open_tasks", "id"), ("history", "task_id"), ("async_jobs", "task_id")}


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- the template cases

ACTORS: dict = {}


def actor(name: str):
    from engine.users import Actor

    return ACTORS.setdefault(name, Actor(name, frozenset({name})))


def request(k: int) -> dict:
    return dict(customer_name=NAMES[k % len(NAMES)], customer_phone=f"1390000{k:04d}",
                customer_address="上海市浦东新区张江路 88 号", product_model="KX-200", serial_no=f"SN-TPL-{k:04d}",
                channel="phone", fault_description="不制冷，压缩机异响")


ONSITE = [("customer_service", dict(identity_confirmed=True, in_scope=True, in_warranty=True)),
          ("tech_support", dict(fault_cause="compressor", fault_nature="quality", solution="replace board",
                                remote_fixed=False, plan="onsite", parts_needed="P-100:1", estimated_amount=300)),
          ("supervisor", dict(plan_approved=True)),
          ("technician", dict(appointment_date="2026-11-25", travel_mode="company_car")),
          ("warehouse", dict(parts_handed_over=True)),
          ("technician", dict(repair_steps="replaced", repair_result="works", tested_ok=True, parts_used="P-100:1",
                              old_parts_returned=1)),
          ("supervisor", dict(qc_passed=True)),
          ("customer_service", dict(customer_signed=True, solved=True)),
          ("customer_service", dict(satisfaction_quality=5, satisfaction_timeliness=5, satisfaction_attitude=4))]
REMOTE = [ONSITE[0],
          ("tech_support", dict(fault_cause="设置错误", fault_nature="misuse", solution="远程指导", remote_fixed=True)),
          ("customer_service", dict(satisfaction_quality=5, satisfaction_timeliness=4, satisfaction_attitude=5))]
SCORES = dict(satisfaction_quality=4, satisfaction_timeliness=5, satisfaction_attitude=5)
# finished templates and the buckets (of 20) of copies that follow them
FINISHED = [("onsite", ONSITE, range(0, 11)), ("remote", REMOTE, range(11, 20))]
OPEN_STAGES = 6  # stopped before steps 1..6 of ONSITE: scope check, diagnosis, approval, work order, ...
OPEN_AGES = [timedelta(minutes=5), timedelta(hours=3), timedelta(days=1), timedelta(days=4), timedelta(days=12)]


@dataclass
class Template:
    kind: str  # finished|open
    instance_ids: list[int]  # the repair case first, then the cases it started (follow-up)
    tokens: dict[str, str]  # case_no, phone, serial, name
    buckets: list[int] = field(default_factory=list)


class Builder:
    """Runs the template cases through the engine API, with a manual clock so that finished cases
    finish and open ones have waited (timers fired, overdue notices sent) as they would have."""

    def __init__(self, url: str):
        import handlers
        from engine.clock import ManualClock
        from engine.notifications import ConsoleSender
        from engine.wiring import build
        from web.cli import _deploy, seed_demo
        from web.scheduler import TimerScheduler

        self.now = datetime.now(UTC).replace(microsecond=0)
        self.clock = ManualClock(self.now)
        self.engine, self.sessions, self.db = build(handlers.default_registry(), url, clock=self.clock)
        _deploy(self.sessions, self.engine, (), "demo", "demo")
        seed_demo(self.engine, self.sessions)
        self.worker = TimerScheduler(self.engine, self.sessions, sender=ConsoleSender())
        self.k = 0

    def drain(self) -> None:
        for _ in range(200):
            if not self.worker.run_due():
                from web import jobs

                if not jobs.due_work(self.engine, self.sessions):
                    return

    def at(self, when: datetime) -> None:
        self.clock.set(when)
        self.drain()

    def start(self) -> tuple[int, dict]:
        self.k += 1
        req = request(self.k)
        with self.sessions() as s:
            inst = self.engine.start(s, "repair", actor("customer_service"), variables=req)
            s.commit()
            return inst.id, req

    def complete(self, iid: int, who: str, values: dict) -> None:
        if "appointment_date" in values:  # the form takes an appointment from the (manual) clock's today on
            values = {**values, "appointment_date": (self.clock.now() + timedelta(days=2)).date().isoformat()}
        with self.sessions() as s:
            task = self.engine.list_tasks(s, actor(who), instance_id=iid)[0]
            self.engine.complete_task(s, task.id, actor(who), values)
            s.commit()
        self.drain()

    def tokens(self, iid: int, req: dict) -> dict[str, str]:
        from engine.models import Instance

        with self.sessions() as s:
            bk = s.get(Instance, iid).business_key
        return {"case_no": bk, "phone": req["customer_phone"], "serial": req["serial_no"], "name": req["customer_name"]}

    def finished(self, steps) -> Template:
        from engine.models import Instance

        # a Tuesday, 10:00 in Shanghai, some 400 days ago; a step every 5 minutes (no deadline missed)
        begun = (self.now - timedelta(days=400)).replace(hour=2, minute=0, second=0)
        begun -= timedelta(days=(begun.weekday() - 1) % 7)
        self.at(begun)
        iid, req = self.start()
        for i, (who, values) in enumerate(steps):
            self.at(begun + timedelta(minutes=5 * (i + 1)))
            self.complete(iid, who, values)
        with self.sessions() as s:
            fid = (s.get(Instance, iid).variables or {}).get("follow_up_instance")
        ids = [iid]
        if fid:
            ids.append(fid)
            for month in (3, 6, 12):
                self.at(begun + timedelta(days=31 * month + 5))
                self.complete(fid, "customer_service", SCORES)
        return Template("finished", ids, self.tokens(iid, req))

    def open(self, stage: int, age: timedelta) -> Template:
        begun = self.now - age
        self.at(begun)
        iid, req = self.start()
        for who, values in ONSITE[:stage]:
            self.complete(iid, who, values)
        return Template("open", [iid], self.tokens(iid, req))

    def build(self) -> list[Template]:
        out = []
        for name, steps, buckets in FINISHED:
            t = self.finished(steps)
            t.buckets = list(buckets)
            out.append(t)
            log(f"  template finished/{name}: instances {t.instance_ids}, case {t.tokens['case_no']}")
        for age in sorted(OPEN_AGES, reverse=True):  # oldest first: the clock only moves forward
            for stage in range(OPEN_STAGES):
                out.append(self.open(stage, age))
        self.at(self.now)
        log(f"  {len(out) - len(FINISHED)} open templates: stages 0..{OPEN_STAGES - 1} x ages "
            f"{', '.join(str(a) for a in OPEN_AGES)}")
        self.db.dispose()
        return out


# --------------------------------------------------------------------------- copying

class Copier:
    def __init__(self, url: str, templates: list[Template]):
        import sqlalchemy as sa

        import handlers  # noqa: F401  (registers the handlers' tables)
        from engine.db import database_url
        from engine.models import Base

        self.sa = sa
        self.url = database_url(url)
        self.pg = self.url.startswith("postgresql")
        self.db = sa.create_engine(self.url)
        self.templates = templates
        self.metadata = Base.metadata
        with self.db.connect() as c:
            insp = sa.inspect(c)
            names = set(insp.get_table_names())
        self.tables = [t for t in self.metadata.sorted_tables if t.name in names
                       and (t.name == "instances" or "instance_id" in t.c)]
        self.first_id = 0

    def connect(self):
        conn = self.db.connect()
        if self.pg:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.exec_driver_sql("SET session_replication_role = replica")  # no FK triggers while copying
            conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        else:
            for p in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY",
                      "foreign_keys=OFF"):
                conn.exec_driver_sql(f"PRAGMA {p}")
        return conn

    # SQL pieces; N is the copy number
    def hex12(self, n: str) -> str:
        return f"lpad(to_hex({n}), 12, '0')" if self.pg else f"printf('%012x', {n})"

    def shift(self, col: str, days: str) -> str:
        if self.pg:
            return f"({col} - ({days}) * interval '1 day')"
        return (f"CASE WHEN {col} IS NULL THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', {col}, '-' || ({days}) || ' days')"
                f" || substr({col}, 20) END")

    def text_col(self, col, expr: str) -> str:
        return f"CAST({expr} AS TEXT)" if (self.pg and isinstance(col.type, self.sa.JSON)) else expr

    def replaced(self, col, src: str) -> str:
        expr = self.text_col(col, src)
        for tok in ("case_no", "phone", "serial"):
            expr = f"replace({expr}, :t_{tok}, {self.new_token(tok)})"
        expr = f"replace({expr}, :t_name, nm.plain)"
        if isinstance(col.type, self.sa.JSON):
            expr = f"replace({expr}, :t_name_json, nm.js)"
            expr = f"replace({expr}, :t_fu, :t_fu_pre || CAST(:id0 + N.n * {STRIDE} + 1 AS TEXT))"
            if self.pg:
                expr = f"CAST({expr} AS JSON)"
        return expr

    def new_token(self, tok: str) -> str:
        n = "N.n"
        return {"case_no": f"(:t_case_pre || CAST({n} AS TEXT))", "phone": f"CAST(13000000000 + {n} AS TEXT)",
                "serial": f"('SN' || CAST(10000000 + {n} AS TEXT))"}[tok]

    def select_for(self, table, finished: bool) -> tuple[list[str], list[str]]:
        from sqlalchemy import JSON, DateTime, Integer, String, Text

        cols, exprs = [], []
        uniques = {c.name for c in table.c if c.unique} | {
            list(u.columns)[0].name for u in table.constraints
            if isinstance(u, self.sa.UniqueConstraint) and len(u.columns) == 1}
        token_cols = TOKEN_COLUMNS.get(table.name)
        for col in table.c:
            src = f"t.{col.name}"
            if table.name != "instances" and col.primary_key and isinstance(col.type, Integer):
                continue  # the database numbers the copy
            if table.name == "instances" and col.name == "id":
                e = f"(:id0 + N.n * {STRIDE} + :j)"
            elif col.name == "instance_id":
                e = f"(:id0 + N.n * {STRIDE} + :j)"
            elif (table.name, col.name) in TASK_ID_COLUMNS:
                e = f"CASE WHEN {src} IS NULL THEN NULL ELSE substr({src}, 1, 24) || {self.hex12('N.n')} END"
            elif isinstance(col.type, DateTime) and finished:
                e = self.shift(src, f"N.n % {DAYS_SPREAD}")
            elif isinstance(col.type, String | Text | JSON) and (token_cols is None or col.name in token_cols):
                e = self.replaced(col, src)
                if col.name in uniques or (col.primary_key and not isinstance(col.type, Integer)):
                    e = f"CASE WHEN {src} LIKE '%' || :t_case_no || '%' THEN {e} ELSE {src} || '-' || CAST(N.n AS TEXT) END"
            elif col.name in uniques:
                e = f"{src} || '-' || CAST(N.n AS TEXT)"
            else:
                e = src
            cols.append(col.name)
            exprs.append(e)
        return cols, exprs

    def params(self, t: Template, j: int, iid: int, base: int) -> dict:
        case = t.tokens["case_no"] or ""
        pre = case.rsplit("-", 1)[0] + "-" if "-" in case else case + "-"
        fu = t.instance_ids[1] if len(t.instance_ids) > 1 else -1
        return {"tid": iid, "j": j, "id0": self.first_id, "base": base,
                "t_case_no": case, "t_case_pre": pre, "t_phone": t.tokens["phone"], "t_serial": t.tokens["serial"],
                "t_name": t.tokens["name"], "t_name_json": json.dumps(t.tokens["name"])[1:-1],
                "t_fu": f'"follow_up_instance": {fu}', "t_fu_pre": '"follow_up_instance": '}

    def prepare(self, conn) -> None:
        sa = self.sa
        top = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM instances")).scalar_one()
        self.first_id = (top // 1000 + 1) * 1000
        conn.exec_driver_sql("CREATE TEMP TABLE seed_seq (n INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TEMP TABLE seed_names (i INTEGER PRIMARY KEY, plain TEXT, js TEXT)")
        conn.execute(sa.text("INSERT INTO seed_seq (n) VALUES (:n)"), [{"n": n} for n in range(BATCH)])
        conn.execute(sa.text("INSERT INTO seed_names (i, plain, js) VALUES (:i, :p, :j)"),
                     [{"i": i, "p": nm, "j": json.dumps(nm)[1:-1]} for i, nm in enumerate(NAMES)])

    def copy_batch(self, conn, base: int, count: int, finished: bool) -> None:
        """Copies ``base .. base+count-1`` (copy numbers) of the finished or open templates."""
        sa = self.sa
        templates = [t for t in self.templates if t.kind == ("finished" if finished else "open")]
        for ti, t in enumerate(templates):
            if finished:
                where = f"(N.n % {FINISHED_BUCKETS}) IN ({', '.join(map(str, t.buckets))})"
            else:
                where = f"(N.n % {len(templates)}) = {ti}"
            seq = (f"(SELECT seed_seq.n + :base AS n FROM seed_seq WHERE seed_seq.n < {count}) N "
                   f"JOIN seed_names nm ON nm.i = N.n % {len(NAMES)}")
            if not finished:
                self.open_instances(conn, t, base, count, ti, len(templates))
            for j, iid in enumerate(t.instance_ids):
                p = self.params(t, j, iid, base)
                for table in self.tables:
                    if not finished and table.name == "instances":
                        continue  # open cases: rows with their own workflow, below
                    cols, exprs = self.select_for(table, finished)
                    key = "id" if table.name == "instances" else "instance_id"
                    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {seq} "
                           f"CROSS JOIN {table.name} t WHERE t.{key} = :tid AND {where}")
                    conn.execute(sa.text(sql), p)

    def open_instances(self, conn, t: Template, base: int, count: int, ti: int, period: int) -> None:
        """Open copies with a workflow of their own: the template's, with its task ids (as in
        open_tasks and history) and customer data rewritten, so a copy can be worked on."""
        sa = self.sa
        table = self.metadata.tables["instances"]
        row = conn.execute(sa.select(table).where(table.c.id == t.instance_ids[0])).mappings().one()
        raw = zlib.decompress(row["workflow"])
        tok = t.tokens
        esc = json.dumps(tok["name"])[1:-1].encode()
        out = []
        for n in range(base, base + count):
            if n % period != ti:
                continue
            suffix = b"%012x" % n
            wf = UUID.sub(lambda m, s=suffix: m.group(0)[:24] + s, raw)
            case, phone, serial, name = self.copy_tokens(t, n)
            for old, new in ((tok["case_no"], case), (tok["phone"], phone), (tok["serial"], serial)):
                wf = wf.replace(old.encode(), new.encode())
            wf = wf.replace(esc, json.dumps(name)[1:-1].encode()).replace(tok["name"].encode(), name.encode())
            values = dict(row)
            values.update(id=self.first_id + n * STRIDE, business_key=case, customer_name=name, customer_phone=phone,
                          serial_no=serial, workflow=zlib.compress(wf, 1))
            out.append(values)
        if out:
            conn.execute(table.insert(), out)

    @staticmethod
    def copy_tokens(t: Template, n: int) -> tuple[str, str, str, str]:
        case = t.tokens["case_no"] or ""
        pre = case.rsplit("-", 1)[0] + "-" if "-" in case else case + "-"
        return f"{pre}{n}", str(13000000000 + n), f"SN{10000000 + n}", NAMES[n % len(NAMES)]

    def drop_indexes(self, conn) -> list:
        dropped = []
        for table in self.tables:
            for idx in list(table.indexes):
                if not idx.unique:
                    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {idx.name}")
                    dropped.append(idx)
        return dropped

    def copy(self, finished: int, open_: int) -> None:
        with self.connect() as conn:
            self.prepare(conn)
            conn.commit()
            dropped = self.drop_indexes(conn)
            conn.commit()
            t0 = time.monotonic()
            for kind, total, offset in (("finished", finished, 0), ("open", open_, OPEN_BASE)):
                done = 0
                while done < total:
                    count = min(BATCH, total - done)
                    self.copy_batch(conn, offset + done, count, kind == "finished")
                    conn.commit()
                    done += count
                    log(f"  seeded {done:>9,} / {total:,} {kind} cases  ({time.monotonic() - t0:6.0f} s)")
            log(f"  re-creating {len(dropped)} indexes ...")
            for idx in dropped:
                idx.create(conn)
                conn.commit()
            if self.pg:
                conn.commit()
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            log(f"  copies done in {time.monotonic() - t0:.0f} s")
        self.db.dispose()


# --------------------------------------------------------------------------- databases

@dataclass
class Target:
    label: str
    url: str
    kind: str  # sqlite|postgresql
    path: str | None = None
    pg_db: str | None = None

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return os.path.exists(self.path or "")
        return bool(psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.pg_db}'", "postgres").strip())

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", ".seed.json"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove((self.path or "") + suffix)
        else:
            psql(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)', "postgres")

    def create(self) -> None:
        if self.kind == "postgresql":
            psql(f'CREATE DATABASE "{self.pg_db}"', "postgres")

    def marker(self) -> dict | None:
        if self.kind == "sqlite":
            try:
                return json.loads(pathlib.Path(f"{self.path}.seed.json").read_text())
            except (FileNotFoundError, ValueError):
                return None
        text = psql(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{self.pg_db}'",
                    "postgres").strip()
        with contextlib.suppress(ValueError):
            return json.loads(text)
        return None

    def mark(self, info: dict) -> None:
        if self.kind == "sqlite":
            pathlib.Path(f"{self.path}.seed.json").write_text(json.dumps(info))
        else:
            text = json.dumps(info).replace("'", "''")
            psql(f"COMMENT ON DATABASE \"{self.pg_db}\" IS '{text}'", "postgres")

    def size(self) -> int:
        if self.kind == "sqlite":
            return sum(os.path.getsize(self.path + s) for s in ("", "-wal") if os.path.exists((self.path or "") + s))
        return int(psql(f"SELECT pg_database_size('{self.pg_db}')", "postgres").strip())


PG_SERVER = os.environ.get("SCALE_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")


def psql(sql: str, db: str) -> str:
    return subprocess.run(["psql", f"{PG_SERVER}/{db}", "-tAc", sql], check=True, capture_output=True,
                          text=True).stdout


def seed(target: Target, finished: int, open_: int, reseed: bool) -> None:
    info = target.marker() if target.exists() else None
    if info and not reseed and info.get("finished") == finished and info.get("open") == open_:
        log(f"{target.label}: seeded before ({info['finished']:,} finished / {info['open']:,} open, "
            f"{info.get('seconds', '?')} s), kept")
        return
    target.drop()
    target.create()
    t0 = time.monotonic()
    log(f"{target.label}: seeding {finished:,} finished and {open_:,} open cases into "
        f"{target.path or target.pg_db}")
    builder = Builder(target.url)  # deploys processes/, demo users and stock, as `aftersales demo` does
    templates = builder.build() if finished or open_ else []
    builder.db.dispose()
    if finished or open_:
        Copier(target.url, templates).copy(finished, open_)
    seconds = round(time.monotonic() - t0)
    target.mark({"finished": finished, "open": open_, "seconds": seconds,
                 "templates": [t.tokens | {"kind": t.kind, "ids": t.instance_ids, "buckets": t.buckets}
                               for t in templates]})
    log(f"{target.label}: seeded in {seconds} s, {target.size() / 1e9:.2f} GB")


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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--finished", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--path", help="SQLite file of the seeded database (default /tmp/aftersales-scale-<sizes>.db)")
    ap.add_argument("--pg-db", help="PostgreSQL database of the seeded data (default aftersales_scale_<sizes>)")
    ap.add_argument("--reseed", action="store_true", help="seed again even when the database was seeded")
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--port", type=int, default=5917)
    ap.add_argument("--no-cleanup", action="store_true", help="skip the cleanup run (it changes the seeded data)")
    args = ap.parse_args()
    size_tag = f"{args.finished}_{args.open}"

    def target(label: str, tag: str) -> Target:
        if args.db == "sqlite":
            path = args.path if label == "seeded" and args.path else f"/tmp/aftersales-scale-{tag}.db"
            return Target(label, f"sqlite:///{path}", "sqlite", path=path)
        name = args.pg_db if label == "seeded" and args.pg_db else f"aftersales_scale_{tag}"
        return Target(label, f"{PG_SERVER}/{name}", "postgresql", pg_db=name)

    big, empty = target("seeded", size_tag), target("empty", "empty")
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

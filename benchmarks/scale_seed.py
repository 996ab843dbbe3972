"""Seeding a company after a few years: N finished and M open repair cases, copied from rows the engine
wrote (``benchmarks/scale.py`` times the server on them; the dashboard benchmarks can use them too).

Run::

    python benchmarks/scale_seed.py --db sqlite --finished 1000000 --open 100000 [--path /tmp/s.db] [--reseed]
    python benchmarks/scale_seed.py --db postgresql --finished 20000 --open 2000 [--pg-db NAME]

Every seeded row is a copy of one the engine wrote: a few real repair cases (finished ones with their
follow-up case run to the end; open ones stopped at each stage, some for days, so overdue notices went
out) run through the engine API, then their rows in every table that has an ``instance_id`` (instances,
open tasks, history, timers, documents, approvals, stock movements, outbox, …) are copied with fresh
ids, case numbers, names, phones, serial numbers and task ids by set-based ``INSERT … SELECT``; finished
copies are spread over the last 1,000 days. Open copies get their own workflow (the template's, its
task ids and customer data rewritten), so they can be worked on like any case. The seeded database is
kept, marked with what it holds (a ``.seed.json`` beside the SQLite file, a comment on the PostgreSQL
database), and a later seed of the same sizes keeps it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import re
import subprocess
import sys
import time
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


def target_for(kind: str, tag: str, path: str | None = None, pg_db: str | None = None) -> Target:
    """The database of one size (``tag``): a SQLite file or a PostgreSQL database, by default under /tmp
    and ``aftersales_scale_<tag>``."""
    if kind == "sqlite":
        path = path or f"/tmp/aftersales-scale-{tag}.db"
        return Target(tag, f"sqlite:///{path}", "sqlite", path=path)
    name = pg_db or f"aftersales_scale_{tag}"
    return Target(tag, f"{PG_SERVER}/{name}", "postgresql", pg_db=name)


def seed_arguments(description: str) -> argparse.ArgumentParser:
    """The options that say which seeded database (``scale.py`` adds its timing options to them)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--finished", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--path", help="SQLite file of the seeded database (default /tmp/aftersales-scale-<sizes>.db)")
    ap.add_argument("--pg-db", help="PostgreSQL database of the seeded data (default aftersales_scale_<sizes>)")
    ap.add_argument("--reseed", action="store_true", help="seed again even when the database was seeded")
    return ap


def main() -> None:
    args = seed_arguments(__doc__.split("\n")[0]).parse_args()
    target = target_for(args.db, f"{args.finished}_{args.open}", args.path, args.pg_db)
    seed(target, args.finished, args.open, args.reseed)


if __name__ == "__main__":
    main()

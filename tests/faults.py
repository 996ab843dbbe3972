"""Fault scenarios of the worker tier, shared by the bounded tests in ``tests/web/test_worker_faults.py``
and the full-size runs in ``benchmarks/faults.py``: due timers on several workers, a broker cut by a
TCP proxy, a private PostgreSQL cluster stopped and started again. Every process and thread is
started here and stopped by its own id; nothing touches the machine's RabbitMQ or PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func

from engine.clock import SystemClock
from engine.db import as_utc
from engine.models import AsyncJob, HistoryEntry, Notification, OpenTask, User
from engine.users import Actor
from tests.conftest import DATA, seed
from tests.production import free_port

CS = Actor("customer_service", frozenset({"customer_service"}))
ADMIN = Actor("o", frozenset({"admin"}))
PHONE = "13800138000"
PG_BIN = pathlib.Path(os.environ.get("AFTERSALES_PG_BIN", "/usr/lib/postgresql/15/bin"))


def build_live(database_url: str):
    """Engine and sessions on the real clock, demo users with e-mail addresses, the test diagrams."""
    import handlers
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), database_url)
    seed(sessions, SystemClock().now())
    with sessions() as s:
        for u in s.query(User):
            u.email = f"{u.username}@example.test"
        engine.deploy(s, {name: (DATA / name).read_bytes()
                          for name in ("due_timer.bpmn", "async_notice.bpmn")}, ADMIN)
        s.commit()
    return engine, sessions, db


def start_timers(engine, sessions, n: int, fire_at: datetime, batch: int = 100) -> list[int]:
    """``n`` cases each waiting on a timer at ``fire_at`` (then a customer-service task)."""
    ids: list[int] = []
    while len(ids) < n:
        with sessions() as s:
            for _ in range(min(batch, n - len(ids))):
                ids.append(engine.start(s, "due_timer", CS, variables={"fire_at": fire_at.isoformat()}).id)
            s.commit()
    return ids


def start_async(engine, sessions, n: int) -> list[int]:
    """``n`` cases whose first step is an asynchronous service task (an SMS to the customer)."""
    with sessions() as s:
        ids = [engine.start(s, "async_notice", CS, variables={"customer_phone": PHONE}).id for _ in range(n)]
        s.commit()
    return ids


def count(sessions, model, *where) -> int:
    with sessions() as s:
        return s.query(func.count()).select_from(model).filter(*where).scalar()


def timers_done(sessions, ids: list[int]) -> bool:
    """Every case moved past its timer and every notice is sent."""
    return (count(sessions, OpenTask, OpenTask.element_id == "call", OpenTask.instance_id.in_(ids)) == len(ids)
            and count(sessions, Notification, Notification.sent_at.is_(None)) == 0)


def async_done(sessions, ids: list[int]) -> bool:
    return (count(sessions, OpenTask, OpenTask.element_id == "call", OpenTask.instance_id.in_(ids)) == len(ids)
            and count(sessions, AsyncJob) == 0
            and count(sessions, Notification, Notification.sent_at.is_(None)) == 0)


def _per_instance(sessions, ids: list[int], query) -> tuple[int, int]:
    """(duplicates, lost) of a per-case count that must be exactly one."""
    counts = Counter(dict(query))
    duplicates = sum(c - 1 for i, c in counts.items() if i in set(ids) and c > 1)
    lost = sum(1 for i in ids if counts.get(i, 0) == 0)
    return duplicates, lost


def exactly_once(sessions, ids: list[int], element: str) -> dict:
    """Duplicates and losses among ``ids``: the history entry of ``element``, the customer-service
    task that follows it, its notification, and the notifications' deliveries (attempts)."""
    with sessions() as s:
        history = _per_instance(sessions, ids, s.query(HistoryEntry.instance_id, func.count())
                                .filter(HistoryEntry.element_id == element, HistoryEntry.instance_id.in_(ids))
                                .group_by(HistoryEntry.instance_id))
        tasks = _per_instance(sessions, ids, s.query(OpenTask.instance_id, func.count())
                              .filter(OpenTask.element_id == "call", OpenTask.instance_id.in_(ids))
                              .group_by(OpenTask.instance_id))
        notices = s.query(Notification).filter(Notification.instance_id.in_(ids)).all()
    by_case: dict[int, Counter] = {}
    for n in notices:
        by_case.setdefault(n.instance_id, Counter())[n.recipient] += 1  # type: ignore[arg-type]
    notice_dups = sum(c - 1 for per in by_case.values() for c in per.values() if c > 1)
    return {"cases": len(ids), "history_duplicates": history[0], "history_lost": history[1],
            "task_duplicates": tasks[0], "task_lost": tasks[1],
            "notification_duplicates": notice_dups,
            "notifications_unsent": sum(1 for n in notices if n.sent_at is None),
            "notifications_sent_twice": sum(1 for n in notices if n.attempts > 1)}


def clean(figures: dict) -> bool:
    return all(v == 0 for k, v in figures.items() if k != "cases")


def lateness(sessions, ids: list[int], element: str, due: dict[int, datetime] | datetime) -> list[float]:
    """Seconds from each case's due moment to the history entry its timer wrote when it fired."""
    with sessions() as s:
        fired = dict(s.query(HistoryEntry.instance_id, HistoryEntry.completed_at)
                     .filter(HistoryEntry.element_id == element, HistoryEntry.instance_id.in_(ids)))
    return sorted((as_utc(at) - (due if isinstance(due, datetime) else due[i])).total_seconds()  # type: ignore[operator]
                  for i, at in fired.items())


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def now() -> datetime:
    return datetime.now(UTC)


def soon(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)


class TcpProxy:
    """A TCP forwarder between the worker tier and the broker that a test can cut (every connection
    closed, the port refusing new ones, as a stopped broker does) and restore on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self.accepted = 0

    def url(self, broker: str) -> str:
        """``broker`` with its host and port replaced by this proxy."""
        from kombu.utils.url import url_to_parts

        scheme, host, port, user, password, path, _query = url_to_parts(broker)
        auth = f"{user}:{password}@" if user else ""
        default = {"amqp": 5672, "pyamqp": 5672, "redis": 6379}.get(scheme, port)
        assert (host, port or default) == self.target, (broker, self.target)
        return f"{scheme}://{auth}127.0.0.1:{self.port}/{path or ''}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own in a temporary directory on a free port (initdb, pg_ctl),
    so it can be stopped and started without touching the machine's server. As root, the server
    runs as the ``postgres`` system user (PostgreSQL refuses to run as root)."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise FileNotFoundError(f"no initdb in {PG_BIN} (set AFTERSALES_PG_BIN)")
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="aftersales-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/aftersales"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(PG_BIN / args[0]), *args[1:]], user=self.user, cwd=self.dir, check=check,
                              capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                       "fsync = off\nshared_buffers = 32MB\nmax_connections = 60\n")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "aftersales")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

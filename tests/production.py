"""Helpers for tests of the production shape: real processes (Celery worker, gunicorn) on free ports
and a test-unique queue, always stopped by their own process id.

Without a reachable broker these tests skip, unless ``AFTERSALES_REQUIRE_BROKER=1`` (CI's PostgreSQL
run), where an unreachable broker fails them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def broker_or_skip() -> str:
    from kombu import Connection

    url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means no broker
        if os.environ.get("AFTERSALES_REQUIRE_BROKER"):
            pytest.fail(f"broker {url} unreachable and AFTERSALES_REQUIRE_BROKER is set: {exc}")
        pytest.skip(f"no broker at {url}")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Processes a test started; ``stop_all`` ends each by its pid (its own process group)."""

    def __init__(self, tmp_path, database_url: str, broker: str | None):
        self.tmp_path = tmp_path
        self.queue = f"test-{uuid.uuid4().hex[:10]}"
        self.env = dict(os.environ, DATABASE_URL=database_url, AFTERSALES_QUEUE=self.queue,
                        AFTERSALES_SECRET_KEY="test-only", PYTHONUNBUFFERED="1")
        if broker:
            self.env["CELERY_BROKER_URL"] = broker
        else:
            self.env.pop("CELERY_BROKER_URL", None)
        self.broker = broker
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "web.cli", *args], env=self.env, cwd=self.tmp_path,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_file = log  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    def worker(self, *extra: str) -> subprocess.Popen:
        return self.start("worker", "--queue", self.queue, *extra, name=f"worker{len(self.started)}")

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(30)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.kill(proc)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # children left behind by a killed parent
            proc.log_file.close()  # type: ignore[attr-defined]
        if self.broker:
            from kombu import Connection

            with contextlib.suppress(Exception), Connection(self.broker, connect_timeout=3) as conn:
                conn.default_channel.queue_delete(self.queue)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("*.log")))


def wait_for(predicate, timeout: float, what: str, processes: Processes | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s" + (f"\n{processes.logs()}" if processes else ""))

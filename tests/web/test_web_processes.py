"""Several web processes for real: ``aftersales serve --workers 2`` (gunicorn) on a free port. Cases
registered at once all get their own number; a web process killed (kill -9) in the middle of the load
loses nothing it acknowledged and duplicates nothing; gunicorn starts a new one."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from engine.models import HistoryEntry, Instance
from tests.conftest import process_files, seed
from tests.production import Processes, free_port, wait_for

AUTH = {"Authorization": "Basic " + base64.b64encode(b"customer_service:demo").decode(),
        "Content-Type": "application/json"}
REPAIR = {"customer_name": "张三", "customer_phone": "13800138000", "product_model": "KX-200",
          "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


def _post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=AUTH, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return None, None  # connection cut: not acknowledged


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


@pytest.fixture
def web(tmp_path, database_url, monkeypatch):
    import handlers
    from engine.clock import SystemClock
    from engine.users import Actor
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), database_url)
    seed(sessions, SystemClock().now())
    with sessions() as s:
        engine.deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        s.commit()
    procs = Processes(tmp_path, database_url, broker=None)
    port = free_port()
    master = procs.start("serve", "--port", str(port), "--workers", "2", name="web")
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as r:
                return r.status == 200 and len(_children(master.pid)) == 2
        except OSError:
            return False

    wait_for(up, 60, "two web processes up", procs)
    yield base, master, sessions, procs
    procs.stop_all()
    db.dispose()


def test_two_web_processes_register_cases_at_once_and_survive_a_kill(web):
    base, master, sessions, _procs = web
    acknowledged: list[int] = []
    failures: list = []
    lock = threading.Lock()
    stop = time.monotonic() + 6

    def client():
        while time.monotonic() < stop:
            status, body = _post(base, "/api/process-definitions/repair/start", {"variables": REPAIR})
            with lock:
                (acknowledged.append(body["id"]) if status == 201 else failures.append(status))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(2)
    victim = _children(master.pid)[0]
    os.kill(victim, signal.SIGKILL)  # a web process dies in the middle of requests
    for t in threads:
        t.join(60)
    assert len(acknowledged) >= 5, (acknowledged, failures)
    assert set(failures) <= {None, 502}  # only requests cut by the kill failed, never with a 500
    with sessions() as s:
        cases = {i.id: i for i in s.query(Instance)}
        assert set(acknowledged) <= set(cases)  # nothing acknowledged was lost
        numbers = [c.business_key for c in cases.values()]
        assert len(numbers) == len(set(numbers)) and None not in numbers  # each its own case number
        assert {c.state for c in cases.values()} == {"running"}
        starts = s.query(HistoryEntry).filter(HistoryEntry.element_id == "register").count()
        print(f"\nweb kill -9: {len(acknowledged)} acknowledged, {len(set(acknowledged) - set(cases))} lost, "
              f"{len(numbers) - len(set(numbers))} duplicate numbers, {starts - len(cases)} duplicate history, "
              f"failed requests {failures}")
        assert starts == len(cases)  # no duplicated history
    wait_for(lambda: len(_children(master.pid)) == 2 and victim not in _children(master.pid), 30,
             "gunicorn replaced the killed process")

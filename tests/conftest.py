"""Shared fixtures. Every test gets a fresh database: a SQLite file, or — when DATABASE_URL is
set (CI runs the suite a second time that way) — the PostgreSQL database it names, emptied.
An unreachable PostgreSQL fails the tests; it never skips them."""

from __future__ import annotations

import base64
import os
import pathlib

import pytest

import handlers
from engine import users
from engine.clock import ManualClock
from engine.db import make_engine
from engine.models import Base
from engine.users import Actor
from engine.wiring import build
from handlers.records import Part

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(__file__).resolve().parent / "data"
PROCESSES = ROOT / "processes"

users.configure_hashing(time_cost=1, memory_cost=1024, parallelism=1)

STOCK = [("P-100", "Compressor board", 10, 30, 300), ("P-200", "Thermostat", 50, 60, 45),
         ("P-400", "Inverter module", 0, 10, 800)]


def empty_database(url: str) -> str:
    """Drops every table of ``url`` (the PostgreSQL run reuses one database) and returns it."""
    eng = make_engine(url)
    Base.metadata.drop_all(eng)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    eng.dispose()
    return url


@pytest.fixture
def database_url(tmp_path):
    url = os.environ.get("DATABASE_URL")
    return empty_database(url) if url else f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def clock():
    return ManualClock()


def process_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted([*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")])}


def seed(sessions, now) -> None:
    with sessions() as s:
        for group in ("customer_service", "tech_support", "technician", "warehouse", "supervisor", "finance",
                      "logistics", "marketing", "emergency_team"):
            users.add_user(s, group, "demo", [group], now=now)
        users.add_user(s, "technician2", "demo", ["technician"], now=now)
        users.add_user(s, "regional_manager", "demo", ["regional_manager"], now=now)
        users.add_user(s, "admin", "demo", ["admin", "process_owner"], now=now)
        users.add_user(s, "owner", "demo", ["process_owner"], now=now)
        for part_no, name, on_hand, quota, price in STOCK:
            s.add(Part(part_no=part_no, name=name, on_hand=on_hand, quota=quota, unit_price=price))
        s.commit()


@pytest.fixture
def core(database_url, clock):
    """The engine without the web layer: ``(engine, sessions)``, processes deployed, users seeded."""
    engine, sessions, db = build(handlers.default_registry(), database_url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        s.commit()
    yield engine, sessions
    db.dispose()


@pytest.fixture
def app(database_url, clock):
    from web import create_app

    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True})
    ext = app.extensions["aftersales"]
    seed(ext["sessions"], clock.now())
    yield app
    ext["db"].dispose()


class Api:
    """Calls the JSON API as a given user (HTTP Basic, password 'demo')."""

    def __init__(self, client):
        self.client = client

    def _headers(self, user):
        if user is None:
            return {}
        token = base64.b64encode(f"{user}:demo".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, user, path, **kw):
        return self.client.get(path, headers=self._headers(user), **kw)

    def post(self, user, path, json=None, **kw):
        return self.client.post(path, headers=self._headers(user), json={} if json is None else json, **kw)

    def deploy(self, user, files: dict[str, bytes], comment=""):
        import io

        data = {"file": [(io.BytesIO(content), name) for name, content in files.items()], "comment": comment}
        return self.client.post("/api/deployments", headers={**self._headers(user), "X-Requested-With": "test"}, data=data,
                                content_type="multipart/form-data")

    # conveniences for flows
    def task(self, user, instance_id, element_id):
        r = self.get(user, f"/api/tasks?instance={instance_id}")
        assert r.status_code == 200, r.json
        found = [t for t in r.json["items"] if t["element_id"] == element_id]
        assert found, f"{user} sees no {element_id} in {[t['element_id'] for t in r.json['items']]}"
        return found[0]

    def complete(self, user, instance_id, element_id, **variables):
        task = self.task(user, instance_id, element_id)
        r = self.post(user, f"/api/tasks/{task['id']}/complete", {"variables": variables})
        assert r.status_code == 200, r.json
        return r.json["instance"]

    def history(self, user, instance_id, limit=None):
        """The whole history of a case, read page by page (``GET …/history?after=&limit=``)."""
        entries, after = [], None
        while True:
            query = "&".join(f"{k}={v}" for k, v in (("after", after), ("limit", limit)) if v is not None)
            r = self.get(user, f"/api/process-instances/{instance_id}/history?{query}")
            assert r.status_code == 200, r.json
            entries += r.json["entries"]
            after = r.json["next"]
            if after is None:
                return entries


@pytest.fixture
def api(app):
    return Api(app.test_client())


@pytest.fixture
def deployed(api):
    r = api.deploy("admin", process_files(), "initial")
    assert r.status_code == 201, r.json
    return api


@pytest.fixture
def running(deployed, app):
    """The deployed API with the background worker and the database at hand."""
    from web.scheduler import TimerScheduler

    ext = app.extensions["aftersales"]
    deployed.scheduler = TimerScheduler(ext["engine"], ext["sessions"])
    deployed.sessions = ext["sessions"]
    return deployed


def start_case(api, key: str, variables: dict, user: str = "customer_service") -> dict:
    r = api.post(user, f"/api/process-definitions/{key}/start", {"variables": variables})
    assert r.status_code == 201, r.json
    return r.json

"""Fixtures of the web tests that run the production shape (worker processes, the real clock)."""

from __future__ import annotations

import pytest

from engine.clock import SystemClock
from engine.models import User
from engine.users import Actor
from tests.conftest import DATA, seed


@pytest.fixture
def live(database_url):
    """A database on the real clock (timers fire by wall time here), demo users with e-mail addresses,
    the warranty claim and the asynchronous notice deployed: ``(engine, sessions)``."""
    import handlers
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), database_url)
    seed(sessions, SystemClock().now())
    with sessions() as s:
        for u in s.query(User):
            u.email = f"{u.username}@example.test"
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes(),
                          "async_notice.bpmn": (DATA / "async_notice.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        s.commit()
    yield engine, sessions
    db.dispose()


@pytest.fixture
def served(database_url):
    """The app on the real clock, seeded, with a worker account (group ``external_worker``), served by
    werkzeug on a free port in a thread: ``(url, app)``. Stopped after the test."""
    import threading

    from werkzeug.serving import make_server

    from engine import users
    from web import create_app

    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    ext = app.extensions["aftersales"]
    seed(ext["sessions"], ext["engine"].clock.now())
    with ext["sessions"]() as s:
        users.add_user(s, "worker", "demo", ["external_worker"], now=ext["engine"].clock.now())
        s.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app
    httpd.shutdown()
    thread.join(5)
    ext["db"].dispose()

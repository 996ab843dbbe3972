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

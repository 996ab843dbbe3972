"""Reading never waits for a writer: GET requests run in read-only transactions (SQLite: deferred
``BEGIN`` with ``query_only``; PostgreSQL: ``READ ONLY``), writes keep ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import start_case

from .test_hostile_input import REPAIR


def test_a_read_answers_while_a_writer_holds_the_lock(deployed, app):
    api = deployed
    case = start_case(api, "repair", REPAIR)
    ext = app.extensions["aftersales"]
    writer = ext["sessions"]()
    try:
        writer.execute(text("UPDATE instances SET business_key = business_key WHERE id = :id"), {"id": case["id"]})
        began = time.monotonic()
        r = api.get("customer_service", f"/api/process-instances?business_key={case['business_key']}")
        assert time.monotonic() - began < 1.0
        assert r.status_code == 200 and [c["id"] for c in r.json["items"]] == [case["id"]]
        assert api.get("customer_service", "/api/tasks").status_code == 200
        # (Opening the case itself shows the customer's contact data, and that read is recorded in the
        # access log (R29): a write, which waits for the lock like any other.)
    finally:
        writer.rollback()
        writer.close()


def test_read_only_sessions_refuse_to_write(app):
    with app.extensions["aftersales"]["read_sessions"]() as s:
        with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
            s.execute(text("UPDATE users SET email = 'x' WHERE username = 'admin'"))
    with app.extensions["aftersales"]["sessions"]() as s:  # the same pooled connection writes again afterwards
        s.execute(text("UPDATE users SET email = 'admin@example.com' WHERE username = 'admin'"))
        s.commit()
        assert s.execute(text("SELECT email FROM users WHERE username = 'admin'")).scalar() == "admin@example.com"

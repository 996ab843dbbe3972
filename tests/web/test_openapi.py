"""The generated OpenAPI document describes every route of the JSON API, and schemathesis, driving
every operation of it with generated (valid and invalid) requests as an admin, never gets a server
error: hostile or merely wrong input is always a 4xx naming what is wrong (issue 8, item 6)."""

from __future__ import annotations

import base64
import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from engine.clock import ManualClock
from tests.conftest import empty_database, process_files, seed
from web.api.openapi import OPERATIONS, build

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:demo").decode(), "X-Requested-With": "schemathesis"}
REQUEST = {"customer_name": "张三", "customer_phone": "13800138000", "customer_address": "上海市浦东新区世纪大道1号",
           "product_model": "KX-200", "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """One app for every operation (a fresh database per operation would cost more than the fuzzing)."""
    from web import create_app

    url = os.environ.get("DATABASE_URL")
    url = empty_database(url) if url else f"sqlite:///{tmp_path_factory.mktemp('openapi')}/test.db"
    clock = ManualClock()
    app = create_app({"DATABASE_URL": url, "CLOCK": clock, "TESTING": True})
    ext = app.extensions["aftersales"]
    seed(ext["sessions"], clock.now())
    client = app.test_client()
    import io

    r = client.post("/api/deployments", headers=ADMIN, content_type="multipart/form-data",
                    data={"file": [(io.BytesIO(content), name) for name, content in process_files().items()]})
    assert r.status_code == 201, r.json
    for _ in range(3):  # cases with open tasks, so that ids 1..3 and their tasks exist
        assert client.post("/api/process-definitions/repair/start", headers=ADMIN,
                           json={"variables": REQUEST}).status_code == 201
    yield app
    ext["db"].dispose()


def _document() -> dict:
    """The document as the app builds it (at collection time: one test per operation)."""
    from web import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/document.db", "TESTING": True})
        document = build(app)
        app.extensions["aftersales"]["db"].dispose()
    return document


schema = schemathesis.openapi.from_dict(_document())
CASES_RUN: dict[str, int] = {}  # generated requests per operation (printed with -s by the last test)


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case, fuzzed_app):
    CASES_RUN[case.operation.label] = CASES_RUN.get(case.operation.label, 0) + 1
    case.call_and_validate(app=fuzzed_app, headers=ADMIN, checks=[not_a_server_error, status_code_conformance,
                                                  content_type_conformance])


def test_every_api_route_is_described(fuzzed_app):
    routes = {rule.endpoint for rule in fuzzed_app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert routes - set(OPERATIONS) == set()  # a new route needs its entry in web/api/openapi.py
    assert set(OPERATIONS) - routes == set()
    doc = fuzzed_app.test_client().get("/api/openapi.json", headers=ADMIN).json
    assert doc == schema.raw_schema  # what is served is what the suite fuzzes
    assert doc["openapi"] == "3.0.3"
    complete = doc["paths"]["/api/tasks/{task_id}/complete"]["post"]
    assert complete["requestBody"]["content"]["application/json"]["schema"]["properties"]["variables"]["type"] == "object"
    assert [p["name"] for p in doc["paths"]["/api/process-instances/{instance_id}"]["get"]["parameters"]] == ["instance_id"]


def test_the_document_needs_a_login(fuzzed_app):
    r = fuzzed_app.test_client().get("/api/openapi.json")
    assert r.status_code == 401 and r.json == {"error": "authentication required (HTTP Basic or Bearer token)"}


def test_zz_every_operation_was_driven():
    """Runs after the fuzzing: an operation schemathesis could not generate requests for is untested."""
    if not CASES_RUN:
        pytest.skip("the fuzzing test was not selected")
    operations = {f"{m.upper()} {p}" for p, ops in schema.raw_schema["paths"].items() for m in ops}
    print(f"\nschemathesis: {sum(CASES_RUN.values())} requests over {len(CASES_RUN)} operations")
    assert {op for op in operations if CASES_RUN.get(op, 0) < 10} == set()

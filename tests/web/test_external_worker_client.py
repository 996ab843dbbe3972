"""The real camunda-external-task-client-python3 against a running server (issue 13): a worker that
completes its task, one that fails until its retries are exhausted (an incident), one that throws a
BPMN error caught by the task's error boundary event."""

from __future__ import annotations

import pytest
import requests

from engine import users
from tests.conftest import DATA

pytest.importorskip("camunda")
from camunda.external_task.external_task_worker import ExternalTaskWorker  # noqa: E402

TOPIC = "credit.score"


@pytest.fixture
def server(served):
    """The served app (tests/web/conftest.py) with the credit check deployed: its URL."""
    url, app = served
    ext = app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"external_credit.bpmn": (DATA / "external_credit.bpmn").read_bytes()},
                             users.actor_of(users.get_user(s, "admin")))
        s.commit()
    return url


def _start(url: str, business_key: str) -> int:
    r = requests.post(f"{url}/engine-rest/process-definition/key/credit_check/start", auth=("customer_service", "demo"),
                      json={"businessKey": business_key, "variables": {"amount": {"value": 1200, "type": "Integer"}}},
                      timeout=10)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def _case(url: str, instance_id: int) -> dict:
    return requests.get(f"{url}/api/process-instances/{instance_id}", auth=("admin", "demo"), timeout=10).json()


def _worker(url: str, name: str) -> ExternalTaskWorker:
    return ExternalTaskWorker(worker_id=name, base_url=f"{url}/engine-rest",
                              config={"auth_basic": {"username": "worker", "password": "demo"}, "maxTasks": 1,
                                      "lockDuration": 10_000, "asyncResponseTimeout": 2000, "sleepSeconds": 0})


def test_a_worker_completes_its_task(server):
    instance = _start(server, "CR-ok")
    seen = {}

    def score(task):
        seen["amount"] = task.get_variable("amount")
        seen["business_key"] = task.get_business_key()
        return task.complete({"score": 8, "band": "A"})

    _worker(server, "scorer").fetch_and_execute(TOPIC, score)
    assert seen == {"amount": 1200, "business_key": "CR-ok"}
    view = _case(server, instance)
    assert (view["variables"]["score"], view["variables"]["band"]) == (8, "A")
    assert [t["element_id"] for t in view["tasks"]] == ["Activity_review"]


def test_a_worker_that_keeps_failing_ends_in_an_incident(server):
    instance = _start(server, "CR-fail")
    worker = _worker(server, "flaky")

    def fail(task):
        return task.failure("scoring service down", "ConnectionError: …", max_retries=2, retry_timeout=0)

    for _round in range(3):  # retries 2, 1, 0: the third failure leaves none
        worker.fetch_and_execute(TOPIC, fail)
    view = _case(server, instance)
    assert (view["state"], view["error"]["element_id"]) == ("error", "Activity_score")
    incidents = requests.get(f"{server}/api/incidents", auth=("supervisor", "demo"), timeout=10).json()["errors"]
    assert [(i["id"], i["message"]) for i in incidents] == [
        (instance, "external worker 'flaky' failed on topic 'credit.score' with no retries left: scoring service down")]


def test_a_worker_throws_a_bpmn_error_the_boundary_event_catches(server):
    instance = _start(server, "CR-declined")

    def decline(task):
        return task.bpmn_error("DECLINED", "over the credit limit", {"reason": "limit"})

    _worker(server, "scorer").fetch_and_execute(TOPIC, decline)
    view = _case(server, instance)
    assert (view["state"], view["variables"]["reason"]) == ("completed", "limit")
    history = requests.get(f"{server}/api/process-instances/{instance}/history", auth=("admin", "demo"),
                           timeout=10).json()["entries"]
    assert [h["element_id"] for h in history][-2:] == ["Event_declined", "Event_rejected"]

"""Camunda 7's REST under /engine-rest (issue 13): the requests Camunda Modeler 5 and external workers
send, answered as Camunda answers them, through our authentication and access policy."""

from __future__ import annotations

import base64
import time

import pytest

from engine import users
from tests.conftest import DATA

CREDIT = (DATA / "external_credit.bpmn").read_bytes()
TOPIC = "credit.score"
BOUNDARY = "multipart-modeler-5"


def basic(user: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


def modeler_body(name: str, content: bytes, deployment: str, fields: dict[str, str] | None = None) -> bytes:
    """The multipart body Camunda Modeler 5 sends (boundary ``BOUNDARY``), with extra ``fields`` before the file."""
    parts = [("deployment-name", None, deployment.encode()), ("deployment-source", None, b"Camunda Modeler"),
             ("enable-duplicate-filtering", None, b"true")]
    parts += [(k, None, v.encode()) for k, v in (fields or {}).items()] + [(name, name, content)]
    body = b""
    for field, filename, value in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        body += (b"Content-Type: text/xml\r\n" if filename else b"") + b"\r\n" + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def modeler_deploy(client, user: str, name: str, content: bytes, deployment: str = "credit check"):
    """Exactly what Camunda Modeler 5's Deploy dialog sends (CamundaAPI.deployDiagram): a FormData with
    deployment-name, deployment-source, enable-duplicate-filtering and the diagram under its own file
    name as the field name (a text/xml blob); headers accept and authorization only."""
    return client.post("/engine-rest/deployment/create", data=modeler_body(name, content, deployment),
                       headers={"accept": "application/json", **basic(user)},
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


@pytest.fixture
def rest(app):
    """The app with a worker account (group external_worker) and the credit check deployed."""
    with app.extensions["aftersales"]["sessions"]() as s:
        users.add_user(s, "worker", "demo", ["external_worker"], now=app.extensions["aftersales"]["engine"].clock.now())
        s.commit()
    client = app.test_client()
    assert modeler_deploy(client, "admin", "external_credit.bpmn", CREDIT).status_code == 200
    return client


def start(client, business_key: str = "CR-1", **variables) -> str:
    r = client.post("/engine-rest/process-definition/key/credit_check/start", headers=basic("customer_service"),
                    json={"businessKey": business_key,
                          "variables": {k: {"value": v, "type": "Integer"} for k, v in variables.items()}})
    assert r.status_code == 200, r.json
    return r.json["id"]


def fetch(client, worker: str = "w1", lock_ms: int = 10_000, wait_ms: int = 0, user: str = "worker", **topic):
    return client.post("/engine-rest/external-task/fetchAndLock", headers=basic(user),
                       json={"workerId": worker, "maxTasks": 5, "asyncResponseTimeout": wait_ms,
                             "topics": [{"topicName": TOPIC, "lockDuration": lock_ms, **topic}]})


def case(client, instance_id: str) -> dict:
    return client.get(f"/api/process-instances/{instance_id}", headers=basic("admin")).json


# --- Camunda Modeler's Deploy dialog ------------------------------------------------------------


def test_modeler_5_connection_check_and_version(rest):
    assert rest.get("/engine-rest/deployment?maxResults=0", headers=basic("owner")).json == []
    assert rest.get("/engine-rest/version", headers=basic("owner")).json == {"version": "7.22.0"}
    assert rest.get("/engine-rest/deployment?maxResults=0", headers=basic("customer_service")).status_code == 403
    assert rest.get("/engine-rest/version").status_code == 401


def test_modeler_5_deploy_answers_as_camunda_then_starts_what_it_deployed(rest):
    r = modeler_deploy(rest, "owner", "external_credit.bpmn", CREDIT.replace(b"Score the customer", b"Score"))
    assert r.status_code == 200
    body = r.json
    assert body["name"] == "credit check" and body["source"] == "Camunda Modeler" and body["id"] == "2"
    assert list(body["deployedProcessDefinitions"]) == ["credit_check:2"]
    definition = body["deployedProcessDefinitions"]["credit_check:2"]
    assert (definition["key"], definition["version"], definition["deploymentId"], definition["resource"]) == \
        ("credit_check", 2, "2", "external_credit.bpmn")
    assert [(w["code"], w["element_id"], w["name"]) for w in body["warnings"]] == \
        [("external_topic", "Activity_score", "credit.score")]
    # deployed again unchanged: nothing new is stored, the current definition is named
    again = modeler_deploy(rest, "owner", "external_credit.bpmn", CREDIT.replace(b"Score the customer", b"Score"))
    assert again.status_code == 200 and list(again.json["deployedProcessDefinitions"]) == ["credit_check:2"]
    assert again.json["id"] == "2"
    # Camunda Modeler's "start instance" posts to the definition's id
    r = rest.post("/engine-rest/process-definition/credit_check:2/start", headers=basic("customer_service"),
                  json={"businessKey": "from-modeler", "variables": {}})
    assert r.status_code == 200 and r.json["definitionId"] == "credit_check:2" and r.json["ended"] is False
    r = rest.post("/engine-rest/process-definition/credit_check:1/start", headers=basic("customer_service"), json={})
    assert r.status_code == 400 and r.json["message"] == "new cases of 'credit_check' start on version 2, not 1"


def test_modeler_5_deploy_of_a_refused_diagram_names_element_and_line_as_camunda_does(rest):
    broken = CREDIT.replace(b'camunda:topic="credit.score"', b"")
    r = modeler_deploy(rest, "owner", "broken.bpmn", broken)
    assert r.status_code == 400
    assert r.json["type"] == "ParseException"
    assert r.json["message"] == ("ENGINE-09005 Could not parse BPMN process. Errors: \n* service task has no "
                                 "camunda:topic naming a handler (element Activity_score) | resource broken.bpmn "
                                 "| line 8 | column 0")
    (error,) = r.json["details"]["broken.bpmn"]["errors"]
    assert (error["mainElementId"], error["line"], error["code"]) == ("Activity_score", 8, "no_topic")
    assert rest.get("/api/process-definitions/credit_check", headers=basic("owner")).json["current_version"] == 1


def test_modeler_deploy_needs_a_process_owner_and_an_authorization_header(rest):
    assert modeler_deploy(rest, "customer_service", "external_credit.bpmn", CREDIT).status_code == 403
    assert modeler_deploy(rest, "worker", "external_credit.bpmn", CREDIT).status_code == 403
    r = rest.post("/engine-rest/deployment/create", data={"x.bpmn": (__import__("io").BytesIO(CREDIT), "x.bpmn")},
                  content_type="multipart/form-data")
    assert r.status_code == 415  # no Authorization header: a cross-site form, refused before anything is read


# --- the external task protocol -----------------------------------------------------------------


def test_a_worker_fetches_with_the_variables_asked_for_and_completes_with_typed_variables(rest):
    instance = start(rest, amount=900)
    assert fetch(rest, user="customer_service").status_code == 403  # staff are no workers
    r = fetch(rest, variables=["amount"])
    assert r.status_code == 200
    (task,) = r.json
    assert (task["topicName"], task["activityId"], task["processInstanceId"], task["businessKey"], task["workerId"]) == \
        (TOPIC, "Activity_score", instance, "CR-1", "w1")
    assert task["variables"] == {"amount": {"type": "Integer", "value": 900, "valueInfo": {}}}
    assert fetch(rest, worker="w2").json == []  # locked
    r = rest.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"),
                  json={"workerId": "w2", "variables": {"score": {"value": 7, "type": "Integer"}}})
    assert r.status_code == 400 and r.json["type"] == "InvalidRequestException"  # not w2's lock
    r = rest.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"),
                  json={"workerId": "w1", "variables": {"score": {"value": 7, "type": "Integer"},
                                                        "rating": {"value": '{"band": "A"}', "type": "Json"}}})
    assert r.status_code == 204
    view = case(rest, instance)
    assert view["variables"]["score"] == 7 and view["variables"]["rating"] == {"band": "A"}
    assert [t["element_id"] for t in view["tasks"]] == ["Activity_review"]
    again = rest.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"), json={"workerId": "w1"})
    assert again.status_code == 404 and again.json["type"] == "InvalidRequestException"


def test_an_expired_lock_returns_the_task_to_the_pool(rest, clock):
    start(rest)
    (task,) = fetch(rest, lock_ms=1000).json
    clock.advance(seconds=0.5)
    assert fetch(rest, worker="w2").json == []
    clock.advance(seconds=1)
    (again,) = fetch(rest, worker="w2").json
    assert again["id"] == task["id"] and again["workerId"] == "w2"
    late = rest.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"), json={"workerId": "w1"})
    assert late.status_code == 400


def test_extend_lock_and_unlock(rest, clock):
    start(rest)
    (task,) = fetch(rest, lock_ms=1000).json
    r = rest.post(f"/engine-rest/external-task/{task['id']}/extendLock", headers=basic("worker"),
                  json={"workerId": "w1", "newDuration": 60_000})
    assert r.status_code == 204
    clock.advance(seconds=30)
    assert fetch(rest, worker="w2").json == []
    assert rest.post(f"/engine-rest/external-task/{task['id']}/unlock", headers=basic("worker"), json={}).status_code == 204
    assert [t["id"] for t in fetch(rest, worker="w2").json] == [task["id"]]


def test_long_polling_waits_for_as_long_as_asked_then_answers_empty(rest):
    began = time.monotonic()
    r = fetch(rest, wait_ms=600)
    waited = time.monotonic() - began
    assert r.status_code == 200 and r.json == [] and 0.6 <= waited < 3


def test_failures_retry_after_the_timeout_then_become_an_incident_and_retry_gives_a_fresh_round(rest, clock):
    instance = start(rest)
    (task,) = fetch(rest).json
    r = rest.post(f"/engine-rest/external-task/{task['id']}/failure", headers=basic("worker"),
                  json={"workerId": "w1", "errorMessage": "scoring service down", "retries": 1, "retryTimeout": 5000})
    assert r.status_code == 204
    assert fetch(rest).json == []  # not before the retry timeout
    clock.advance(seconds=6)
    (task,) = fetch(rest).json
    assert (task["retries"], task["errorMessage"]) == (1, "scoring service down")
    rest.post(f"/engine-rest/external-task/{task['id']}/failure", headers=basic("worker"),
              json={"workerId": "w1", "errorMessage": "still down", "errorDetails": "Traceback …", "retries": 0})
    assert case(rest, instance)["state"] == "error"
    errors = rest.get("/api/incidents", headers=basic("supervisor")).json["errors"]
    assert [(e["id"], e["element_id"]) for e in errors] == [(int(instance), "Activity_score")]
    assert errors[0]["message"] == ("external worker 'w1' failed on topic 'credit.score' with no retries "
                                          "left: still down")
    clock.advance(seconds=60)
    assert fetch(rest).json == []  # a case in error offers nothing
    r = rest.post(f"/api/process-instances/{instance}/retry", headers=basic("supervisor"), json={})
    assert r.status_code == 200 and r.json["state"] == "running"
    (task,) = fetch(rest).json
    assert task["retries"] is None


def test_a_bpmn_error_takes_the_error_boundary_event(rest):
    instance = start(rest)
    (task,) = fetch(rest).json
    r = rest.post(f"/engine-rest/external-task/{task['id']}/bpmnError", headers=basic("worker"),
                  json={"workerId": "w1", "errorCode": "DECLINED", "errorMessage": "too risky",
                        "variables": {"reason": {"value": "over limit", "type": "String"}}})
    assert r.status_code == 204
    view = case(rest, instance)
    assert (view["state"], view["variables"]["reason"]) == ("completed", "over limit")
    history = rest.get(f"/api/process-instances/{instance}/history", headers=basic("admin")).json["entries"]
    assert [h["element_id"] for h in history][-3:] == ["Activity_score", "Event_declined", "Event_rejected"]
    assert history[-3]["data"]["error_code"] == "DECLINED" and history[-3]["completed_by"] == "worker"


def test_a_bpmn_error_no_boundary_event_catches_puts_the_case_in_error(rest):
    instance = start(rest)
    (task,) = fetch(rest).json
    r = rest.post(f"/engine-rest/external-task/{task['id']}/bpmnError", headers=basic("worker"),
                  json={"workerId": "w1", "errorCode": "FRAUD", "errorMessage": "stolen card"})
    assert r.status_code == 204
    view = case(rest, instance)
    assert (view["state"], view["error"]["element_id"]) == ("error", "Activity_score")
    assert view["error"]["message"] == "BPMN error 'FRAUD' (stolen card) at 'Activity_score': no error event catches it"


# --- starting, messages, user tasks ----------------------------------------------------------------


def test_start_message_and_user_tasks_through_engine_rest(rest):
    assert modeler_deploy(rest, "owner", "goods_return.bpmn", (DATA / "goods_return.bpmn").read_bytes()).status_code == 200
    ids = []
    for rma in ("RMA-1", "RMA-2"):
        r = rest.post("/engine-rest/process-definition/key/goods_return/start", headers=basic("customer_service"),
                      json={"businessKey": f"BK-{rma}", "variables": {"rma_no": {"value": rma, "type": "String"}}})
        ids.append(r.json["id"])
    r = rest.post("/engine-rest/message", headers=basic("warehouse"), json={"messageName": "goods_received"})
    assert r.status_code == 400 and r.json["message"].startswith("Cannot correlate message 'goods_received': 2 cases")
    r = rest.post("/engine-rest/message", headers=basic("warehouse"),
                  json={"messageName": "goods_received", "businessKey": "BK-RMA-2", "resultEnabled": True,
                        "processVariables": {"condition": {"value": "intact", "type": "String"}}})
    assert r.status_code == 200 and [x["execution"]["processInstanceId"] for x in r.json] == [ids[1]]
    r = rest.post("/engine-rest/message", headers=basic("warehouse"),
                  json={"messageName": "goods_received", "correlationKeys": {"rma_no": {"value": "RMA-9"}}})
    assert r.status_code == 400 and r.json["type"] == "MismatchingMessageCorrelationException"

    tasks = rest.get("/engine-rest/task?processDefinitionKey=goods_return", headers=basic("warehouse")).json
    assert [(t["processInstanceId"], t["taskDefinitionKey"]) for t in tasks] == [(ids[1], "inspect")]
    assert rest.get("/engine-rest/task?processDefinitionKey=goods_return", headers=basic("finance")).json == []
    r = rest.post(f"/engine-rest/task/{tasks[0]['id']}/complete", headers=basic("finance"), json={})
    assert r.status_code == 403 and r.json["type"] == "AuthorizationException"
    r = rest.post(f"/engine-rest/task/{tasks[0]['id']}/complete", headers=basic("warehouse"),
                  json={"variables": {"ok": {"value": True, "type": "Boolean"}}})
    assert r.status_code == 204
    view = case(rest, ids[1])
    assert view["state"] == "completed" and view["variables"]["condition"] == "intact" and view["variables"]["ok"] is True


def test_the_modeler_page_says_which_topic_waits_for_a_worker_in_chinese(app):
    from tests.web.test_diagram_report import ZH, login, status

    st = status(login(app, "admin"), CREDIT, ZH).json["status"]
    assert st["ok"] and st["title"] == "校验通过。"
    texts = [w["text"] for w in st["warnings"]]
    assert texts == ["Score the customer（第 8 行）：没有 Python 处理程序处理主题“credit.score”：此步骤等待外部任务程序来办理。"]


def test_the_incidents_page_says_a_worker_s_failure_in_chinese(rest, app):
    from tests.web.test_pages import login

    instance = start(rest)
    (task,) = fetch(rest).json
    rest.post(f"/engine-rest/external-task/{task['id']}/failure", headers=basic("worker"),
              json={"workerId": "w1", "errorMessage": "timeout", "retries": 0})
    assert case(rest, instance)["state"] == "error"
    page = login(app, "supervisor").get("/incidents", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "外部任务程序 w1 处理“credit.score”失败，且已没有重试次数：timeout" in page
    assert "no retries left" not in page


def test_a_worker_with_a_bearer_token(rest):
    token = rest.post("/api/tokens", headers=basic("worker"), json={"label": "scorer"}).json["token"]
    start(rest)
    r = rest.post("/engine-rest/external-task/fetchAndLock", headers={"Authorization": f"Bearer {token}"},
                  json={"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": 1000}]})
    assert r.status_code == 200 and [t["topicName"] for t in r.json] == [TOPIC]
    bad = rest.post("/engine-rest/external-task/fetchAndLock", headers={"Authorization": "Bearer nope"},
                    json={"workerId": "w1", "topics": []})
    assert bad.status_code == 401 and bad.json["type"] == "AuthenticationException"


def test_a_late_worker_may_still_complete_until_another_locks_but_not_extend(rest, clock):
    """As in Camunda: an expired lock is no refusal by itself, another worker's lock is."""
    instance = start(rest)
    (task,) = fetch(rest, lock_ms=1000).json
    clock.advance(seconds=2)
    r = rest.post(f"/engine-rest/external-task/{task['id']}/extendLock", headers=basic("worker"),
                  json={"workerId": "w1", "newDuration": 5000})
    assert r.status_code == 400 and "has expired" in r.json["message"]
    r = rest.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"), json={"workerId": "w1"})
    assert r.status_code == 204
    assert [t["element_id"] for t in case(rest, instance)["tasks"]] == ["Activity_review"]

"""A BPMN error at a service task behaves the same whether a Python handler raises ``BpmnError`` or an
external worker calls ``/engine-rest/external-task/{id}/bpmnError`` (engine/bpmn_errors.py): the
same diagram takes the same path, the case gets the same variables and history entry, and an error no
event catches stops the case the same way. The worker is played twice: by requests as Camunda's
protocol spells them, and by the real camunda-external-task-client-python3 against a served app."""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from werkzeug.serving import make_server

from engine import users
from engine.errors import BpmnError
from tests.conftest import DATA

DIAGRAM = (DATA / "bpmn_error_paths.bpmn").read_bytes()
TOPICS = ("errors.check_serial", "errors.order_part")


def basic(user: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


def handler(ctx):
    """Throws the error the case was started with when it runs at the element named, else is done."""
    if ctx.variables.get("error_at") == ctx.element_id:
        raise BpmnError(ctx.variables["error_code"], ctx.variables.get("error_message", ""), {"checked": True})
    return {f"{ctx.element_id}_done": True}


def camunda_worker(url: str) -> None:
    """What ``handler`` does, as the real Camunda client does it: each topic fetched once, in order."""
    from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

    client = ExternalTaskWorker(worker_id="w1", base_url=f"{url}/engine-rest",
                                config={"auth_basic": {"username": "worker", "password": "demo"}, "maxTasks": 1,
                                        "lockDuration": 10_000, "asyncResponseTimeout": 0, "sleepSeconds": 0})

    def act(task):
        if task.get_variable("error_at") == task.get_activity_id():
            return task.bpmn_error(task.get_variable("error_code"), task.get_variable("error_message") or "",
                                   {"checked": True})
        return task.complete({f"{task.get_activity_id()}_done": True})

    for topic in TOPICS:
        try:
            client.fetch_and_execute(topic, act)
        except NoExternalTaskFound:
            pass


@contextmanager
def served(app) -> Iterator[str]:
    """The app served by werkzeug on a free port in a thread: its URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)


def worker(client) -> None:
    """What ``handler`` does, as an external worker through Camunda's REST, until no task is left."""
    while True:
        tasks = client.post("/engine-rest/external-task/fetchAndLock", headers=basic("worker"),
                            json={"workerId": "w1", "maxTasks": 5,
                                  "topics": [{"topicName": t, "lockDuration": 10_000} for t in TOPICS]}).json
        if not tasks:
            return
        for task in tasks:
            plan = {k: v["value"] for k, v in task["variables"].items()}
            if plan.get("error_at") == task["activityId"]:
                body = {"workerId": "w1", "errorCode": plan["error_code"],
                        "variables": {"checked": {"value": True, "type": "Boolean"}}}
                if plan.get("error_message"):
                    body["errorMessage"] = plan["error_message"]
                r = client.post(f"/engine-rest/external-task/{task['id']}/bpmnError", headers=basic("worker"), json=body)
            else:
                r = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=basic("worker"),
                                json={"workerId": "w1", "variables": {
                                    f"{task['activityId']}_done": {"value": True, "type": "Boolean"}}})
            assert r.status_code == 204, r.json


# (where the error is thrown, code, message) → (open task, variables the catcher set, where the case ends)
CAUGHT = {
    "code of the task's boundary event, though a catch-all comes first":
        (("check_serial", "SERIAL_UNKNOWN", "no such serial"), "ask_customer",
         {"errorCode": "SERIAL_UNKNOWN", "errorMessage": "no such serial"}, "asked"),
    "no event names the code: the catch-all":
        (("check_serial", "WRONG_MODEL", ""), "escalate", {"failure_code": "WRONG_MODEL"}, "escalated"),
    "inside a subprocess: the task's own boundary event":
        (("order_part", "OUT_OF_STOCK", "none left"), "wait_stock", {}, "done"),
    "inside a subprocess: the boundary event on the subprocess":
        (("order_part", "NO_SUPPLIER", "nobody sells it"), "find_supplier",
         {"errorCode": "NO_SUPPLIER", "errorMessage": "nobody sells it"}, "no_part"),
    "nothing on the way out: the process's error event subprocess":
        (("order_part", "RECALLED", "batch recalled"), "handle_recall",
         {"errorCode": "RECALLED", "errorMessage": "batch recalled"}, "recall_done"),
}
UNCAUGHT = {
    "with a message": (("order_part", "FRAUD", "stolen card"),
                       "BPMN error 'FRAUD' (stolen card) at 'order_part': no error event catches it",
                       "此步骤报告了业务错误“FRAUD”（stolen card），但没有错误事件捕获它。"),
    "without one": (("order_part", "FRAUD", ""), "BPMN error 'FRAUD' at 'order_part': no error event catches it",
                    "此步骤报告了业务错误“FRAUD”，但没有错误事件捕获它。"),
}
SET_BY_CATCHERS = {"errorCode", "errorMessage", "failure_code"}


@pytest.fixture(params=["handler", "worker", "camunda client"])
def way(request, app):
    """``(how, run)``: ``run(error_at, code, message)`` starts the diagram with that error planned and
    lets the handler (``how == "handler"``) or a worker through /engine-rest run its service tasks;
    it answers the case as the API shows it and its history."""
    ext = app.extensions["aftersales"]
    engine = ext["engine"]
    with ext["sessions"]() as s:
        users.add_user(s, "worker", "demo", ["external_worker"], now=engine.clock.now())
        engine.deploy(s, {"bpmn_error_paths.bpmn": DIAGRAM}, users.actor_of(users.get_user(s, "admin")))
        s.commit()
    if request.param == "handler":
        for topic in TOPICS:
            engine.handlers.register(topic, handler)
    client = app.test_client()
    stack = ExitStack()
    work: Callable[[], None] = lambda: None  # noqa: E731 (the handler ran inside the step)
    if request.param == "worker":
        work = lambda: worker(client)  # noqa: E731
    elif request.param == "camunda client":
        pytest.importorskip("camunda")
        url = stack.enter_context(served(app))
        work = lambda: camunda_worker(url)  # noqa: E731

    def run(error_at: str, code: str, message: str) -> tuple[dict, list[dict]]:
        variables = {"error_at": error_at, "error_code": code} | ({"error_message": message} if message else {})
        r = client.post("/api/process-definitions/bpmn_error_paths/start", headers=basic("customer_service"),
                        json={"variables": variables})
        assert r.status_code == 201, r.json
        work()
        case_id = r.json["id"]
        view = client.get(f"/api/process-instances/{case_id}", headers=basic("admin")).json
        history = client.get(f"/api/process-instances/{case_id}/history", headers=basic("admin")).json["entries"]
        return view, history

    def finish(case_id: int) -> tuple[str, str]:
        """Complete the case's open tasks (each by a user of its group) until none is left: the case's
        state then and the last end event it reached."""
        while True:
            view = client.get(f"/api/process-instances/{case_id}", headers=basic("admin")).json
            if not view["tasks"]:
                history = client.get(f"/api/process-instances/{case_id}/history", headers=basic("admin")).json
                return view["state"], [h["element_id"] for h in history["entries"] if h["kind"] == "EndEvent"][-1]
            task = view["tasks"][0]
            r = client.post(f"/api/tasks/{task['id']}/complete", headers=basic(task["candidate_groups"][0]), json={})
            assert r.status_code == 200, r.json

    def retry(case_id: int) -> None:
        """A supervisor retries the case (the worker, if any, takes what it is offered)."""
        r = client.post(f"/api/process-instances/{case_id}/retry", headers=basic("supervisor"), json={})
        assert r.status_code == 200, r.json
        work()

    run.finish, run.retry, run.client, run.app = finish, retry, client, app  # type: ignore[attr-defined]
    with stack:
        yield request.param, run


def _error_entry(how: str, history: list[dict], element: str) -> dict:
    """The one ``BpmnError`` history entry at ``element``; who wrote it depends on the way, nothing else."""
    (entry,) = [h for h in history if h["kind"] == "BpmnError"]
    assert entry["element_id"] == element
    data = dict(entry["data"])
    if how != "handler":
        assert (entry["completed_by"], data.pop("worker")) == ("worker", "w1")
    else:
        assert entry["completed_by"] == "system"
    return data


def _timeline_entry(app, case_id: int, element: str, how: str) -> str:
    """What the case page's timeline says in Chinese about the error at ``element``, its values only
    (who wrote it left out: the system, or the worker's account and id)."""
    from tests.web.test_pages import login

    page = login(app, "admin").get(f"/cases/{case_id}", headers={"Accept-Language": "zh-CN"}).data.decode()
    (item,) = re.findall(rf'<li data-element="{element}">(.*?)</li>', page, re.S)
    values = re.search(r'<dl class="data">(.*?)</dl>', item, re.S)[1]
    words = " ".join(w.strip() for w in re.split(r"<[^>]+>", values) if w.strip())
    return words.replace("外部任务程序 w1 ", "") if how != "handler" else words


@pytest.mark.parametrize("scenario", list(CAUGHT))
def test_a_bpmn_error_takes_the_same_path_from_a_handler_and_from_a_worker(way, scenario):
    how, run = way
    (element, code, message), task, caught_with, end = CAUGHT[scenario]
    view, history = run(element, code, message)
    assert view["state"] == "running"
    assert [t["element_id"] for t in view["tasks"]] == [task]
    variables = view["variables"]
    assert {k: v for k, v in variables.items() if k in SET_BY_CATCHERS} == caught_with
    assert variables["checked"] is True
    assert f"{element}_done" not in variables  # the task was interrupted, not completed
    assert variables.get("check_serial_done") is (True if element == "order_part" else None)
    assert _error_entry(how, history, element) == {"error_code": code, "checked": True} | (
        {"error_message": message} if message else {})
    assert _timeline_entry(run.app, view["id"], element, how) == (
        f"业务错误代码 {code}" + (f" 业务错误说明 {message}" if message else "") + " checked ✔")
    assert run.finish(view["id"]) == ("completed", end)


@pytest.mark.parametrize("scenario", list(UNCAUGHT))
def test_an_uncaught_bpmn_error_stops_the_case_the_same_way_from_a_handler_and_from_a_worker(way, app, scenario):
    how, run = way
    (element, code, message), expected, chinese = UNCAUGHT[scenario]
    view, history = run(element, code, message)
    assert (view["state"], view["error"]["element_id"], view["error"]["message"]) == ("error", element, expected)
    assert [t["element_id"] for t in view["tasks"]] == []
    assert _error_entry(how, history, element) == {"error_code": code, "checked": True} | (
        {"error_message": message} if message else {})
    from tests.web.test_pages import login

    page = login(app, "supervisor").get("/incidents", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert chinese in page and "no error event" not in page


def test_after_an_uncaught_bpmn_error_a_corrected_case_is_retried_the_same_way(way):
    """Retry runs the handler again, or offers the task to the worker again: with the plan corrected, the
    task completes."""
    _how, run = way
    view, _history = run("order_part", "FRAUD", "stolen card")
    r = run.client.post(f"/api/process-instances/{view['id']}/variables", headers=basic("supervisor"),
                        json={"variables": {"error_at": "nowhere"}, "reason": "cleared by the bank"})
    assert r.status_code == 200, r.json
    run.retry(view["id"])
    after = run.client.get(f"/api/process-instances/{view['id']}", headers=basic("admin")).json
    assert (after["state"], [t["element_id"] for t in after["tasks"]]) == ("running", ["ship"])
    assert after["variables"]["order_part_done"] is True

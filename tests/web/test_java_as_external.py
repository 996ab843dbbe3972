"""Issue 16, the Java bridge's deploy-time choice: a service task naming Java code (``camunda:class`` /
``operaton:class``) with no Python handler is refused, unless the process owner deploys with
``java_as_external``; then it runs as an external task whose topic is that name, served by an external
worker through /engine-rest until a Python handler is registered. Listeners naming Java stay refused.
And processes marked not executable (the BPMN MIWG reference models) are skipped as Camunda skips them."""

from __future__ import annotations

import io

import pytest
import requests

from tests.conftest import DATA, seed
from tests.web.test_engine_rest import BOUNDARY, basic, modeler_body

CAMUNDA = (DATA / "java_check_stock.bpmn").read_bytes()
OPERATON = (DATA / "java_check_stock_operaton.bpmn").read_bytes()
COLLABORATION = (DATA / "collaboration_not_executable.bpmn").read_bytes()
MIWG = (DATA.parent / "corpus" / "files" / "miwg__A.1.0.bpmn").read_bytes()
TOPIC = "com.acme.CheckStock"
REFUSED = ("camunda:class 'com.acme.CheckStock' is Java code and no Python handler is registered under that name "
           "(register one, or deploy with java_as_external to run it as an external task of that topic)")
WARNED = ("camunda:class 'com.acme.CheckStock' is Java code: it runs as external task topic 'com.acme.CheckStock' "
          "until a Python handler is registered under that name (POST /engine-rest/external-task/fetchAndLock)")
LISTENER = b"""<bpmn:extensionElements>
        <camunda:executionListener class="com.acme.AuditListener" event="start" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming>"""


def deploy(client, name: str, content: bytes, query: str = "", **form):
    return client.post(f"/api/deployments{query}", headers={**basic("owner"), "X-Requested-With": "test"},
                       data={"file": [(io.BytesIO(content), name)], **form}, content_type="multipart/form-data")


def errors(r) -> list[tuple]:
    return [(e["file"], e["element_id"], e["line"], e["code"], e["message"]) for e in r.json["errors"]]


def java_warnings(r) -> list[tuple]:
    return [(w["file"], w["element_id"], w["line"], w["code"], w["name"], w["message"])
            for w in r.json["warnings"] if w["code"].startswith("java")]


@pytest.mark.parametrize("name, content", [("stock.bpmn", CAMUNDA), ("stock_operaton.bpmn", OPERATON)])
def test_java_class_is_refused_without_the_option_and_deploys_as_an_external_topic_with_it(app, name, content):
    client = app.test_client()
    r = deploy(client, name, content)
    assert r.status_code == 400
    assert errors(r) == [(name, "Activity_check", 8, "java_code", REFUSED)]
    assert client.get("/api/process-definitions/stock_check", headers=basic("owner")).status_code == 404
    r = deploy(client, name, content, "?java_as_external=true")
    assert r.status_code == 201
    assert [(d["key"], d["version"], d["changed"]) for d in r.json["definitions"]] == [("stock_check", 1, True)]
    assert java_warnings(r) == [(name, "Activity_check", 8, "java_external", TOPIC, WARNED)]


def test_redeploying_with_and_without_the_option_is_decided_by_the_option_given_now(app):
    """The option is not part of what makes a version distinct: with it the same file is the same version
    (unchanged), without it the file is refused as it would be the first time — and nothing stored changes.
    The version's deploy event records the choice."""
    client = app.test_client()
    assert deploy(client, "stock.bpmn", CAMUNDA, java_as_external="1").status_code == 201  # as a form field
    again = deploy(client, "stock.bpmn", CAMUNDA, "?java_as_external=1")
    assert again.status_code == 200
    assert [(d["version"], d["changed"]) for d in again.json["definitions"]] == [(1, False)]
    without = deploy(client, "stock.bpmn", CAMUNDA)
    assert without.status_code == 400 and [e[3] for e in errors(without)] == ["java_code"]
    assert deploy(client, "stock.bpmn", CAMUNDA, "?java_as_external=0").status_code == 400
    definition = client.get("/api/process-definitions/stock_check", headers=basic("owner")).json
    assert (definition["current_version"], len(definition["versions"])) == (1, 1)
    history = client.get("/api/process-definitions/stock_check/history", headers=basic("owner")).json
    assert [(e["kind"], e["to_version"], e["detail"]["java_as_external"]) for e in history] == [("deploy", 1, True)]
    bad = deploy(client, "stock.bpmn", CAMUNDA, "?java_as_external=maybe")
    assert bad.status_code == 400 and bad.json["error"] == "'java_as_external' must be true or false (got 'maybe')"


def test_a_listener_naming_java_stays_refused_with_the_option_and_says_why(app):
    content = CAMUNDA.replace(b'<bpmn:incoming>Flow_2</bpmn:incoming>', LISTENER, 1)
    r = deploy(app.test_client(), "stock.bpmn", content, "?java_as_external=true")
    assert r.status_code == 400
    assert errors(r) == [("stock.bpmn", "Activity_ship", 13, "java_code",
                          "executionListener camunda:class 'com.acme.AuditListener' is Java code and no Python handler "
                          "is registered under that name: a listener cannot run as an external task (it runs inside "
                          "the step that starts or ends the element; nothing waits there for a worker), so register "
                          "a Python handler under that name")]


def test_the_modeler_deploys_with_the_checkbox_and_says_the_warning_in_chinese(app):
    from tests.web.test_diagram_report import ZH
    from tests.web.test_pages import login

    owner = login(app, "owner")
    data = {"xml": CAMUNDA.decode(), "filename": "stock.bpmn", "action": "deploy", "csrf_token": owner.token}
    refused = owner.post("/admin/modeler/check", headers=ZH, data=data)
    assert refused.status_code == 400
    assert [p["text"] for p in refused.json["status"]["problems"]] == [
        "Check stock（第 8 行）：这里不能运行 Java 代码（camunda:class“com.acme.CheckStock”）：没有以该名称注册的 Python "
        "处理程序。请注册一个，或勾选“Java 按外部任务运行”后部署，由外部工作程序处理。"]
    r = owner.post("/admin/modeler/check", headers=ZH, data={**data, "java_as_external": "1"})
    assert r.status_code == 200 and r.json["ok"]
    assert [w["text"] for w in r.json["status"]["warnings"]] == [
        "Check stock（第 8 行）：“com.acme.CheckStock”在 Camunda 中是 Java 代码：在以该名称注册 Python 处理程序之前，"
        "它作为外部任务（主题“com.acme.CheckStock”）运行，由外部工作程序处理。"]
    page = owner.get("/admin/modeler", headers=ZH).data.decode()
    assert 'id="java-as-external"' in page and "Java 按外部任务运行" in page
    upload = {"action": "deploy", "csrf_token": owner.token, "java_as_external": "1",
              "file": [(io.BytesIO(OPERATON), "stock_operaton.bpmn")]}
    page = owner.post("/admin/deploy", headers=ZH, content_type="multipart/form-data", data=upload).data.decode()
    assert "已部署。" in page and "它作为外部任务（主题“com.acme.CheckStock”）运行" in page
    assert 'name="java_as_external" value="1" checked' in page


def test_processes_not_executable_are_skipped_with_a_warning_and_a_file_with_none_is_refused(app, api):
    client = app.test_client()
    r = deploy(client, "order.bpmn", COLLABORATION)
    assert r.status_code == 201
    # the supplier's pool names Java and a group that does not exist: skipped, nothing about it is checked
    assert [d["key"] for d in r.json["definitions"]] == ["shop_order"]
    assert [(w["element_id"], w["line"], w["code"], w["message"]) for w in r.json["warnings"]] == [
        ("supplier_delivery", 22, "process_skipped", "process 'supplier_delivery' is not executable "
         "(isExecutable=\"false\"): it is skipped, as Camunda skips it — no definition is created for it")]
    assert client.get("/api/process-definitions/supplier_delivery", headers=basic("owner")).status_code == 404
    started = api.post("customer_service", "/api/process-definitions/shop_order/start", {"variables": {}})
    assert started.status_code == 201
    assert [t["element_id"] for t in started.json["tasks"]] == ["Activity_confirm"]
    refused = deploy(client, "miwg__A.1.0.bpmn", MIWG)
    assert refused.status_code == 400
    assert errors(refused) == [("miwg__A.1.0.bpmn", "WFP-6-", 3, "not_executable",
                                "no process in this file is executable (isExecutable=\"false\" on WFP-6-): there is "
                                "nothing to run; mark the process to run as executable (Camunda Modeler: the "
                                "process's \"Executable\" checkbox)")]


# --- a real external worker serves the Java name ------------------------------------------------------------


def modeler_deploy(url: str, name: str, content: bytes, java_as_external: bool) -> requests.Response:
    """Camunda Modeler 5's Deploy (multipart, the file under its own name), with our own form field."""
    fields = {"aftersales-java-as-external": "true"} if java_as_external else {}
    return requests.post(f"{url}/engine-rest/deployment/create", data=modeler_body(name, content, "stock", fields),
                         auth=("owner", "demo"), timeout=10,
                         headers={"accept": "application/json",
                                  "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.mark.parametrize("name, content", [("stock.bpmn", CAMUNDA), ("stock_operaton.bpmn", OPERATON)])
def test_a_real_external_worker_serves_the_java_class_and_the_case_moves_on(served, name, content):
    server, _app = served
    pytest.importorskip("camunda")
    from camunda.external_task.external_task_worker import ExternalTaskWorker

    refused = modeler_deploy(server, name, content, java_as_external=False)
    assert refused.status_code == 400 and refused.json()["type"] == "ParseException"
    assert "com.acme.CheckStock" in refused.json()["message"]
    r = modeler_deploy(server, name, content, java_as_external=True)
    assert r.status_code == 200, r.text
    assert list(r.json()["deployedProcessDefinitions"]) == ["stock_check:1"]
    assert [(w["code"], w["element_id"], w["line"]) for w in r.json()["warnings"]] == [
        ("java_external", "Activity_check", 8)]
    started = requests.post(f"{server}/engine-rest/process-definition/key/stock_check/start",
                            auth=("customer_service", "demo"), timeout=10,
                            json={"businessKey": "SO-1", "variables": {"sku": {"value": "P-100", "type": "String"}}})
    assert started.status_code == 200, started.text
    instance = started.json()["id"]
    seen = {}

    def check_stock(task):
        seen["sku"], seen["topic"] = task.get_variable("sku"), task.get_topic_name()
        return task.complete({"in_stock": True})

    worker = ExternalTaskWorker(worker_id="stock", base_url=f"{server}/engine-rest",
                                config={"auth_basic": {"username": "worker", "password": "demo"}, "maxTasks": 1,
                                        "lockDuration": 10_000, "asyncResponseTimeout": 2000, "sleepSeconds": 0})
    worker.fetch_and_execute(TOPIC, check_stock)
    assert seen == {"sku": "P-100", "topic": TOPIC}
    view = requests.get(f"{server}/api/process-instances/{instance}", auth=("admin", "demo"), timeout=10).json()
    assert (view["state"], view["variables"]["in_stock"]) == ("running", True)
    assert [t["element_id"] for t in view["tasks"]] == ["Activity_ship"]


def test_once_a_python_handler_is_registered_under_the_name_the_same_version_runs_it_in_process(database_url, clock):
    """"Until rewritten": deployed as an external topic, the version is not deployed again when the company
    registers a handler; the next case runs the handler and offers workers nothing."""
    import handlers
    from engine.models import ExternalTask
    from engine.users import Actor
    from engine.wiring import build

    owner = Actor("owner", frozenset({"process_owner"}))
    before, sessions, db = build(handlers.default_registry(), database_url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        before.deploy(s, {"stock.bpmn": CAMUNDA}, owner, java_as_external=True)
        waiting = before.start(s, "stock_check", owner).id
        s.commit()
    registry = handlers.default_registry()
    registry.register("com.acme.CheckStock", lambda ctx: {"in_stock": ctx.variables.get("sku") == "P-100"})
    after, sessions, _db = build(registry, database_url, clock=clock)
    with sessions() as s:
        result = after.deploy(s, {"stock.bpmn": CAMUNDA}, owner)  # no option needed any more
        assert [(d.version, d.changed) for d in result.definitions] == [(1, False)]
        assert [(w.code, w.element_id) for w in result.warnings] == [("java_bridged", "Activity_check")]
        iid = after.start(s, "stock_check", owner, variables={"sku": "P-100"}).id
        s.commit()
    with sessions() as s:
        assert after.variables(s, after.get_instance(s, iid))["in_stock"] is True
        assert sorted(t.element_id for t in after.open_tasks(s, iid)) == ["Activity_ship"]
        assert [(t.instance_id, t.topic) for t in s.query(ExternalTask)] == [(waiting, TOPIC)]
    db.dispose()
    _db.dispose()


def test_the_command_line_deploys_with_java_as_external_and_prints_the_warning(tmp_path, database_url, monkeypatch):
    from click.testing import CliRunner

    from web.cli import main

    (tmp_path / "stock.bpmn").write_bytes(CAMUNDA)
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    refused = runner.invoke(main, ["deploy", str(tmp_path / "stock.bpmn")])
    assert refused.exit_code == 1 and f"stock.bpmn:8 [Activity_check]: {REFUSED}" in refused.output
    r = runner.invoke(main, ["deploy", str(tmp_path / "stock.bpmn"), "--java-as-external"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [  # an empty database: the warehouse group has nobody yet
        "  stock_check v1 (new)",
        "  warning: stock.bpmn:13 [Activity_ship]: candidate group 'warehouse' has no active member: nobody can take "
        "this task",
        f"  warning: stock.bpmn:8 [Activity_check]: {WARNED}"]


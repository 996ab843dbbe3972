"""Authentication, permissions and error answers of the JSON API."""

from __future__ import annotations

from tests.conftest import DATA, process_files


def test_authentication(api):
    assert api.get(None, "/api/tasks").status_code == 401
    r = api.client.get("/api/tasks", headers={"Authorization": "Basic Y3VzdG9tZXJfc2VydmljZTp3cm9uZw=="})
    assert r.status_code == 401 and r.json["error"] == "wrong user name or password"
    r = api.post("customer_service", "/api/tokens", {"label": "script"})
    assert r.status_code == 201
    token = r.json["token"]
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json == {"user": "customer_service", "groups": ["customer_service"]}
    assert api.client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_passwords_are_hashed(app):
    from engine.models import User

    with app.extensions["aftersales"]["sessions"]() as s:
        user = s.query(User).filter_by(username="admin").one()
        assert user.password_hash.startswith("$argon2") and "demo" not in user.password_hash


def test_deploy_permissions_and_report(api):
    r = api.deploy("customer_service", process_files())
    assert r.status_code == 403
    broken = (DATA / "flaky.bpmn").read_bytes().replace(b'camunda:topic="test.flaky"', b"")
    r = api.deploy("owner", {"flaky.bpmn": broken})
    assert r.status_code == 400
    assert r.json["errors"] == [{"file": "flaky.bpmn", "element_id": "book", "line": 8,
                                 "message": "service task has no camunda:topic naming a handler", "code": "no_topic",
                                 "params": {}}]
    assert api.get("owner", "/api/process-definitions").json == []
    r = api.deploy("owner", process_files(), "first")
    assert r.status_code == 201 and {d["key"] for d in r.json["definitions"]} >= {"repair", "dispatch", "return_eligibility"}
    r = api.get("tech_support", "/api/process-definitions/repair")
    (v1,) = r.json["versions"]
    assert (v1["version"], v1["deployed_by"], v1["comment"], v1["current"]) == (1, "owner", "first", True)
    assert r.json["current_version"] == 1
    xml = api.get("tech_support", "/api/process-definitions/repair/xml?version=1")
    assert xml.status_code == 200 and xml.data == process_files()["repair.bpmn"]
    assert api.get("tech_support", "/api/process-definitions/repair/xml?version=7").status_code == 404


def test_bad_requests_are_clear(deployed):
    api = deployed
    r = api.client.post("/api/process-definitions/repair/start", data="not json",
                        headers={**api._headers("customer_service"), "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON object" in r.json["error"]
    assert api.post("customer_service", "/api/process-definitions/nope/start", {}).status_code == 404
    assert api.get("customer_service", "/api/process-instances/999").status_code == 404
    assert api.get("customer_service", "/api/tasks/no-such-task").status_code == 404
    assert api.get("customer_service", "/api/process-instances?state=sleeping").status_code == 400
    assert api.get("customer_service", "/api/nowhere").json == {"error": api.get("customer_service", "/api/nowhere").json["error"]}


def test_task_lists_by_group_and_mine(deployed):
    api = deployed
    from tests.web.test_repair_flow import REQUEST

    r = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST})
    iid = r.json["id"]
    task = r.json["tasks"][0]
    assert api.get("technician", "/api/tasks").json["items"] == []
    assert api.get("technician", "/api/tasks?group=customer_service").status_code == 403
    assert [t["id"] for t in api.get("customer_service", "/api/tasks?group=customer_service").json["items"]] == [task["id"]]
    assert api.get("customer_service", "/api/tasks?mine=1").json["items"] == []
    api.post("customer_service", f"/api/tasks/{task['id']}/claim")
    assert [t["id"] for t in api.get("customer_service", "/api/tasks?mine=1").json["items"]] == [task["id"]]
    r = api.post("customer_service", f"/api/tasks/{task['id']}/assign", {"user": "technician"})
    assert r.status_code == 400 and "not a candidate" in r.json["error"]
    assert api.post("customer_service", f"/api/tasks/{task['id']}/unclaim").json["assignee"] is None
    assert api.get("customer_service", f"/api/process-instances?business_key={r.json and task['business_key']}").json["items"][0]["id"] == iid


def test_condition_on_a_missing_variable_parks_the_case(api):
    assert api.deploy("owner", {"routing.bpmn": (DATA / "bad_condition.bpmn").read_bytes()}).status_code == 201
    iid = api.post("customer_service", "/api/process-definitions/routing/start", {}).json["id"]
    inst = api.complete("customer_service", iid, "triage")  # no 'severity' given
    assert inst["state"] == "error"
    assert inst["error"]["element_id"] == "gw" and "severity" in inst["error"]["message"]
    assert [h["element_id"] for h in api.history("customer_service", iid)] == ["triage"]


def test_lost_database_is_a_clear_503(app, api):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    app.extensions["aftersales"]["sessions"] = app.extensions["aftersales"]["read_sessions"] = sessionmaker(dead)
    r = api.get("customer_service", "/api/tasks")
    assert r.status_code == 503 and "database unavailable" in r.json["error"]


def test_a_completion_answers_the_case_and_its_open_tasks_and_the_history_comes_in_pages(api):
    api.deploy("owner", {"five.bpmn": FIVE})
    iid = api.post("customer_service", "/api/process-definitions/five_steps/start", {}).json["id"]
    for n in range(1, 5):
        done = api.complete("customer_service", iid, f"t{n}", note=f"step {n}")
        assert "history" not in done
        assert [t["element_id"] for t in done["tasks"]] == [f"t{n + 1}"] and done["variables"]["note"] == f"step {n}"
    first = api.get("customer_service", f"/api/process-instances/{iid}/history?limit=3").json
    assert [h["element_id"] for h in first["entries"]] == ["t1", "t2", "t3"]
    rest = api.get("customer_service", f"/api/process-instances/{iid}/history?after={first['next']}&limit=3").json
    assert [h["element_id"] for h in rest["entries"]] == ["t4"] and rest["next"] is None
    assert [h["data"]["note"] for h in api.history("customer_service", iid, limit=1)] == [
        "step 1", "step 2", "step 3", "step 4"]
    assert api.get("customer_service", f"/api/process-instances/{iid}/history?limit=0").status_code == 400
    assert api.get("warehouse", f"/api/process-instances/{iid}/history").status_code == 403


FIVE = (DATA / "five_steps.bpmn").read_bytes()  # five user tasks in a row

"""Users and groups are data (issue 13): admins create groups and users, change members, disable
accounts and reset passwords; diagrams naming a missing group or user deploy with a warning; a
task nobody can take shows in the incidents."""

from __future__ import annotations

import base64

from click.testing import CliRunner

DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="invoice_check" name="Invoice check" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:userTask id="check" name="Check invoice" camunda:candidateGroups="GROUP"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="done"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _basic(user: str, password: str = "demo") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _put(api, user, path, body):
    return api.client.put(path, headers=_basic(user), json=body)


def _diagram(group: str) -> dict[str, bytes]:
    return {"invoice_check.bpmn": DIAGRAM.replace(b"GROUP", group.encode())}


def _start(api) -> int:
    r = api.post("admin", "/api/process-definitions/invoice_check/start", {"variables": {}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _inbox(api, user, password="demo") -> list[str]:
    r = api.client.get("/api/tasks", headers=_basic(user, password))
    assert r.status_code == 200, r.json
    return [t["element_id"] for t in r.json["items"]]


def test_group_created_through_the_api_then_its_diagram_deploys_clean_and_the_member_gets_the_task(api):
    r = api.post("admin", "/api/groups", {"id": "accounting", "name_zh": "会计部", "name_en": "Accounting"})
    assert r.status_code == 201, r.json
    r = api.post("admin", "/api/users", {"username": "lihua", "password": "Kj7#mq2pL", "groups": ["accounting"],
                                         "display_name": "李华"})
    assert r.status_code == 201, r.json
    assert "password_hash" not in r.json and r.json["groups"] == ["accounting"]
    r = api.deploy("admin", _diagram("accounting"))
    assert r.status_code == 201 and r.json["warnings"] == []
    _start(api)
    assert _inbox(api, "lihua", "Kj7#mq2pL") == ["check"]
    # taken out of the group: the task leaves their inbox at once
    assert _put(api, "admin", "/api/users/lihua", {"groups": []}).status_code == 200
    assert _inbox(api, "lihua", "Kj7#mq2pL") == []


def test_unknown_group_deploys_with_the_warning_and_its_task_is_in_the_incidents(api, app):
    from tests.web.test_pages import login

    supervisor = login(app, "supervisor")
    r = api.deploy("admin", _diagram("management"))
    assert r.status_code == 201, r.json
    assert r.json["warnings"] == [{
        "file": "invoice_check.bpmn", "element_id": "check", "line": 7, "group": "management", "user": None,
        "message": "candidate group 'management' does not exist: nobody can take this task until an admin creates it",
        "code": "group_missing", "name": "management"}]
    instance = _start(api)
    r = api.get("supervisor", "/api/incidents")
    assert [(t["instance_id"], t["element_id"], t["candidate_groups"]) for t in r.json["unstaffed"]] == [
        (instance, "check", ["management"])]
    assert r.json["counts"]["unstaffed"] == 1
    page = supervisor.get("/incidents").get_data(as_text=True)
    assert "无人可办 (1)" in page and "Check invoice" in page
    # the group is created and staffed: nobody-can-take is over
    assert api.post("admin", "/api/groups", {"id": "management", "name_zh": "管理层"}).status_code == 201
    assert _put(api, "admin", "/api/users/supervisor", {"groups": ["supervisor", "management"]}).status_code == 200
    assert api.get("supervisor", "/api/incidents").json["unstaffed"] == []
    assert "无人可办 (0)" in supervisor.get("/incidents").get_data(as_text=True)


def test_disabled_user_gets_401_on_basic_and_bearer_at_once(api):
    token = api.post("marketing", "/api/tokens", {"label": "script"}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("marketing", "/api/me").status_code == 200  # Basic check now remembered
    assert api.client.get("/api/me", headers=bearer).status_code == 200
    assert _put(api, "admin", "/api/users/marketing", {"active": False}).status_code == 200
    assert api.get("marketing", "/api/me").status_code == 401
    assert api.client.get("/api/me", headers=bearer).status_code == 401


def test_password_reset_ends_the_old_password_and_never_shows_a_hash(api):
    assert api.get("finance", "/api/me").status_code == 200
    r = _put(api, "admin", "/api/users/finance", {"password": "N3w-passw0rd"})
    assert r.status_code == 200 and "hash" not in str(r.json)
    assert api.get("finance", "/api/me").status_code == 401
    assert api.client.get("/api/me", headers=_basic("finance", "N3w-passw0rd")).status_code == 200


def test_bad_input_names_the_field_and_stores_nothing(api):
    before = api.get("admin", "/api/users").json
    r = api.post("admin", "/api/groups", {"id": "finance", "name_zh": "财务"})
    assert r.status_code == 409 and r.json["error"] == "group 'finance' exists already"
    r = api.post("admin", "/api/groups", {"id": "sales", "name_zh": "  "})
    assert r.status_code == 400 and r.json["errors"] == {"name_zh": "is required"}
    r = api.post("admin", "/api/users", {"username": "wang", "password": "", "groups": ["nosuch"]})
    assert r.status_code == 400
    assert r.json["errors"] == {"password": "is required", "groups": "unknown group(s): nosuch"}
    r = api.post("admin", "/api/users", {"username": "wang", "password": "abc", "groups": []})
    assert r.status_code == 400 and r.json["errors"] == {"password": "must have at least 8 characters"}
    r = _put(api, "admin", "/api/users/finance", {"groups": ["finance", "nosuch"], "active": False})
    assert r.status_code == 400 and r.json["errors"] == {"groups": "unknown group(s): nosuch"}
    assert api.get("admin", "/api/users").json == before
    assert "sales" not in [g["id"] for g in api.get("admin", "/api/groups").json]
    r = _put(api, "admin", "/api/users/admin", {"active": False})
    assert r.status_code == 400 and r.json["errors"] == {"active": "you cannot disable your own account"}


def test_only_admins_manage_users_and_groups(api):
    for user in ("supervisor", "owner", "customer_service"):
        assert api.get(user, "/api/users").status_code == 403
        assert api.get(user, "/api/groups").status_code == 403
        assert api.post(user, "/api/groups", {"id": "x1", "name_zh": "某组"}).status_code == 403
        assert api.post(user, "/api/users", {"username": "x1", "password": "Kj7#mq2pL"}).status_code == 403
        assert _put(api, user, "/api/users/marketing", {"active": False}).status_code == 403
    assert api.get("marketing", "/api/me").status_code == 200


def test_cli_round_trip(app, monkeypatch):
    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    run = CliRunner().invoke
    assert run(main, ["groups", "add", "clerk", "--name-zh", "文员", "--name-en", "Clerk"]).exit_code == 0
    r = run(main, ["users", "add", "zhao", "--group", "clerk", "--password", "Kj7#mq2pL"])
    assert r.exit_code == 0, r.output
    r = run(main, ["groups", "add", "clerk", "--name-zh", "文员"])
    assert r.exit_code == 1 and "group 'clerk' exists already" in r.output
    assert run(main, ["users", "passwd", "zhao", "--password", "short"]).exit_code == 1
    assert run(main, ["users", "passwd", "zhao", "--password", "An0ther-one"]).exit_code == 0
    assert run(main, ["groups", "add-member", "clerk", "marketing"]).exit_code == 0
    listing = run(main, ["groups", "list"]).output
    assert "clerk\tactive\t文员\tClerk\tmarketing,zhao" in listing
    assert run(main, ["groups", "remove-member", "clerk", "zhao"]).exit_code == 0
    assert run(main, ["users", "disable", "zhao"]).exit_code == 0
    assert "zhao\tdisabled\t\n" in run(main, ["users", "list"]).output + "\n"


def test_the_zh_cn_people_page_shows_names_and_creates_a_group_from_a_deploy_warning(api, app):
    import re

    from tests.web.test_pages import login

    admin = login(app, "admin")
    r = admin.post("/admin/deploy", data={"action": "deploy", "csrf_token": admin.token, "filename": "invoice_check.bpmn",
                                          "xml": _diagram("teamlead")["invoice_check.bpmn"].decode()})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "候选组 teamlead 不存在：在管理员创建之前无人可办此任务。" in page
    assert '/admin/people/?group=teamlead#new-group' in page
    form = admin.get("/admin/people/?group=teamlead").get_data(as_text=True)
    assert 'name="id" value="teamlead"' in form and "人员与组" in form
    r = admin.post("/admin/people/groups", data={"id": "teamlead", "name_zh": "组长", "name_en": "Team lead",
                                                 "csrf_token": admin.token})
    assert r.status_code == 302
    r = admin.post("/admin/people/users/technician2", data={"groups": ["technician", "teamlead"], "active": "on",
                                                            "csrf_token": admin.token})
    assert r.status_code == 302
    page = admin.get("/admin/people/").get_data(as_text=True)
    row = re.search(r'<tr data-group="teamlead">.*?</tr>', page, re.S)[0]
    assert "组长" in row and "technician2" in row
    technician = re.search(r'<tr data-group="technician">.*?</tr>', page, re.S)[0]
    assert "维修工程师" in technician
    # checkboxes name groups by their Chinese name, never the id alone
    assert re.search(r'value="finance"[^>]*> 财务部', page)
    r = admin.post("/admin/people/users/technician2", data={"groups": ["nosuch"], "csrf_token": admin.token})
    assert r.status_code == 400 and "nosuch" in r.get_data(as_text=True)
    assert app.test_client().get("/admin/people/").status_code == 302
    assert login(app, "supervisor").get("/admin/people/").status_code == 403


def test_r23_admins_say_where_a_user_works_as_a_province(api):
    r = api.post("admin", "/api/users", {"username": "wanggong", "password": "Kj7#mq2pL", "groups": ["technician"],
                                         "region": "江苏"})
    assert r.status_code == 201 and r.json["region"] == "江苏"
    r = _put(api, "admin", "/api/users/technician", {"region": "火星"})
    assert r.status_code == 400 and r.json["errors"]["region"].startswith("must be a province: 北京, 天津")
    assert {u["username"]: u["region"] for u in api.get("admin", "/api/users").json}["technician"] is None  # unchanged
    assert _put(api, "admin", "/api/users/technician", {"region": "浙江"}).json["region"] == "浙江"
    assert _put(api, "admin", "/api/users/technician", {"region": ""}).json["region"] is None

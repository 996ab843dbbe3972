"""Hostile and careless input answers 4xx naming what is wrong, and stores nothing (issue 8, item 5)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import process_files, start_case

REPAIR = {"customer_name": "张三", "customer_phone": "13800138000", "product_model": "KX-200",
          "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}
BIG = "9" * 20  # past 2**63
PAST_INT = str(2**31)  # past what an id column holds on PostgreSQL
DEEP = '{"variables": {"customer_name": ' + "[" * 100_000 + "]" * 100_000 + "}}"


def _raw(api, user, method, path, body: str | bytes):
    headers = {**api._headers(user), "Content-Type": "application/json"}
    return api.client.open(path, method=method, data=body, headers=headers)


def _start(variables: dict) -> str:
    return json.dumps({"variables": {**REPAIR, **variables}}, allow_nan=True)


# (method, path, raw JSON body or None, expected status, words the error must contain)
CASES = [
    ("POST", "/api/process-definitions/repair/start", DEEP, 400, "nested"),
    ("POST", "/api/tasks/{task}/complete", '{"variables": ' + "[" * 50_000 + "]" * 50_000 + "}", 400, "nested"),
    ("POST", "/api/process-definitions/repair/start", _start({"customer_name": float("nan")}), 400, "NaN"),
    ("POST", "/api/process-definitions/repair/start", _start({"fault_description": float("inf")}), 400, "Infinity"),
    ("POST", "/api/process-definitions/repair/start", _start({"customer_name": "张\u0000三"}), 400, "NUL"),
    ("POST", "/api/process-definitions/repair/start", '{"variables": {"customer_name": "\\ud800"}}', 400, "surrogate"),
    ("POST", "/api/messages", json.dumps({"name": "goods_received", "variables": {"note": "x" * 200_000}}), 400, "too long"),
    ("POST", "/api/messages", json.dumps({"name": "goods_received", "variables": {"note": "x" * 3_000_000}}), 413, "larger"),
    ("POST", "/api/process-definitions/repair/start", _start({"serial_no": 10 ** 30}), 400, "too large"),
    ("POST", "/api/process-definitions/repair/start", _start({f"v{i}": i for i in range(300)}), 400, "variables"),
    ("POST", "/api/process-definitions/repair/start", json.dumps({"business_key": "RX\u0000", "variables": REPAIR}), 400, "NUL"),
    ("POST", "/api/messages", '{"name": "goods_received", "correlation": {"rma_no": "\\ud83d"}}', 400, "surrogate"),
    ("POST", "/api/messages", '{"name": "goods\\u0000received"}', 400, "NUL"),
    ("POST", "/api/tokens", '{"label": "a\\u0000b"}', 400, "NUL"),
    ("POST", "/api/tasks/{task}/assign", '{"user": "tech\\u0000support"}', 400, "NUL"),
    ("POST", "/api/calendar/closed-days", '{"day": "2026-12-30", "reason": "\\udfff"}', 400, "surrogate"),
    ("POST", "/api/process-definitions/repair/rollback", '{"version": ' + BIG + "}", 400, "version"),
    ("POST", "/api/process-definitions/repair/migrations",
     '{"from_version": 1, "to_version": 1, "instances": [' + BIG + "]}", 400, "instances"),
    ("GET", "/api/process-instances/" + BIG, None, 404, "no process instance"),
    ("POST", "/api/process-instances/" + BIG + "/cancel", None, 404, "no process instance"),
    ("POST", "/api/process-instances/" + BIG + "/retry", None, 404, "no process instance"),
    ("GET", "/api/process-instances/" + BIG + "/documents", None, 404, "no process instance"),
    ("GET", "/api/tasks?instance=" + BIG, None, 400, "instance"),
    ("GET", "/api/process-instances/" + PAST_INT + "/documents", None, 404, "no process instance"),
    ("GET", "/api/tasks?instance=" + PAST_INT, None, 400, "instance"),
    ("GET", "/api/access-log?instance=" + PAST_INT, None, 400, "instance"),
    ("GET", "/api/access-log?instance=%C2%B2", None, 400, "instance"),
    ("GET", "/api/process-definitions/repair/xml?version=" + BIG, None, 400, "version"),
    ("GET", "/api/process-definitions/repair/diff?from=1&to=" + BIG, None, 400, "to"),
    ("GET", "/api/tasks/" + "x" * 5000, None, 404, "task"),
    ("POST", "/api/process-definitions/repair/start", '{"variables": {"a": 1}, "variables": [1]}', 400, "duplicate"),
]


@pytest.mark.parametrize("method, path, body, status, words", CASES, ids=[f"{i}-{c[1][:40]}" for i, c in enumerate(CASES)])
def test_hostile_body_is_refused_and_nothing_stored(deployed, method, path, body, status, words):
    api = deployed
    case = start_case(api, "repair", REPAIR)
    task = api.task("customer_service", case["id"], "check_scope")
    before = api.get("admin", f"/api/process-instances/{case['id']}").json
    user = "admin" if any(w in path for w in ("rollback", "migrations", "cancel", "closed-days", "diff", "access-log")) else "customer_service"
    r = _raw(api, user, method, path.format(task=task["id"]), body)
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert words.lower() in r.json["error"].lower(), r.json
    assert api.get("admin", f"/api/process-instances/{case['id']}").json == before
    assert [i["id"] for i in api.get("admin", "/api/process-instances").json["items"]] == [case["id"]]


XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="xxe" isExecutable="true"><bpmn:startEvent id="s" name="&x;"/></bpmn:process>
</bpmn:definitions>"""
XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="xxe" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="xxe" isExecutable="true"><bpmn:startEvent id="s" name="&c;"/></bpmn:process>
</bpmn:definitions>"""
DEEP_XML = (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
            + b"<a>" * 5000 + b"</a>" * 5000 + b"</bpmn:definitions>")


@pytest.mark.parametrize("name, xml, words", [("xxe_file.bpmn", XXE_FILE, "DTD"), ("xxe_param.bpmn", XXE_PARAMETER, "DTD"),
                                              ("laughs.bpmn", BILLION_LAUGHS, "DTD"), ("deep.bpmn", DEEP_XML, "deep")])
def test_hostile_xml_is_refused_naming_the_problem(api, name, xml, words):
    for path in ("/api/deployments", "/api/deployments?dry_run=1"):
        import io

        r = api.client.post(path, headers={**api._headers("admin"), "X-Requested-With": "t"}, content_type="multipart/form-data",
                            data={"file": [(io.BytesIO(xml), name)]})
        assert r.status_code == 400, r.get_data(as_text=True)[:300]
        (problem,) = r.json["errors"]
        assert problem["file"] == name and words in problem["message"], problem
        assert "root:" not in r.get_data(as_text=True)
    assert api.get("admin", "/api/process-definitions").json == []


def test_modeler_check_refuses_a_dtd(api, app):
    from tests.web.test_pages import login

    client = login(app, "admin")
    r = client.post("/admin/modeler/check", data={"xml": XXE_FILE.decode(), "filename": "x.bpmn", "action": "validate",
                                                  "csrf_token": client.token})
    assert r.status_code == 400 and not r.json["ok"]
    assert "DTD" in r.json["errors"][0]["message"]


def test_unicode_file_name_downloads(api, app):
    files = process_files()
    r = api.deploy("admin", {"维修流程.bpmn": files["repair.bpmn"], **{k: v for k, v in files.items() if k != "repair.bpmn"}})
    assert r.status_code == 201, r.json
    r = api.get("admin", "/api/process-definitions/repair/xml")
    assert r.status_code == 200 and r.data == files["repair.bpmn"]
    assert r.headers["Content-Disposition"] == "inline; filename=\"repair.bpmn\"; filename*=UTF-8''%E7%BB%B4%E4%BF%AE%E6%B5%81%E7%A8%8B.bpmn"
    from tests.web.test_pages import login

    client = login(app, "admin")
    r = client.get("/admin/definitions/repair/1.xml")
    assert r.status_code == 200 and r.data == files["repair.bpmn"]
    assert r.headers["Content-Disposition"] == "attachment; filename=\"repair.bpmn\"; filename*=UTF-8''%E7%BB%B4%E4%BF%AE%E6%B5%81%E7%A8%8B.bpmn"

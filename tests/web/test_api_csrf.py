"""A page on another origin cannot make a logged-in browser change anything through the API (issue 8, item 4)."""

from __future__ import annotations

import io

from tests.conftest import process_files, start_case

from .test_hostile_input import REPAIR

EVIL = {"Origin": "https://evil.example", "Referer": "https://evil.example/page.html"}


def test_no_basic_challenge_so_browsers_never_remember_credentials(api):
    for r in (api.get(None, "/api/tasks"), api.client.get("/api/tasks", headers={"Authorization": "Basic eDp5"})):
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="aftersales"'


def test_cross_origin_form_post_with_remembered_basic_credentials_is_refused(deployed):
    api = deployed
    case = start_case(api, "repair", REPAIR)
    before = api.get("supervisor", f"/api/process-instances/{case['id']}").json
    path = f"/api/process-instances/{case['id']}/cancel"
    # what <form method=post action=…/cancel> sends, with every enctype a form has, and a bodyless fetch()
    for content_type, body in (("application/x-www-form-urlencoded", "x=1"), ("text/plain", "x=1"),
                               ("multipart/form-data; boundary=b", "--b--\r\n"), (None, "")):
        headers = {**api._headers("supervisor"), **EVIL}
        if content_type:
            headers["Content-Type"] = content_type
        r = api.client.post(path, data=body, headers=headers)
        assert r.status_code == 415, (content_type, r.status_code)
        assert r.json["error"] == "state-changing API calls need 'Content-Type: application/json' or a Bearer token"
    after = api.get("supervisor", f"/api/process-instances/{case['id']}").json
    assert after == before and after["state"] == "running"
    # the same call from a script that says it sends JSON (a cross-origin one would need a CORS preflight)
    r = api.post("supervisor", path)
    assert r.status_code == 200 and r.json["state"] == "cancelled"


def test_bearer_token_calls_need_no_content_type(deployed):
    api = deployed
    case = start_case(api, "repair", REPAIR)
    token = api.post("supervisor", "/api/tokens", {"label": "script"}).json["token"]
    r = api.client.post(f"/api/process-instances/{case['id']}/cancel", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["state"] == "cancelled"


def test_diagram_upload_needs_a_bearer_token_or_a_header_no_form_can_send(api):
    files = {"file": [(io.BytesIO(process_files()["dispatch.bpmn"]), "dispatch.bpmn")]}
    r = api.client.post("/api/deployments", headers={**api._headers("admin"), **EVIL}, data=dict(files),
                        content_type="multipart/form-data")
    assert r.status_code == 415
    assert r.json["error"] == "upload files as multipart/form-data with a Bearer token or an 'X-Requested-With' header"
    assert api.get("admin", "/api/process-definitions").json == []
    token = api.post("admin", "/api/tokens", {}).json["token"]
    files = {"file": [(io.BytesIO(process_files()["dispatch.bpmn"]), "dispatch.bpmn")]}
    r = api.client.post("/api/deployments", headers={"Authorization": f"Bearer {token}"}, data=files,
                        content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    assert [d["key"] for d in api.get("admin", "/api/process-definitions").json] == ["dispatch"]

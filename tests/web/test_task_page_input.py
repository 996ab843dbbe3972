"""Issue 11 item 7 without a browser: a page's CSRF token lasts as long as the session (not Flask-WTF's
one hour), a completed task's page says it is done, a colleague's claimed task is read-only."""

from __future__ import annotations

import re
import time

from tests.web.test_logins import _login
from tests.web.test_repair_flow import diagnose, start


def _client(app, user):
    client = app.test_client()
    assert _login(client, user).status_code == 302
    return client


def test_a_form_left_open_for_two_hours_still_submits(deployed, app, monkeypatch):
    iid = start(deployed)["id"]
    task = deployed.task("customer_service", iid, "check_scope")
    cs = _client(app, "customer_service")
    token = re.search(r'name="csrf_token" value="([^"]+)"', cs.get(f"/tasks/{task['id']}").data.decode())[1]
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    r = cs.post(f"/tasks/{task['id']}", data={"csrf_token": token, "identity_confirmed": "true", "in_scope": "true",
                                              "in_warranty": "true"})
    assert r.status_code == 302
    assert [t["element_id"] for t in deployed.get("supervisor", f"/api/process-instances/{iid}").json["tasks"]] == ["diagnose"]


def test_a_completed_tasks_page_says_it_is_done_and_links_the_case(deployed, app):
    iid = start(deployed)["id"]
    task = deployed.task("customer_service", iid, "check_scope")
    deployed.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    page = _client(app, "customer_service").get(f"/tasks/{task['id']}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.data.decode()
    assert "此任务已完成" in html and f'href="/cases/{iid}"' in html and "已被他人修改" not in html


def test_a_colleagues_claimed_task_has_no_form_to_submit(deployed, app):
    iid = start(deployed)["id"]
    deployed.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(deployed, iid, parts_needed="")
    deployed.complete("supervisor", iid, "approve_plan", plan_approved=True)
    task = deployed.task("technician", iid, "accept_work_order")
    assert deployed.post("technician", f"/api/tasks/{task['id']}/claim").status_code == 200
    html = _client(app, "technician2").get(f"/tasks/{task['id']}").data.decode()
    assert 'data-held-by="technician"' in html and "认领 — 请其释放" in html
    assert 'method="post" class="stack task-form"' not in html and "data-read-only" in html
    mine = _client(app, "technician").get(f"/tasks/{task['id']}").data.decode()
    assert "data-held-by" not in mine and "data-draft=" in mine

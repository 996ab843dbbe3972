"""Retention as admins see it (issue 17): the page with the settings, what the next run removes and the
runs; the legal hold from the case page and the API; and an anonymised case that shows no name, phone
or address on any page or API answer."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.web.test_logins import _login as login
from tests.web.test_repair_flow import REQUEST, start
from web import jobs

SECRETS = (REQUEST["customer_name"], REQUEST["customer_phone"], REQUEST["customer_address"])


def _client(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _closed_case(api) -> dict:
    """A repair case refused as out of scope (R27): finished, with its repair request document."""
    inst = start(api)
    api.complete("customer_service", inst["id"], "check_scope", identity_confirmed=True, in_scope=False,
                 in_warranty=False, scope_reason="人为损坏")
    done = api.complete("customer_service", inst["id"], "notify_out_of_scope", customer_informed=True)
    assert done["state"] == "completed"
    return inst


def _run(app):
    ext = app.extensions["aftersales"]
    return jobs.retention_run(ext["engine"], ext["sessions"], "test")


@pytest.fixture
def old_case(deployed, clock):
    """A case that ended 1,200 days ago: past the 3-year personal-data period, within the 5-year history."""
    inst = _closed_case(deployed)
    clock.advance(days=1200)
    return inst


def test_an_anonymised_case_shows_no_personal_data_anywhere(app, deployed, old_case, clock):
    api, iid, number = deployed, old_case["id"], old_case["business_key"]
    docs = api.get("admin", f"/api/process-instances/{iid}/documents").json
    assert docs[0]["data"]["customer_phone"] == REQUEST["customer_phone"]  # before: there
    _run(app)

    answers = {
        "case": api.get("admin", f"/api/process-instances/{iid}"),
        "history": api.get("admin", f"/api/process-instances/{iid}/history"),
        "documents": api.get("admin", f"/api/process-instances/{iid}/documents"),
        "list": api.get("admin", f"/api/process-instances?business_key={number}"),
    }
    for name, r in answers.items():
        assert r.status_code == 200, name
        assert not any(s in r.get_data(as_text=True) for s in SECRETS), name
    case = answers["case"].json
    assert case["anonymised_at"] is not None and case["history_removed_at"] is None
    assert case["variables"]["customer_name"] is None and case["variables"]["serial_no"] == REQUEST["serial_no"]
    assert [h["element_id"] for h in answers["history"].json["entries"]][:2] == ["register", "check_scope"]
    assert answers["documents"].json[0]["data"]["product_model"] == REQUEST["product_model"]  # structure kept

    client = _client(app, "admin")
    pages = {
        "case": client.get(f"/cases/{iid}"),
        "document": client.get(f"/cases/{iid}/documents/{answers['documents'].json[0]['number']}"),
        "search by number": client.get(f"/search?q={number}"),
        "search by phone": client.get(f"/search?q={REQUEST['customer_phone']}"),
        "search by name": client.get(f"/search?q={REQUEST['customer_name']}"),
        "inbox": client.get("/"),
    }
    for name, r in pages.items():
        assert r.status_code == 200, name
        body = r.get_data(as_text=True)
        if name.startswith("search by "):  # the search box repeats what was typed; the results must not
            q = r.request.args["q"]
            body = body.replace(f'value="{q}"', "").replace(f"“{q}”", "").replace(f"q%3D{q}", "")
        assert not any(s in body for s in SECRETS), name
    assert f"/cases/{iid}" in pages["search by number"].get_data(as_text=True)
    assert f"/cases/{iid}" not in pages["search by phone"].get_data(as_text=True)
    assert "客户个人信息已于" in pages["case"].get_data(as_text=True)


def test_the_page_shows_what_the_next_run_removes_and_logs_every_run(app, deployed, clock):
    api = deployed
    first = _closed_case(api)
    clock.advance(days=10)
    second = _closed_case(api)
    clock.advance(days=1830)  # the first ended 1,840 days ago, the second 1,830: both past the 5 years
    admin = _client(app, "admin")
    r = api.post("admin", "/api/retention/settings", {"history_days": 1835})
    assert r.status_code == 200, r.json
    page = admin.get("/admin/retention/").get_data(as_text=True)
    assert "数据保留" in page
    assert re.search(r'data-plan="remove">1<', page) and re.search(r'data-plan="anonymise">1<', page)
    assert first["business_key"] in page and second["business_key"] not in page
    assert second["business_key"] in admin.get("/admin/retention/?what=anonymise").get_data(as_text=True)
    assert 'data-ttl="repair-1"' in page and "尚未运行" in page

    _run(app)
    after = api.get("admin", "/api/retention").json
    assert [(r["removed"], r["anonymised"]) for r in after["runs"]] == [(1, 1)]
    run = after["runs"][0]
    assert (run["phase"], run["batch_count"]) == ("done", 2)
    assert [(b["kind"], b["count"], b["notifications"], b["removed"], b["anonymised"]) for b in run["batches"]] == [
        ("remove", 1, 0, 1, 0), ("anonymise", 1, 0, 0, 1)]
    assert after["next"]["remove"] == 0 and after["next"]["anonymise"] == 0
    assert api.get("admin", f"/api/process-instances/{first['id']}/documents").json == []
    page = admin.get("/admin/retention/").get_data(as_text=True)
    assert re.search(r'data-run="\d+"', page)
    assert re.findall(r'data-batch-kind="(\w+)"', page) == ["remove", "anonymise"] and "最近 2 批" in page


def test_settings_from_the_page_are_checked_in_chinese_and_saved(app, deployed):
    admin = _client(app, "admin")
    token = _csrf(admin, "/admin/retention/")
    form = {"csrf_token": token, "notifications_days": "14", "history_days": "1825", "personal_data_days": "0",
            "window": "25:00-05:00", "timezone": "Asia/Shanghai", "batch_size": "200", "enabled": "1"}
    r = admin.post("/admin/retention/settings", data=form)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "须为 1 到 36500 之间的整数" in body and "须为时间段" in body
    assert deployed.get("admin", "/api/retention").json["settings"]["notifications_days"] == 30  # nothing stored
    r = admin.post("/admin/retention/settings", data={**form, "personal_data_days": "730", "window": "02:00-04:30"})
    assert r.status_code == 302
    settings = deployed.get("admin", "/api/retention").json["settings"]
    assert (settings["notifications_days"], settings["personal_data_days"], settings["window"]) == (14, 730, "02:00-04:30")
    assert "admin 于" in admin.get("/admin/retention/").get_data(as_text=True)  # who changed it


def test_a_legal_hold_keeps_the_case_and_is_recorded(app, deployed, old_case):
    api, iid = deployed, old_case["id"]
    r = api.post("admin", f"/api/process-instances/{iid}/legal-hold", {"reason": ""})
    assert r.status_code == 422 and "reason" in r.json["errors"]
    r = api.post("supervisor", f"/api/process-instances/{iid}/legal-hold", {"reason": "诉讼"})
    assert r.status_code == 403
    admin = _client(app, "admin")
    r = admin.post(f"/admin/retention/hold/{iid}", data={"csrf_token": _csrf(admin, f"/cases/{iid}"), "hold": "1",
                                                         "reason": "客户投诉升级为诉讼"})
    assert r.status_code == 302
    assert api.get("admin", "/api/retention/due?what=held").json["cases"][0]["id"] == iid
    _run(app)
    case = api.get("admin", f"/api/process-instances/{iid}").json
    assert case["legal_hold"] is True and case["anonymised_at"] is None
    assert REQUEST["customer_phone"] in json.dumps(case, ensure_ascii=False)
    hold = [h for h in api.history("admin", iid) if h["kind"] == "LegalHold"]
    assert [(h["completed_by"], h["data"]["reason"]) for h in hold] == [("admin", "客户投诉升级为诉讼")]
    page = admin.get(f"/cases/{iid}").get_data(as_text=True)
    assert "法律保留中" in page and "<dt>原因</dt>" in page and "<dt>reason</dt>" not in page

    r = api.post("admin", f"/api/process-instances/{iid}/legal-hold", {"hold": False, "reason": "诉讼结束"})
    assert r.status_code == 200 and r.json["legal_hold"] is False
    _run(app)
    assert api.get("admin", f"/api/process-instances/{iid}").json["anonymised_at"] is not None


def test_the_night_job_of_the_embedded_scheduler_runs_in_the_window_only(app, deployed, old_case, clock):
    from datetime import UTC, datetime

    from web.scheduler import TimerScheduler

    ext = app.extensions["aftersales"]
    scheduler = TimerScheduler(ext["engine"], ext["sessions"])
    clock.set(datetime(2030, 3, 4, 6, 0, tzinfo=UTC))  # 14:00 Shanghai
    assert scheduler.run_retention() is None
    assert deployed.get("admin", "/api/retention").json["runs"] == []
    clock.set(clock.now() + timedelta(hours=12))  # 02:00 Shanghai
    assert scheduler.run_retention(every_seconds=0) is not None
    runs = deployed.get("admin", "/api/retention").json["runs"]
    assert [(r["night"], r["anonymised"], r["ended_at"] is not None) for r in runs] == [("2030-03-05", 1, True)]


def test_the_command_line_run_does_what_its_dry_run_listed(app, deployed, database_url, monkeypatch):
    """``aftersales retention run --dry-run`` then ``run`` (the command counts on the system clock:
    the test's cases ended on the test clock's day, 2026-11-23, before today)."""
    from click.testing import CliRunner

    from web.cli import main

    api = deployed
    cases = [_closed_case(api) for _ in range(2)]
    assert api.post("admin", "/api/retention/settings", {"personal_data_days": 1}).status_code == 200
    assert api.post("admin", f"/api/process-instances/{cases[1]['id']}/legal-hold", {"reason": "诉讼"}).status_code == 200
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    dry = runner.invoke(main, ["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    listed = {tuple(line.split("\t")[:2]) for line in dry.output.splitlines() if "\t" in line}
    assert listed == {("anonymise", str(cases[0]["id"])), ("held", str(cases[1]["id"]))}
    assert api.get("admin", f"/api/process-instances/{cases[0]['id']}").json["anonymised_at"] is None  # dry: no change
    real = runner.invoke(main, ["retention", "run"])
    assert real.exit_code == 0, real.output
    assert "0 cases' history removed, 1 cases anonymised" in real.output
    states = [api.get("admin", f"/api/process-instances/{c['id']}").json["anonymised_at"] is not None for c in cases]
    assert states == [True, False]

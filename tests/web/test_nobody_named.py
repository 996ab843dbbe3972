"""Issue 16: tasks whose diagram names nobody wait in a list of their own — ``GET /api/tasks?nobody=1`` and
the inbox's 无人负责 / Nobody named tab — for admins and process owners, who claim them or assign them to
a colleague through the usual claim and assign; everyone else is refused the list."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DATA
from tests.web.test_pages import login, site  # noqa: F401  (fixture)

CHECK = {"unassigned_check.bpmn": (DATA / "unassigned_check.bpmn").read_bytes()}
ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}


@pytest.fixture
def checks(api, clock):
    """The spot-check diagram deployed and three cases started by customer service a minute apart: their task
    ids, oldest first."""
    assert api.deploy("owner", CHECK).status_code == 201
    ids = []
    for n in range(3):
        r = api.post("customer_service", "/api/process-definitions/unassigned_check/start", {"business_key": f"SC-{n + 1}"})
        assert r.status_code == 201, r.json
        ids.append(r.json["tasks"][0]["id"])
        clock.advance(minutes=1)
    return ids


def _nobody(api, user, query=""):
    return api.get(user, f"/api/tasks?nobody=1{query}")


def test_only_admins_and_process_owners_get_the_list(api, checks):
    for user in ("admin", "owner"):
        r = _nobody(api, user)
        assert r.status_code == 200
        assert [(t["id"], t["business_key"], t["element_id"], t["candidate_groups"], t["assignee"])
                for t in r.json["items"]] == [(i, f"SC-{n + 1}", "record_check", [], None) for n, i in enumerate(checks)]
    for user in ("customer_service", "tech_support", "technician", "technician2", "warehouse", "supervisor", "finance",
                 "logistics", "marketing", "emergency_team", "regional_manager"):
        r = _nobody(api, user)
        assert (r.status_code, r.json) == (403, {"error": "only admins and process owners see the list of tasks "
                                                          "that name nobody"})
    assert _nobody(api, None).status_code == 401
    r = _nobody(api, "admin", "&mine=1")
    assert (r.status_code, r.json["error"]) == (400, "'nobody' lists the tasks that name nobody: leave out 'mine' and 'group'")


def test_admin_claims_a_task_and_it_moves_to_his_own(api, checks):
    r = api.post("admin", f"/api/tasks/{checks[0]}/claim")
    assert (r.status_code, r.json["assignee"]) == (200, "admin")
    assert [t["id"] for t in _nobody(api, "owner").json["items"]] == checks[1:]
    assert [t["id"] for t in api.get("admin", "/api/tasks?mine=1").json["items"]] == [checks[0]]


def test_process_owner_assigns_a_task_to_a_technician_who_completes_it(api, checks):
    r = api.post("owner", f"/api/tasks/{checks[1]}/assign", {"user": "technician"})
    assert (r.status_code, r.json["assignee"]) == (200, "technician")
    assert [t["id"] for t in _nobody(api, "admin").json["items"]] == [checks[0], checks[2]]
    mine = api.get("technician", "/api/tasks?mine=1").json["items"]
    assert [(t["id"], t["business_key"]) for t in mine] == [(checks[1], "SC-2")]
    done = api.post("technician", f"/api/tasks/{checks[1]}/complete", {"variables": {"check_passed": True}})
    assert done.status_code == 200 and done.json["instance"]["state"] == "completed"
    assert api.get("technician", "/api/tasks?mine=1").json["items"] == []


def test_assigning_to_no_user_or_a_disabled_one_is_refused_and_changes_nothing(api, checks):
    r = api.post("owner", f"/api/tasks/{checks[0]}/assign", {"user": "ghost"})
    assert (r.status_code, r.json["error"]) == (404, "no user 'ghost'")
    assert api.post("admin", "/api/users", {"username": "gone", "password": "demo-pass", "groups": ["technician"]}
                    ).status_code == 201
    assert api.client.put("/api/users/gone", json={"active": False},
                          headers=api._headers("admin")).status_code == 200
    r = api.post("owner", f"/api/tasks/{checks[0]}/assign", {"user": "gone"})
    assert (r.status_code, r.json["error"]) == (400, "user 'gone' is disabled: a task cannot be assigned to them")
    assert [t["id"] for t in _nobody(api, "owner").json["items"]] == checks


def test_the_list_pages_with_its_cursor(api, clock):
    assert api.deploy("owner", CHECK).status_code == 201
    started = []
    for _ in range(7):
        started.append(api.post("owner", "/api/process-definitions/unassigned_check/start", {}).json["tasks"][0]["id"])
        clock.advance(seconds=30)
    pages, after = [], ""
    while True:
        r = _nobody(api, "admin", f"&limit=3{after}")
        assert r.status_code == 200
        pages.append([t["id"] for t in r.json["items"]])
        if r.json["next"] is None:
            break
        after = f"&after={r.json['next']}"
    assert pages == [started[:3], started[3:6], started[6:]]


def _tab(client, lang=ZH, query=""):
    return client.get(f"/?tab=nobody{query}", headers=lang)


def test_the_inbox_tab_lists_them_in_local_time_for_admins_and_owners_only(site, api, clock, checks):  # noqa: F811
    clock.advance(hours=3)
    admin = login(site, "admin")
    page = _tab(admin).data.decode()
    assert 'data-tab="nobody"' in page and ">无人负责" in page
    rows = re.findall(r'<tr data-task="record_check" data-task-id="([^"]+)".*?</tr>', page, re.S)
    assert rows == checks
    first = re.search(r'<tr data-task="record_check".*?</tr>', page, re.S)[0]
    # task, case, flow, waiting since (Shanghai time: started 09:00 UTC = 17:00) and how long, due 4 h after the
    # start: the three cases were started a minute apart, so 3 h 3 min have passed
    assert ">登记抽检结果</a>" in first and ">SC-1</a>" in first and "<td>产品抽检</td>" in first
    assert "2026-11-23 17:00" in first and "3 小时前" in first
    assert "2026-11-23 21:00" in first and "57 分钟后到期" in first and "今日到期" in first
    assert "record_check" not in re.sub(r'data-task="record_check"', "", first)  # no element id shown
    english = _tab(admin, EN).data.decode()
    assert ">Nobody named" in english and ">Record the spot check</a>" in english and "Product spot check" in english
    assert "3 h ago" in english

    owner = login(site, "owner")
    page = _tab(owner).data.decode()
    assert re.findall(r'data-task-id="([^"]+)"', page) == checks
    # a process owner may not open these cases (customer service's): the case number is shown, not linked
    assert ">SC-1</a>" not in page and "SC-1" in page

    for user in ("technician", "supervisor"):
        other = login(site, user)
        assert 'data-tab="nobody"' not in other.get("/", headers=ZH).data.decode()
        refused = _tab(other)
        assert refused.status_code == 403 and "只有管理员和流程负责人可以查看无人负责的任务。" in refused.data.decode()
        assert "Only admins and process owners see the tasks that name nobody." in _tab(other, EN).data.decode()


def test_claim_and_assign_from_the_tab(site, api, checks):  # noqa: F811
    admin = login(site, "admin")
    page = _tab(admin).data.decode()
    options = re.search(rf'<select id="assign_{checks[0]}" name="user" required>(.*?)</select>', page, re.S)[1]
    # every active user, by name (the demo users have none but their login)
    assert sorted(re.findall(r'<option value="([^"]*)"', options)) == sorted(
        ["", "admin", "customer_service", "emergency_team", "finance", "logistics", "marketing", "owner",
         "regional_manager", "supervisor", "tech_support", "technician", "technician2", "warehouse"])
    r = admin.post(f"/tasks/{checks[0]}/claim", data={"csrf_token": admin.token, "back": "/?tab=nobody"})
    assert (r.status_code, r.headers["Location"]) == (302, "/?tab=nobody")
    page = admin.get("/?tab=nobody", headers=ZH).data.decode()
    assert re.findall(r'data-task-id="([^"]+)"', page) == checks[1:] and "已认领任务。" in page
    mine = admin.get("/?tab=mine", headers=ZH).data.decode()
    assert f'href="/tasks/{checks[0]}"' in mine

    owner = login(site, "owner")
    r = owner.post(f"/tasks/{checks[1]}/assign", data={"csrf_token": owner.token, "user": "technician",
                                                       "back": "/?tab=nobody"})
    assert r.status_code == 302
    page = owner.get("/?tab=nobody", headers=ZH).data.decode()
    assert re.findall(r'data-task-id="([^"]+)"', page) == checks[2:]
    tech = login(site, "technician")
    assert f'href="/tasks/{checks[1]}"' in tech.get("/?tab=mine", headers=ZH).data.decode()

    # a name that is no user: said on the list, nothing assigned
    r = owner.post(f"/tasks/{checks[2]}/assign", data={"csrf_token": owner.token, "user": "ghost",
                                                       "back": "/?tab=nobody"})
    assert r.status_code == 302
    page = owner.get("/?tab=nobody", headers=ZH).data.decode()
    assert "没有可用的用户“ghost”：未分派任务。" in page
    assert re.findall(r'data-task-id="([^"]+)"', page) == checks[2:]

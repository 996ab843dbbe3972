"""Lists that page (issue 17): ``GET /api/tasks``, ``GET /api/process-instances`` and the inbox answer one
page at a time with a cursor, every open task exactly once even while others are completed meanwhile;
search finds cases by case number, phone, serial and name through the index, as the policy allows."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import event

from tests.conftest import start_case
from tests.web.test_customer_data import _to_issue_parts
from tests.web.test_pages import login
from tests.web.test_repair_flow import REQUEST

SCOPE = {"identity_confirmed": True, "in_scope": True, "in_warranty": True}


def _cases(api, clock, n: int, **variables) -> list[dict]:
    found = []
    for i in range(n):
        if i % 3 == 0:
            clock.advance(seconds=1)  # some cases share a creation time: the cursor's tie-break is the task id
        found.append(start_case(api, "repair", {**REQUEST, **variables, "serial_no": f"SN-{i:04d}"}))
    return found


def _page(api, user, query: str) -> dict:
    r = api.get(user, f"/api/tasks?{query}")
    assert r.status_code == 200, r.json
    assert set(r.json) == {"items", "next"}
    return r.json


def test_paging_returns_every_task_once_while_tasks_are_completed(deployed, clock):
    _cases(deployed, clock, 14)
    first = _page(deployed, "customer_service", "group=customer_service&limit=4")
    everything = [t["id"] for t in first["items"]]
    # read the whole list once, undisturbed, to know the order
    after = first["next"]
    while after:
        page = _page(deployed, "customer_service", f"group=customer_service&limit=4&after={after}")
        everything += [t["id"] for t in page["items"]]
        after = page["next"]
    assert len(everything) == len(set(everything)) == 14

    # again, completing tasks between the pages: some already listed, some not yet reached
    seen: list[str] = []
    completed: set[str] = set()
    after, pages = None, 0
    while True:
        page = _page(deployed, "customer_service", "group=customer_service&limit=4" + (f"&after={after}" if after else ""))
        seen += [t["id"] for t in page["items"]]
        assert not completed & {t["id"] for t in page["items"]}  # nothing completed comes back
        pages += 1
        if pages <= 2:
            ahead = [t for t in everything if t not in seen and t not in completed][1]  # one not yet listed
            for task_id in (seen[0] if seen[0] not in completed else seen[1], ahead):
                r = deployed.post("customer_service", f"/api/tasks/{task_id}/complete", {"variables": SCOPE})
                assert r.status_code == 200, r.json
                completed.add(task_id)
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen))  # no task twice
    never_completed = set(everything) - completed
    assert never_completed <= set(seen) and set(seen) <= set(everything)
    assert set(seen) - never_completed == completed & set(seen)  # the only extras were listed before completion
    assert [t for t in everything if t in never_completed] == [t for t in seen if t in never_completed]  # in order


def test_next_says_whether_more_follow_at_the_boundary(deployed, clock):
    _cases(deployed, clock, 3)
    exact = _page(deployed, "customer_service", "limit=3")
    assert len(exact["items"]) == 3 and exact["next"] is None
    short = _page(deployed, "customer_service", "limit=2")
    assert len(short["items"]) == 2 and short["next"]
    rest = _page(deployed, "customer_service", f"limit=2&after={short['next']}")
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert [t["id"] for t in exact["items"]] == [t["id"] for t in short["items"] + rest["items"]]
    item = exact["items"][0]
    assert (item["process_key"], item["element_id"], item["candidate_groups"]) == ("repair", "check_scope",
                                                                                   ["customer_service"])
    assert _page(deployed, "customer_service", "")["next"] is None  # default page of 50


def test_case_list_pages_newest_first(deployed, clock):
    made = [c["id"] for c in _cases(deployed, clock, 5)]
    r = deployed.get("admin", "/api/process-instances?limit=2")
    assert [i["id"] for i in r.json["items"]] == made[::-1][:2] and r.json["next"]
    ids, after = [], None
    while True:
        r = deployed.get("admin", "/api/process-instances?limit=2" + (f"&after={after}" if after else ""))
        assert r.status_code == 200, r.json
        ids += [i["id"] for i in r.json["items"]]
        after = r.json["next"]
        if after is None:
            break
    assert ids == made[::-1]
    assert "variables" not in r.json["items"][0] and r.json["items"][0]["state"] == "running"
    # the access policy is in the query: warehouse sees none of these cases, and pages say so
    assert deployed.get("warehouse", "/api/process-instances?limit=1").json == {"items": [], "next": None}


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("path", "message"), [
    ("/api/tasks?limit=0", "'limit' must be a whole number from 1 to 200"),
    ("/api/tasks?limit=201", "'limit' must be a whole number from 1 to 200"),
    ("/api/tasks?limit=ten", "'limit' must be a whole number from 1 to 200"),
    ("/api/tasks?after=not-a-cursor", "'after' is not a cursor this list gave out"),
    ("/api/tasks?after=" + _cursor(["c", 5]), "'after' is not a cursor this list gave out"),  # a case list's
    ("/api/tasks?after=" + _cursor(["t", "yesterday", "x"]), "'after' is not a cursor this list gave out"),
    ("/api/process-instances?after=" + _cursor(["c", -1]), "'after' is not a cursor this list gave out"),
    ("/api/process-instances?after=" + _cursor(["c", "5"]), "'after' is not a cursor this list gave out"),
    ("/api/process-instances?limit=-1", "'limit' must be a whole number from 1 to 200"),
])
def test_a_bad_cursor_or_limit_is_a_400_saying_so(deployed, path, message):
    r = deployed.get("customer_service", path)
    assert r.status_code == 400
    assert r.json["error"].startswith(message)


def test_the_inbox_pages_and_reads_only_the_open_tab(site, api, clock, app):
    _cases(api, clock, 5)
    cs = login(site, "customer_service")
    page = cs.get("/?tab=group&limit=2").data.decode()
    assert page.count('data-task="check_scope"') == 2
    assert re.search(r'data-tab="group"[^>]*>[^<]*<span class="count">2\+<', page)
    tasks = re.findall(r'/tasks/([0-9a-f-]{36})"', page)
    listed = list(tasks)
    while (found := re.search(r'href="([^"]+)" data-page="next"', page)) is not None:
        page = cs.get(found[1].replace("&amp;", "&")).data.decode()
        listed += re.findall(r'/tasks/([0-9a-f-]{36})"', page)
        assert 'data-page="first"' in page
    assert len(listed) == len(set(listed)) == 5
    # the started tab is not built while the group tab is open
    assert "data-task=" not in cs.get("/?tab=started").data.decode()

    # a page costs the same statements whatever its length: no query per row
    db = app.extensions["aftersales"]["db"]
    statements: list[str] = []
    event.listen(db, "before_cursor_execute", lambda *a: statements.append(a[2]))
    cs.get("/?tab=group&limit=1")
    one = len(statements)
    statements.clear()
    cs.get("/?tab=group&limit=5")
    assert len(statements) == one


def test_a_bad_inbox_cursor_shows_the_first_page(site, api, clock):
    _cases(api, clock, 1)
    r = login(site, "customer_service").get("/?tab=group&after=garbage")
    assert r.status_code == 302 and r.headers["Location"] == "/?tab=group"


@pytest.fixture
def site(app, deployed):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _found(client, q: str) -> set[str]:
    page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return set(re.findall(r'href="/cases/(\d+)"', page))


def test_search_finds_the_case_by_case_number_phone_serial_and_name(site, api):
    people = [("王小明", "13811112222", "KX-A-7781"), ("李四", "13933334444", "KX-B-5502"), ("王五", "13700005555", "ZX-C-0031")]
    made = {}
    for name, phone, serial in people:
        case = start_case(api, "repair", {**REQUEST, "customer_name": name, "customer_phone": phone, "serial_no": serial})
        made[name] = str(case["id"]), case["business_key"]
    cs = login(site, "customer_service")
    ming, si, wu = made["王小明"][0], made["李四"][0], made["王五"][0]
    assert _found(cs, made["李四"][1]) == {si}  # case number, exactly
    assert _found(cs, made["李四"][1][-4:]) == {si}  # its last digits
    assert _found(cs, "4444") == {si}  # the last digits of a phone
    assert _found(cs, "13700005555") == {wu}
    assert _found(cs, "B-55") == {si}  # a piece of a serial
    assert _found(cs, "kx-a") == {ming}  # ignoring case
    assert _found(cs, "王小明") == {ming}  # a customer's whole name
    assert _found(cs, "王") == {ming, wu}  # a surname: a name that starts with it
    assert _found(cs, "李四") == {si}
    assert _found(cs, "赵六") == set()
    # who may not see contact data may not search by it: warehouse finds its case by serial, not by phone or name
    parts = str(_to_issue_parts(api))
    warehouse = login(site, "warehouse")
    assert _found(warehouse, REQUEST["serial_no"][-4:]) == {parts}
    assert _found(warehouse, REQUEST["customer_phone"][-4:]) == set() == _found(warehouse, REQUEST["customer_name"])
    assert _found(cs, REQUEST["customer_phone"][-4:]) == {parts}


def test_the_search_index_follows_a_change_of_the_customer(site, api, app):
    from engine.models import Instance

    case = start_case(api, "repair", {**REQUEST, "customer_phone": "13566667777"})
    cs = login(site, "customer_service")
    assert _found(cs, "6777") == {str(case["id"])}
    sessions = app.extensions["aftersales"]["sessions"]
    with sessions() as s:  # as an anonymisation would: the row changes, the index with it (same transaction)
        s.get(Instance, case["id"]).customer_phone = None
        s.commit()
    assert _found(cs, "6777") == set()


def test_a_whole_case_number_or_phone_is_looked_up_by_value_before_any_substring(site, api, app):
    """Typing a whole case number finds that case through the plain index (a trigram search merges the
    posting lists of a million look-alike numbers); a piece of it still finds every case containing it."""
    a = start_case(api, "repair", {**REQUEST, "customer_phone": "13511112222"})
    b = start_case(api, "repair", {**REQUEST, "serial_no": "SN-" + a["business_key"]})  # mentions a's number
    cs = login(site, "customer_service")
    statements: list[str] = []
    db = app.extensions["aftersales"]["db"]
    event.listen(db, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert _found(cs, a["business_key"]) == {str(a["id"])}
    assert _found(cs, "13511112222") == {str(a["id"])}
    assert not [s for s in statements if "MATCH" in s or "ILIKE" in s.upper()]  # no trigram search was needed
    assert _found(cs, a["business_key"][3:]) == {str(a["id"]), str(b["id"])}  # a piece: every case containing it
    assert _found(cs, a["business_key"].lower()) == {str(a["id"]), str(b["id"])}  # not exactly as stored: contains

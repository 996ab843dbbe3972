"""Issue 11 item 5: the warehouse records returned goods on a page — the list of returns waiting for
their goods (待收货) and the action on the case page send ``goods_received`` correlated by the case's
``rma_no``, as a courier's scan through POST /api/messages would; the access policy lets the warehouse
see exactly those cases."""

from __future__ import annotations

import re

from tests.conftest import start_case
from tests.web.test_logins import _login
from tests.web.test_return_exchange import REQUEST as RETURN

REQUEST = {**RETURN, "purchase_date": "2026-11-20"}  # within 7 days of today (2026-11-23): eligible (R5)


def _awaiting_goods(api) -> dict:
    inst = start_case(api, "return_exchange", REQUEST)
    api.complete("customer_service", inst["id"], "review", review_approved=True)
    case = api.get("supervisor", f"/api/process-instances/{inst['id']}").json
    assert case["tasks"] == [] and case["state"] == "running"  # waiting at await_goods: nobody's task
    return case


def _page_client(app, user):
    client = app.test_client()
    assert _login(client, user).status_code == 302
    return client


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_the_warehouse_lists_opens_and_receives_a_waiting_return(deployed, app):
    case = _awaiting_goods(deployed)
    other = start_case(deployed, "return_exchange", {**REQUEST, "order_no": "SO-779"})  # still in review: not listed
    wh = _page_client(app, "warehouse")
    page = wh.get("/receiving").data.decode()
    assert f'data-awaiting="{case["id"]}"' in page and f'data-awaiting="{other["id"]}"' not in page
    assert "实木餐桌" in page and "不想要了" in page and "no_longer_wanted" not in page  # labels, not enum ids
    assert REQUEST["contact_phone"] not in page  # the warehouse sees no contact data
    assert 'data-receiving="1"' in page  # the menu counts it
    case_page = wh.get(f"/cases/{case['id']}")
    assert case_page.status_code == 200 and 'data-receivable="goods_received"' in case_page.data.decode()
    r = wh.post(f"/cases/{case['id']}/messages/goods_received",
                data={"csrf_token": _token(page), "goods_received_note": "  外箱完好 ", "back": "/receiving"})
    inspect = deployed.task("warehouse", case["id"], "inspect")
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{inspect['id']}"  # straight to the inspection
    after = deployed.get("supervisor", f"/api/process-instances/{case['id']}").json
    assert after["variables"]["goods_received_note"] == "外箱完好"
    received = [h for h in deployed.history("supervisor", case["id"]) if h["kind"] == "Message"]
    assert [(h["element_id"], h["completed_by"]) for h in received] == [("await_goods", "warehouse")]
    # sent again (a second tab): nothing happens twice, and the page says why
    again = wh.post(f"/cases/{case['id']}/messages/goods_received", data={"csrf_token": _token(page)})
    assert again.status_code == 302
    assert "此案件已不在等待收货" in wh.get(again.headers["Location"]).data.decode()
    assert [t["element_id"] for t in deployed.get("supervisor", f"/api/process-instances/{case['id']}").json["tasks"]] \
        == ["inspect"]


def test_only_the_recording_groups_may_receive_and_see_waiting_returns(deployed, app):
    case = _awaiting_goods(deployed)
    finance = _page_client(app, "finance")
    assert finance.get("/receiving").status_code == 403
    assert finance.get(f"/cases/{case['id']}").status_code == 403
    token = _token(finance.get("/account").data.decode())
    assert finance.post(f"/cases/{case['id']}/messages/goods_received", data={"csrf_token": token}).status_code == 403
    cs = _page_client(app, "customer_service")  # sees every case, but receiving goods is the warehouse's
    assert 'data-receivable' not in cs.get(f"/cases/{case['id']}").data.decode()
    # the warehouse sees the case only while it waits for the goods
    assert deployed.get("warehouse", f"/api/process-instances/{case['id']}").status_code == 200
    deployed.post("warehouse", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": case["variables"]["rma_no"]}})
    deployed.complete("warehouse", case["id"], "inspect", inspection_passed=False)
    assert deployed.get("warehouse", f"/api/process-instances/{case['id']}").status_code == 200  # completed a task in it


def test_a_too_long_note_is_refused_naming_the_field(deployed, app):
    case = _awaiting_goods(deployed)
    wh = _page_client(app, "warehouse")
    token = _token(wh.get("/receiving").data.decode())
    r = wh.post(f"/cases/{case['id']}/messages/goods_received",
                data={"csrf_token": token, "goods_received_note": "长" * 501, "back": f"/cases/{case['id']}"})
    assert r.status_code == 302
    assert "收货说明：最多 500 个字符" in wh.get(r.headers["Location"]).data.decode()
    assert deployed.get("supervisor", f"/api/process-instances/{case['id']}").json["tasks"] == []

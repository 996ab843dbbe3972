"""The inbox pages without a browser: login, CSRF, filters, saved filters, claim and assign."""

from __future__ import annotations

import re

import pytest

from tests.web.test_repair_flow import REQUEST


@pytest.fixture
def site(app, deployed):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def login(app, user):
    client = app.test_client()
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    r = client.post("/login", data={"username": user, "password": "demo", "csrf_token": token})
    assert r.status_code == 302
    client.token = token
    return client


def csrf(client, path="/"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).data.decode())[1]


def test_login_cookie_and_csrf(site):
    client = site.test_client()
    assert client.get("/").status_code == 302
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert client.post("/login", data={"username": "admin", "password": "demo"}).status_code == 400  # no token
    bad = client.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.data.decode()
    r = client.post("/login", data={"username": "admin", "password": "demo", "csrf_token": token})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_filters_saved_filters_claim_and_assign(site, api):
    for phone, serial in (("13811112222", "SN-A"), ("13933334444", "SN-B")):
        api.post("customer_service", "/api/process-definitions/repair/start",
                 {"variables": {**REQUEST, "customer_phone": phone, "serial_no": serial}})
    cs = login(site, "customer_service")
    page = cs.get("/?tab=group").data.decode()
    assert page.count("data-task=\"check_scope\"") == 2
    page = cs.get("/?tab=group&phone=3333").data.decode()
    assert page.count("data-task=\"check_scope\"") == 1 and "13933334444" in page
    assert cs.get("/?tab=group&serial=SN-A").data.decode().count("data-task=") == 1
    token = csrf(cs)
    cs.post("/inbox/filters", data={"name": "B 客户", "query": "tab=group&phone=3333", "csrf_token": token})
    page = cs.get("/").data.decode()
    assert "B 客户" in page and "?tab=group&amp;phone=3333" in page
    task_id = re.search(r'/tasks/([0-9a-f-]{36})/claim', cs.get("/?tab=group&phone=3333").data.decode())[1]
    cs.post(f"/tasks/{task_id}/claim", data={"csrf_token": token})
    mine = cs.get("/?tab=mine").data.decode()
    assert mine.count("data-task=") == 1 and re.search(r'data-tab="mine">[^<]*<span class="count">1<', mine)
    # a colleague of the same group can be given the task; someone outside it cannot
    r = cs.post(f"/tasks/{task_id}/assign", data={"user": "admin", "csrf_token": token})
    assert r.status_code == 400
    r = cs.post(f"/tasks/{task_id}/unclaim", data={"csrf_token": token})
    assert r.status_code == 302 and cs.get("/?tab=mine").data.decode().count("data-task=") == 0


def test_double_submit_does_not_complete_twice(site, api):
    iid = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST}).json["id"]
    task = api.task("customer_service", iid, "check_scope")
    cs = login(site, "customer_service")
    token = csrf(cs, f"/tasks/{task['id']}")
    form = {"identity_confirmed": ["false", "true"], "in_scope": ["false", "true"], "in_warranty": "false",
            "csrf_token": token}
    first = cs.post(f"/tasks/{task['id']}", data=form)
    second = cs.post(f"/tasks/{task['id']}", data=form)
    assert first.status_code == 302 and second.status_code == 302
    history = api.get("admin", f"/api/process-instances/{iid}/history").json["entries"]
    assert [h["element_id"] for h in history if h["kind"] == "UserTask"] == ["check_scope"]
    assert "该任务已完成" in cs.get("/").data.decode()


def test_start_page_offers_the_flows_staff_start_each_in_one_sentence(site, api):
    """The start page (and the inbox's "新建案件") offers what customer service registers by hand, each
    flow explained by its diagram's sentence; follow-up calls (started when a repair is accepted),
    the weekly parts top-up (a timer start) and dispatch (called by a repair) are not offered, and
    opening or submitting their start page directly is refused, saying why, and starts nothing."""
    cs = login(site, "customer_service")
    page = cs.get("/start").data.decode()
    assert re.findall(r'data-process="(\w+)"', page) == ["complaint", "consultation", "repair", "return_exchange",
                                                                 "travel_expense"]
    cards = dict(re.findall(r'data-process="(\w+)".*?<p class="about">([^<]+)</p>', page, re.S))
    assert cards == {
        "complaint": "客户投诉时登记：记录并转交责任部门，核实后制定方案经主管批准，与客户达成一致并答复；重大投诉立即交应急小组。",
        "consultation": "客户来电、来信或到店咨询时登记：1 个工作小时内首次答复，24 小时（1 个工作日）内完整解答；不能当场解答的问题一直跟踪到解答为止，超时由主管督办。",
        "repair": "客户报修设备故障时登记：核实保修范围，先远程诊断，需要时派技术员上门或返厂维修，验收、收费后按期回访。",
        "return_exchange": "客户要求退货或换货时登记：按退换政策判断是否符合条件，收货检验后退款或发出换货。",
        "travel_expense": "技术员上门服务后填写差旅费报销单，附所服务的报修案件：主管审批（退回时写明原因），财务付款。"}
    assert "字段" not in page and "Register" not in page
    english = cs.get("/start", headers={"Accept-Language": "en"}).data.decode()
    assert "Register a customer&#39;s equipment fault: check the warranty" in english and "客户" not in english

    token = csrf(cs, "/start")
    for key, why in (("follow_up", "「定期回访」由系统自动发起，不能在此手动新建。维修验收完成后由系统自动开始"),
                     ("parts_replenishment", "「配件补货」由系统自动发起，不能在此手动新建。每周五 17:00 由系统自动开始"),
                     ("stock_report", "「月度盘点与配件消耗报表」由系统自动发起，不能在此手动新建。每月 1 日 09:00 由系统自动开始"),
                     ("dispatch", "「派工」由系统自动发起，不能在此手动新建。报修需要上门时由报修流程调用")):
        shown = cs.get(f"/start/{key}")
        assert shown.status_code == 403 and why in shown.data.decode()
        sent = cs.post(f"/start/{key}", data={"csrf_token": token, "case_no": "RX-1", "customer_name": "张三"})
        assert sent.status_code == 403 and why in sent.data.decode()
    assert api.get("admin", "/api/process-instances").json["items"] == []
    admin = login(site, "admin")  # the diagram decides, not the group
    assert admin.get("/start/follow_up").status_code == 403
    assert "follow_up" not in admin.get("/start").data.decode()


def test_case_page_shows_the_timeline_in_pages(site, deployed, monkeypatch):
    from web import views

    monkeypatch.setattr(views, "HISTORY_PAGE", 2)
    api = deployed
    iid = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST}).json["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=False, in_warranty=False,
                 scope_reason="人为损坏")
    api.complete("customer_service", iid, "notify_out_of_scope", customer_informed=True)
    entries = api.history("customer_service", iid)
    assert len(entries) == 4
    client = login(site, "customer_service")
    first = client.get(f"/cases/{iid}").data.decode()
    assert f'data-element="{entries[0]["element_id"]}"' in first and "更多记录" in first
    assert f'data-element="{entries[2]["element_id"]}"' not in first.split('class="timeline"')[1].split("</ol>")[0]
    second = client.get(f"/cases/{iid}?after={entries[1]['id']}").data.decode()
    timeline = second.split('class="timeline"')[1].split("</ol>")[0]
    assert f'data-element="{entries[2]["element_id"]}"' in timeline
    assert f'data-element="{entries[0]["element_id"]}"' not in timeline


def test_favicon_is_served_to_anyone(site):
    """Browsers ask every site for /favicon.ico: an icon, not a 404 or a login page in the log."""
    r = site.test_client().get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype == "image/vnd.microsoft.icon"
    assert r.data[:4] == b"\x00\x00\x01\x00" and len(r.data) < 10_000  # an ICO file's header, small
    page = login(site, "customer_service").get("/").data.decode()
    assert '<link rel="icon" href="/favicon.ico"' in page


def test_steps_no_person_took_read_as_the_system(site, api):
    """The case number is drawn by a service task: the timeline says 系统 there, not the login name
    "system" the engine records (English pages: "System")."""
    iid = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST}).json["id"]
    cs = login(site, "customer_service")
    timeline = cs.get(f"/cases/{iid}").data.decode().split('class="timeline"')[1].split("</ol>")[0]
    assert "· 系统 ·" in timeline and "system" not in timeline
    english = cs.get(f"/cases/{iid}", headers={"Accept-Language": "en"}).data.decode()
    assert "· System ·" in english.split('class="timeline"')[1].split("</ol>")[0]

"""Issue 11, "Plain language": a full repair case, a return and a complaint walked in zh-CN by the
people who work them, every page they open read as text (what the eye sees, not attributes). Any
variable name or enum id of the flows, English sentence (a developer's message), Python dict or
ISO/UTC timestamp on any of those pages fails the test.

Staff are named people (王芳 in customer service …) so that a login name never looks like a
group id or an enum value (the complaint's responsible department is ``tech_support``)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.diagram_labels import Words
from engine.models import Definition
from tests.browser.test_staff_flows import RETURN
from tests.browser.test_task_pages import REQUEST, Api

STAFF = {"wangfang": ("customer_service", "王芳"), "liqiang": ("tech_support", "李强"),
         "zhaolei": ("supervisor", "赵磊"), "chenjie": ("technician", "陈杰"), "sunli": ("warehouse", "孙丽"),
         "zhouyu": ("finance", "周瑜"), "wuqian": ("marketing", "吴倩")}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[+-]00:00\b|\bUTC\b|\d{2}:\d{2}(:\d{2})?Z\b")
SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,:;'’-]+[A-Za-z]{2,}){2,}")  # three English words in a row
DICT = re.compile(r"\{'|'\}|\[\{")


@pytest.fixture
def walk(people, live_app):
    ext = live_app.extensions["aftersales"]
    from engine import users

    with ext["sessions"]() as s:
        from engine.groups import DOMAIN_GROUPS
        from engine.models import User

        for user in s.scalars(select(User)):  # as `aftersales demo` seeds them: named after their group
            if user.display_name == user.username:
                user.display_name = DOMAIN_GROUPS.get(user.username, ("同事",))[0]
        for name, (group, shown) in STAFF.items():
            users.add_user(s, name, "demo", [group], now=ext["engine"].clock.now(), display_name=shown)
        words = Words()
        for xml in s.scalars(select(Definition.xml).where(Definition.kind == "bpmn")):
            words.add(xml)
        s.commit()
    return Walk(people, Api(live_app), words)


class Walk:
    def __init__(self, people, api, words: Words):
        self.people, self.api, self.seen = people, api, {}
        # every variable a form of the flows defines and every enum value id
        self.raw = {f for f in words.field_zh} | {f for f in words.field_en} | {v for _f, v in words.option_zh}
        self.pages = 0
        self.problems: list[str] = []

    def person(self, user):
        if user not in self.seen:
            self.seen[user] = self.people(user)
        return self.seen[user]

    def look(self, user, path) -> str:
        """Open ``path`` as ``user`` and fail on anything raw in what the page shows."""
        page = self.person(user).go(path)
        page.wait_for_load_state("load")
        text = page.evaluate("document.body.innerText")
        words = set(re.findall(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]*(?![A-Za-z0-9_])", text))
        problems = sorted(words & self.raw) + [m.group(0) for m in ISO.finditer(text)] \
            + [m.group(0) for m in SENTENCE.finditer(text)] + [m.group(0) for m in DICT.finditer(text)]
        if problems:  # every page is read; the test reports them all at the end
            self.problems.append(f"{user} on {path}: {problems}")
        self.pages += 1
        return text

    def step(self, user, iid, element, **values):
        """``user`` finds the task in the inbox, opens it, completes it; the supervisor reads the case."""
        self.look(user, "/?tab=group")
        task = next(t for t in self.api.call(user, "GET", f"/api/tasks?instance={iid}")["items"]
                    if t["element_id"] == element)
        self.look(user, f"/tasks/{task['id']}")
        out = self.api.complete(user, iid, element, **values)
        self.raw |= {k for k in out.get("instance", out).get("variables", {}) if len(k) > 2}
        self.look("zhaolei", f"/cases/{iid}")
        return out

    def finish(self, iid, number):
        text = self.look("zhaolei", f"/cases/{iid}")
        assert "已完成" in text or "完成" in text
        page = self.person("zhaolei").page
        for href in [a.get_attribute("href") for a in page.locator("a[data-doc]").all()]:
            self.look("zhaolei", href.replace(page.url.split("/cases/")[0], ""))
        self.look("wangfang", f"/search?q={number}")


def test_repair_return_and_complaint_show_no_raw_names_on_zh_pages(walk):
    api = walk.api
    # repair: on site, with a part from stock, first-time pass, follow-up call
    case = api.call("wangfang", "POST", "/api/process-definitions/repair/start", {"variables": REQUEST}, 201)
    iid = case["id"]
    walk.raw |= set(case["variables"])
    # due dates in local time with how far off they are (check_scope: 2 working days, Monday 10:00 → Wednesday)
    assert re.search(r"2026-11-25 10:00 2 天后到期", walk.look("wangfang", "/?tab=group"))
    walk.step("wangfang", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    walk.step("liqiang", iid, "diagnose", fault_cause="压缩机主板损坏", fault_nature="quality", solution="更换主板",
              remote_fixed=False, plan="onsite", parts_needed=[{"part_no": "P-100", "quantity": 1}], estimated_amount=600)
    walk.step("zhaolei", iid, "approve_plan", plan_approved=True, approval_comment="同意")
    walk.step("chenjie", iid, "accept_work_order", appointment_date="2026-11-25", travel_mode="company_car")
    walk.step("sunli", iid, "issue_parts", parts_handed_over=True)
    walk.step("chenjie", iid, "onsite_repair", repair_steps="拆机更换主板", repair_result="制冷恢复", tested_ok=True,
              parts_used=[{"part_no": "P-100", "quantity": 1}], old_parts_returned=1)
    walk.step("zhaolei", iid, "qc", qc_passed=True)
    walk.step("wangfang", iid, "sign_off", customer_signed=True, solved=True)
    walk.step("wangfang", iid, "follow_up", satisfaction_quality=5, satisfaction_timeliness=4,
              satisfaction_attitude=5, follow_up_comments="满意")
    walk.finish(iid, case["business_key"])

    # return: reviewed, goods received at the warehouse, inspected, refunded
    ret = api.call("wangfang", "POST", "/api/process-definitions/return_exchange/start", {"variables": RETURN}, 201)
    rid = ret["id"]
    walk.raw |= set(ret["variables"])
    walk.step("wangfang", rid, "review", review_approved=True)
    walk.look("sunli", "/receiving")
    api.call("sunli", "POST", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": ret["variables"]["rma_no"]}})
    walk.step("sunli", rid, "inspect", inspection_passed=True)
    walk.step("zhouyu", rid, "refund", refund_amount=1985, refunded=True)
    walk.finish(rid, ret["business_key"] or ret["variables"]["rma_no"])

    # complaint: forwarded to tech support, verified, a plan approved, accepted, answered
    comp = api.call("wangfang", "POST", "/api/process-definitions/complaint/start", {"variables": {
        "customer_name": "孙七", "customer_phone": "13600000000", "product_model": "KX-200",
        "complaint_text": "维修三次仍未修好，态度差", "severity": "normal", "channel": "phone"}}, 201)
    cid = comp["id"]
    walk.raw |= set(comp["variables"])
    walk.step("wangfang", cid, "forward", responsible="tech_support")
    walk.step("liqiang", cid, "verify", substantiated=True, findings="压缩机批次缺陷")
    walk.step("liqiang", cid, "plan", plan_text="更换整机并致歉", compensation_goods="KX-200 整机", gift=True,
              compensation_amount=0)
    walk.step("zhaolei", cid, "approve_plan", plan_approved=True)
    walk.step("wangfang", cid, "customer_agreement", customer_accepts=True, agreement_signed=True)
    walk.step("sunli", cid, "ship_compensation", goods_sent="KX-200 整机", compensation_tracking_no="SF1234567890")
    walk.step("wuqian", cid, "send_gift", gift_item="保温杯", gift_tracking_no="SF1234567891")
    walk.step("wangfang", cid, "reply", reply_text="已更换整机", satisfied=True)
    walk.finish(cid, comp["business_key"])

    # pages nobody should meet, in plain words too
    walk.look("wangfang", "/cases/999999")
    walk.look("wangfang", "/tasks/no-such-task")
    walk.look("zhaolei", "/incidents")
    assert walk.problems == [], "\n".join(walk.problems)
    assert walk.pages > 60

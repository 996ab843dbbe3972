"""Labels in one language at a time (issue 11, "Plain language"): a diagram's Chinese ``name`` / ``label``
on zh-CN pages, its ``label_en`` extension property on English pages, never both, never a raw id."""

from __future__ import annotations

import re

from tests.conftest import ROOT, start_case
from tests.web.test_pages import login
from tests.web.test_repair_flow import REQUEST


def _diagnose_task(deployed):
    case = start_case(deployed, "repair", REQUEST)
    scope = deployed.get("customer_service", f"/api/tasks?instance={case['id']}").json["items"][0]
    r = deployed.post("customer_service", f"/api/tasks/{scope['id']}/complete",
                      {"variables": {"identity_confirmed": True, "in_scope": True, "in_warranty": True}})
    assert r.status_code == 200, r.json
    return case, deployed.get("tech_support", f"/api/tasks?instance={case['id']}").json["items"][0]


def test_task_page_is_chinese_only_on_zh_pages_and_english_only_on_english_pages(app, deployed):
    case, task = _diagnose_task(deployed)
    tech = login(app, "tech_support")
    zh = tech.get(f"/tasks/{task['id']}").data.decode()
    assert "<h1>故障诊断与远程指导</h1>" in zh
    assert "故障性质" in zh and ">质量缺陷</option>" in zh and ">上门维修</option>" in zh
    assert "Diagnose" not in zh and "Quality defect" not in zh and "On-site" not in zh
    tech.set_cookie("lang", "en")
    en = tech.get(f"/tasks/{task['id']}").data.decode()
    assert "<h1>Diagnose, guide remotely</h1>" in en
    assert ">Quality defect</option>" in en and ">On-site</option>" in en
    assert "故障诊断" not in en and "质量缺陷" not in en
    # the timeline and the case page name the completed step and the process in the page's language
    case_en = tech.get(f"/cases/{case['id']}").data.decode()
    assert "Check scope" in case_en and "核实身份与保修范围" not in case_en and "Repair v1" in case_en
    tech.set_cookie("lang", "zh_CN")
    case_zh = tech.get(f"/cases/{case['id']}").data.decode()
    assert "核实身份与保修范围" in case_zh and "Check scope" not in case_zh and "设备报修 v1" in case_zh


def test_enum_values_in_the_timeline_read_as_their_choice(app, deployed):
    case, task = _diagnose_task(deployed)
    r = deployed.post("tech_support", f"/api/tasks/{task['id']}/complete", {"variables": {
        "remote_fixed": False, "fault_cause": "压缩机", "fault_nature": "quality", "solution": "换主板",
        "plan": "onsite", "estimated_amount": 300, "parts_needed": [{"part_no": "P-100", "quantity": 1}]}})
    assert r.status_code == 200, r.json
    page = login(app, "supervisor").get(f"/cases/{case['id']}").data.decode()
    assert "质量缺陷" in page and "上门维修" in page
    assert ">quality<" not in page and ">onsite<" not in page and "fault_nature" not in page


def test_inbox_says_how_long_a_task_is_overdue(app, deployed, clock):
    start_case(deployed, "repair", REQUEST)
    cs = login(app, "customer_service")
    assert "2 天后到期" in cs.get("/?tab=group").data.decode()
    clock.advance(days=3)
    page = cs.get("/?tab=group").data.decode()
    assert re.search(r"已逾期 \d+ (小时|天)", page) and "+00:00" not in page


def test_a_chinese_name_holding_a_latin_word_is_shown_whole(app, deployed):
    """"登记 RMA" (return/exchange) has its own label_en, "Register RMA": it is not read as "中文 English"
    (it was: "登记" on Chinese pages, "RMA" on English ones)."""
    from engine.diagram_labels import element_names
    from web.pages import labels

    names = element_names((ROOT / "processes" / "return_exchange.bpmn").read_bytes())
    for language, shown in (("zh-CN", "登记 RMA"), ("en", "Register RMA")):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert labels.element_name(names, "register") == shown
            assert labels.one_language("登记 RMA", "register") == shown
        with app.test_request_context(headers={"Accept-Language": language}):  # the old convention still splits
            assert labels.one_language("核实身份 Check scope") == {"zh-CN": "核实身份", "en": "Check scope"}[language]

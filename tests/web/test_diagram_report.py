"""Issue 11, plain language: the modeler's status and the upload page's validation report say each
problem in the page's language — the element by its name (an unnamed one by its kind), the line,
a sentence per kind of problem — list every problem found, not the first, and never show the
engine's English messages, element ids or process keys on a zh-CN page. A valid diagram reads
"校验通过" with each flow by its name, its version and whether it changed, and its warnings."""

from __future__ import annotations

import io
import re

from engine.errors import Problem
from tests.conftest import DATA
from tests.web.test_migrate_page import WORDS, chinese, visible
from tests.web.test_pages import login
from tests.web.test_versions import V1

ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}
NAMES = {**WORDS, "Gateway_ok": ("是否批准", "Approved?"), "Activity_orphan": ("孤立的复核", "Orphan check"),
         "Activity_call": ("派工", "Dispatch"), "warranty_claim": ("保修索赔", "Warranty claim")}
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def words(xml: bytes) -> bytes:
    """Chinese ``name`` and English ``label_en`` on every element the test names (the README's convention)."""
    return chinese(xml, NAMES)


def many_problems() -> bytes:
    """The warranty claim with what a process owner gets wrong most, each once."""
    xml = (V1.replace(b">PT2S<", b">0 0 * * *<")  # a cron timer on 两秒后提醒
           .replace(b'<bpmn:userTask id="Activity_pay" name="Pay out" camunda:candidateGroups="finance">',
                    b'<bpmn:userTask id="Activity_pay" name="Pay out" camunda:candidateGroups="finance" '
                    b'camunda:dueDate="next week">')  # a due date that can never be counted
           .replace(b'sourceRef="Activity_pay" targetRef="Event_done"', b'sourceRef="Activity_pay" targetRef="Activity_notify"')
           .replace(b"</bpmn:process>",
                    b'<bpmn:userTask id="Activity_orphan" name="x" camunda:candidateGroups="finance" />'  # unreachable
                    # after paying: an unnamed automatic step naming no topic, a call of a flow not deployed
                    b'<bpmn:serviceTask id="Activity_notify" camunda:type="external" />'
                    b'<bpmn:sequenceFlow id="Flow_n" sourceRef="Activity_notify" targetRef="Activity_call" />'
                    b'<bpmn:callActivity id="Activity_call" name="x" calledElement="dispatch_nowhere" />'
                    b'<bpmn:sequenceFlow id="Flow_c" sourceRef="Activity_call" targetRef="Event_done" />'
                    b"</bpmn:process>"))
    return words(xml)


def test_a_flow_called_before_it_is_deployed_is_a_warning_in_chinese_and_english(app, api):
    """Camunda resolves ``calledElement`` when the activity runs, and the Modeler deploys one file at a time."""
    admin = login(app, "admin")
    xml = words(V1.replace(b'sourceRef="Activity_pay" targetRef="Event_done"', b'sourceRef="Activity_pay" targetRef="Activity_call"')
                .replace(b"</bpmn:process>",
                         b'<bpmn:callActivity id="Activity_call" name="x" calledElement="dispatch_nowhere" />'
                         b'<bpmn:sequenceFlow id="Flow_c" sourceRef="Activity_call" targetRef="Event_done" />'
                         b"</bpmn:process>"))
    st = status(admin, xml, ZH).json["status"]
    assert st["ok"], st
    line = next(n for n, text in enumerate(xml.splitlines(), 1) if b'id="Activity_call"' in text)
    assert [w["text"] for w in st["warnings"]] == [
        f"派工（第 {line} 行）：所调用的流程“dispatch_nowhere”尚未部署：案件运行到此步骤时将暂停，部署该流程后重试案件即可继续。"]
    (english,) = status(admin, xml, EN).json["status"]["warnings"]
    assert english["text"].endswith("The called flow “dispatch_nowhere” is not deployed: a case stops at this step until "
                                    "it is deployed and the case is retried.")


def status(client, xml: bytes, headers, action="validate"):
    r = client.post("/admin/modeler/check", headers=headers,
                    data={"xml": xml.decode(), "filename": "warranty_claim.bpmn", "action": action,
                          "csrf_token": client.token})
    return r


def status_text(st: dict) -> str:
    return "\n".join([st["title"], *st["definitions"], *(w["text"] for w in st["warnings"]),
                      *(p["text"] for p in st["problems"])])


def test_modeler_check_says_every_problem_in_chinese_by_element_name(app, api):
    admin = login(app, "admin")
    r = status(admin, many_problems(), ZH)
    assert r.status_code == 400
    st, errors = r.json["status"], r.json["errors"]
    # every problem the engine found is listed, once each, and they are more than one stage's worth
    assert len(st["problems"]) == len(errors) >= 4
    assert f"校验未通过：发现 {len(errors)} 个问题" in st["title"]
    by_code = {}
    for p in st["problems"]:
        by_code.setdefault(p["code"], []).append(p["text"])
    assert {"unreachable", "cron_timer", "due_date_invalid", "no_topic"} <= set(by_code)
    assert re.fullmatch(r"两秒后提醒（第 \d+ 行）：cron 定时器“0 0 \* \* \*”不能用在这里：cron 须为时间周期，六个字段、秒在最前.*",
                        by_code["cron_timer"][0])
    assert re.fullmatch(r"付款（第 \d+ 行）：到期时间“next week”无法计算.*", by_code["due_date_invalid"][0])
    assert re.fullmatch(r"未命名的自动步骤（第 \d+ 行）：此自动步骤没有指定处理程序（Topic）。", by_code["no_topic"][0])
    assert re.fullmatch(r"孤立的复核（第 \d+ 行）：没有顺序流通向这里，此步骤永远不会被执行到。", *by_code["unreachable"])
    shown = status_text(st)
    for e in errors:  # the engine's English stays in the API's errors, never in the status
        assert e["message"] not in shown
        assert not e["element_id"] or e["element_id"] not in shown
    assert not re.search(r"unreachable|handler|gateway|condition|Activity_|Flow_|TimerDef|warranty_claim", shown)
    assert not any(p["detail"] for p in st["problems"])  # every one of these has its sentence

    english = status(admin, many_problems(), EN).json["status"]
    text = status_text(english)
    assert "Not valid: " in english["title"] and not CJK.search(text)
    assert "Orphan check (line " in text and "an unnamed automatic step (line" in text


def test_a_branch_without_condition_deploys_with_a_warning_in_chinese(app, api):
    """Camunda takes a gateway branch without a condition as true; so do we, and the report says so."""
    admin = login(app, "admin")
    st = status(admin, words(V1.replace(b"${!approved}", b"")), ZH).json["status"]
    assert st["ok"]
    (w,) = st["warnings"]
    assert re.fullmatch(r"是否批准（第 \d+ 行）：通往“补全索赔资料”的分支没有条件：按 Camunda 的做法视为条件成立。", w["text"])
    english = status(admin, words(V1.replace(b"${!approved}", b"")), EN).json["status"]
    assert re.fullmatch(r"Approved\? \(line \d+\): The branch to “Complete the claim” has no condition: it is taken "
                        r"as if its condition were true, as Camunda does\.", english["warnings"][0]["text"])


def test_broken_xml_and_a_valid_diagram_with_a_warning(app, api):
    admin = login(app, "admin")
    broken = status(admin, V1.replace(b"</bpmn:process>", b""), ZH).json["status"]
    (p,) = broken["problems"]
    assert re.fullmatch(r"warranty_claim\.bpmn（第 \d+ 行）：文件不是格式正确的 XML，无法读取流程图。", p["text"])

    valid = words(V1.replace(b'camunda:candidateGroups="finance"', b'camunda:candidateGroups="accounting"'))
    st = status(admin, valid, ZH).json["status"]
    assert st["ok"] and st["title"] == "校验通过。"
    assert st["definitions"] == ["“保修索赔” 第 1 版 · 有改动"]
    (w,) = st["warnings"]
    assert re.fullmatch(r"付款（第 \d+ 行）：候选组 accounting 不存在：在管理员创建之前无人可办此任务。", w["text"])

    deployed = status(admin, valid, ZH, action="deploy").json["status"]
    assert deployed["title"] == "已部署。" and deployed["definitions"] == ["“保修索赔” 第 1 版 · 有改动"]
    again = status(admin, valid, EN).json["status"]
    assert again["title"] == "Valid." and again["definitions"] == ["“Warranty claim” version 1 · unchanged"]


def test_upload_report_lists_every_problem_of_every_file_in_chinese(app, api):
    admin = login(app, "admin")
    other = words(V1.replace(b'id="warranty_claim"', b'id="claim_two"').replace(
        b'<bpmn:exclusiveGateway id="Gateway_ok" name="Approved?"', b'<bpmn:complexGateway id="Gateway_ok" name="Approved?"')
        .replace(b"</bpmn:exclusiveGateway>", b"</bpmn:complexGateway>"))
    r = admin.post("/admin/deploy", headers=ZH, content_type="multipart/form-data",
                   data={"action": "deploy", "csrf_token": admin.token,
                         "file": [(io.BytesIO(many_problems()), "claim.bpmn"), (io.BytesIO(other), "two.bpmn")]})
    assert r.status_code == 400
    page = r.data.decode()
    rows = re.findall(r'<tr data-problem="([a-z_]+)">', page)
    api_errors = api.client.post("/api/deployments?dry_run=1", headers={**api._headers("admin"), "X-Requested-With": "t"},
                                 content_type="multipart/form-data",
                                 data={"file": [(io.BytesIO(many_problems()), "claim.bpmn"),
                                                (io.BytesIO(other), "two.bpmn")]}).json["errors"]
    assert len(rows) == len(api_errors) >= 5  # every problem of both files, as the API lists them
    assert "unsupported_element" in rows
    text = visible(page)
    assert f"校验未通过：发现 {len(rows)} 个问题" in text
    assert "是否批准" in text and "孤立的复核" in text and "未命名的自动步骤" in text
    assert "不支持复杂网关。" in text
    for e in api_errors:
        assert e["message"] not in text
    assert not re.search(r"unreachable|handler|not supported|Activity_|Gateway_ok|TimerDef", text)
    assert "<details>" not in page  # every problem here has its sentence

    english = visible(admin.post("/admin/deploy", headers=EN, content_type="multipart/form-data",
                                 data={"action": "validate", "csrf_token": admin.token,
                                       "file": [(io.BytesIO(many_problems()), "claim.bpmn")]}).data.decode())
    assert "No sequence flow leads here, so this step can never be reached." in english
    assert "Orphan check" in english and "孤立的复核" not in english


def test_a_problem_nobody_classified_is_shown_generically_with_its_english_in_details(app):
    from web.pages import diagram_report

    with app.test_request_context("/", headers=ZH):
        (view,) = diagram_report.problem_views([Problem("x.bpmn", None, 3, "something odd happened")], {})
    assert view["sentence"] == "流程图有一个本页无法具体说明的问题，技术细节见下方。"
    assert view["detail"] == "something odd happened"


def test_a_diagram_mixing_condition_languages_is_valid_with_a_warning_in_chinese(app, api):
    admin = login(app, "admin")
    mixed = words(V1.replace(b"${!approved}", b"not approved"))
    st = status(admin, mixed, ZH).json["status"]
    assert st["ok"] and st["title"] == "校验通过。"
    (w,) = st["warnings"]
    assert re.fullmatch(r"yes（第 \d+ 行）：这个流程图的条件有的写成 \$\{…\}，有的写成普通 Python，从这里开始"
                        r"（\$\{approved && amount <= 10000\}）：请统一写成一种，建议与随附的流程图一样用普通 Python。", w["text"])


def test_a_java_call_in_a_condition_is_refused_in_chinese_and_english(app, api):
    """``mail.getAttachments().isEmpty()`` deployed before and stopped the case at the gateway."""
    admin = login(app, "admin")
    java = words(V1.replace(b"${!approved}", b"${!claim.isApproved()}"))
    r = status(admin, java, ZH)
    assert r.status_code == 400
    (p,) = r.json["status"]["problems"]
    assert p["code"] == "java_code"
    assert re.fullmatch(r"no（第 \d+ 行）：条件调用了 Java（“claim.isApproved\(\)”），这里无法运行：请改用基于案件变量的 "
                        r"Python 写法。", p["text"])
    (english,) = status(admin, java, EN).json["status"]["problems"]
    assert re.fullmatch(r"no \(line \d+\): The condition calls Java \(“claim.isApproved\(\)”\), which cannot run here: "
                        r"write it in Python over the case's variables\.", english["text"])


def test_java_type_in_a_javascript_listener_is_refused_in_chinese_and_english(app, api):
    """JavaScript runs (QuickJS); the Java it reaches for through ``Java.type`` does not."""
    admin = login(app, "admin")
    java = words(V1.replace(
        b'<bpmn:userTask id="Activity_pay" name="Pay out" camunda:candidateGroups="finance">',
        b'<bpmn:userTask id="Activity_pay" name="Pay out" camunda:candidateGroups="finance"><bpmn:extensionElements>'
        b'<camunda:executionListener event="start"><camunda:script scriptFormat="javascript">'
        b'var System = Java.type("java.lang.System");</camunda:script></camunda:executionListener>'
        b'</bpmn:extensionElements>'))
    r = status(admin, java, ZH)
    assert r.status_code == 400
    (p,) = r.json["status"]["problems"]
    assert p["code"] == "java_code"
    assert re.fullmatch(r"付款（第 \d+ 行）：JavaScript 脚本调用了 Java（“Java.type”），此处无法运行：脚本不能使用 Java，"
                        r"只能处理流程变量。", p["text"])
    (english,) = status(admin, java, EN).json["status"]["problems"]
    assert re.fullmatch(r"Pay out \(line \d+\): The JavaScript calls Java \(“Java.type”\), which cannot run here: "
                        r"scripts run without Java, over the case's variables\.", english["text"])


def test_a_task_naming_nobody_deploys_with_a_warning_in_chinese_and_english(app, api):
    """Issue 16: it opens unassigned, for admins and process owners to hand out from the inbox's tab."""
    admin = login(app, "admin")
    xml = (DATA / "unassigned_check.bpmn").read_bytes()
    st = status(admin, xml, ZH).json["status"]
    assert st["ok"] and st["title"] == "校验通过。"
    (w,) = st["warnings"]
    assert w["text"] == ("登记抽检结果（第 12 行）：此任务未指定处理人、候选组或候选用户：任务开启后无人负责，"
                         "由管理员和流程负责人在待办的“无人负责”标签中认领或分派。")
    (w,) = status(admin, xml, EN).json["status"]["warnings"]
    assert w["text"] == ("Record the spot check (line 12): This task names no assignee, candidate group or user: it "
                         "opens unassigned, and admins and process owners claim or assign it from the inbox's "
                         "“Nobody named” tab.")


def test_feel_that_does_not_parse_is_said_with_the_decision_line_and_where(app, api):
    """Issue 13: a decision table cell the FEEL parser cannot read, in the page's language."""
    from tests.conftest import DATA

    xml = (DATA / "claim_route.dmn").read_text(encoding="utf-8").replace("<text>amount / 1000</text>",
                                                                         "<text>amount // 1000</text>")
    admin = login(app, "admin")
    texts = {}
    for lang, headers in (("zh", ZH), ("en", EN)):
        r = admin.post("/admin/modeler/check", headers=headers,
                       data={"xml": xml, "filename": "claim_route.dmn", "action": "validate",
                             "csrf_token": admin.token})
        assert r.status_code == 400
        [problem] = r.json["status"]["problems"]
        assert problem["code"] == "feel_invalid"
        texts[lang] = problem["text"]
    assert re.fullmatch(r"Who reviews a claim（第 91 行）：FEEL 表达式“amount // 1000”无法解析：第 9 列的“/”处不合语法。",
                        texts["zh"]), texts["zh"]
    assert re.fullmatch(r"Who reviews a claim \(line 91\): The FEEL expression “amount // 1000” cannot be read: it goes "
                        r"wrong at “/” \(column 9\)\.", texts["en"]), texts["en"]


def test_a_decision_table_stopping_a_case_is_said_in_chinese(app):
    """What the incidents page shows for a UNIQUE table that two rules match (engine/decisions.py)."""
    from web.pages.labels import translate_error

    message = "decision table hit policy UNIQUE, but rules 2 and 4 both match. Business Rule Task 'Route the claim'."
    with app.test_request_context(headers=ZH):
        assert translate_error(message) == "决策表的命中策略为 UNIQUE（唯一），但第 2 条和第 4 条规则同时命中。"
    with app.test_request_context(headers=EN):
        assert translate_error(message) == "The decision table's hit policy is UNIQUE, but rules 2 and 4 both match."


def test_a_multi_instance_over_a_missing_list_is_said_in_chinese(app):
    """What the incidents page shows when a multi-instance's collection is not set (engine/steps.py)."""
    from web.pages.labels import translate_error

    message = "multi-instance 'approve': its collection 'approvers' is not set (it needs a list)"
    with app.test_request_context(headers=ZH):
        assert translate_error(message) == "此步骤要对“approvers”中的每一项各执行一次，但案件中没有这个变量：请更正案件变量（一个列表）后重试。"

"""The answer to a click (``POST /api/tasks/<id>/complete``) lists the case's open tasks as the case page
does, whether the step wrote them (the usual click: the answer is built from the step, nothing read back)
or another branch left them open before (read from the table)."""

from __future__ import annotations

from tests.conftest import DATA, start_case

REQUEST = {"customer_name": "王五", "customer_phone": "13900000000", "customer_address": "上海市浦东新区",
           "product_model": "KX-200", "serial_no": "SN-0001", "channel": "phone", "fault_description": "不制冷"}
SHOWN = ("id", "name", "element_id", "candidate_groups", "candidate_users", "assignee", "created_at", "due_at",
         "overdue", "business_key")


def _tasks(answer: list[dict]) -> list[dict]:
    return [{k: t[k] for k in SHOWN} for t in answer]


def _case_page_tasks(api, user, instance_id) -> list[dict]:
    r = api.get(user, f"/api/process-instances/{instance_id}")
    assert r.status_code == 200, r.json
    return _tasks(r.json["tasks"])


def test_the_next_task_in_the_answer_is_the_one_the_case_page_shows(deployed):
    case = start_case(deployed, "repair", REQUEST)
    answer = deployed.complete("customer_service", case["id"], "check_scope",
                               identity_confirmed=True, in_scope=True, in_warranty=True)
    (diagnose,) = answer["tasks"]
    assert diagnose["element_id"] == "diagnose"
    assert diagnose["candidate_groups"] == ["tech_support"]
    assert diagnose["due_at"] is not None  # counted in working time by the diagram
    assert _tasks(answer["tasks"]) == _case_page_tasks(deployed, "admin", case["id"])
    # and it is the task that is open: completing it by the id from the answer works
    r = deployed.post("tech_support", f"/api/tasks/{diagnose['id']}/complete", {"variables": {
        "fault_cause": "compressor", "fault_nature": "quality", "solution": "replace board", "remote_fixed": False,
        "plan": "onsite", "parts_needed": "P-100:1", "estimated_amount": 300}})
    assert r.status_code == 200, r.json


def test_branches_left_open_before_the_click_are_in_the_answer(deployed):
    r = deployed.deploy("admin", {"five_ways.bpmn": (DATA / "five_ways.bpmn").read_bytes()})
    assert r.status_code == 201, r.json
    case = start_case(deployed, "five_ways", {}, user="admin")
    assert len(case["tasks"]) == 5
    answer = deployed.complete("finance", case["id"], "one_group")
    assert sorted(t["element_id"] for t in answer["tasks"]) == ["assigned", "named_user", "nobody", "two_groups"]
    assert _tasks(answer["tasks"]) == _case_page_tasks(deployed, "admin", case["id"])


def test_the_last_task_done_answers_no_open_task(deployed):
    r = deployed.deploy("admin", {"five_steps.bpmn": (DATA / "five_steps.bpmn").read_bytes()})
    assert r.status_code == 201, r.json
    case = start_case(deployed, "five_steps", {})
    for element in ("t1", "t2", "t3", "t4"):
        answer = deployed.complete("customer_service", case["id"], element)
        assert [t["element_id"] for t in answer["tasks"]] == [f"t{int(element[1]) + 1}"]
    answer = deployed.complete("customer_service", case["id"], "t5")
    assert answer["state"] == "completed"
    assert answer["tasks"] == []
    assert _case_page_tasks(deployed, "admin", case["id"]) == []

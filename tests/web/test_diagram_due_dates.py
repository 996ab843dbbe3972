"""A due date the diagram cannot count never blocks the person completing the task before it
(issue 8): the step commits, the next task opens without a deadline, and the case says why."""

from __future__ import annotations

import html

import pytest

from tests.conftest import DATA
from tests.web.test_pages import login

BAD_DUE = (DATA / "bad_due_date.bpmn").read_bytes()


@pytest.mark.parametrize(("promised", "error"), [
    ("next week", "Invalid isoformat string: 'next week'"),
    (5, "due date '${promised}' is neither a date nor a duration"),
    (None, "name 'promised' is not defined"),
])
def test_an_uncountable_due_date_opens_the_task_without_a_deadline(api, app, promised, error):
    assert api.deploy("admin", {"bad_due.bpmn": BAD_DUE}).status_code == 201
    case = api.post("warehouse", "/api/process-definitions/bad_due/start", {}).json
    task = api.task("warehouse", case["id"], "prepare")
    variables = {} if promised is None else {"promised": promised}

    r = api.post("warehouse", f"/api/tasks/{task['id']}/complete", {"variables": variables})

    assert r.status_code == 200, r.json
    assert r.json["instance"]["state"] == "running"
    (check,) = r.json["instance"]["tasks"]
    assert (check["element_id"], check["due_at"]) == ("check", None)
    history = api.get("supervisor", f"/api/process-instances/{case['id']}/history").json["entries"]
    failed = [h for h in history if h["kind"] == "due_date_failed"]
    assert [(h["element_id"], h["data"]) for h in failed] == [("check", {"expression": "${promised}", "error": error})]

    page = html.unescape(login(app, "supervisor").get(f"/cases/{case['id']}").data.decode())
    assert "未设期限：流程图给出的期限无法计算，请流程负责人修正流程图。" in page
    assert error not in page  # the developer's message stays in the API and the log

"""FEEL (issue 13): decision table cells, literal expression decisions and FEEL mappings are read by
``engine/feel.py`` (bkflow-feel, extended with ``for … return``, filters on any expression, ``get value``,
``if … then … else``), bounded like diagram scripts, and refused at deploy with their line when they do not
parse."""

from __future__ import annotations

import pytest

from engine import feel, script_budget
from engine.errors import DiagramInvalid
from tests.conftest import DATA
from tests.engine.test_bpmn_constructs import ADMIN, bpmn, complete, deploy, instance, open_tasks, start  # noqa: F401


@pytest.mark.parametrize(("cell", "value", "hit"), [
    ("[1..10]", 1, True), ("[1..10]", 10, True), ("[1..10]", 11, False),
    ("(1..10)", 1, False), ("]1..10]", 10, True), ("[1..10[", 10, False), ("[1..10)", 9.5, True),
    ("> 5000", 5000.5, True), ("> 5000", 5000, False), ("<= 30", 30, True), ("!= 3", 4, True),
    ("> 5000", None, False),  # an unset number never matches a comparison
    ('"onsite"', "onsite", True), ('"onsite"', "workshop", False),
    ('"quality_defect", "wrong_item", "missing_parts"', "wrong_item", True),
    ('"quality_defect", "wrong_item"', "late", False),
    ('not("Basic Package")', "Premium Package", True), ('not("Basic Package")', "Basic Package", False),
    ('not ("a", "b")', "b", False), ('not ("a", "b")', "c", True), ("not([1..10])", 11, True),
    ("< 250, > 1000", 2000, True), ("< 250, > 1000", 500, False),
    ('"a, b"', "a, b", True),  # a comma inside a string is no list
    ("true", True, True), ("false", True, False),
    ('>= date("2026-01-01")', "2026-02-01", True), ('< date("2026-01-01")', "2026-02-01", False),
    ('[date("2026-01-01")..date("2026-01-31")]', "2026-01-15", True),
    ("? >= 5000 and ? < 10000", 7000, True), ("? >= 5000 and ? < 10000", 10000, False),
    ("-", "anything", True), ("", None, True),
    ("limit", 5, True),  # a name: the case variable's value
])
def test_unary_tests_as_camunda_modeler_writes_them(cell, value, hit):
    assert feel.test(cell, value, {"limit": 5}) is hit


def test_for_return_filters_and_get_value_as_the_corpus_mapping_writes_them():
    rows = [{"assignee": None, "candidateUsers": "Duey"}, {"assignee": None, "candidateUsers": "Huey"},
            {"assignee": "Scrooge", "candidateUsers": None}]
    data = {"dmnResult": rows}
    assert feel.evaluate('((for r in dmnResult return get value(r, "assignee"))[item != null])[1]', data) == "Scrooge"
    assert feel.evaluate('(for r in dmnResult return get value(r, "candidateUsers"))[item != null]', data) == \
        ["Duey", "Huey"]
    assert feel.evaluate("for x in [1, 2], y in [10, 20] return x * y", {}) == [10, 20, 20, 40]
    assert feel.evaluate("sum(for p in parts return p.price * p.qty)", {"parts": [
        {"price": 12.5, "qty": 2}, {"price": 80, "qty": 1}]}) == 105.0
    assert feel.evaluate("count(xs[item > 2])", {"xs": [1, 3, 5]}) == 2


@pytest.mark.parametrize(("text", "value"), [
    ("200 + 80 + parts_cost", 330), ("base * (1 - rate)", 90.0), ("1 = 1.0", True),
    ('if n >= 3 then "gold" else "none"', "gold"), ("missing + 1", None), ('"a" < 1', None),
    ("application.applicant.age", 41), ('date("2026-01-02") > date("2026-01-01")', True),
])
def test_feel_expressions(text, value):
    data = {"parts_cost": 50, "base": 100, "rate": 0.1, "n": 3, "application": {"applicant": {"age": 41}}}
    assert feel.evaluate(text, data) == value


def test_feel_reaches_no_python_and_runs_under_the_script_budget(monkeypatch):
    data = {"s": "text", "xs": list(range(300))}
    assert feel.evaluate("s.__class__", data) is None  # a path reads dicts only
    assert feel.evaluate('system("ls")', data) is None  # no function but FEEL's own
    with pytest.raises(script_budget.BudgetExceeded, match="too large"):
        feel.evaluate("10 ** (10 ** 10)", {})
    monkeypatch.setattr(script_budget.Budget, "seconds", 0.2)
    with pytest.raises(script_budget.BudgetExceeded, match="longer than 0.2 s"):
        feel.evaluate("for a in xs, b in xs, c in xs return 1", data)  # 27 million items
    assert feel.check("matches(s, \"(a+)+$\")") is None  # parses as an unknown function: null, no regex runs
    assert feel.evaluate('matches(s, "(a+)+$")', data) is None


@pytest.mark.parametrize(("amount", "region", "bought", "reviewers", "points", "panel"), [
    (6000, "east", "2025-12-01", ["manager", "finance"], 8.0, "panel"),
    (500, "north", "2025-06-01", ["clerk", "auditor"], 4, "panel"),
    (500, "north", "2026-06-01", ["clerk"], 1, "single"),
    (0, "south", "2026-06-01", [], None, "single"),
])
def test_a_modeler_5_decision_table_and_literal_decision_run_in_a_case(bpmn, amount, region, bought,  # noqa: F811
                                                                      reviewers, points, panel):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "claim_route.dmn", "claim_route.bpmn")
    iid = start(engine, sessions, "claim_review", {"amount": amount, "region": region, "purchase_date": bought})
    state, _element, message, variables = instance(engine, sessions, iid)
    assert (state, message) == ("running", None)
    assert variables["reviewers"] == reviewers  # FEEL output mapping over camunda:resultVariable (resultList)
    assert variables["total_points"] == points
    assert variables["panel"] == panel  # the literal decision, over the table it requires
    assert [r["reviewer"] for r in variables["routes"]] == reviewers
    assert open_tasks(engine, sessions, iid) == ["review"]
    complete(engine, sessions, iid, "review")
    assert instance(engine, sessions, iid)[0] == "completed"


@pytest.mark.parametrize(("policy", "state", "reviewers", "error"), [
    ('hitPolicy="FIRST"', "running", ["manager"], None),
    ('hitPolicy="RULE ORDER"', "running", ["manager", "finance"], None),
    ("", "error", None, "decision table hit policy UNIQUE, but rules 2 and 4 both match"),  # DMN's default
])
def test_hit_policies(bpmn, policy, state, reviewers, error):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = (DATA / "claim_route.dmn").read_text(encoding="utf-8").replace('hitPolicy="COLLECT"', policy)
    with sessions() as s:
        engine.deploy(s, {"claim_route.dmn": xml.encode(), "claim_route.bpmn": (DATA / "claim_route.bpmn").read_bytes()},
                      ADMIN)
        s.commit()
    iid = start(engine, sessions, "claim_review", {"amount": 6000, "region": "east", "purchase_date": "2025-12-01"})
    found_state, element, message, variables = instance(engine, sessions, iid)
    assert found_state == state
    if error:
        assert element == "route" and message.startswith(error), message
    else:
        assert variables["reviewers"] == reviewers


@pytest.mark.parametrize(("old", "new", "line", "near", "column"), [
    ("<text>[1..1000]</text>", "<text>[1..</text>", 25, "", 3),
    ("<text>amount / 1000</text>", "<text>amount // 1000</text>", 91, "/", 9),
    ('<text>if count(reviewer) &gt; 1\nthen "panel"', '<text>if count(reviewer) &gt; 1\nthen then "panel"', 103,
     '"panel"', 11),
])
def test_feel_that_does_not_parse_is_refused_at_deploy_with_its_line(bpmn, old, new, line, near, column):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = (DATA / "claim_route.dmn").read_text(encoding="utf-8")
    assert old in xml
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"claim_route.dmn": xml.replace(old, new).encode()}, ADMIN)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.code) == ("claim_route.dmn", line, "feel_invalid")
    assert (problem.params["near"], problem.params["column"]) == (near, column)


def test_a_feel_mapping_that_does_not_parse_is_refused_with_its_line(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = (DATA / "claim_route.bpmn").read_text(encoding="utf-8").replace(
        "sum(for r in routes return r.points)", "sum(for r in routes r.points)")
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"claim_route.dmn": (DATA / "claim_route.dmn").read_bytes(),
                          "claim_route.bpmn": xml.encode()}, ADMIN)
    assert [(p.element_id, p.line, p.code, p.params["near"]) for p in caught.value.problems] == \
        [("route", 15, "feel_invalid", ".")]


def test_an_input_expression_written_as_juel_is_read_as_camunda_7_read_it(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = (DATA / "claim_route.dmn").read_text(encoding="utf-8")
    juel = xml.replace("<text>amount</text>", "<text>${amount}</text>")
    assert juel != xml
    with sessions() as s:
        engine.deploy(s, {"claim_route.dmn": juel.encode(), "claim_route.bpmn": (DATA / "claim_route.bpmn").read_bytes()},
                      ADMIN)
        s.commit()
    iid = start(engine, sessions, "claim_review", {"amount": 6000, "region": "east", "purchase_date": "2025-12-01"})
    assert instance(engine, sessions, iid)[3]["reviewers"] == ["manager", "finance"]


def test_a_runaway_filter_is_stopped_not_swallowed(monkeypatch):
    """bkflow-feel's own filter swallowed every exception per item; ours lets the budget stop it."""
    monkeypatch.setattr(script_budget.Budget, "seconds", 0.2)
    with pytest.raises(script_budget.BudgetExceeded):
        feel.evaluate("xs[count(for a in xs, b in xs return 1) > 0]", {"xs": list(range(2000))})
    assert feel.evaluate("xs[item > limit]", {"xs": [1, 5, 9], "limit": 4}) == [5, 9]  # the outer variables too


def test_today_and_now_follow_the_steps_clock_in_the_companys_zone():
    """FEEL's ``today()`` is the business's local day by the injected clock (not the server's date): at
    17:30 UTC on New Year's Eve it is already 1 January in Shanghai."""
    from datetime import UTC, datetime

    from engine.clock import ManualClock, use_clock

    clock = ManualClock()
    clock.set(datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    with use_clock(clock):
        assert feel.evaluate("today()", {}) == "2027-01-01"
        assert feel.evaluate('today() > date("2026-12-31")', {}) is True
        assert feel.evaluate("now()", {}) == "2027-01-01T01:30:00+08:00"

"""What Camunda Modeler writes becomes what the engine evaluates; scripts stay in the sandbox."""

from __future__ import annotations

import pytest

from engine import expressions, forms
from engine.errors import FormInvalid
from engine.sandbox import SandboxEnvironment, SandboxViolation, check_expression, check_script


@pytest.mark.parametrize("juel, python", [
    ("${amount < 1000 && approved}", "amount < 1000 and approved"),
    ("#{approved}", "approved"),
    ("${!approved}", "not approved"),
    ("${x != 'a&&b'}", "x != 'a&&b'"),
    ("${execution.getVariable('x') eq true}", "x == True"),
    ("${empty note}", "(not note)"),
    ("amount > 3", "amount > 3"),
])
def test_juel_conditions(juel, python):
    assert expressions.juel_to_python(juel) == python


@pytest.mark.parametrize("text, python", [
    ("PT1H", "'PT1H'"), ("P2D", "'P2D'"), ("R3/PT10M", "'R3/PT10M'"), ("2026-12-01T09:00:00", "'2026-12-01T09:00:00'"),
    ("'PT5M'", "'PT5M'"), ("${reminder}", "reminder"),
])
def test_iso_timers_as_the_modeler_writes_them(text, python):
    assert expressions.timer_to_python(text) == python


def test_cron_is_recognised():
    assert expressions.looks_like_cron("0 0 9 ? * MON") and not expressions.looks_like_cron("PT1H")


@pytest.mark.parametrize("source", [
    "__import__('os')", "().__class__.__bases__", "open('/etc/passwd')", "x._secret",
    "getattr(x, '__class__')", "eval('1')",
])
def test_sandbox_refuses(source):
    env = SandboxEnvironment()
    with pytest.raises((SandboxViolation, NameError)):
        env.evaluate(source, {"x": 1})


def test_sandbox_refuses_imports_at_deploy_time():
    assert "imports are not allowed" in check_script("import os\nx = 1")
    assert check_expression("a +") is not None
    assert check_expression("amount < 10 and ok") is None


def test_scripts_write_plain_variables():
    env = SandboxEnvironment()
    data = {"items": [1, 2]}
    env.execute("total = sum(items)\nseen = {1, 2}\nitems.append(3)", data)
    assert data == {"items": [1, 2, 3], "total": 3, "seen": [1, 2]}


FIELDS = [
    forms.FormField("qty", "Quantity", "long", required=True, constraints={"min": "1", "max": "5"}),
    forms.FormField("ok", "OK", "boolean"),
    forms.FormField("day", "Day", "date"),
    forms.FormField("kind", "Kind", "enum", default="a", options=[{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]),
    forms.FormField("ro", "Read only", "string", readonly=True),
]


def test_form_values_are_converted():
    assert forms.validate(FIELDS, {"qty": "3", "ok": "true", "day": "25/12/2026"}) == {
        "qty": 3, "ok": True, "day": "2026-12-25", "kind": "a"}


def test_form_errors_name_each_field():
    with pytest.raises(FormInvalid) as err:
        forms.validate(FIELDS, {"qty": 9, "ok": "maybe", "day": "soon", "kind": "c", "ro": "x", "extra": 1})
    assert err.value.errors == {
        "extra": "unknown field", "qty": "must be at most 5", "ok": "must be true or false",
        "day": "must be a date (YYYY-MM-DD)", "kind": "'c' is not one of: a, b", "ro": "is read-only"}
    with pytest.raises(FormInvalid) as err:
        forms.validate(FIELDS, {"qty": True})
    assert err.value.errors == {"qty": "must be a whole number"}

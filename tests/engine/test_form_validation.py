"""Form validation (engine/forms.py): trimmed text, patterns, mainland phone numbers, date bounds
relative to today — and the deployment check of those constraints."""

from __future__ import annotations

from datetime import date

import pytest

from engine import forms
from engine.errors import FormInvalid

TODAY = date(2026, 11, 23)


def field(id="x", type="string", required=False, **constraints):
    return forms.FormField(id, "标签 Label", type, required=required,
                           constraints=constraints | ({"required": True} if required else {}))


def errors(fields, values, today=TODAY) -> dict:
    with pytest.raises(FormInvalid) as caught:
        forms.validate(fields, values, today=today)
    return caught.value.errors


def test_text_is_trimmed_and_only_spaces_count_as_missing():
    f = field(required=True)
    assert errors([f], {"x": "   \t "}) == {"x": "is required"}
    assert errors([f], {"x": "\u3000"}) == {"x": "is required"}  # an ideographic space is a space too
    assert forms.validate([f], {"x": "  张三 "}) == {"x": "张三"}
    optional = field()
    assert forms.validate([optional], {"x": "  "}) == {"x": ""}


@pytest.mark.parametrize("phone", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 13800138000",
                                   "0571-88886666", "010 12345678", "057188886666", "0571-88886666 转 123"])
def test_mainland_phone_numbers_pass(phone):
    assert forms.validate([field(phone=None)], {"x": phone}) == {"x": phone.strip()}


@pytest.mark.parametrize("phone", ["hello", "12345", "1380013800", "138001380001", "23800138000", "12800138000",
                                   "571-8888666", "+1 415 555 0100"])
def test_other_phone_values_are_refused(phone):
    assert errors([field(phone=None)], {"x": phone}) == {"x": "must be a mainland China phone number"}


def test_pattern_must_match_the_whole_trimmed_text():
    f = field(pattern=r"\d{6}")
    assert forms.validate([f], {"x": " 310000 "}) == {"x": "310000"}
    assert errors([f], {"x": "3100001"}) == {"x": "does not have the expected format"}
    assert errors([f], {"x": "邮编310000"}) == {"x": "does not have the expected format"}


def test_date_bounds_count_from_today():
    appointment = field(type="date", min="today", max="today+30d")
    assert forms.validate([appointment], {"x": "2026-11-23"}, today=TODAY) == {"x": "2026-11-23"}
    assert forms.validate([appointment], {"x": "2026-12-23"}, today=TODAY) == {"x": "2026-12-23"}
    assert errors([appointment], {"x": "2020-05-01"}) == {"x": "must be on or after 2026-11-23"}
    assert errors([appointment], {"x": "2026-12-24"}) == {"x": "must be on or before 2026-12-23"}
    purchase = field(type="date", max="today")
    assert errors([purchase], {"x": "2026-11-24"}) == {"x": "must be on or before 2026-11-23"}
    # the same value on a later day
    assert forms.validate([appointment], {"x": "2026-12-24"}, today=date(2026, 11, 24)) == {"x": "2026-12-24"}


@pytest.mark.parametrize(("config", "day"), [
    ("today", date(2026, 1, 31)), ("today+30d", date(2026, 3, 2)), ("today - 2w", date(2026, 1, 17)),
    ("today+1m", date(2026, 2, 28)), ("today-1y", date(2025, 1, 31)), ("TODAY+12m", date(2027, 1, 31)),
    ("2026-05-01", date(2026, 5, 1))])
def test_date_bound_expressions(config, day):
    assert forms.date_bound(config, date(2026, 1, 31)) == day


def test_field_problems_name_the_label():
    with pytest.raises(FormInvalid) as caught:
        forms.validate([field("customer_phone", phone=None), field("name", required=True)],
                       {"customer_phone": "hello", "name": " "}, today=TODAY)
    assert caught.value.labels == {"customer_phone": "标签 Label", "name": "标签 Label"}


@pytest.mark.parametrize(("f", "problem"), [
    (field(pattern="(unclosed"), "constraint pattern '(unclosed' is not a regular expression"),
    (field(type="date", min="yesterday"), "constraint min needs a day (YYYY-MM-DD) or today, today+30d, today-1y"),
    (field(type="date", max="today+3x"), "constraint max needs a day"),
    (field(type="long", phone=None), "constraint phone applies to string fields only"),
    (field(type="long", min="today"), "constraint min needs a number"),
])
def test_deployment_refuses_broken_constraints(f, problem):
    assert any(problem in p for p in forms.constraint_problems(f)), forms.constraint_problems(f)


def test_the_shipped_constraints_are_accepted():
    assert forms.constraint_problems(field(type="date", min="today", max="today+30d")) == []
    assert forms.constraint_problems(field(phone=None, maxlength="30")) == []
    assert forms.constraint_problems(field(pattern=r"[A-Z]{2}\d{4}")) == []

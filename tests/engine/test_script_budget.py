"""Code from diagrams cannot run away with the CPU or memory (issue 8, item 2)."""

from __future__ import annotations

import time

import pytest

from engine.sandbox import BudgetExceeded, SandboxEnvironment, SandboxViolation, check_expression
from engine.script_budget import Budget


@pytest.fixture
def short_budget():
    Budget.configure(seconds=0.2)
    yield
    Budget.configure(seconds=1.0)


@pytest.mark.parametrize("script", [
    "while True:\n    pass",
    "n = 0\nwhile n >= 0:\n    n += 1",
    "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(60)",
    "x = [y for y in range(10**6) for z in range(10**6)]",
    "x = sorted(range(10**6), key=lambda v: -v) and sorted(range(10**6), key=lambda v: v % 7) and "
    "sorted(range(10**6), key=lambda v: v % 5) and sorted(range(10**6), key=lambda v: v % 3)",
])
def test_cpu_time_runs_out(short_budget, script):
    began = time.thread_time()
    with pytest.raises(BudgetExceeded, match=r"took longer than 0\.2 s \(CPU time\) and was stopped"):
        SandboxEnvironment().execute(script, {})
    assert time.thread_time() - began < 1.0


@pytest.mark.parametrize("expression, message", [
    ("n ** n", "10000000000 ** 10000000000 is too large"),
    ("'x' * n", "repetition: a result of 10000000000 items"),
    ("[0] * n", "repetition: a result of 10000000000 items"),
    ("1 << n", "<< 10000000000 is too large"),
    ("'x'.ljust(n)", "a number argument of 10000000000"),
    ("sum(range(n))", "a number argument of 10000000000"),
    ("list(range(2 * 10**6))", "range of 2000000 numbers"),
    ("pow(7, n)", "a number argument of 10000000000"),
    ("math.factorial(10**6)", "math.factorial of more than 20000"),
    ("'%2000000000d' % 1", "a format width too large"),
    ("('x' * 10**4).replace('x', 'x' * 10**4)", "a result of 100000000 items"),
])
def test_memory_bombs_are_refused_before_they_allocate(expression, message):
    with pytest.raises(BudgetExceeded, match="more than the 256 MB memory budget") as caught:
        SandboxEnvironment().evaluate(expression, {"n": 10**10})
    assert message in str(caught.value)


def test_growth_in_a_loop_is_caught():
    with pytest.raises(BudgetExceeded, match="256 MB memory budget"):
        SandboxEnvironment().execute("x = []\nwhile True:\n    x.append('y' * 1000)\n    x.extend(x)", {})


def test_computed_format_widths_are_refused_at_deploy():
    assert "computed format widths" in check_expression("f'{1:>{n}}'")
    with pytest.raises(SandboxViolation):
        SandboxEnvironment().evaluate("f'{1:>{n}}'", {"n": 10**10})


def test_ordinary_code_is_unchanged():
    env = SandboxEnvironment()
    assert env.evaluate("amount < 5000 and approved", {"amount": 100, "approved": True}) is True
    assert env.evaluate("2 ** 64 + len('abc' * 3)", {}) == 2**64 + 9
    data = {"items": [1, 2]}
    env.execute("total = 0\nfor i in range(1000):\n    total += i\nitems.append(total)\nlabel = f'{total:>8}'", data)
    assert data == {"items": [1, 2, 499500], "total": 499500, "i": 999, "label": "  499500"}

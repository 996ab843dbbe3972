"""CPU-time and memory budget for code from diagrams (scripts, conditions, DMN cells, due dates, timers).

Why in-process guards and not a worker process with rlimits: an evaluation costs microseconds
here and steps cost ~5 ms; a round trip to a worker process costs ~0.1–0.3 ms per evaluation (a
step evaluates a dozen), and a condition calls back into the step (``working_days()`` reads the
company calendar through the step's session), which a separate process cannot do without a
callback protocol. So the RestrictedPython transformer is extended to make code from diagrams
*count*:

* every loop iteration (``for``/comprehension items through ``_getiter_``, ``while`` bodies), every
  function or lambda entry and every call ticks; every 256 ticks the thread's CPU time
  (``time.thread_time``, not wall time: waiting for the GIL or the database does not count) is
  compared with the deadline, and the resident memory of the process with the start;
* ``**``, ``*``, ``<<``, ``+`` and ``%`` go through guards that refuse a result past the size caps
  *before* computing it (``10**10**10``, ``'x' * 10**10``), calls refuse number arguments past the
  caps (``'x'.ljust(10**10)``), results and containers grown by a method are checked after;
* ``range`` is capped, ``pow`` and the ``math`` functions that can run for minutes on one call
  (``factorial``, ``comb``, ``perm``) are bounded, ``math.prod`` is not offered.

What it cannot do: interrupt one C-level call already running. The caps keep any single call's
input to at most ``MAX_ITEMS`` items / ``MAX_CHARS`` characters, so one call is bounded too.
A breach raises :class:`BudgetExceeded`; the step puts that case in ``error`` naming the element.
"""

from __future__ import annotations

import ast
import math
import os
import re
import threading
import time
import types
from typing import Any

from RestrictedPython import RestrictingNodeTransformer

from . import limits


class BudgetExceeded(Exception):
    """A diagram's code ran past its CPU time or memory budget."""


class Budget:
    seconds = limits.SCRIPT_SECONDS
    memory_bytes = limits.SCRIPT_MEMORY_MB * 1024 * 1024

    @classmethod
    def configure(cls, *, seconds: float | None = None, memory_mb: int | None = None) -> None:
        if seconds is not None:
            cls.seconds = seconds
        if memory_mb is not None:
            cls.memory_bytes = memory_mb * 1024 * 1024

    @classmethod
    def max_chars(cls) -> int:
        return cls.memory_bytes // 16  # 16 M characters at 256 MB: a string may be copied a few times

    @classmethod
    def max_items(cls) -> int:
        return cls.memory_bytes // 256  # 1 M items at 256 MB: each item a boxed object plus its slot

    @classmethod
    def max_int_bits(cls) -> int:
        return 1_000_000  # 300,000 digits: arithmetic on such numbers stays in milliseconds


_state = threading.local()
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:  # not Linux: the size caps still hold
        return 0


class running:
    """Context manager around one evaluation; nested evaluations share the outermost budget."""

    def __enter__(self):
        self.outer = getattr(_state, "deadline", None) is not None
        if not self.outer:
            # The thread's CPU clock is a system call (2 µs here, far more on a loaded machine), so it is
            # first read at the first check, 256 ticks in; wall time until then counts against the budget.
            _state.deadline = 0.0
            _state.started = time.perf_counter()
            _state.ticks = 0
            _state.rss_start = None  # read at the first check: most evaluations end long before it
            _state.rss_checked = 0.0
        return self

    def __exit__(self, *exc):
        if not self.outer:
            _state.deadline = None
        return False


def _over_time() -> BudgetExceeded:
    return BudgetExceeded(f"took longer than {Budget.seconds:g} s (CPU time) and was stopped")


def _over_memory(what: str) -> BudgetExceeded:
    return BudgetExceeded(f"{what}: more than the {Budget.memory_bytes // (1024 * 1024)} MB memory budget")


def tick() -> bool:
    ticks = _state.ticks = getattr(_state, "ticks", 0) + 1
    if ticks & 255 == 0:
        deadline = getattr(_state, "deadline", None)
        if deadline is None:
            return True
        now = time.thread_time()
        if deadline == 0.0:
            deadline = _state.deadline = now + Budget.seconds - (time.perf_counter() - _state.started)
        if now > deadline:
            raise _over_time()
        if now - _state.rss_checked > 0.02:  # reading /proc costs ~20 µs: at most 50 times a second
            _state.rss_checked = now
            if _state.rss_start is None:
                _state.rss_start = _rss()
            elif _rss() - _state.rss_start > Budget.memory_bytes:
                raise _over_memory("the script's data grew")
    return True


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def _check_result(value: Any) -> Any:
    if isinstance(value, str | bytes | bytearray):
        if len(value) > Budget.max_chars():
            raise _over_memory(f"a text of {len(value)} characters")
    elif isinstance(value, list | tuple | dict | set | frozenset):
        if len(value) > Budget.max_items():
            raise _over_memory(f"a collection of {len(value)} items")
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > Budget.max_int_bits():
        raise _over_memory("a number too large")
    return value


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _repeat(seq: Any, times: Any, op: str) -> None:
    if isinstance(times, int) and isinstance(seq, str | bytes | list | tuple) and times > 0:
        size = len(seq) * times
        cap = Budget.max_chars() if isinstance(seq, str | bytes) else Budget.max_items()
        if size > cap:
            raise _over_memory(f"{op}: a result of {size} items")


_WIDTH = re.compile(r"\d{8,}")


_NUMBER = (int, float, bool)


def binop(op: str, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if op == "+" and (ta in _NUMBER and tb in _NUMBER):
        return a + b
    if op == "*" and (ta is float or tb is float or (ta in _NUMBER and tb in _NUMBER and _bits(a) + _bits(b) < 4096)):
        return a * b
    if op == "**":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and \
                _bits(a) * b > Budget.max_int_bits():
            raise _over_memory(f"{a if _bits(a) < 64 else '…'} ** {b} is too large")
        return _check_result(a**b)
    if op == "*":
        _repeat(a, b, "repetition")
        _repeat(b, a, "repetition")
        if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > Budget.max_int_bits():
            raise _over_memory("a product too large")
        return a * b
    if op == "<<":
        if isinstance(a, int) and isinstance(b, int) and _bits(a) + b > Budget.max_int_bits():
            raise _over_memory(f"<< {b} is too large")
        return a << b
    if op == "+":
        if isinstance(a, str | bytes | list | tuple) and isinstance(b, str | bytes | list | tuple):
            _check_result_size(len(a) + len(b), a)
        return a + b
    if op == "%":
        if isinstance(a, str | bytes) and _WIDTH.search(a if isinstance(a, str) else a.decode("latin-1")):
            raise _over_memory("a format width too large")
        _check_args(b if isinstance(b, tuple) else (b,), {})
        return _check_result(a % b)
    raise ValueError(op)


def _check_result_size(size: int, like: Any) -> None:
    cap = Budget.max_chars() if isinstance(like, str | bytes) else Budget.max_items()
    if size > cap:
        raise _over_memory(f"a result of {size} items")


def _check_args(args: tuple, kwargs: dict) -> None:
    cap = Budget.max_chars()
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > cap:
            raise _over_memory(f"a number argument of {value if _bits(value) < 64 else '…'}")
        if isinstance(value, str) and len(value) < 10_000 and "{" in value and _WIDTH.search(value):
            raise _over_memory("a format width too large")


_GROWING = (list, dict, set, bytearray)
SAFE_BIG_INT = {abs, int, float, bool, str, repr, round, divmod, isinstance, hex, oct, min, max, sum, len}


def call(func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        trusted = func in SAFE_BIG_INT
    except TypeError:  # unhashable callable
        trusted = False
    if not trusted:
        _check_args(args, kwargs)
    owner = getattr(func, "__self__", None)
    if isinstance(owner, str) and func.__name__ in ("join", "replace"):
        _check_str_method(owner, func.__name__, args)
    result = func(*args, **kwargs)
    if isinstance(owner, _GROWING):
        _check_result(owner)
    return _check_result(result)


def _check_str_method(owner: str, name: str, args: tuple) -> None:
    if name == "join" and args and isinstance(args[0], list | tuple):
        _check_result_size(sum(len(x) for x in args[0] if isinstance(x, str)) + len(owner) * len(args[0]), owner)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) and args[0]:
        _check_result_size(len(owner) + owner.count(args[0]) * max(0, len(args[1]) - len(args[0])), owner)


def getiter(iterable: Any):
    for item in iterable:
        tick()
        yield item


def guarded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > Budget.max_items():
        raise _over_memory(f"range of {len(r)} numbers")
    return r


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    if mod is not None:
        return pow(base, exp, mod)
    return binop("**", base, exp)


def _bounded(fn, limit: int):
    def wrapped(*args):
        if any(isinstance(a, int) and a > limit for a in args):
            raise _over_memory(f"math.{fn.__name__} of more than {limit}")
        return fn(*args)
    wrapped.__name__ = fn.__name__
    return wrapped


GUARDED_MATH = types.SimpleNamespace(**{name: getattr(math, name) for name in dir(math)
                                        if not name.startswith("_") and name != "prod"})
GUARDED_MATH.factorial = _bounded(math.factorial, 20_000)
GUARDED_MATH.comb = _bounded(math.comb, 100_000)
GUARDED_MATH.perm = _bounded(math.perm, 100_000)


def bounded_helper(fn, limit: int = 10_000):
    """A date helper offered to diagrams (``working_days(n)`` …): counts beyond ``limit`` are refused."""
    def wrapped(*args, **kwargs):
        tick()
        for a in (*args, *kwargs.values()):
            if isinstance(a, int | float) and not isinstance(a, bool) and abs(a) > limit:
                raise BudgetExceeded(f"{getattr(fn, '__name__', 'helper')}({a}): at most {limit}")
        return fn(*args, **kwargs)
    return wrapped


_OPS = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Add: "+", ast.Mod: "%"}


def _name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def _tick_stmt() -> ast.Expr:
    return ast.Expr(value=ast.Call(func=_name("_tick_"), args=[], keywords=[]))


class BudgetTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, plus the guards above woven into loops, calls and operators."""

    def visit(self, node):
        result = super().visit(node)
        if isinstance(node, ast.Module | ast.Expression | ast.Interactive):
            ast.fix_missing_locations(result)
        return result

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, _tick_stmt())
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick_stmt())
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.And(), values=[ast.Call(func=_name("_tick_"), args=[], keywords=[]), node.body])
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        op = _OPS.get(type(node.op))
        if op is None:
            return node
        return ast.copy_location(ast.Call(func=_name("_binop_"), args=[ast.Constant(op), node.left, node.right],
                                          keywords=[]), node)

    def visit_Call(self, node):
        node = super().visit_Call(node)
        return ast.copy_location(ast.Call(func=_name("_call_"), args=[node.func, *node.args], keywords=node.keywords),
                                 node)

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            if any(isinstance(v, ast.FormattedValue) for v in getattr(spec, "values", [])):
                self.error(node, "computed format widths in f-strings are not allowed")
            elif any(isinstance(v, ast.Constant) and _WIDTH.search(str(v.value)) for v in getattr(spec, "values", [])):
                self.error(node, "format width too large")
        return super().visit_FormattedValue(node)


def literal_bomb(tree: ast.AST) -> str | None:
    """A constant expression in the source that would blow the budget (``10**10**10``), or None."""
    def fold(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | str | bytes | float):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = fold(node.operand)
            return -value if isinstance(value, int | float) else None
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = fold(node.left), fold(node.right)
            if left is None or right is None:
                return None
            try:
                with running():
                    return binop(_OPS[type(node.op)], left, right)
            except BudgetExceeded:
                raise
            except Exception:  # e.g. 'a' * 1.5: fails at run time, as written
                return None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            try:
                fold(node)
            except BudgetExceeded as exc:
                return f"line {node.lineno}: {ast.unparse(node)[:60]}: {exc}"
    return None

"""FEEL (DMN's Friendly Enough Expression Language) — decision table cells, literal expression decisions and
``camunda:script scriptFormat="feel"`` mappings — interpreted by the PyPI library ``bkflow-feel``.

Why bkflow-feel and what it is: a Lark grammar and a tree of expression objects, each with an
``evaluate(context)`` written in plain Python. It never calls ``eval``/``exec``, opens no file and reaches no
attribute of a value: a name is looked up in the context (a dict of the case's variables), a path
(``a.b``) in nested dicts, and a function call only among the functions registered with its
``FEELFunctionsManager`` (none are). So a FEEL text can do no I/O and cannot reach Python objects.

What this module adds around it:

* **grammar**: bkflow-feel's grammar read from the package, with what Camunda Modeler users write and it
  lacks — ``for x in xs, y in ys return …`` (nested as FEEL says), ``if … then … else …``, ``a + b + c``
  (its ``+``/``-``/``*``/``/`` took two operands only), a filter or index on a parenthesised expression
  (``(for …)[item != null]``, ``(…)[1]``; a filter sees the item's entries, ``item`` and the outer
  variables), ``get value(context, key)``, ``count``/``sum``/``min``/``max`` of any list; arithmetic and
  comparisons as FEEL has them (``1 = 1.0``; null for null or unlike operands, where bkflow-feel raised);
  ``matches()`` is left out of the grammar (a regular expression can run for minutes in one C call):
  written anyway it is an unknown function, whose value is null;
* **budget**: every node evaluated ticks :func:`script_budget.tick` (the thread's CPU time, memory growth)
  inside :class:`script_budget.running`, as diagram scripts do; ``+``, ``*`` and ``**`` go through the
  budget's size guards; a text is at most :data:`MAX_LENGTH` characters;
* **unary tests** (a decision table's input cells): ``-``/empty, a comma list of tests (any of them),
  ``not(…)``, ``< 5``, ``>= date("2026-01-01")``, ranges ``[1..10]``/``(1..10)``/``]1..10[``, a value
  (equality; a list value: membership), an expression with ``?`` (the input value).

Errors: :class:`FeelSyntaxError` (the text does not parse: line, column and the parser's message; deploy
refuses the file) and :class:`FeelError` (evaluation failed: a case stops in ``error`` naming the element).
"""

from __future__ import annotations

import datetime
import functools
import re
import warnings
from importlib import resources
from typing import Any

from lark import Lark, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

with warnings.catch_warnings():  # bkflow-feel uses pydantic's validate_arguments, deprecated in pydantic 2
    warnings.simplefilter("ignore", DeprecationWarning)
    from bkflow_feel import parsers as feel_nodes
    from bkflow_feel.data_models import RangeGroupData, RangeGroupOperator
    from bkflow_feel.transformer import FEELTransformer

from . import clock, script_budget
from .working_days import SHANGHAI

MAX_LENGTH = 10_000  # characters of one FEEL text; deeper nesting than that exhausts Python's recursion


class FeelError(Exception):
    """A FEEL text that cannot be evaluated (or, as :class:`FeelSyntaxError`, parsed)."""


class FeelSyntaxError(FeelError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None, near: str = ""):
        super().__init__(message)
        self.line = line  # within the text, from 1
        self.column = column
        self.near = near  # what the parser stumbled on ("" at the end of the text)


def _grammar() -> str:
    text = resources.files("bkflow_feel").joinpath("FEEL.lark").read_text(encoding="utf-8")
    replace = {
        # left-recursive, so a + b + c and a * b * c parse
        '?arithmetic: term\n           | term "+" term                   -> add\n'
        '           | term "-" term                   -> sub':
            '?arithmetic: term\n           | arithmetic "+" term -> add\n           | arithmetic "-" term -> sub',
        '?term: factor\n     | factor "*" factor                   -> mul\n'
        '     | factor "/" factor                   -> div':
            '?term: factor\n     | term "*" factor -> mul\n     | term "/" factor -> div',
        # a filter or an index on any parenthesised expression
        'list_item: (list_ | variable) "[" SIGNED_INT "]"':
            'list_item: (list_ | variable | "(" expr ")") "[" SIGNED_INT "]"',
        'list_filter: (list_ | variable) "[" expr "]"':
            'list_filter: (list_ | variable | "(" expr ")") "[" expr "]"',
        # count/sum/min/max of any list, not only a list literal
        'list_count: "count" "(" list_ ")"': 'list_count: "count" "(" expr ")"',
        # no regular expressions: one can run for minutes inside a single C call
        '            | matches\n': '',
        '        | variable\n        | "(" expr ")"':
            '        | variable\n        | for_expr\n        | if_expr\n        | get_value_func\n'
            '        | aggregate_func\n        | "(" expr ")"',
    }
    for old, new in replace.items():
        if old not in text:
            raise RuntimeError(f"bkflow-feel's grammar changed; cannot extend it at: {old!r}")
        text = text.replace(old, new)
    return text + """
for_expr: "for" NAME "in" expr ("," NAME "in" expr)* "return" expr
if_expr: "if" expr "then" expr "else" expr
get_value_func: "get" "value" "(" expr "," expr ")"
aggregate_func: AGGREGATE "(" expr ")"
AGGREGATE.2: "sum" | "min" | "max"
%ignore /[\\r\\n]+/
"""


class _ForExpr(feel_nodes.Expression):
    """``for a in A, b in B return e``: e for every a of A and, for each, every b of B (FEEL's nesting)."""

    def __init__(self, names: list[str], lists: list, expr):
        self.names = names
        self.lists = lists
        self.expr = expr

    def evaluate(self, context):
        results = []

        def walk(i: int, scope: dict) -> None:
            if i == len(self.names):
                results.append(self.expr.evaluate(scope))
                return
            values = self.lists[i].evaluate(scope)
            if values is None:
                return
            if not isinstance(values, list):
                values = [values]
            for value in values:
                script_budget.tick()
                walk(i + 1, {**scope, self.names[i]: value})

        walk(0, dict(context))
        return results


class _If(feel_nodes.Expression):
    def __init__(self, condition, then, otherwise):
        self.condition = condition
        self.then = then
        self.otherwise = otherwise

    def evaluate(self, context):
        return self.then.evaluate(context) if self.condition.evaluate(context) is True else self.otherwise.evaluate(context)


class _Filter(feel_nodes.Expression):
    """``list[condition]``: the items for which the condition is true. (bkflow-feel's own filter evaluated the
    condition over the item alone and swallowed every exception — a budget overrun too.)"""

    def __init__(self, list_expr, condition):
        self.list_expr = list_expr
        self.condition = condition

    def evaluate(self, context):
        items = self.list_expr.evaluate(context)
        if not isinstance(items, list):
            return None
        kept = []
        for item in items:
            scope = {**context, **(item if isinstance(item, dict) else {}), "item": item}
            if self.condition.evaluate(scope) is True:
                kept.append(item)
        return kept


class _GetValue(feel_nodes.Expression):
    def __init__(self, ctx, key):
        self.ctx = ctx
        self.key = key

    def evaluate(self, context):
        ctx = self.ctx.evaluate(context)
        key = self.key.evaluate(context)
        return ctx.get(key) if isinstance(ctx, dict) and isinstance(key, str) else None


class _Aggregate(feel_nodes.Expression):
    def __init__(self, name: str, expr):
        self.name = name
        self.expr = expr

    def evaluate(self, context):
        values = self.expr.evaluate(context)
        if not isinstance(values, list):
            return None
        if self.name == "sum":
            return sum(values) if values else None
        return (min if self.name == "min" else max)(values) if values else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    return (_number(a) and _number(b)) or type(a) is type(b)


class _Binary(feel_nodes.Expression):
    """Arithmetic and comparison as FEEL has them: ``1 = 1.0``, ``2 < 2.5`` (bkflow-feel refuses an int beside
    a float), null for null or unlike operands (``x + 1`` with ``x`` null, ``"a" < 1``), ``+``/``*``/``**``
    through the budget's size guards."""

    def __init__(self, op: str, left, right):
        self.op = op
        self.left = left
        self.right = right

    def evaluate(self, context):
        a, b = self.left.evaluate(context), self.right.evaluate(context)
        op = self.op
        if op in ("=", "!="):
            if a is None or b is None:
                return (a is b) == (op == "=")
            return (_same_kind(a, b) and a == b) == (op == "=")
        if a is None or b is None or not _same_kind(a, b):
            return None
        if op in ("<", "<=", ">", ">="):
            if isinstance(a, bool | dict | list):
                return None
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op == "+":
            return script_budget.binop("+", a, b) if _number(a) or isinstance(a, str) else None
        if not _number(a):
            return None
        if op == "-":
            return a - b
        if op == "/":
            return None if b == 0 else a / b
        if op == "**":
            return script_budget.guarded_pow(a, b)
        return script_budget.binop("*", a, b)


class _Count(feel_nodes.Expression):
    def __init__(self, expr):
        self.expr = expr

    def evaluate(self, context):
        values = self.expr.evaluate(context)
        return len(values) if isinstance(values, list) else None


class _Now(feel_nodes.Expression):
    """FEEL ``now()`` / ``today()``: the step's injected clock (not the server's), in the company's zone —
    the day a decision or mapping compares with is the business's local day."""

    def __init__(self, day: bool):
        self.day = day

    def evaluate(self, context):
        moment = clock.now().astimezone(SHANGHAI)
        return moment.date() if self.day else moment


@v_args(inline=True)
class _Transformer(FEELTransformer):
    def now_func(self):
        return _Now(day=False)

    def today_func(self):
        return _Now(day=True)

    def for_expr(self, *items):
        *pairs, expr = items
        names = [str(t) for t in pairs[0::2]]
        return _ForExpr(names, list(pairs[1::2]), expr)

    def if_expr(self, condition, then, otherwise):
        return _If(condition, then, otherwise)

    def list_filter(self, list_expr, condition):
        return _Filter(list_expr, condition)

    def get_value_func(self, ctx, key):
        return _GetValue(ctx, key)

    def aggregate_func(self, name, expr):
        return _Aggregate(str(name), expr)

    def pow(self, left, right):
        return _Binary("**", left, right)

    def add(self, left, right):
        return _Binary("+", left, right)

    def sub(self, left, right):
        return _Binary("-", left, right)

    def mul(self, left, right):
        return _Binary("*", left, right)

    def div(self, left, right):
        return _Binary("/", left, right)

    def eq(self, left, right):
        return _Binary("=", left, right)

    def ne(self, left, right):
        return _Binary("!=", left, right)

    def lt(self, left, right):
        return _Binary("<", left, right)

    def gt(self, left, right):
        return _Binary(">", left, right)

    def lte(self, left, right):
        return _Binary("<=", left, right)

    def gte(self, left, right):
        return _Binary(">=", left, right)

    def list_count(self, expr):
        return _Count(expr)


_PARSER = Lark(_grammar(), parser="lalr", propagate_positions=False)
_TRANSFORMER = _Transformer()


def _ticking(node) -> None:
    """Make every node of a parsed tree tick the budget when it is evaluated."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, feel_nodes.Expression):
            plain = type(current).evaluate

            def evaluate(context, _plain=plain, _node=current):
                script_budget.tick()
                return _plain(_node, context)

            current.evaluate = evaluate  # type: ignore[method-assign]
            stack.extend(vars(current).values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
        elif isinstance(current, dict):
            stack.extend(current.values())


@functools.lru_cache(maxsize=2048)
def parse(text: str):
    """The evaluable tree of a FEEL expression; :class:`FeelSyntaxError` naming line and column when it
    does not parse."""
    if len(text) > MAX_LENGTH:
        raise FeelSyntaxError(f"longer than {MAX_LENGTH} characters")
    try:
        tree = _TRANSFORMER.transform(_PARSER.parse(text))
    except UnexpectedInput as exc:
        message, near = _unexpected(exc, text)
        line = getattr(exc, "line", None)
        raise FeelSyntaxError(message, line if isinstance(line, int) and line > 0 else None,
                              getattr(exc, "column", None), near) from None
    except (LarkError, VisitError) as exc:
        raise FeelSyntaxError(str(exc).splitlines()[0]) from None
    except RecursionError:
        raise FeelSyntaxError("nested too deeply") from None
    if not isinstance(tree, feel_nodes.Expression):
        raise FeelSyntaxError("not an expression")
    _ticking(tree)
    return tree


def _unexpected(exc: UnexpectedInput, text: str) -> tuple[str, str]:
    """The parser's message and what it stumbled on."""
    if isinstance(exc, UnexpectedCharacters):
        near = text[exc.pos_in_stream or 0]
    else:
        token = getattr(exc, "token", None)
        near = "" if isinstance(exc, UnexpectedEOF) or token is None or token.type == "$END" else str(token)
    if not near:
        return "the expression ends too early", ""
    return f"unexpected '{near}' at line {exc.line}, column {exc.column}", near


def _evaluate(tree, context: dict) -> Any:
    with script_budget.running():
        try:
            return tree.evaluate(context)
        except script_budget.BudgetExceeded:
            raise
        except RecursionError:
            raise FeelError("nested too deeply") from None
        except Exception as exc:  # bkflow-feel raises ValidationError, TypeError, … for a wrong type
            raise FeelError(str(exc) or type(exc).__name__) from None


def evaluate(text: str, context: dict) -> Any:
    """The value of a FEEL expression over ``context`` (the case's variables), as case data: dates and times
    as ISO text (what a form stores; a unary test reads them back as dates); an empty text is null."""
    text = (text or "").strip()
    if not text:
        return None
    return _as_data(_evaluate(parse(text), context))


def _as_data(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _as_data(v) for k, v in value.items()}
    if isinstance(value, RangeGroupData):
        raise FeelError("a range is not a value a variable can hold")
    return value


def check(text: str) -> FeelSyntaxError | None:
    """Why a FEEL expression does not parse, or None."""
    try:
        if (text or "").strip():
            parse(text.strip())
    except FeelSyntaxError as exc:
        return exc
    return None


# --- unary tests: a decision table's input cells --------------------------------------------------------

_INPUT = "dmn_input_value"  # what ``?`` reads
_QUESTION = re.compile(r'"(?:[^"\\]|\\.)*"|\?')
_COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.*)$", re.DOTALL)
_RANGE = re.compile(r"^([\[\]\(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\[\)])$", re.DOTALL)
_NOT = re.compile(r"^not\s*\((.*)\)$", re.DOTALL)


def _split(text: str) -> list[str]:
    """A comma list of tests, split at the commas outside strings and brackets."""
    parts, depth, start, in_string, i = [], 0, 0, False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return parts


def _with_input(text: str) -> str:
    return _QUESTION.sub(lambda m: _INPUT if m.group() == "?" else m.group(), text)


@functools.lru_cache(maxsize=4096)
def _unary(text: str) -> tuple:
    """A unary test as (negated, [(kind, ...)]), kinds: ("cmp", op, tree) | ("range", lo_open, lo, hi, hi_open)
    | ("question", tree) | ("value", tree)."""
    text = text.strip()
    negated = False
    tests: list[tuple] = []
    match = _NOT.match(text)
    if match and _balanced(match.group(1)):
        negated, text = True, match.group(1).strip()
    for part in _split(text):
        if not part:
            raise FeelSyntaxError("an empty test in a list of tests")
        if any(m.group() == "?" for m in _QUESTION.finditer(part)):
            tests.append(("question", parse(_with_input(part))))
            continue
        match = _COMPARISON.match(part)
        if match:
            tests.append(("cmp", match.group(1), parse(match.group(2).strip())))
            continue
        match = _RANGE.match(part)
        if match:
            tests.append(("range", match.group(1) != "[", parse(match.group(2)), parse(match.group(3)),
                          match.group(4) != "]"))
            continue
        tests.append(("value", parse(part)))
    return negated, tests


def _balanced(text: str) -> bool:
    depth, in_string = 0, False
    for c in text:
        if c == '"':
            in_string = not in_string
        elif not in_string:
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth < 0:
                return False
    return depth == 0


def check_unary(text: str) -> FeelSyntaxError | None:
    """Why a decision table's input cell is not FEEL unary tests, or None."""
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    try:
        _unary(text)
    except FeelSyntaxError as exc:
        return exc
    return None


_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    if isinstance(a, datetime.datetime) or isinstance(b, datetime.datetime):
        return isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime)
    return type(a) is type(b)


def _as_date(value: Any, like: Any) -> Any:
    """A case variable holding an ISO date as text compared with ``date("…")``: read as a date."""
    if isinstance(like, datetime.date) and isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if isinstance(like, datetime.datetime) else parsed.date()
    return value


def _compare(op: str, value: Any, other: Any) -> bool:
    value = _as_date(value, other)
    if op in ("=", "!=") and (value is None or other is None):
        return (value is other) == (op == "=")
    if value is None or other is None or not _comparable(value, other):
        return op == "!="
    return bool(_OPS[op](value, other))


def _one(test: tuple, value: Any, context: dict) -> bool:
    kind = test[0]
    if kind == "question":
        return test[1].evaluate({**context, _INPUT: value}) is True
    if kind == "cmp":
        return _compare(test[1], value, test[2].evaluate(context))
    if kind == "range":
        _kind, lo_open, lo, hi, hi_open = test
        low, high = lo.evaluate(context), hi.evaluate(context)
        return _compare(">" if lo_open else ">=", value, low) and _compare("<" if hi_open else "<=", value, high)
    expected = test[1].evaluate(context)
    if isinstance(expected, RangeGroupData):
        lo_open = expected.left_operator == RangeGroupOperator.GT
        hi_open = expected.right_operator == RangeGroupOperator.LT
        return (_compare(">" if lo_open else ">=", value, expected.left_val)
                and _compare("<" if hi_open else "<=", value, expected.right_val))
    if isinstance(expected, list) and not isinstance(value, list):
        return any(_compare("=", value, e) for e in expected)
    return _compare("=", value, expected)


def test(text: str, value: Any, context: dict) -> bool:
    """Whether ``value`` (an input column's value) satisfies the unary tests ``text``."""
    text = (text or "").strip()
    if text in ("", "-"):
        return True
    negated, tests = _unary(text)
    with script_budget.running():
        try:
            hit = any(_one(t, value, context) for t in tests)
        except (script_budget.BudgetExceeded, FeelError):
            raise
        except RecursionError:
            raise FeelError("nested too deeply") from None
        except Exception as exc:
            raise FeelError(str(exc) or type(exc).__name__) from None
    return hit != negated


def language_is_feel(*languages: str | None) -> bool:
    """The innermost ``expressionLanguage`` that is set decides; DMN's default is FEEL."""
    for language in languages:
        if language:
            return "feel" in language.lower()
    return True


__all__ = ["FeelError", "FeelSyntaxError", "check", "check_unary", "evaluate", "language_is_feel", "parse", "test"]

"""Conditions and scripts from diagrams, run in a RestrictedPython sandbox.

What a diagram may do: read and write process variables, use plain data (numbers, strings,
lists, dicts), comparisons, arithmetic, comprehensions and a small set of safe builtins.
What it may not: import, touch dunder or underscore attributes, open files, reach the network,
call ``eval``/``exec``/``open``/``getattr``. RestrictedPython rejects the forbidden forms at compile
time; the guarded helpers below refuse the rest at run time.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import script_budget as budget
from .script_budget import BudgetExceeded, BudgetTransformer


class SandboxViolation(Exception):
    """A diagram's script tried something the sandbox forbids, or did not compile."""


__all__ = ["BudgetExceeded", "SandboxEnvironment", "SandboxViolation", "check_expression", "check_script"]


def _getattr(obj: Any, name: str, default: Any = None) -> Any:
    if name.startswith("_"):
        raise SandboxViolation(f"access to attribute '{name}' is not allowed")
    return safer_getattr(obj, name, default)


def _write(obj: Any) -> Any:
    # Scripts may change dicts and lists held in variables (item assignment); attribute writes on
    # foreign objects are refused by RestrictedPython's own checks before this is reached.
    if isinstance(obj, dict | list):
        return obj
    raise SandboxViolation(f"writing to {type(obj).__name__} objects is not allowed")


_BUILTINS: dict[str, Any] = dict(safe_builtins)
_BUILTINS.update(limited_builtins)
_BUILTINS.update(
    {
        name: obj
        for name, obj in {
            "dict": dict, "list": list, "set": set, "min": min, "max": max, "sum": sum, "any": any,
            "all": all, "sorted": sorted, "enumerate": enumerate, "zip": zip, "map": map,
            "filter": filter, "reversed": reversed, "abs": abs, "round": round, "len": len,
            "range": budget.guarded_range, "pow": budget.guarded_pow,
        }.items()
    }
)
for _forbidden in ("__import__", "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "vars"):
    _BUILTINS.pop(_forbidden, None)

_INPLACE = {
    "+=": lambda x, y: budget.binop("+", x, y), "-=": lambda x, y: x - y, "*=": lambda x, y: budget.binop("*", x, y),
    "/=": lambda x, y: x / y, "//=": lambda x, y: x // y, "%=": lambda x, y: budget.binop("%", x, y),
    "**=": lambda x, y: budget.binop("**", x, y), "<<=": lambda x, y: budget.binop("<<", x, y),
}
budget.SAFE_BIG_INT.update({_dt.date, _dt.datetime, _dt.timedelta})

_GLOBALS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": lambda it: budget.getiter(default_guarded_getiter(it)),
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write,
    "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
    "_tick_": budget.tick,
    "_binop_": budget.binop,
    "_call_": budget.call,
    "math": budget.GUARDED_MATH,
    "date": _dt.date,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
}

_HELPERS = frozenset(_GLOBALS)


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str):
    result = compile_restricted_eval(source.strip(), "<expression>", policy=BudgetTransformer)
    if result.errors:
        raise SandboxViolation("; ".join(result.errors))
    return result.code


@functools.lru_cache(maxsize=1024)
def compile_script(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise SandboxViolation(f"line {node.lineno}: imports are not allowed in diagram scripts")
    result = compile_restricted_exec(source, "<string>", policy=BudgetTransformer)
    if result.errors:
        raise SandboxViolation("; ".join(result.errors))
    return result.code


def check_expression(source: str) -> str | None:
    """The reason an expression cannot run here (it does not compile, or holds a literal bomb), or None."""
    try:
        compile_expression(source)
        return budget.literal_bomb(ast.parse(source.strip(), mode="eval"))
    except (SandboxViolation, SyntaxError) as exc:
        return str(exc)


def check_script(source: str) -> str | None:
    try:
        compile_script(source)
        return budget.literal_bomb(ast.parse(source))
    except (SandboxViolation, SyntaxError) as exc:
        return str(exc)


def _json_safe(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple | range):
        return [_json_safe(v) for v in value]
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return value


def _scope(context: dict, external_context: dict | None) -> dict:
    scope = dict(_GLOBALS)
    for name, value in (external_context or {}).items():
        scope[name] = budget.bounded_helper(value) if callable(value) and not isinstance(value, type) else value
    scope.update(context)
    return scope


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates through RestrictedPython."""

    def evaluate(self, expression, context, external_context=None):
        scope = _scope(context, external_context)
        code = compile_expression(expression)
        with budget.running():
            return eval(code, scope)  # noqa: S307 - restricted bytecode

    def execute(self, script, context, external_context=None):
        scope = _scope(context, external_context)
        code = compile_script(script)
        with budget.running():
            exec(code, scope)  # noqa: S102 - restricted bytecode
        for key, value in scope.items():
            if key in _HELPERS or key.startswith("_") or callable(value) or key in (external_context or {}):
                continue
            if hasattr(value, "__module__") and type(value).__module__ == "module":
                continue
            context[key] = _json_safe(value)
        for key in [k for k in context if k not in scope]:
            del context[key]
        return True

    def call_service(self, context, **kwargs):  # pragma: no cover - service tasks use handlers
        raise NotImplementedError

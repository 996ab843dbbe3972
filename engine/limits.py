"""Limits on what callers send and what diagrams may compute; each one settable by environment.

=====================================  ==============================  =========
what                                   variable                        default
=====================================  ==============================  =========
JSON request body                      AFTERSALES_MAX_JSON_BYTES       2 MB
nesting of a JSON value                AFTERSALES_MAX_JSON_DEPTH       32
one string (characters)                AFTERSALES_MAX_STRING           100000
integers                               (fixed)                         ±(2^53−1)
variables sent with one call           AFTERSALES_MAX_TASK_VARIABLES   100
variables a case holds                 AFTERSALES_MAX_CASE_VARIABLES   500
CPU time of one diagram evaluation     AFTERSALES_SCRIPT_SECONDS       1.0
memory of one diagram evaluation       AFTERSALES_SCRIPT_MEMORY_MB     256
=====================================  ==============================  =========

Integers are capped at what JavaScript clients and every JSON reader hold exactly; database ids
(32-bit INTEGER columns) are checked with :func:`valid_id`.
"""

from __future__ import annotations

import math
import os
from typing import Any

from .errors import InvalidRequest


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


MAX_JSON_BYTES = int(_env("AFTERSALES_MAX_JSON_BYTES", 2 * 1024 * 1024))
MAX_JSON_DEPTH = int(_env("AFTERSALES_MAX_JSON_DEPTH", 32))
MAX_STRING = int(_env("AFTERSALES_MAX_STRING", 100_000))
MAX_KEY = 200
MAX_INT = 2**53 - 1
MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL
MAX_TASK_VARIABLES = int(_env("AFTERSALES_MAX_TASK_VARIABLES", 100))
MAX_CASE_VARIABLES = int(_env("AFTERSALES_MAX_CASE_VARIABLES", 500))
SCRIPT_SECONDS = _env("AFTERSALES_SCRIPT_SECONDS", 1.0)
SCRIPT_MEMORY_MB = int(_env("AFTERSALES_SCRIPT_MEMORY_MB", 256))


def valid_id(value: int) -> bool:
    """Whether ``value`` can be a row id (a positive 32-bit integer, as the id columns are)."""
    return 0 < value <= MAX_ID


def _text_problem(text: str, what: str) -> str | None:
    if "\x00" in text:
        return f"{what}: NUL characters are not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what}: lone surrogate characters (invalid Unicode) are not allowed"
    return None


def text_problem(text: str, what: str = "value") -> str | None:
    """Why ``text`` (a form field, a query parameter) cannot be stored, or None."""
    return _text_problem(text, what)


def check_value(value: Any, what: str = "body") -> None:
    """Refuse a decoded JSON value that is nested too deeply, too big, or holds what no database
    column or JSON reader takes (NUL, lone surrogates, NaN/Infinity, integers past 2^53)."""
    stack: list[tuple[Any, str, int]] = [(value, what, 1)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidRequest(f"{where}: nested too deeply (more than {MAX_JSON_DEPTH} levels)")
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                raise InvalidRequest(f"{where}: text too long ({len(item)} characters, at most {MAX_STRING})")
            problem = _text_problem(item, where)
            if problem:
                raise InvalidRequest(problem)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INT:
                raise InvalidRequest(f"{where}: number too large (at most ±{MAX_INT})")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidRequest(f"{where}: NaN and Infinity are not allowed")
        elif isinstance(item, dict):
            for key, inner in item.items():
                if len(key) > MAX_KEY:
                    raise InvalidRequest(f"{where}: a name longer than {MAX_KEY} characters")
                problem = _text_problem(key, f"{where}: a name")
                if problem:
                    raise InvalidRequest(problem)
                stack.append((inner, f"{where}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]", depth + 1) for i, inner in enumerate(item))


def check_variables(values: dict | None, what: str = "variables") -> None:
    """Variables sent with one call: a JSON object of at most MAX_TASK_VARIABLES sane values."""
    if values is None:
        return
    if isinstance(values, dict) and len(values) > MAX_TASK_VARIABLES:
        raise InvalidRequest(f"{what}: too many variables ({len(values)}, at most {MAX_TASK_VARIABLES} per call)")
    check_value(values, what)


def check_case_size(data: dict, case: str) -> None:
    """A case may hold at most MAX_CASE_VARIABLES variables."""
    if len(data) > MAX_CASE_VARIABLES:
        raise InvalidRequest(f"case {case}: too many variables ({len(data)}, at most {MAX_CASE_VARIABLES})")

"""What Camunda Modeler writes, turned into what the engine evaluates.

Process owners write conditions as JUEL (``${amount < 1000 && approved}``) or as plain Python
(``amount < 1000 and approved``), and timers as bare ISO 8601 (``PT1H``, ``R3/PT10M``,
``2026-12-01T09:00:00``). SpiffWorkflow evaluates both as Python, so a bare ``PT1H`` would be a
NameError. These functions rewrite the text before parsing; the stored XML is left as drawn.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime, timedelta, timezone

import isodate

_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_STRING = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_GET_VARIABLE = re.compile(r"""execution\.getVariable\(\s*(['"])(\w+)\1\s*\)""")

_JUEL_WORDS = [
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnull\b"), "None"),
    (re.compile(r"\beq\b"), "=="),
    (re.compile(r"\bne\b"), "!="),
    (re.compile(r"\blt\b"), "<"),
    (re.compile(r"\bgt\b"), ">"),
    (re.compile(r"\ble\b"), "<="),
    (re.compile(r"\bge\b"), ">="),
    (re.compile(r"\bempty\s+(\w+)"), r"(not \1)"),
]

ISO_DURATION = re.compile(r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
ISO_CYCLE = re.compile(r"^R\d*/")


def is_juel(text: str) -> bool:
    return bool(_WRAPPED.match(text or ""))


def juel_to_python(text: str) -> str:
    """``${a && !b}`` -> ``a and not b``; text without ``${…}`` is returned unchanged."""
    match = _WRAPPED.match(text or "")
    if not match:
        return text
    body = _GET_VARIABLE.sub(r"\2", match.group("body"))
    parts = _STRING.split(body)
    for i in range(0, len(parts), 2):  # even parts are outside string literals
        code = parts[i]
        for pattern, repl in _JUEL_WORDS:
            code = pattern.sub(repl, code)
        parts[i] = code
    return " ".join("".join(parts).split())


_CAMEL = re.compile(r"[a-z][A-Z]")
_CAMUNDA_OBJECTS = frozenset({"execution", "task", "connector"})  # Camunda's Java objects; none exists here


def java_call(source: str) -> str | None:
    """The first call in a (Python) expression that only a Java engine could make, as written, or None:
    a camelCase method (``mail.getAttachments().isEmpty()``, ``bean.getValue()``) — variables hold JSON
    data, whose methods are Python's and never camelCase — or a call handed Camunda's ``execution`` or
    ``task`` object (``timerUtil.getNextTimer(execution)``). No handler is called from an expression, so
    nothing here can honour either; the deploy refuses it rather than the case stopping at run time."""
    try:
        tree = ast.parse((source or "").strip(), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        camel = isinstance(node.func, ast.Attribute) and bool(_CAMEL.search(node.func.attr))
        hands_over = any(isinstance(a, ast.Name) and a.id in _CAMUNDA_OBJECTS for a in node.args)
        if camel or hands_over:
            return ast.unparse(node)
    return None


def is_iso_timer(text: str) -> bool:
    text = text.strip()
    if ISO_CYCLE.match(text):
        rest = text.split("/", 1)[1]
        return all(ISO_DURATION.match(p) or ISO_DATETIME.match(p) for p in rest.split("/"))
    return bool(ISO_DURATION.match(text) or ISO_DATETIME.match(text))


def timer_to_python(text: str) -> str:
    """Bare ISO 8601 becomes a string literal; JUEL becomes Python; Python stays as it is."""
    stripped = (text or "").strip()
    if is_iso_timer(stripped):
        return repr(stripped)
    return juel_to_python(stripped)


_QUARTZ_DOW = re.compile(r"\d")


def quartz_to_cron(text: str) -> str:
    """A Camunda (Quartz) cron — ``seconds minutes hours day-of-month month day-of-week [year]``, ``?`` for
    "no value", Sunday = 1 — as croniter reads it with ``second_at_beginning=True`` (Sunday = 0).
    Raises ValueError for what croniter cannot honour (``W``, ``L`` in the week day, a year)."""
    fields = text.split()
    if len(fields) == 7:
        if fields[6] not in ("*", "?"):
            raise ValueError(f"cron '{text}': a year field is not supported")
        fields = fields[:6]
    if len(fields) != 6:
        raise ValueError(f"cron '{text}' is not a Camunda cron: it has six fields, seconds first "
                         "(e.g. 0 0 9 ? * MON-FRI)")
    if "W" in fields[3] or "L" in fields[5]:
        raise ValueError(f"cron '{text}': W and L in the week day are not supported")
    fields = ["*" if f == "?" else f for f in fields]
    fields[5] = _QUARTZ_DOW.sub(lambda m: str((int(m.group()) - 1) % 7), fields[5])
    from croniter import croniter

    cron = " ".join(fields)
    if not croniter.is_valid(cron, second_at_beginning=True):
        raise ValueError(f"cron '{text}' is not valid")
    return cron


def cron_times(cron: str, after, count: int) -> list:
    """The next ``count`` moments of a converted cron after ``after`` (an aware datetime)."""
    from croniter import croniter

    it = croniter(cron, after, second_at_beginning=True)
    return [it.get_next(type(after)) for _ in range(count)]


_CRON_CHECKED_FROM = datetime(2026, 1, 5, tzinfo=timezone(timedelta(hours=8)))  # a Monday, Shanghai time


def cron_cycle_problem(text: str, kind: str) -> str | None:
    """Why a cron cannot drive a boundary or intermediate timer, or None. It must be a ``timeCycle`` that
    repeats at one fixed interval (every 5 minutes, daily at 09:00): such a timer is an ISO cycle
    (``cron_cycle``). A schedule like "weekdays at 09:00" is for timer start events only."""
    if kind != "timeCycle":
        return "a cron is a cycle: use it as a time cycle"
    try:
        cron = quartz_to_cron(text)
    except ValueError as exc:
        return str(exc)
    times = cron_times(cron, _CRON_CHECKED_FROM, 60)
    if len({b - a for a, b in zip(times, times[1:], strict=False)}) != 1:
        return ("on a boundary or intermediate timer a cron must repeat at one fixed interval (e.g. every 5 "
                "minutes, daily at 09:00); other schedules only on a timer start event")
    return None


def cron_cycle(text: str, now: datetime) -> str:
    """The ISO 8601 cycle a fixed-interval cron amounts to from ``now``: ``R/<next>/<interval>``."""
    from .working_days import SHANGHAI

    first, second = cron_times(quartz_to_cron(text), now.astimezone(SHANGHAI), 2)
    return f"R/{first.isoformat()}/{isodate.duration_isoformat(second - first)}"


def looks_like_cron(text: str) -> bool:
    fields = (text or "").split()
    return 5 <= len(fields) <= 7 and all(re.fullmatch(r"[\d*?/,LW#A-Z\-]+", f) for f in fields)


_FEEL_WORDS = [(re.compile(r"\btrue\b"), "True"), (re.compile(r"\bfalse\b"), "False"), (re.compile(r"\bnull\b"), "None")]


def feel_to_python(text: str) -> str:
    """The FEEL literals Camunda Modeler puts in decision tables (``true``, ``false``, ``null``)."""
    parts = _STRING.split(text or "")
    for i in range(0, len(parts), 2):
        for pattern, repl in _FEEL_WORDS:
            parts[i] = pattern.sub(repl, parts[i])
    return "".join(parts)

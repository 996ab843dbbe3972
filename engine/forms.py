"""Forms from ``camunda:formData`` (and Flowable/Activiti ``formProperty``): field definitions and validation
of submitted values.

Types are a lookup table (``FIELD_TYPES``), not an if-chain, so a new type is one entry.

Text is trimmed, and a value of only spaces counts as empty. Constraints besides Camunda's own
(``required``, ``readonly``, ``min``/``max``, ``minlength``/``maxlength``): ``pattern`` (a regular
expression the whole trimmed text must match), ``phone`` (a mainland China mobile or landline
number), and on dates ``min``/``max`` as a day (``2026-01-01``) or relative to today in the
configured time zone: ``today``, ``today+30d``, ``today-1y`` (units d, w, m, y) — all written as
``<camunda:constraint name="max" config="today" />`` in Camunda Modeler's "Validation" list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .errors import FormInvalid


@dataclass
class FormField:
    id: str
    label: str
    type: str
    default: Any = None
    required: bool = False
    readonly: bool = False
    options: list[dict[str, str]] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "label": self.label, "type": self.type, "required": self.required,
            "readonly": self.readonly, "options": self.options, "default": self.default,
            "constraints": {k: v for k, v in self.constraints.items()},
        }

    def date_bounds(self, today: date) -> tuple[str | None, str | None]:
        """A date field's earliest and latest day as ISO dates (None where unbounded)."""
        out: list[str | None] = []
        for name in ("min", "max"):
            try:
                out.append(date_bound(self.constraints[name], today).isoformat() if name in self.constraints else None)
            except ValueError:
                out.append(None)
        return out[0], out[1]


def _to_long(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ValueError("must be a whole number")


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "on", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "off", "0", "no", ""):
        return False
    raise ValueError("must be true or false")


def _to_date(value: Any) -> str:
    """Dates are kept as ISO strings so that process variables stay plain JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return parse(text).isoformat()
            except ValueError:
                continue
        # Camunda's own generated forms submit dd/MM/yyyy
        match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
        if match:
            d, m, y = (int(g) for g in match.groups())
            try:
                return date(y, m, d).isoformat()
            except ValueError:
                pass
    raise ValueError("must be a date (YYYY-MM-DD)")


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("must be text")


_PART_LINE = re.compile(r"^\s*([A-Za-z0-9][\w\-./]*)\s*(?::\s*(\d+))?\s*$")


def _to_parts(value: Any) -> list[dict]:
    """A parts list picked from stock: ``[{"part_no", "quantity"}]`` (the API may also send
    ``"P-100:2, P-200"``). Only the shape is checked here; whether each part exists is the
    handlers' check (``HandlerRegistry.register_field_type``)."""
    lines: list[tuple[str, Any]] = []
    if isinstance(value, str):
        for chunk in re.split(r"[,;，；\n]+", value):
            if not chunk.strip():
                continue
            m = _PART_LINE.match(chunk)
            if not m:
                raise ValueError("must be parts picked from stock")
            lines.append((m.group(1), m.group(2) or 1))
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("part_no"), str) or not item["part_no"].strip():
                raise ValueError("must be parts picked from stock")
            lines.append((item["part_no"].strip(), item.get("quantity", 1)))
    else:
        raise ValueError("must be parts picked from stock")
    merged: dict[str, int] = {}
    for part_no, quantity in lines:
        try:
            qty = _to_long(quantity)
        except ValueError:
            raise ValueError("each quantity must be a whole number from 1") from None
        if qty < 1 or qty > 9999:
            raise ValueError("each quantity must be a whole number from 1")
        merged[part_no] = merged.get(part_no, 0) + qty
    return [{"part_no": k, "quantity": q} for k, q in merged.items()]


def _flag(node, name: str, default: bool) -> bool:
    value = (node.get(name) or "").strip().lower()
    return default if not value else value == "true"


def form_properties(node, ns: str) -> list[FormField]:
    """The form of a Flowable/Activiti task or start event (``formProperty``, read under the Camunda
    namespace ``ns`` as every dialect is): id (or ``variable``, the variable it writes), name, type
    (string, long, boolean, enum with its ``value`` children, date), ``required``, ``writable="false"``
    as read-only, a literal ``default``/``value`` as the default; a property with ``readable="false"``
    is not shown, as in Flowable. Camunda's ``formData`` wins where a task has both."""
    fields = []
    for prop in node.iterfind(f"{{{ns}}}formProperty") if node is not None else []:
        if not _flag(prop, "readable", True):
            continue
        name = (prop.get("variable") or prop.get("id") or "").strip()
        if not name:
            continue
        default = prop.get("default") or prop.get("value")
        required, readonly = _flag(prop, "required", False), not _flag(prop, "writable", True)
        fields.append(FormField(
            id=name, label=(prop.get("name") or name).strip(), type=(prop.get("type") or "string").strip(),
            default=None if default is None or "{" in default else default, required=required, readonly=readonly,
            options=[{"id": v.get("id") or "", "name": v.get("name") or v.get("id") or ""}
                     for v in prop.iterfind(f"{{{ns}}}value")],
            constraints={k: True for k, on in (("required", required), ("readonly", readonly)) if on}))
    return fields


FIELD_TYPES: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "long": _to_long,
    "boolean": _to_boolean,
    "date": _to_date,
    "enum": _to_string,
    "parts": _to_parts,
}

_CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength", "pattern", "phone")

# Mainland China: a mobile number (11 digits from 13x–19x, optionally +86), or a landline with its
# area code (010, 0571 …) and an optional extension; spaces and hyphens between groups are allowed.
PHONE = re.compile(r"(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"
                   r"|0\d{2,3}[ -]?\d{7,8}(?:[ -]?(?:转|ext\.?|#)\s?\d{1,6})?", re.IGNORECASE)
_RELATIVE_DAY = re.compile(r"^\s*today\s*(?:([+-])\s*(\d{1,4})\s*([dwmy]))?\s*$", re.IGNORECASE)


def date_bound(config: Any, today: date) -> date:
    """A date constraint's day: ``2026-01-01``, or ``today``, ``today+30d``, ``today-1y`` (d, w, m, y).
    Raises ValueError for anything else."""
    text = str(config or "").strip()
    m = _RELATIVE_DAY.match(text)
    if not m:
        return date.fromisoformat(text)
    if not m[1]:
        return today
    n = int(m[2]) * (1 if m[1] == "+" else -1)
    unit = m[3].lower()
    if unit in ("d", "w"):
        return today + timedelta(days=n * (7 if unit == "w" else 1))
    months = today.month - 1 + n * (12 if unit == "y" else 1)
    year, month = today.year + months // 12, months % 12 + 1
    for day in (today.day, 30, 29, 28):  # 31 January + 1m is the last day of February
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(f"no day for '{text}'")


def blank(value: Any) -> bool:
    """Not given: nothing, an empty string or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def constraint_problems(f: FormField) -> list[str]:
    """Things wrong with a field definition itself (checked at deployment), in English."""
    return [message for _code, _params, message in constraint_issues(f)]


def constraint_issues(f: FormField) -> list[tuple[str, dict, str]]:
    """``(code, params, English message)`` per thing wrong with a field definition: the code
    ``form_field_type``, ``form_field_constraint`` or ``form_field_no_values`` (``engine.errors.Problem``)."""
    problems: list[tuple[str, dict, str]] = []

    def bad(name: str, message: str) -> None:
        problems.append(("form_field_constraint", {"field": f.id, "label": f.label, "constraint": name}, message))

    if f.type not in FIELD_TYPES:
        problems.append(("form_field_type", {"field": f.id, "label": f.label, "type": f.type},
                         f"form field '{f.id}' has unsupported type '{f.type}' (supported: {', '.join(FIELD_TYPES)})"))
    for name, config in f.constraints.items():
        if name not in _CONSTRAINTS:
            bad(name, f"form field '{f.id}' has unsupported constraint '{name}'")
        elif name in ("min", "max") and f.type == "date":
            try:
                date_bound(config, date.today())
            except ValueError:
                bad(name, f"form field '{f.id}': constraint {name} needs a day (YYYY-MM-DD) or today, "
                          f"today+30d, today-1y, got '{config}'")
        elif name in ("min", "max", "minlength", "maxlength"):
            try:
                float(config)
            except (TypeError, ValueError):
                bad(name, f"form field '{f.id}': constraint {name} needs a number, got '{config}'")
        elif name == "pattern":
            try:
                re.compile(str(config or ""))
            except re.error as exc:
                bad(name, f"form field '{f.id}': constraint pattern '{config}' is not a regular expression ({exc})")
            if not config:
                bad(name, f"form field '{f.id}': constraint pattern needs a regular expression")
        if name in ("pattern", "phone") and f.type != "string":
            bad(name, f"form field '{f.id}': constraint {name} applies to string fields only")
    if f.type == "enum" and not f.options:
        problems.append(("form_field_no_values", {"field": f.id, "label": f.label}, f"form field '{f.id}' is an enum without values"))
    return problems


def _check(f: FormField, value: Any, today: date) -> str | None:
    c = f.constraints
    if f.type == "enum" and value not in {o["id"] for o in f.options}:
        return f"'{value}' is not one of: {', '.join(o['id'] for o in f.options)}"
    if f.type == "long":
        if "min" in c and value < float(c["min"]):
            return f"must be at least {c['min']}"
        if "max" in c and value > float(c["max"]):
            return f"must be at most {c['max']}"
    if f.type == "string":
        if "minlength" in c and len(value) < int(c["minlength"]):
            return f"must be at least {c['minlength']} characters"
        if "maxlength" in c and len(value) > int(c["maxlength"]):
            return f"must be at most {c['maxlength']} characters"
        if "phone" in c and not PHONE.fullmatch(value):
            return "must be a mainland China phone number"
        if c.get("pattern") and not re.fullmatch(str(c["pattern"]), value):
            return "does not have the expected format"
    if f.type == "date":
        day = date.fromisoformat(value[:10])
        if "min" in c and day < date_bound(c["min"], today):
            return f"must be on or after {date_bound(c['min'], today).isoformat()}"
        if "max" in c and day > date_bound(c["max"], today):
            return f"must be on or before {date_bound(c['max'], today).isoformat()}"
    return None


def validate(fields: list[FormField], submitted: dict[str, Any], current: dict[str, Any] | None = None,
             checks: dict[str, Callable[[Any], str | None]] | None = None, today: date | None = None) -> dict:
    """Checked and converted values; raises :class:`FormInvalid` naming each bad field (with its label).

    ``today`` is the local day that relative date bounds count from (the engine's clock in its time zone).

    With no fields declared, any JSON object is accepted as it is (a plain user task).
    ``checks`` maps a field type to a check that needs the database (a part must be in stock's
    catalogue); it returns the problem or None.
    """
    if not isinstance(submitted, dict):
        raise FormInvalid({"variables": "must be an object"})
    if not fields:
        return dict(submitted)
    today = today or date.today()
    by_id = {f.id: f for f in fields}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in submitted:
        if key not in by_id:
            errors[key] = "unknown field"
    for f in fields:
        present = f.id in submitted and not blank(submitted[f.id])
        if not present and f.id not in submitted and not blank(f.default) and not f.readonly:
            submitted = {**submitted, f.id: f.default}
            present = True
        if f.readonly:
            if f.id in submitted and submitted[f.id] != (current or {}).get(f.id, f.default):
                errors[f.id] = "is read-only"
            continue
        if not present:
            if f.required:
                errors[f.id] = "is required"
            elif f.id in submitted:  # sent empty: the user cleared it
                clean[f.id] = {"boolean": False, "string": "", "parts": []}.get(f.type)
            continue
        try:
            value = FIELD_TYPES[f.type](submitted[f.id])
        except ValueError as exc:
            errors[f.id] = str(exc)
            continue
        problem = _check(f, value, today)
        if not problem and checks and f.type in checks:
            problem = checks[f.type](value)
        if problem:
            errors[f.id] = problem
        else:
            clean[f.id] = value
    if errors:
        raise FormInvalid(errors, {k: by_id[k].label for k in errors if k in by_id})
    return clean

"""Forms from ``camunda:formData``: field definitions and validation of submitted values.

Types are a lookup table (``FIELD_TYPES``), not an if-chain, so a new type is one entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
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
        return value
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


FIELD_TYPES: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "long": _to_long,
    "boolean": _to_boolean,
    "date": _to_date,
    "enum": _to_string,
    "parts": _to_parts,
}

_CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength")


def constraint_problems(f: FormField) -> list[str]:
    """Things wrong with a field definition itself (checked at deployment)."""
    problems = []
    if f.type not in FIELD_TYPES:
        problems.append(f"form field '{f.id}' has unsupported type '{f.type}' (supported: {', '.join(FIELD_TYPES)})")
    for name, config in f.constraints.items():
        if name not in _CONSTRAINTS:
            problems.append(f"form field '{f.id}' has unsupported constraint '{name}'")
        elif name in ("min", "max", "minlength", "maxlength"):
            try:
                float(config)
            except (TypeError, ValueError):
                problems.append(f"form field '{f.id}': constraint {name} needs a number, got '{config}'")
    if f.type == "enum" and not f.options:
        problems.append(f"form field '{f.id}' is an enum without values")
    return problems


def _check(f: FormField, value: Any) -> str | None:
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
    return None


def validate(fields: list[FormField], submitted: dict[str, Any], current: dict[str, Any] | None = None,
             checks: dict[str, Callable[[Any], str | None]] | None = None) -> dict:
    """Checked and converted values; raises :class:`FormInvalid` naming each bad field.

    With no fields declared, any JSON object is accepted as it is (a plain user task).
    ``checks`` maps a field type to a check that needs the database (a part must be in stock's
    catalogue); it returns the problem or None.
    """
    if not isinstance(submitted, dict):
        raise FormInvalid({"variables": "must be an object"})
    if not fields:
        return dict(submitted)
    by_id = {f.id: f for f in fields}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in submitted:
        if key not in by_id:
            errors[key] = "unknown field"
    for f in fields:
        present = f.id in submitted and submitted[f.id] not in (None, "")
        if not present and f.id not in submitted and f.default not in (None, "") and not f.readonly:
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
        problem = _check(f, value)
        if not problem and checks and f.type in checks:
            problem = checks[f.type](value)
        if problem:
            errors[f.id] = problem
        else:
            clean[f.id] = value
    if errors:
        raise FormInvalid(errors)
    return clean

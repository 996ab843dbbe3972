"""Camunda's typed variables, ``{"name": {"value": …, "type": "String", "valueInfo": {…}}}``, to and from
the plain values a case holds."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import InvalidRequest

_NUMBERS = {"integer": int, "long": int, "short": int, "double": float}
_INT32 = 2 ** 31


def plain(typed: Any, what: str = "variables") -> dict[str, Any]:
    """``{"amount": {"value": 5, "type": "Integer"}}`` -> ``{"amount": 5}``; Json and Object (JSON
    serialised) values are parsed; a value without a type is taken as it is."""
    if typed is None:
        return {}
    if not isinstance(typed, dict):
        raise InvalidRequest(f"'{what}' must be an object of {{\"name\": {{\"value\": …, \"type\": …}}}}")
    out: dict[str, Any] = {}
    for name, item in typed.items():
        if not isinstance(item, dict) or "value" not in item and (item.get("type") or "").lower() != "null":
            raise InvalidRequest(f"variable '{name}' must be an object with a 'value' (and a 'type')")
        out[name] = _value(name, item.get("value"), (item.get("type") or "").lower(), item.get("valueInfo") or {})
    return out


def _value(name: str, value: Any, kind: str, info: dict) -> Any:
    if kind in ("", "string", "date", "boolean") or value is None:
        if kind == "boolean" and not isinstance(value, bool) and value is not None:
            if str(value).lower() not in ("true", "false"):
                raise InvalidRequest(f"variable '{name}': '{value}' is not a Boolean")
            return str(value).lower() == "true"
        return value
    if kind == "null":
        return None
    if kind in _NUMBERS:
        try:
            return _NUMBERS[kind](value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"variable '{name}': '{value}' is not of type {kind.capitalize()}") from None
    if kind in ("json", "object"):
        fmt = info.get("serializationDataFormat", "application/json") if isinstance(info, dict) else ""
        if kind == "object" and fmt not in ("application/json", None):
            raise InvalidRequest(f"variable '{name}': only JSON-serialised objects are understood, not '{fmt}'")
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise InvalidRequest(f"variable '{name}': the value is not valid JSON") from None
    raise InvalidRequest(f"variable '{name}': type '{kind}' is not supported (String, Boolean, Integer, Long, "
                         "Short, Double, Date, Json, Object as JSON, Null)")


def typed(values: dict[str, Any], names: list[str] | None = None) -> dict[str, dict]:
    """Plain values as Camunda gives them out; ``names`` limits which (None: all)."""
    chosen = values if names is None else {n: values[n] for n in names if n in values}
    return {name: _typed(v) for name, v in chosen.items()}


def _typed(value: Any) -> dict:
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if -_INT32 <= value < _INT32 else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, ensure_ascii=False), "valueInfo": {}}

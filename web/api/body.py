"""Reading request bodies and query parameters: hostile input is a 4xx naming what is wrong."""

from __future__ import annotations

import json

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from engine import limits
from engine.errors import InvalidRequest


def _constant(name: str):
    raise ValueError(f"NaN and Infinity are not allowed (got {name})")


def _object(pairs: list[tuple[str, object]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate name '{key}'")
        found[key] = value
    return found


def json_body() -> dict:
    if request.content_length and request.content_length > limits.MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"JSON body larger than {limits.MAX_JSON_BYTES} bytes")
    data = request.get_data(cache=True)
    if not data:
        return {}
    if len(data) > limits.MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"JSON body larger than {limits.MAX_JSON_BYTES} bytes")
    try:
        body = json.loads(data, parse_constant=_constant, object_pairs_hook=_object)
    except RecursionError:
        raise InvalidRequest(f"JSON nested too deeply (more than {limits.MAX_JSON_DEPTH} levels)") from None
    except ValueError as exc:  # includes UnicodeDecodeError: the body is not UTF-8
        raise InvalidRequest(f"request body is not a valid JSON object: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    limits.check_value(body)
    if isinstance(body.get("variables"), dict):
        limits.check_variables(body["variables"])
    return body


def query_int(name: str, *, required: bool = False) -> int | None:
    """A positive whole-number query parameter (a version, a case id) within 64 bits."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidRequest(f"'{name}' is required")
        return None
    if not (raw.isascii() and raw.isdigit()) or not limits.valid_id(int(raw)):
        raise InvalidRequest(f"'{name}' must be a whole number between 1 and {limits.MAX_ID}")
    return int(raw)


_YES, _NO = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")


def flag(name: str, field: str | None = None) -> bool:
    """A yes/no option given as query parameter ``name`` or as multipart form field ``field`` (default
    ``name``): 1/true/on/yes or 0/false/off/no/empty; anything else is a 400 naming it."""
    values = [v for v in (request.args.get(name), request.form.get(field or name)) if v is not None]
    for raw in values:
        if raw.strip().lower() not in _YES + _NO:
            raise InvalidRequest(f"'{field or name}' must be true or false (got '{raw[:40]}')")
    return any(v.strip().lower() in _YES for v in values)

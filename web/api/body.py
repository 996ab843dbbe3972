"""Reading request bodies."""

from __future__ import annotations

from flask import request

from engine.errors import InvalidRequest


def json_body() -> dict:
    if not request.data:
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    return body

"""Cursors and page sizes of the lists (``GET /api/tasks``, ``GET /api/process-instances``, the inbox).

A cursor is opaque to clients: the sort key of the last row of a page, base64url JSON. Bad input is
an ``InvalidRequest`` (400) saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from engine import as_utc, limits
from engine.errors import InvalidRequest

PAGE = 50
PAGE_MAX = 200
_BAD = "'after' is not a cursor this list gave out: pass the 'next' of the page before, or leave it out"


def limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return PAGE
    if not (raw.isascii() and raw.isdigit() and len(raw) < 5) or not 1 <= int(raw) <= PAGE_MAX:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {PAGE_MAX} (default {PAGE})")
    return int(raw)


def _encode(value: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(raw: str, kind: str) -> list:
    if len(raw) > 200:
        raise InvalidRequest(_BAD)
    try:
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequest(_BAD) from None
    if not isinstance(value, list) or not value or value[0] != kind:
        raise InvalidRequest(_BAD)
    return value[1:]


def task_cursor(created_at: datetime, task_id: str) -> str:
    return _encode(["t", as_utc(created_at).isoformat(), task_id])  # type: ignore[union-attr]


def task_after(raw: str | None) -> tuple[datetime, str] | None:
    if not raw:
        return None
    value = _decode(raw, "t")
    if len(value) != 2 or not all(isinstance(v, str) for v in value) or len(value[1]) > 36:
        raise InvalidRequest(_BAD)
    try:
        at = datetime.fromisoformat(value[0])
    except ValueError:
        raise InvalidRequest(_BAD) from None
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)), value[1]


def case_cursor(instance_id: int) -> str:
    return _encode(["c", instance_id])


def case_after(raw: str | None) -> int | None:
    if not raw:
        return None
    value = _decode(raw, "c")
    if len(value) != 1 or type(value[0]) is not int or not limits.valid_id(value[0]):
        raise InvalidRequest(_BAD)
    return value[0]

"""Download headers: file names per RFC 6266 / RFC 8187, so any upload name works and none can
break the header (quotes, line breaks, non-Latin-1 characters such as ``维修流程.bpmn``)."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(disposition: str, filename: str, fallback: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (the second only when needed)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or fallback
    if _UNSAFE.sub("_", name) == name and not name.startswith("."):
        return f'{disposition}; filename="{name}"'
    stem = _UNSAFE.sub("_", name.rsplit(".", 1)[0]).strip("._")
    ascii_name = f"{stem}.{name.rsplit('.', 1)[1]}" if stem and "." in name else fallback
    ascii_name = _UNSAFE.sub("_", ascii_name)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"

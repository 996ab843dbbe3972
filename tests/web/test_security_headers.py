"""Security headers on every response: pages, API answers, errors, static files (issue 8, item 5)."""

from __future__ import annotations

import pytest

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


@pytest.mark.parametrize("path, status", [
    ("/login", 200), ("/", 302), ("/health", 200), ("/api/tasks", 401), ("/api/nowhere", 404),
    ("/static/app.js", 200), ("/no-such-page", 404),
])
def test_every_response_carries_the_headers(api, path, status):
    r = api.client.get(path)
    assert r.status_code == status
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_in_any_page(api, app):
    import pathlib
    import re

    templates = pathlib.Path(app.root_path) / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+=", text), template

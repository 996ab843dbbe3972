"""Security headers on every response (Flask-Talisman): a Content-Security-Policy the inbox, the
bpmn-js case page and the in-browser modeler work under, X-Frame-Options, X-Content-Type-Options
and Referrer-Policy.

The CSP allows scripts only from this origin: no inline ``<script>``, no ``eval``, no event-handler
attributes (``onclick=``), no CDN. Styles are this origin's files too, plus ``'unsafe-inline'``,
because bpmn-js and its properties panel set ``style`` attributes on the SVG and panel elements
they create; style attributes cannot run code. Images and fonts may be ``data:`` URIs (bpmn-js'
embedded icon font, the modeler's palette icons). ``connect-src 'self'`` keeps page scripts'
``fetch`` at home, ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` stop framing
(click-jacking), ``form-action 'self'`` keeps forms posting here. HSTS is sent on HTTPS requests.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def register(app: Flask) -> None:
    Talisman(
        app,
        force_https=False,  # TLS, where used, ends at the reverse proxy; HSTS is sent on HTTPS requests
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
        # Cookie flags stay the app's configuration (SESSION_COOKIE_SECURE is set for HTTPS deployments).
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        session_cookie_http_only=app.config.get("SESSION_COOKIE_HTTPONLY", True),
    )

"""Who is calling: HTTP Basic (user name, password) or ``Authorization: Bearer <token>``."""

from __future__ import annotations

import functools

from flask import g, request

from engine import users
from engine.users import Actor

from .context import db
from .errors import Unauthenticated


def current_actor() -> Actor:
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    user = None
    if header.lower().startswith("bearer "):
        user = users.user_for_token(db(), header[7:].strip())
        if user is None:
            raise Unauthenticated("invalid or revoked token")
    elif request.authorization and request.authorization.type == "basic":
        creds = request.authorization
        user = users.authenticate(db(), creds.username or "", creds.password or "")
        if user is None:
            raise Unauthenticated("wrong user name or password")
    if user is None:
        raise Unauthenticated("authentication required (HTTP Basic or Bearer token)")
    g.user = user
    g.actor = users.actor_of(user)
    return g.actor


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        current_actor()
        return view(*args, **kwargs)

    return wrapped

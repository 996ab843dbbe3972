"""Who is calling: HTTP Basic (user name, password), ``Authorization: Bearer <token>``, or the login form.

Password checks go through ``check_password``: the user's row and the lockout state are read in a
short transaction of their own, which is closed before Argon2 runs; failures are recorded (and
committed — they must survive the 401 that rolls the request back) in another short one.
"""

from __future__ import annotations

import functools
import threading
import time

from flask import Flask, current_app, g, request
from flask_babel import gettext as _

from engine import login_guard, users
from engine.errors import TooManyAttempts
from engine.login_guard import BasicCache, Limits, LoginGuard, UserRow
from engine.models import User
from engine.users import Actor

from .context import db
from .errors import Unauthenticated


def init(app: Flask) -> None:
    """The lockout limits (``LOGIN_*`` settings) and where failures are counted."""
    limits = Limits(window_seconds=int(app.config.get("LOGIN_WINDOW_SECONDS", 900)),
                    failures_per_user=int(app.config.get("LOGIN_FAILURES_PER_USER", 10)),
                    failures_per_address=int(app.config.get("LOGIN_FAILURES_PER_ADDRESS", 30)),
                    tokens_per_hour=int(app.config.get("TOKENS_PER_HOUR", 20)))
    uri = app.config.get("RATELIMIT_STORAGE_URI")
    counter = login_guard.RedisCounter(uri, limits) if uri else login_guard.DatabaseCounter()
    ext = app.extensions["aftersales"]
    ext["guard"] = LoginGuard(limits, counter)
    # Refused attempts are answered after a pause, in at most half the server's threads at a time:
    # a client flooding wrong passwords then mostly waits instead of competing for the CPU.
    ext["tarpit"] = (float(app.config.get("LOGIN_TARPIT_SECONDS", 1.0)),
                     threading.BoundedSemaphore(int(app.config.get("LOGIN_TARPIT_SLOTS", 8))))
    ext["basic_cache"] = BasicCache(app.config["SECRET_KEY"].encode(), ttl=float(app.config.get("BASIC_CACHE_SECONDS", 300)))


def _ext():
    return current_app.extensions["aftersales"]


def address() -> str:
    return request.remote_addr or ""


def record(username: str, channel: str, outcome: str) -> None:
    """An auth event in its own short transaction."""
    with _ext()["sessions"]() as s:
        login_guard.record(s, _ext()["engine"].clock.now(), username, address(), channel, outcome)
        s.commit()


def locked_message(exc: TooManyAttempts) -> str:
    minutes = max(1, exc.retry_after // 60)
    if exc.retry_after < 120:
        return _("Too many wrong passwords: wait %(n)s seconds before the next try.", n=exc.retry_after)
    if exc.field == "user":
        return _("Too many wrong passwords for this user: locked for %(n)s minutes. Ask an admin if it was not you.",
                 n=minutes)
    return _("Too many wrong passwords from this computer: locked for %(n)s minutes.", n=minutes)


def _verify(guard: LoginGuard, row: UserRow | None, username: str, password: str, now) -> bool:
    if not guard.suspect(username, address(), now):
        return users.verify(row, password)
    if not guard.suspect_slot.acquire(timeout=float(current_app.config.get("LOGIN_SUSPECT_WAIT", 5))):
        raise TooManyAttempts("address", address(), 5, _("Many wrong passwords at the moment: try again in a few seconds."))
    try:
        started = time.monotonic()
        ok = users.verify(row, password)
        time.sleep(3 * (time.monotonic() - started))
        return ok
    finally:
        guard.suspect_slot.release()


def _tarpit() -> None:
    pause, slots = _ext()["tarpit"]
    if pause > 0 and slots.acquire(blocking=False):
        try:
            time.sleep(pause)
        finally:
            slots.release()


def check_password(username: str, password: str, channel: str) -> UserRow | None:
    """The user's row when the password is right; None when wrong. Raises ``TooManyAttempts`` (locked
    out) and ``Unauthenticated`` (right password, disabled account)."""
    ext = _ext()
    guard: LoginGuard = ext["guard"]
    cache: BasicCache = ext["basic_cache"]
    now = ext["engine"].clock.now()
    with ext.get("read_sessions", ext["sessions"])() as s:  # short read (no write lock); closed before hashing
        try:
            guard.check(s, username, address(), now)
        except TooManyAttempts as exc:
            exc.args = (locked_message(exc),)
            _tarpit()
            raise
        row = users.login_row(s, username)
        s.rollback()
    if channel == "basic" and row is not None and row.active and cache.known(row, password):
        return row
    ok = _verify(guard, row, username, password, now)  # Argon2, no transaction open
    if ok and row is not None and not row.active:
        record(username, channel, "disabled")
        raise Unauthenticated(_("This account is disabled."))
    if not ok:
        with ext["sessions"]() as s:
            guard.failed(s, username, address(), channel, now)
            s.commit()
        return None
    assert row is not None
    if channel == "basic":
        cache.remember(row, password)
    if users.needs_rehash(row) or channel != "basic":
        with ext["sessions"]() as s:
            if users.needs_rehash(row):
                user = s.get(User, row.id)
                if user is not None and user.password_hash == row.password_hash:
                    users.rehash(user, password)
            if channel != "basic":
                login_guard.record(s, now, username, address(), channel, "ok")
            s.commit()
    return row


def current_actor() -> Actor:
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = users.user_for_token(db(), header[7:].strip(), _ext()["engine"].clock.now())
        if user is None:
            raise Unauthenticated("invalid, expired or revoked token")
        g.user_id = user.id
        g.actor = users.actor_of(user)
    elif request.authorization and request.authorization.type == "basic":
        creds = request.authorization
        row = check_password(creds.username or "", creds.password or "", "basic")
        if row is None:
            raise Unauthenticated("wrong user name or password")
        g.user_id = row.id
        g.actor = Actor(row.username, row.groups)
    else:
        raise Unauthenticated("authentication required (HTTP Basic or Bearer token)")
    return g.actor


def current_user_row() -> User:
    """The caller's ``users`` row, in the request's session (after ``current_actor``)."""
    current_actor()
    user = db().get(User, g.user_id)
    if user is None or not user.active:
        raise Unauthenticated("this account no longer exists or is disabled")
    return user


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        current_actor()
        return view(*args, **kwargs)

    return wrapped

"""Password checks with throttling: failures per user and per client address lock both out for a while.

The Argon2 verification runs with no database transaction open: the caller reads the user's row in
a short transaction of its own, closes it, then calls ``verify`` (SQLite's write lock is never
held for the ~100 ms a hash costs). Counting happens in the database (``auth_events``, which is
also the log of logins, failures and lockouts) or, when configured, in Redis through ``limits``.

A lock is decided before any hash is computed, so a locked-out flood costs a count, not a hash;
which lock is known is also kept in process memory until it ends, so the count is not repeated.

Successful HTTP Basic checks are remembered for a short while (``BasicCache``) under a keyed hash
of user name, password and stored hash: a password change or a disabled account ends the entry,
because the stored hash or the active flag is read each time.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import TooManyAttempts
from .models import AuthEvent


@dataclass(frozen=True)
class Limits:
    window_seconds: int = 900
    failures_per_user: int = 10
    failures_per_address: int = 30
    tokens_per_hour: int = 20


@dataclass(frozen=True)
class UserRow:
    """What a password check needs from ``users``, read in its own short transaction."""

    id: int
    username: str
    password_hash: str
    active: bool
    session_epoch: int
    groups: frozenset[str]


def record(session: Session, now: datetime, username: str, address: str, channel: str, outcome: str) -> None:
    session.add(AuthEvent(at=now, username=username[:80], address=address[:64], channel=channel, outcome=outcome))


class DatabaseCounter:
    """Failures counted from ``auth_events`` rows of the last window (shared by every process)."""

    def failures(self, session: Session, field: str, value: str, since: datetime) -> int:
        column = AuthEvent.username if field == "user" else AuthEvent.address
        return session.scalar(select(func.count()).select_from(AuthEvent).where(
            column == value, AuthEvent.at >= since, AuthEvent.outcome == "failed")) or 0

    def add(self, field: str, value: str) -> None:
        """Nothing to do: the ``failed`` event is the count."""

    def clear(self, field: str, value: str) -> None:
        """Failures age out of the window; a success does not wipe them (an attacker could)."""


class RedisCounter:
    """Moving-window counts in Redis (``limits``), for several servers without database writes."""

    def __init__(self, uri: str, limits: Limits):
        from limits import RateLimitItemPerSecond, storage, strategies

        self._strategy = strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))
        self._items = {"user": RateLimitItemPerSecond(limits.failures_per_user, limits.window_seconds),
                       "address": RateLimitItemPerSecond(limits.failures_per_address, limits.window_seconds)}
        self._prefix = "aftersales-login"

    def failures(self, session: Session, field: str, value: str, since: datetime) -> int:
        item = self._items[field]
        stats = self._strategy.get_window_stats(item, self._prefix, field, value)
        return item.amount - stats.remaining

    def add(self, field: str, value: str) -> None:
        self._strategy.hit(self._items[field], self._prefix, field, value)

    def clear(self, field: str, value: str) -> None:
        pass


class LoginGuard:
    def __init__(self, limits: Limits | None = None, counter=None):
        self.limits = limits or Limits()
        self.counter = counter or DatabaseCounter()
        self._locked: dict[tuple[str, str], float] = {}  # (field, value) -> monotonic end
        self._mutex = threading.Lock()

    def _max(self, field: str) -> int:
        return self.limits.failures_per_user if field == "user" else self.limits.failures_per_address

    def _known_lock(self, field: str, value: str) -> float | None:
        with self._mutex:
            end = self._locked.get((field, value))
            if end is not None and end <= time.monotonic():
                del self._locked[(field, value)]
                return None
            return end

    def check(self, session: Session, username: str, address: str, now: datetime) -> None:
        """Raise ``TooManyAttempts`` when the user or the address is locked out (before any hash)."""
        since = now - timedelta(seconds=self.limits.window_seconds)
        for field, value in (("address", address), ("user", username)):
            end = self._known_lock(field, value)
            if end is None and self.counter.failures(session, field, value, since) >= self._max(field):
                end = self._lock(field, value)
            if end is not None:
                raise TooManyAttempts(field, value, max(1, int(end - time.monotonic())))

    def _lock(self, field: str, value: str) -> float:
        end = time.monotonic() + self.limits.window_seconds
        with self._mutex:
            if len(self._locked) > 10_000:  # bounded: drop the oldest
                self._locked.pop(next(iter(self._locked)))
            self._locked[(field, value)] = end
        return end

    def failed(self, session: Session, username: str, address: str, channel: str, now: datetime) -> bool:
        """Record a wrong password; True when this failure locks the user or the address out."""
        record(session, now, username, address, channel, "failed")
        since = now - timedelta(seconds=self.limits.window_seconds)
        locked = False
        for field, value in (("address", address), ("user", username)):
            self.counter.add(field, value)
            session.flush()
            if self.counter.failures(session, field, value, since) >= self._max(field):
                self._lock(field, value)
                record(session, now, f"{field}:{value}", address, channel, "locked")
                locked = True
        return locked

    def may_issue_token(self, session: Session, username: str, address: str, now: datetime) -> None:
        """At most ``tokens_per_hour`` new tokens per user and per address."""
        since = now - timedelta(hours=1)
        for column, value, field in ((AuthEvent.username, username, "user"), (AuthEvent.address, address, "address")):
            issued = session.scalar(select(func.count()).select_from(AuthEvent).where(
                column == value, AuthEvent.at >= since, AuthEvent.outcome == "token_issued")) or 0
            if issued >= self.limits.tokens_per_hour:
                raise TooManyAttempts(field, value, 3600)

    def unlock(self, field: str, value: str) -> None:
        with self._mutex:
            self._locked.pop((field, value), None)


class BasicCache:
    """Verified HTTP Basic credentials, kept ``ttl`` seconds, at most ``size`` entries."""

    def __init__(self, key: bytes, ttl: float = 300, size: int = 1024):
        self._key, self._ttl, self._size = key, ttl, size
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._mutex = threading.Lock()

    def _digest(self, row: UserRow, password: str) -> bytes:
        message = "\0".join((row.username, password, row.password_hash)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def known(self, row: UserRow, password: str) -> bool:
        digest = self._digest(row, password)
        with self._mutex:
            expires = self._entries.get(digest)
            if expires is None:
                return False
            if expires < time.monotonic():
                del self._entries[digest]
                return False
            return True

    def remember(self, row: UserRow, password: str) -> None:
        digest = self._digest(row, password)
        with self._mutex:
            self._entries[digest] = time.monotonic() + self._ttl
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._mutex:
            self._entries.clear()

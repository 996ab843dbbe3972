"""Password checks with throttling: failures per user and per client address lock both out for a while.

The Argon2 verification runs with no database transaction open: the caller reads the user's row in
a short transaction of its own, closes it, then calls ``verify`` (SQLite's write lock is never
held for the ~100 ms a hash costs). Counting happens in the database (``auth_events``, which is
also the log of logins, failures and lockouts) or, when configured, in Redis through ``limits``.

A lock or pause is decided before any hash is computed, so a refused attempt costs no hash; a
known lock or pause is kept in process memory until it ends, so it costs no query either.

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

from sqlalchemy import bindparam, func, select
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
    display_name: str = ""


def record(session: Session, now: datetime, username: str, address: str, channel: str, outcome: str) -> None:
    session.add(AuthEvent(at=now, username=username[:80], address=address[:64], channel=channel, outcome=outcome))


class DatabaseCounter:
    """Failures counted from ``auth_events`` rows of the last window (shared by every process)."""

    # Every HTTP Basic call asks both counts: the statements are built once, with bound parameters.
    _COUNTS = {field: select(func.count()).select_from(AuthEvent).where(
        column == bindparam("value"), AuthEvent.at >= bindparam("since"), AuthEvent.outcome == "failed")
        for field, column in (("user", AuthEvent.username), ("address", AuthEvent.address))}

    def failures(self, session: Session, field: str, value: str, since: datetime) -> int:
        return session.scalar(self._COUNTS[field], {"value": value, "since": since}) or 0

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
    """Lockout after ``failures_per_*`` failures in the window, and before that a growing pause:
    after ``free_failures`` failures, each further attempt must wait 1, 2, 4 … up to 60 s after
    the last failure. Attempts refused this way cost no hash and are not counted again."""

    free_failures = 3
    max_pause = 60

    def __init__(self, limits: Limits | None = None, counter=None):
        self.limits = limits or Limits()
        self.counter = counter or DatabaseCounter()
        self._held: dict[tuple[str, str], datetime] = {}  # (field, value) -> refused until
        self._failed: dict[tuple[str, str], datetime] = {}  # (field, value) -> last failure
        self._mutex = threading.Lock()
        # Checks for a user or address that failed lately run one at a time, and rest 3× as long as
        # the hash took: a flood of wrong passwords gets at most a quarter of one hash stream.
        self.suspect_slot = threading.Lock()

    def _max(self, field: str) -> int:
        return self.limits.failures_per_user if field == "user" else self.limits.failures_per_address

    def _until(self, field: str, value: str, now: datetime) -> datetime | None:
        with self._mutex:
            until = self._held.get((field, value))
            if until is not None and until <= now:
                del self._held[(field, value)]
                return None
            return until

    def _hold(self, field: str, value: str, until: datetime) -> datetime:
        with self._mutex:
            if len(self._held) > 10_000:  # bounded: drop the oldest
                self._held.pop(next(iter(self._held)))
            self._held[(field, value)] = until
        return until

    def suspect(self, username: str, address: str, now: datetime) -> bool:
        """Whether the user or the address had a wrong password within the window (this process)."""
        since = now - timedelta(seconds=self.limits.window_seconds)
        with self._mutex:
            return any((last := self._failed.get(k)) is not None and last >= since
                       for k in (("address", address), ("user", username)))

    def check(self, session: Session, username: str, address: str, now: datetime) -> None:
        """Raise ``TooManyAttempts`` when the user or the address is locked out or must pause (before any hash)."""
        since = now - timedelta(seconds=self.limits.window_seconds)
        held = []
        for field, value in (("address", address), ("user", username)):
            until = self._until(field, value, now)
            if until is None and self.counter.failures(session, field, value, since) >= self._max(field):
                until = self._hold(field, value, now + timedelta(seconds=self.limits.window_seconds))
            if until is not None:
                held.append((until, field, value))
        if held:
            until, field, value = max(held)  # the longest wait is the one to tell
            raise TooManyAttempts(field, value, max(1, int((until - now).total_seconds() + 0.999)))

    def failed(self, session: Session, username: str, address: str, channel: str, now: datetime) -> bool:
        """Record a wrong password; True when this failure locks the user or the address out."""
        record(session, now, username, address, channel, "failed")
        session.flush()
        since = now - timedelta(seconds=self.limits.window_seconds)
        locked = False
        for field, value in (("address", address), ("user", username)):
            with self._mutex:
                if len(self._failed) > 10_000:
                    self._failed.pop(next(iter(self._failed)))
                self._failed[(field, value)] = now
            self.counter.add(field, value)
            count = self.counter.failures(session, field, value, since)
            if count >= self._max(field):
                self._hold(field, value, now + timedelta(seconds=self.limits.window_seconds))
                record(session, now, f"{field}:{value}", address, channel, "locked")
                locked = True
            elif count >= self.free_failures:
                pause = min(2 ** (count - self.free_failures), self.max_pause)
                self._hold(field, value, now + timedelta(seconds=pause))
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
            self._held.pop((field, value), None)


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

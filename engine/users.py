"""Users, groups and API tokens. Passwords are hashed with Argon2 (argon2-cffi)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import as_utc
from .errors import Conflict, InvalidRequest, NotFound
from .groups import GROUPS
from .login_guard import UserRow
from .models import ApiToken, User

_hasher = PasswordHasher()
TOKEN_DAYS = 90  # default lifetime of an API token


def configure_hashing(**params) -> None:
    """Argon2 cost parameters (tests use cheap ones; production keeps argon2-cffi's defaults)."""
    global _hasher
    _hasher = PasswordHasher(**params)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name and the groups it belongs to."""

    username: str
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    def may_deploy(self) -> bool:
        return bool(self.groups & {"admin", "process_owner"})


SYSTEM = Actor("system", frozenset({"admin"}))


def actor_of(user: User) -> Actor:
    return Actor(user.username, frozenset(user.group_list))


def add_user(session: Session, username: str, password: str, groups: list[str], *, now: datetime,
             display_name: str = "") -> User:
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise InvalidRequest(f"user name '{username}' may contain only letters, digits, '_', '-' and '.'")
    if len(password) < 4:
        raise InvalidRequest("password must have at least 4 characters")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise InvalidRequest(f"unknown group(s): {', '.join(unknown)} (known: {', '.join(GROUPS)})")
    if session.scalars(select(User).where(User.username == username)).first():
        raise Conflict(f"user '{username}' exists already")
    user = User(username=username, display_name=display_name or username, password_hash=_hasher.hash(password),
                groups="," + ",".join(groups) + ",", created_at=now)
    session.add(user)
    session.flush()
    return user


def login_row(session: Session, username: str) -> UserRow | None:
    """The row a password check needs; read it in a short transaction and close that before ``verify``."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        return None
    return UserRow(user.id, user.username, user.password_hash, bool(user.active), user.session_epoch or 0,
                   frozenset(user.group_list))


def verify(row: UserRow | None, password: str) -> bool:
    """Argon2 check, touching no database; the same cost whether or not the user exists.
    (A disabled account's password still verifies, so that it can be told it is disabled.)"""
    if row is None:
        _hasher.hash(password)
        return False
    try:
        return bool(_hasher.verify(row.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(row: UserRow) -> bool:
    return _hasher.check_needs_rehash(row.password_hash)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Read, verify and return the user (CLI and tests; the web goes through ``web/auth.py``)."""
    row = login_row(session, username)
    if not verify(row, password) or not row.active:  # type: ignore[union-attr]
        return None
    user = session.get(User, row.id)  # type: ignore[union-attr]
    if user is not None and needs_rehash(row):  # type: ignore[arg-type]
        user.password_hash = _hasher.hash(password)
    return user


def rehash(user: User, password: str) -> None:
    """Store the hash again with the current Argon2 parameters (after a successful check)."""
    user.password_hash = _hasher.hash(password)


def set_password(session: Session, user: User, password: str) -> None:
    """A new password ends every session of the user and every remembered Basic check (new hash)."""
    if len(password) < 4:
        raise InvalidRequest("password must have at least 4 characters")
    user.password_hash = _hasher.hash(password)
    user.session_epoch = (user.session_epoch or 0) + 1
    session.flush()


def end_sessions(session: Session, user: User) -> None:
    """Logout: every session cookie of this user issued so far stops working."""
    user.session_epoch = (user.session_epoch or 0) + 1
    session.flush()


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable (or enable again) an account: a disabled user can use no password, session or token."""
    user = get_user(session, username)
    user.active = active
    user.session_epoch = (user.session_epoch or 0) + 1
    session.flush()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime, label: str = "", days: int = TOKEN_DAYS) -> ApiToken:
    """A new API token; ``row.secret`` holds the token itself, shown once and never stored."""
    if not 1 <= days <= 3650:
        raise InvalidRequest("a token lives between 1 and 3650 days")
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_digest(token), label=label, created_at=now,
                   expires_at=now + timedelta(days=days))
    session.add(row)
    session.flush()
    row.secret = token  # type: ignore[attr-defined]
    return row


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user behind a valid token: one indexed read (the unique token hash) joined to the user."""
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_hash == _token_digest(token))).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        return None
    expires = as_utc(row.expires_at)
    if expires is not None and expires <= now:
        return None
    return user if user.active else None


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens; another user's token is answered as not found (404)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user

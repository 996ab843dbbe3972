"""Users, groups and API tokens. Passwords are hashed with Argon2 (argon2-cffi)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Conflict, InvalidRequest, NotFound
from .groups import GROUPS
from .models import ApiToken, User

_hasher = PasswordHasher()


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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    if user is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime, label: str = "") -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_digest(token), label=label, created_at=now))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_digest(token))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user

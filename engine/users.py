"""Users, groups and API tokens. Passwords are hashed with Argon2 (argon2-cffi)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from . import groups as group_table
from .db import as_utc
from .errors import Conflict, FieldsInvalid, InvalidRequest, NotFound
from .login_guard import UserRow
from .models import ApiToken, Group, Membership, User

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


def actor_of(user: User | UserRow) -> Actor:
    if isinstance(user, UserRow):
        return Actor(user.username, user.groups)
    return Actor(user.username, frozenset(user.group_list))


def _check_name(username) -> None:
    if not isinstance(username, str) or not username:
        raise FieldsInvalid({"username": "is required"})
    if len(username) > 80 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise FieldsInvalid({"username": f"'{username}' may contain only letters, digits, '_', '-' and '.'"})


def add_user(session: Session, username: str, password: str, groups: list[str], *, now: datetime,
             display_name: str = "") -> User:
    """A user in existing groups (seeding, tests, ``aftersales users add``)."""
    _check_name(username)
    if len(password) < 4:
        raise FieldsInvalid({"password": "must have at least 4 characters"})
    wanted = group_table.check_known(session, list(groups))
    if session.scalars(select(User).where(User.username == username)).first():
        raise Conflict(f"user '{username}' exists already")
    user = User(username=username, display_name=display_name or username, password_hash=_hasher.hash(password),
                created_at=now)
    session.add(user)
    group_table.set_groups(session, user, wanted)
    session.flush()
    return user


MIN_ADMIN_PASSWORD = 8


def password_problem(password, username: str) -> str | None:
    """Why a password an admin sets (API, admin page, CLI) is refused, or None."""
    if not isinstance(password, str) or not password:
        return "is required"
    if len(password) < MIN_ADMIN_PASSWORD:
        return f"must have at least {MIN_ADMIN_PASSWORD} characters"
    if password.casefold() == username.casefold() or len(set(password)) < 3:
        return "is too easy to guess"
    return None


def region_problem(region: object) -> str | None:
    """A user's region (R23) is a province as ``engine/regions.py`` names them (浙江, 上海 …), or none."""
    from .regions import PROVINCES

    if region is None or region in PROVINCES:
        return None
    return f"must be a province: {', '.join(PROVINCES)}"


def create_user(session: Session, body: dict, *, now: datetime) -> User:
    """An admin creates a user: ``username``, ``password``, ``groups``, optional ``display_name``,
    ``email``. FieldsInvalid names each bad field, Conflict a taken name; nothing stored then."""
    username = body.get("username")
    errors: dict[str, str] = {}
    try:
        _check_name(username)
    except FieldsInvalid as exc:
        errors.update(exc.errors)
    problem = password_problem(body.get("password"), username if isinstance(username, str) else "")
    if problem:
        errors["password"] = problem
    try:
        wanted = group_table.check_known(session, body.get("groups", []))
    except FieldsInvalid as exc:
        errors.update(exc.errors)
    display, email = body.get("display_name") or "", body.get("email") or None
    if not isinstance(display, str) or len(display) > 120:
        errors["display_name"] = "must be text of at most 120 characters"
    if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 200):
        errors["email"] = "must be an e-mail address"
    region = body.get("region") or None
    if region_problem(region):
        errors["region"] = region_problem(region) or ""
    if errors:
        raise FieldsInvalid(errors)
    if session.scalars(select(User).where(User.username == username)).first():
        raise Conflict(f"user '{username}' exists already")
    user = User(username=username, display_name=display.strip() or username, email=email, region=region,
                password_hash=_hasher.hash(body["password"]), created_at=now)
    session.add(user)
    group_table.set_groups(session, user, wanted)
    return user


def update_user(session: Session, username: str, body: dict, by: str | None = None) -> User:
    """An admin (``by``) changes ``groups``, ``active``, ``password`` (and ``display_name``, ``email``).
    A new password or disabling ends every session; a token of a disabled user stops at once.
    Admins cannot disable themselves or leave the admin group (someone must remain)."""
    user = get_user(session, username)
    errors: dict[str, str] = {}
    if by == username and body.get("active") is False:
        errors["active"] = "you cannot disable your own account"
    if by == username and isinstance(body.get("groups"), list) and "admin" in user.all_groups \
            and "admin" not in body["groups"]:
        errors["groups"] = "you cannot remove yourself from the admin group"
    allowed = {"groups", "active", "password", "display_name", "email", "region"}
    for name in body:
        if name not in allowed:
            errors[name] = "unknown field"
    wanted = None
    if "groups" in body:
        try:
            wanted = group_table.check_known(session, body["groups"])
        except FieldsInvalid as exc:
            errors.update(exc.errors)
    if "active" in body and not isinstance(body["active"], bool):
        errors["active"] = "must be true or false"
    if "password" in body:
        problem = password_problem(body["password"], username)
        if problem:
            errors["password"] = problem
    if "display_name" in body and (not isinstance(body["display_name"], str) or not body["display_name"].strip()
                                   or len(body["display_name"]) > 120):
        errors["display_name"] = "must be text of 1 to 120 characters"
    email = body.get("email")
    if "email" in body and email not in (None, "") and (not isinstance(email, str) or "@" not in email
                                                        or len(email) > 200):
        errors["email"] = "must be an e-mail address"
    if "region" in body and region_problem(body["region"] or None):
        errors["region"] = region_problem(body["region"] or None) or ""
    if errors:
        raise FieldsInvalid(errors)
    if wanted is not None:
        group_table.set_groups(session, user, wanted)
    if "display_name" in body:
        user.display_name = body["display_name"].strip()
    if "email" in body:
        user.email = email or None
    if "region" in body:
        user.region = body["region"] or None
    if "password" in body:
        set_password(session, user, body["password"])
    if "active" in body and body["active"] != user.active:
        set_active(session, username, body["active"])
    session.flush()
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


_USERS = cast(Table, User.__table__)
_MEMBERS = cast(Table, Membership.__table__)
_GROUPS = cast(Table, Group.__table__)
_TOKENS = cast(Table, ApiToken.__table__)
# Who is calling, in one statement: the user's row with one row per membership (and whether that group
# is active). Every request authenticates, so this is a single Core read, not ORM objects and their loads.
_PRINCIPAL = (select(_USERS.c.id, _USERS.c.username, _USERS.c.password_hash, _USERS.c.active,
                     _USERS.c.session_epoch, _USERS.c.display_name, _MEMBERS.c.group_id,
                     _GROUPS.c.active.label("group_active"))
              .select_from(_USERS.outerjoin(_MEMBERS, _MEMBERS.c.user_id == _USERS.c.id)
                           .outerjoin(_GROUPS, _GROUPS.c.id == _MEMBERS.c.group_id)))


def _user_row(rows) -> UserRow | None:
    if not rows:
        return None
    first = rows[0]
    groups = frozenset(r.group_id for r in rows if r.group_id is not None and r.group_active)
    return UserRow(first.id, first.username, first.password_hash, bool(first.active), first.session_epoch or 0,
                   groups, first.display_name or first.username)


def login_row(session: Session, username: str) -> UserRow | None:
    """The row a password check needs; read it in a short transaction and close that before ``verify``."""
    return _user_row(session.execute(_BY_NAME, {"username": username}).all())


def session_row(session: Session, user_id: int) -> UserRow | None:
    """A logged-in browser session's user (its epoch says whether the cookie still counts)."""
    return _user_row(session.execute(_BY_ID, {"user_id": user_id}).all())


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


# Built once with bound parameters: building a statement per request costs more than running it.
_BY_NAME = _PRINCIPAL.where(_USERS.c.username == bindparam("username"))
_BY_ID = _PRINCIPAL.where(_USERS.c.id == bindparam("user_id"))
_BY_TOKEN = (_PRINCIPAL.add_columns(_TOKENS.c.revoked_at, _TOKENS.c.expires_at)
             .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id).where(_TOKENS.c.token_hash == bindparam("digest")))


def user_for_token(session: Session, token: str, now: datetime) -> UserRow | None:
    """The active user behind a valid token: one indexed read (the unique token hash) joined to the user
    and its groups."""
    rows = session.execute(_BY_TOKEN, {"digest": _token_digest(token)}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    expires = as_utc(rows[0].expires_at)
    if expires is not None and expires <= now:
        return None
    user = _user_row(rows)
    return user if user is not None and user.active else None


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


def assignee(session: Session, username: str) -> Actor:
    """The user a task is to be assigned to, as an actor: ``NotFound`` when there is none by that name,
    ``InvalidRequest`` when the account is disabled (the task would wait for someone who cannot log in)."""
    user = get_user(session, username)
    if not user.active:
        raise InvalidRequest(f"user '{username}' is disabled: a task cannot be assigned to them")
    return actor_of(user)

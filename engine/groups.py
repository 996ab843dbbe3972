"""Staff groups are data (table ``groups``, members in ``user_groups``): BPMN candidate groups and
lanes name a group's id. ``DOMAIN_GROUPS`` are the domain's (domain.md), seeded into every new
database (``schema.create``, revision 0012); an admin adds a company's own.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, exists, insert, literal, select
from sqlalchemy.orm import Session

from .errors import Conflict, FieldsInvalid, NotFound
from .models import Group, Membership, OpenTask, User

DOMAIN_GROUPS: dict[str, tuple[str, str]] = {
    "customer_service": ("客服中心", "Customer service"),
    "tech_support": ("技术支持", "Tech support"),
    "technician": ("维修工程师", "Technician"),
    "warehouse": ("配件管理员", "Warehouse"),
    "supervisor": ("售后主管", "Supervisor"),
    "finance": ("财务部", "Finance"),
    "logistics": ("商务部门", "Logistics"),
    "marketing": ("市场部", "Marketing"),
    "emergency_team": ("应急响应小组", "Emergency team"),
    "regional_manager": ("区域经理", "Regional manager"),  # cross-region fee settlement (R23), revision 0015
    "admin": ("管理员", "Administrator"),
    "process_owner": ("流程负责人", "Process owner"),
    # accounts of programs serving service-task topics through /engine-rest/external-task (revision 0017)
    "external_worker": ("外部任务程序", "External worker"),
}

STAFF_GROUPS = [g for g in DOMAIN_GROUPS if g not in ("admin", "process_owner", "external_worker")]
# Groups the access policy and the admin pages depend on: never disabled.
PROTECTED = frozenset({"admin"})

_BY_NAME = {name.casefold(): gid for gid, names in DOMAIN_GROUPS.items() for name in (gid, *names)}
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")


def group_for_lane(lane_name: str | None) -> str | None:
    """The group a lane stands for: a domain group's id, Chinese or English name; else the name itself."""
    if not lane_name:
        return None
    name = lane_name.strip()
    return _BY_NAME.get(name.casefold(), name)


def seed_domain(conn: Connection, now: datetime) -> None:
    """The domain's groups into an empty ``groups`` table (``schema.create``)."""
    conn.execute(insert(Group), [{"id": gid, "name_zh": zh, "name_en": en, "active": True, "created_at": now}
                                           for gid, (zh, en) in DOMAIN_GROUPS.items()])


def ensure_domain(session: Session, now: datetime) -> list[str]:
    """Add the domain's groups that are missing (``aftersales demo``); returns the ids added."""
    have = set(session.scalars(select(Group.id)))
    added = []
    for gid, (zh, en) in DOMAIN_GROUPS.items():
        if gid not in have:
            session.add(Group(id=gid, name_zh=zh, name_en=en, active=True, created_at=now))
            added.append(gid)
    session.flush()
    return added


def all_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.created_at, Group.id)))


def names(session: Session) -> dict[str, tuple[str, str]]:
    """Every group's (zh-CN, English) name by id."""
    return {g.id: (g.name_zh, g.name_en) for g in session.scalars(select(Group))}


def active_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Group.id).where(Group.active.is_(True))))


def get_group(session: Session, group_id: str) -> Group:
    group = session.get(Group, group_id) if isinstance(group_id, str) else None
    if group is None:
        raise NotFound(f"no group '{group_id}'")
    return group


def _name(value, field: str, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "is required"
        return ""
    if len(value.strip()) > 120:
        errors[field] = "must be at most 120 characters"
    return value.strip()


def add_group(session: Session, group_id, name_zh, name_en=None, *, now: datetime) -> Group:
    """A new group. FieldsInvalid names each bad field; Conflict when the id is taken. Nothing is
    stored on either."""
    errors: dict[str, str] = {}
    if not isinstance(group_id, str) or not group_id.strip():
        errors["id"] = "is required"
    elif not _ID.match(group_id.strip()):
        errors["id"] = "must start with a letter and contain only letters, digits, '_', '-' and '.' (at most 80)"
    zh = _name(name_zh, "name_zh", errors)
    en = _name(name_en, "name_en", {}) if name_en not in (None, "") else ""
    if name_en not in (None, "") and not en:
        errors["name_en"] = "must be text"
    if errors:
        raise FieldsInvalid(errors)
    gid = group_id.strip()
    if session.get(Group, gid) is not None:
        raise Conflict(f"group '{gid}' exists already")
    group = Group(id=gid, name_zh=zh, name_en=en or gid, active=True, created_at=now)
    session.add(group)
    session.flush()
    return group


def update_group(session: Session, group_id: str, *, name_zh=None, name_en=None, active=None) -> Group:
    group = get_group(session, group_id)
    errors: dict[str, str] = {}
    zh = _name(name_zh, "name_zh", errors) if name_zh is not None else None
    en = _name(name_en, "name_en", errors) if name_en is not None else None
    if active is not None and not isinstance(active, bool):
        errors["active"] = "must be true or false"
    elif active is False and group.id in PROTECTED:
        errors["active"] = f"group '{group.id}' cannot be disabled"
    if errors:
        raise FieldsInvalid(errors)
    if zh is not None:
        group.name_zh = zh
    if en is not None:
        group.name_en = en
    if active is not None:
        group.active = active
    session.flush()
    return group


def members(session: Session, group_id: str) -> list[User]:
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.group_id == group_id).order_by(User.username)))


def check_known(session: Session, groups, field: str = "groups") -> list[str]:
    """``groups`` as a list of existing group ids; FieldsInvalid naming the field otherwise."""
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise FieldsInvalid({field: "must be a list of group ids"})
    known = set(session.scalars(select(Group.id)))
    unknown = [g for g in groups if g not in known]
    if unknown:
        raise FieldsInvalid({field: f"unknown group(s): {', '.join(unknown)}"})
    return list(dict.fromkeys(groups))


def set_groups(session: Session, user: User, groups: list[str]) -> None:
    """Make ``groups`` (existing ids, see ``check_known``) the user's groups."""
    wanted = set(groups)
    for m in list(user.memberships):
        if m.group_id not in wanted:
            user.memberships.remove(m)
    have = {m.group_id for m in user.memberships}
    for gid in groups:
        if gid not in have:
            user.memberships.append(Membership(group_id=gid, group=session.get(Group, gid)))
    session.flush()


def add_member(session: Session, group_id: str, user: User) -> None:
    get_group(session, group_id)
    set_groups(session, user, [*user.all_groups, group_id])


def remove_member(session: Session, group_id: str, user: User) -> None:
    get_group(session, group_id)
    set_groups(session, user, [g for g in user.all_groups if g != group_id])


def member_ids(group_ids):
    """A subquery: ids of the users in any of ``group_ids`` that is active."""
    return (select(Membership.user_id).join(Group, Group.id == Membership.group_id)
            .where(Membership.group_id.in_(list(group_ids)), Group.active.is_(True)))


def nobody_can_take():
    """A WHERE clause on ``OpenTask``: unclaimed tasks for groups and users of which none is an
    active user in an active group (an empty or disabled group, a user that does not exist, or no
    one named at all), and claimed tasks whose assignee is no active user."""
    staffed_group = exists(select(Membership.user_id)
                           .join(User, User.id == Membership.user_id).join(Group, Group.id == Membership.group_id)
                           .where(User.active.is_(True), Group.active.is_(True),
                                  OpenTask.candidate_groups.like(literal("%,") + Membership.group_id + literal(",%"))))
    named_user = exists(select(User.id).where(
        User.active.is_(True), OpenTask.candidate_users.like(literal("%,") + User.username + literal(",%"))))
    assignee_ok = exists(select(User.id).where(User.active.is_(True), User.username == OpenTask.assignee))
    # a task naming nobody at all is listed too: only admins and process owners may hand it out (issue 16)
    unclaimed = OpenTask.assignee.is_(None) & ~staffed_group & ~named_user
    return unclaimed | (OpenTask.assignee.is_not(None) & ~assignee_ok)

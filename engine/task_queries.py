"""Reading open tasks for a person: the inbox's pages, ``list_tasks`` and counts.

Every read asks the access policy whom the list is for (``access.task_audience``: the person and
their groups) and reads each way a task can be theirs through its own index (``engine/task_lists.py``).
The statements without free filters are built once per audience and shape, values bound: building a
union of four selects cost more than running it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from . import access, task_lists
from .errors import NotPermitted
from .models import Instance, OpenTask
from .task_lists import Audience
from .users import Actor

COLUMNS = (OpenTask.id, OpenTask.name, OpenTask.element_id, OpenTask.instance_id, OpenTask.candidate_groups,
           OpenTask.candidate_users, OpenTask.assignee, OpenTask.created_at, OpenTask.due_at,
           Instance.key.label("process_key"), Instance.business_key, Instance.customer_name, Instance.customer_phone)
ORDER = (OpenTask.created_at, OpenTask.id)


def audience_for(actor: Actor, group: str | None) -> Audience | None:
    """Whom ``actor``'s list is for: one of their groups when asked (admins any), else the policy's
    audience (None: every task, for admins)."""
    if group:
        if group not in actor.groups and not actor.is_admin:
            raise NotPermitted(f"{actor.username} is not in group {group}")
        return Audience(None, (group,))
    return access.task_audience(actor)


def narrow(q, actor: Actor, mine: bool, group: str | None = None):
    """``q`` cut to the actor's own tasks (``mine``) or to those of their audience."""
    if mine:
        return q.where(OpenTask.assignee == actor.username)
    if (audience := audience_for(actor, group)) is not None:
        return q.where(audience.clause())
    return q


def page(session: Session, actor: Actor, *, mine: bool = False, group: str | None = None,
         instance_id: int | None = None, where: ColumnElement[bool] | None = None,
         audience: Audience | None = None, after: tuple[datetime, str] | None = None,
         limit: int = 50) -> tuple[list[Row], bool]:
    """Open tasks as ``listing`` chooses them (or for ``audience``: the inbox's group tab), oldest
    first, after the (created_at, id) ``after``; and whether more follow."""
    if audience is None and not mine:
        audience = audience_for(actor, group)
    params: dict[str, Any] = {"limit": limit + 1}
    if after is not None:
        params["after_at"], params["after_id"] = after
    if instance_id is not None:
        params["instance_id"] = instance_id
    if where is None and audience is not None:
        q = _page_statement(audience, after is not None, instance_id is not None)
    else:
        q = _page_query(after is not None, instance_id is not None)
        if where is not None:
            q = q.where(where)
        if audience is not None:
            q = task_lists.page(q, audience, ORDER, bindparam("limit"))
        else:
            q = narrow(q, actor, mine).order_by(*ORDER).limit(bindparam("limit"))
    rows = list(session.execute(q, params))
    return rows[:limit], len(rows) > limit


def listing(session: Session, actor: Actor, *, mine: bool = False, group: str | None = None,
            instance_id: int | None = None, limit: int = 500) -> list[OpenTask]:
    """The actor's open tasks (or their own, or one group's), soonest due first."""
    statement = _list_statement(actor.username if mine else None,
                                None if mine else audience_for(actor, group), instance_id is not None)
    return list(session.scalars(statement, {"limit": limit, "instance_id": instance_id}))


def count(session: Session, actor: Actor, *, mine: bool = False) -> int:
    return session.scalar(narrow(select(func.count(OpenTask.id)), actor, mine)) or 0


@functools.lru_cache(maxsize=1024)
def _list_statement(assignee: str | None, audience: Audience | None, by_instance: bool):
    """``listing``'s statement for a person's own tasks (``assignee``) or an audience (None: every task),
    of one case or all, built once per shape."""
    q = select(OpenTask).order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at).limit(
        bindparam("limit"))
    if assignee is not None:
        q = q.where(OpenTask.assignee == assignee)
    elif audience is not None:
        q = q.where(audience.clause())
    if by_instance:
        q = q.where(OpenTask.instance_id == bindparam("instance_id"))
    return q


def _page_query(after: bool, instance: bool):
    """The columns of a task list and its joins; the cursor and the case as bound parameters."""
    q = select(*COLUMNS).join(Instance, Instance.id == OpenTask.instance_id)
    if after:
        # typed: an untyped datetime would reach SQLite in another text form than the stored one
        q = q.where(tuple_(OpenTask.created_at, OpenTask.id) > tuple_(
            bindparam("after_at", type_=OpenTask.created_at.type), bindparam("after_id", type_=OpenTask.id.type)))
    if instance:
        q = q.where(OpenTask.instance_id == bindparam("instance_id", type_=OpenTask.instance_id.type))
    return q


@functools.lru_cache(maxsize=512)
def _page_statement(audience: Audience, after: bool, instance: bool):
    return task_lists.page(_page_query(after, instance), audience, ORDER, bindparam("limit"))

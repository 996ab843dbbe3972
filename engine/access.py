"""The access policy: who may see which case, which variables, which document, and act on what (R29).

Every API route and every page asks this module; none decides on its own. The rules per group are
the table ``POLICY`` (also in the README's "Security" section):

- ``cases``: ``all`` every case; ``group`` the cases with an open task for one of the actor's
  groups, plus their own; ``own`` only the actor's own: cases they started, hold or are named on
  an open task of, or completed a task in (a technician's own work orders).
  Groups that record a message on a page (``MESSAGE_RECORDERS``: the warehouse, goods received)
  also see the cases waiting for it.
- ``contact``: whether customer contact data (``CONTACT_FIELDS``: name, phone, address, e-mail)
  is shown in the cases the actor may see. Where it is not, those variables are left out of every
  view — JSON and page alike — not hidden.

An actor in several groups gets the widest rule of each column. Admins see everything.
Reading a case with its contact data is recorded in ``customer_data_reads`` (who, when, which
case, through what); admins list that record.

Answers: a case, a case's documents or diagram the actor may not see → ``NotPermitted`` (403);
case ids are sequential, so their existence is no secret. Another user's API token → ``NotFound``
(404): its existence is private.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, exists, false, insert, or_, select
from sqlalchemy.orm import Session

from .errors import NotPermitted
from .models import CustomerDataRead, HistoryEntry, Instance, MessageWait, OpenTask
from .task_lists import NAMES_NOBODY, Audience
from .users import Actor

CONTACT_FIELDS = frozenset({"customer_name", "customer_phone", "customer_address", "customer_email",
                            "contact_name", "contact_phone", "contact_email"})
# documents also name their addressee ("to": the customer's name or phone on gift and coupon slips)
DOCUMENT_CONTACT_FIELDS = CONTACT_FIELDS | {"to"}


@dataclass(frozen=True)
class GroupRule:
    cases: str  # all | group | own
    contact: bool


POLICY: dict[str, GroupRule] = {
    "admin": GroupRule("all", True),
    "supervisor": GroupRule("all", True),
    "customer_service": GroupRule("all", True),
    "tech_support": GroupRule("group", True),  # remote guidance: calls the customer
    "technician": GroupRule("own", True),  # visits the customer, on their own work orders only
    "logistics": GroupRule("group", True),  # ships to the customer's address
    "emergency_team": GroupRule("group", True),  # major complaints: talks to the customer
    "warehouse": GroupRule("group", False),
    "finance": GroupRule("group", False),
    "marketing": GroupRule("group", False),
    "regional_manager": GroupRule("group", False),  # approves cross-region settlements (R23): amounts, not customers
    "process_owner": GroupRule("own", False),  # diagrams and versions, not customers
    # a program serving external service-task topics: no case through /api; the tasks it locks hand it
    # their variables, as a Python handler gets them (engine/external_tasks.py)
    "external_worker": GroupRule("own", False),
}
_NOBODY = GroupRule("own", False)
_WIDTH = {"own": 0, "group": 1, "all": 2}

# Messages staff record on a page (besides outside systems through POST /api/messages): the groups
# that record each — and so see the cases waiting for it, though no task of theirs is open there.
# What each message is matched by and asks for: engine/staff_messages.py.
MESSAGE_RECORDERS: dict[str, frozenset[str]] = {
    "goods_received": frozenset({"warehouse"}),  # returned goods arrive at the warehouse (return_exchange)
}

SUPERVISING = frozenset({"admin", "supervisor"})
FLOW_OWNERS = frozenset({"admin", "process_owner"})
EXTERNAL_WORKERS = frozenset({"admin", "external_worker"})


# A group an admin created (groups are data, engine/groups.py): its members see the cases with an
# open task for it, without customer contact data.
_DATA_GROUP = GroupRule("group", False)


def rule_of(group: str) -> GroupRule:
    return POLICY.get(group, _DATA_GROUP)


def _rules(actor: Actor) -> list[GroupRule]:
    return [rule_of(g) for g in actor.groups] or [_NOBODY]


def case_scope(actor: Actor) -> str:
    return max((r.cases for r in _rules(actor)), key=_WIDTH.__getitem__)


def sees_contact(actor: Actor) -> bool:
    return any(r.contact for r in _rules(actor))


# --- cases ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # the policy is a static table: one clause per (user, groups), built once
def case_filter(actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause on ``Instance`` for the cases the actor may see (None: every case)."""
    scope = case_scope(actor)
    if scope == "all":
        return None
    user = actor.username
    personal = [OpenTask.assignee == user, OpenTask.candidate_users.contains(f",{user},")]
    if scope == "group":
        personal += [OpenTask.candidate_groups.contains(f",{g},") for g in actor.groups
                     if rule_of(g).cases == "group"]
    recorded = messages_recorded_by(actor)
    waiting = [exists(select(MessageWait.id).where(MessageWait.instance_id == Instance.id,
                                                   MessageWait.name.in_(sorted(recorded))))] if recorded else []
    return or_(
        Instance.started_by == user,
        exists(select(OpenTask.id).where(OpenTask.instance_id == Instance.id, or_(*personal))),
        exists(select(HistoryEntry.id).where(HistoryEntry.instance_id == Instance.id,
                                             HistoryEntry.completed_by == user)),
        *waiting,
    )


def visible(query, actor: Actor):
    """``query`` (a select over ``Instance``) limited to the cases the actor may see."""
    clause = case_filter(actor)
    return query if clause is None else query.where(clause)


def may_see_case(session: Session, actor: Actor, instance: Instance) -> bool:
    clause = case_filter(actor)
    if clause is None:
        return True
    return session.scalars(select(Instance.id).where(Instance.id == instance.id, clause)).first() is not None


def require_case(session: Session, actor: Actor, instance: Instance) -> None:
    if not may_see_case(session, actor, instance):
        raise NotPermitted(f"case {instance.id} is not yours to see")


def none_visible() -> ColumnElement[bool]:
    return false()


# --- variables and documents ---------------------------------------------------------------


def redact(actor: Actor, data: dict | None, fields: frozenset[str] = CONTACT_FIELDS) -> dict | None:
    """``data`` without the variables the actor may not see."""
    if data is None or sees_contact(actor):
        return data
    return {k: v for k, v in data.items() if k not in fields}


def redact_view(actor: Actor, view: dict) -> dict:
    """An instance view (``web/views.py``) as this actor may see it."""
    if sees_contact(actor):
        return view
    shown = {**view, "variables": redact(actor, view["variables"])}
    if "history" in view:
        shown["history"] = [{**h, "data": redact(actor, h["data"])} for h in view["history"]]
    return shown


def shows_contact(actor: Actor, *datas: dict | None) -> bool:
    """Whether showing these to the actor reveals customer contact data (then the read is logged)."""
    return sees_contact(actor) and any(d and any(d.get(f) for f in DOCUMENT_CONTACT_FIELDS) for d in datas)


_INSERT_READ = insert(cast(Table, CustomerDataRead.__table__))


def log_read(session: Session, actor: Actor, instance_id: int, now: datetime, via: str) -> None:
    row = {"username": actor.username, "instance_id": instance_id, "at": now, "via": via[:60]}
    if session.info.get("read_only"):  # a GET's session: the row is added, and written at the edge (web/context.py)
        session.add(CustomerDataRead(**row))
    else:  # written now, one statement (the ORM's flush of the one row costs more than it)
        session.execute(_INSERT_READ, row)


def reads(session: Session, *, instance_id: int | None = None, username: str | None = None,
          limit: int = 500) -> list[CustomerDataRead]:
    q = select(CustomerDataRead).order_by(CustomerDataRead.id.desc()).limit(limit)
    if instance_id is not None:
        q = q.where(CustomerDataRead.instance_id == instance_id)
    if username:
        q = q.where(CustomerDataRead.username == username)
    return list(session.scalars(q))


# --- acting --------------------------------------------------------------------------------


def _csv(text: str | None) -> set[str]:
    return {p for p in (text or "").split(",") if p}


def names_nobody(task: OpenTask) -> bool:
    """No assignee, candidate group or user: the diagram left it to be handed out."""
    return not _csv(task.candidate_groups) and not _csv(task.candidate_users) and task.assignee is None


def may_be_given(task: OpenTask, user: Actor) -> bool:
    """Whether ``task`` may be assigned to ``user``: a candidate of it, or anyone when it names nobody (the
    admin or process owner handing it out picks who does it)."""
    groups, users = _csv(task.candidate_groups), _csv(task.candidate_users)
    return (not groups and not users) or user.username in users or bool(groups & user.groups)


def may_act(task: OpenTask, actor: Actor) -> bool:
    """Whether the actor may claim and complete this task: its assignee, a candidate user or group; when the
    diagram names nobody, those who hand such tasks out (admins and process owners: claimed or assigned from
    the "nobody named" list, it is then its assignee's) — as Camunda's Tasklist shows such a task only to who
    may read every task."""
    groups, users = _csv(task.candidate_groups), _csv(task.candidate_users)
    if task.assignee == actor.username or actor.username in users or groups & actor.groups:
        return True
    return names_nobody(task) and hands_out_unassigned(actor)


def task_audience(actor: Actor, *, everything: bool = True) -> Audience | None:
    """``may_act`` as the audience of a task list (``engine/task_lists.py``): the actor in person, their
    groups and, for who hands them out, the tasks naming nobody. None: every task (admins, unless ``everything`` is False — the
    inbox's group tab shows an admin their own groups' tasks, without the ones naming nobody)."""
    if actor.is_admin and everything:
        return None
    return Audience(actor.username, tuple(sorted(actor.groups)), unassigned=everything and hands_out_unassigned(actor))


@functools.lru_cache(maxsize=1024)
def task_filter(actor: Actor) -> ColumnElement[bool] | None:
    """``may_act`` as a WHERE clause on ``OpenTask``, for lists (None: every task, for admins)."""
    audience = task_audience(actor)
    return None if audience is None else audience.clause()


def hands_out_unassigned(actor: Actor) -> bool:
    """Sees the tasks that name nobody as a list of their own (the inbox's "nobody named" tab,
    ``GET /api/tasks?nobody=1``), to claim them or assign them to someone: admins and process
    owners, who deployed the diagram that names nobody."""
    return owns_flows(actor)


def unassigned_audience(actor: Actor) -> Audience:
    """The audience of the "nobody named" list; ``NotPermitted`` for anyone but admins and process owners."""
    require(hands_out_unassigned(actor), "only admins and process owners see the list of tasks that name nobody")
    return NAMES_NOBODY


def may_open_task(task: OpenTask, actor: Actor) -> bool:
    return may_act(task, actor) or actor.is_admin


def held_by_other(task: OpenTask, actor: Actor) -> str | None:
    """The user holding the task when it is someone else: they (or a supervisor) release it first."""
    return task.assignee if task.assignee and task.assignee != actor.username else None


def may_complete(task: OpenTask, actor: Actor) -> bool:
    """Whether the actor may fill in and submit this task's form now: theirs to act on, held by nobody
    else. (A colleague's claimed task is shown read-only, naming who holds it.)"""
    return may_act(task, actor) and held_by_other(task, actor) is None


def may_release(task: OpenTask, actor: Actor) -> bool:
    """Who may hand a claimed task back to its group: its holder, and supervisors."""
    return task.assignee is not None and (task.assignee == actor.username or supervises(actor))


def supervises(actor: Actor) -> bool:
    """Cancels cases, reassigns and releases others' tasks."""
    return bool(actor.groups & SUPERVISING)


def messages_recorded_by(actor: Actor) -> frozenset[str]:
    """The messages the actor records on a page (``MESSAGE_RECORDERS``; supervisors: every one)."""
    if supervises(actor):
        return frozenset(MESSAGE_RECORDERS)
    return frozenset(name for name, groups in MESSAGE_RECORDERS.items() if groups & actor.groups)


def may_record_message(actor: Actor, name: str) -> bool:
    return name in messages_recorded_by(actor)


def may_retry(actor: Actor, instance: Instance) -> bool:
    return supervises(actor) or actor.username == instance.started_by


def owns_flows(actor: Actor) -> bool:
    """Deploys, validates, compares versions (admin pages)."""
    return bool(actor.groups & FLOW_OWNERS)


def works_external_tasks(actor: Actor) -> bool:
    """Fetches, locks, completes and fails external tasks (/engine-rest/external-task): the accounts of
    the group ``external_worker`` (a program, not a person), and admins."""
    return bool(actor.groups & EXTERNAL_WORKERS)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


def may(actor: Actor, action: str, subject: Any = None) -> bool:
    """Actions that depend on the group only, by name (the route × group test reads the same table)."""
    return ACTIONS[action](actor)


ACTIONS = {
    "cancel": supervises,
    "deploy": owns_flows,
    "manage_versions": owns_flows,
    "rollback": lambda a: a.is_admin,
    "migrate": lambda a: a.is_admin,
    "change_calendar": lambda a: a.is_admin,
    "read_access_log": lambda a: a.is_admin,
    "manage_users": lambda a: a.is_admin,
    "manage_retention": lambda a: a.is_admin,  # retention settings, runs, legal hold (engine/retention.py)
    "read_kpis": supervises,  # the dashboard (R25): supervisors and admins
    "hand_out_unassigned": hands_out_unassigned,  # the list of tasks that name nobody (claim, assign)
    "work_external_tasks": works_external_tasks,  # the external task protocol under /engine-rest
}


def document_data(session: Session, actor: Actor, instance: Instance, documents: list, now: datetime,
                  via: str) -> list[dict]:
    """The data of a case's documents as the actor may see it; NotPermitted for a case not theirs.
    ``documents`` are rows with ``.data`` (handlers' ``Document``); contact data shown is logged."""
    require_case(session, actor, instance)
    shown = [redact(actor, d.data or {}, DOCUMENT_CONTACT_FIELDS) or {} for d in documents]
    if shows_contact(actor, *shown):
        log_read(session, actor, instance.id, now, via)
    return shown

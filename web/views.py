"""The JSON shapes of cases and tasks, built from what the engine answers.

The engine knows nothing of these shapes: it hands out instances, open tasks, variables and history
rows (``engine`` exports that API); the API blueprints and pages shape them here, through the access
policy (redaction, customer-data read log). A step's answer is constant-size: the case summary with
its open tasks; the history comes in pages (``history_page``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from engine import Actor, HistoryEntry, Instance, OpenTask, ProcessEngine, access, as_utc, iso

HISTORY_PAGE = 100
HISTORY_PAGE_MAX = 500


def _csv(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def task_view(e: ProcessEngine, session: Session, task: OpenTask | Row[Any], with_form: bool = False,
              instance: Instance | None = None) -> dict:
    instance = instance or e.get_instance(session, task.instance_id)
    now: datetime = e.clock.now()
    due = as_utc(task.due_at)
    view = {
        "id": task.id, "name": task.name, "element_id": task.element_id, "instance_id": task.instance_id,
        "process_key": instance.key, "business_key": instance.business_key,
        "candidate_groups": _csv(task.candidate_groups), "candidate_users": _csv(task.candidate_users),
        "assignee": task.assignee, "created_at": iso(task.created_at), "due_at": iso(task.due_at),
        "overdue": bool(due and due < now),
    }
    if with_form:
        fields = e.task_form(session, task)
        stock = e.field_options(session, fields)  # a parts picker's choices, with availability
        view["form"] = {"fields": [{**f.to_dict(), **({"choices": stock[f.id]} if f.id in stock else {})}
                                   for f in fields]}
    return view


def task_item(row, now: datetime) -> dict:
    """A task of a list (``ProcessEngine.task_page`` row): the same fields as ``task_view`` without the form,
    from the row alone."""
    due = as_utc(row.due_at)
    return {
        "id": row.id, "name": row.name, "element_id": row.element_id, "instance_id": row.instance_id,
        "process_key": row.process_key, "business_key": row.business_key,
        "candidate_groups": _csv(row.candidate_groups), "candidate_users": _csv(row.candidate_users),
        "assignee": row.assignee, "created_at": iso(row.created_at), "due_at": iso(row.due_at),
        "overdue": bool(due and due < now),
    }


def case_item(row) -> dict:
    """A case of a list (``ProcessEngine.instance_page`` row): what identifies it, no variables."""
    return {"id": row.id, "key": row.key, "version": row.version, "business_key": row.business_key,
            "state": row.state, "started_at": iso(row.started_at), "started_by": row.started_by,
            "ended_at": iso(row.ended_at)}


def history_entry(h: HistoryEntry) -> dict:
    return {"id": h.id, "element_id": h.element_id, "name": h.name, "kind": h.kind, "completed_by": h.completed_by,
            "completed_at": iso(h.completed_at), "data": h.data}


def instance_view(e: ProcessEngine, session: Session, instance: Instance, history: bool = True) -> dict:
    """Everything about a case, unfiltered (callers answer with ``view_for``). Without ``history``
    the view has a constant size however long the case ran."""
    view = {
        "id": instance.id, "key": instance.key, "version": instance.version,
        "business_key": instance.business_key, "state": instance.state,
        "started_by": instance.started_by, "started_at": iso(instance.started_at),
        "ended_at": iso(instance.ended_at),
        # retention (engine/retention.py): kept while held; personal data and history gone once these are set
        "legal_hold": instance.legal_hold, "anonymised_at": iso(instance.anonymised_at),
        "history_removed_at": iso(instance.history_removed_at),
        "variables": e.variables(session, instance),
        "tasks": [task_view(e, session, t, instance=instance) for t in e.open_tasks(session, instance.id, instance.revision)],
        "error": {"element_id": instance.error_element, "message": instance.error_message}
        if instance.state == "error" else None,
    }
    if history:
        view["history"] = [history_entry(h) for h in e.history(session, instance.id)]
    return view


def view_for(e: ProcessEngine, session: Session, instance: Instance, actor: Actor, via: str,
             history: bool = False) -> dict:
    """The case as ``actor`` may see it (engine/access.py); NotPermitted when not at all.
    Contact data shown is recorded as a customer-data read. Without its history unless asked
    (constant size; the history is read in pages, ``history_page``)."""
    access.require_case(session, actor, instance)
    return _view(e, session, instance, actor, via, history)


def _view(e: ProcessEngine, session: Session, instance: Instance, actor: Actor, via: str, history: bool) -> dict:
    view = access.redact_view(actor, instance_view(e, session, instance, history))
    if access.shows_contact(actor, view["variables"], *[h["data"] for h in view.get("history", [])]):
        access.log_read(session, actor, instance.id, e.clock.now(), via)
    return view


def summary_for(e: ProcessEngine, session: Session, instance: Instance, actor: Actor, via: str,
                history: bool = False) -> dict:
    """The view when the actor may see the case, else only what identifies it."""
    if access.may_see_case(session, actor, instance):
        return _view(e, session, instance, actor, via, history)
    return {"id": instance.id, "key": instance.key, "business_key": instance.business_key, "state": instance.state}


def recent_history(e: ProcessEngine, session: Session, instance: Instance, actor: Actor, via: str,
                   size: int = HISTORY_PAGE) -> tuple[list[dict], bool]:
    """The last ``size`` entries (oldest first) as the actor may see them, and whether older ones exist."""
    access.require_case(session, actor, instance)
    rows = e.history(session, instance.id, latest=size + 1)
    older = len(rows) > size
    entries = access.redact_view(actor, {"variables": None, "history": [history_entry(h) for h in rows[-size:]]})["history"]
    if access.shows_contact(actor, *[h["data"] for h in entries]):
        access.log_read(session, actor, instance.id, e.clock.now(), via)
    return entries, older


def history_page(e: ProcessEngine, session: Session, instance: Instance, actor: Actor, via: str,
                 after: int | None, limit: int | None) -> dict:
    """Entries after the entry id ``after`` (oldest first), at most ``limit``; ``next`` continues."""
    access.require_case(session, actor, instance)
    size = max(1, min(limit or HISTORY_PAGE, HISTORY_PAGE_MAX))
    rows = e.history(session, instance.id, after=after, limit=size + 1)
    more = len(rows) > size
    entries = [history_entry(h) for h in rows[:size]]
    entries = access.redact_view(actor, {"variables": None, "history": entries})["history"]
    if access.shows_contact(actor, *[h["data"] for h in entries]):
        access.log_read(session, actor, instance.id, e.clock.now(), via)
    return {"entries": entries, "next": entries[-1]["id"] if more else None}

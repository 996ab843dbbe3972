"""Incidents: cases stuck in ``error`` and overdue tasks, for supervisors (issue 11).

A supervisor corrects the variables of a case in error — each correction is checked like the form
field of the same name would check it, and lands in the case history with who and why — then
retries the step that failed. When a case goes into error the ``supervisor`` group is told once
per failing element and message (``notifications.case_in_error``, queued by the step in its transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, forms, limits
from .errors import Conflict, FormInvalid
from .groups import nobody_can_take
from .models import Instance, OpenTask
from .state import clean_data
from .steps import Step, StepHost, element_id
from .users import SYSTEM, Actor

REASON_MAX = 500


def counts(session: Session, actor: Actor, now: datetime) -> dict[str, int]:
    """How many cases are in error and tasks overdue (the menu badge); zeros for non-supervisors."""
    if not access.supervises(actor):
        return {"errors": 0, "overdue": 0, "unstaffed": 0}
    errors = session.scalar(select(func.count(Instance.id)).where(Instance.state == "error")) or 0
    overdue = session.scalar(select(func.count(OpenTask.id)).where(OpenTask.due_at < now)) or 0
    unstaffed = session.scalar(select(func.count(OpenTask.id)).where(nobody_can_take())) or 0
    return {"errors": int(errors), "overdue": int(overdue), "unstaffed": int(unstaffed)}


def listing(session: Session, actor: Actor, now: datetime, limit: int = 200) -> dict[str, list]:
    access.require(access.supervises(actor), "only supervisors and admins see incidents")
    errors = list(session.scalars(select(Instance).where(Instance.state == "error")
                                  .order_by(Instance.id.desc()).limit(limit)))
    overdue = list(session.scalars(select(OpenTask).where(OpenTask.due_at < now)
                                   .order_by(OpenTask.due_at).limit(limit)))
    # tasks of an empty or disabled group, or of users that do not exist: "nobody can take this"
    unstaffed = list(session.scalars(select(OpenTask).where(nobody_can_take()).order_by(OpenTask.id).limit(limit)))
    return {"errors": errors, "overdue": overdue, "unstaffed": unstaffed}


def fields_by_id(specs) -> dict[str, forms.FormField]:
    """Every form field the case's diagrams define, by variable name (first definition wins)."""
    out: dict[str, forms.FormField] = {}
    for ts in specs.task_specs_by_element.values():
        for f in getattr(ts, "form_fields", None) or []:
            out.setdefault(f.id, f)
    return out


def failed_tasks(wf, instance: Instance) -> list:
    """Where a case in error stopped: the engine's READY tasks (a handler, script or listener that
    failed), else the service task at the element in error that waits for an external worker (its
    failures ran out, or it reported a BPMN error nothing catches): *retry* offers that one again."""
    ready = [t for t in wf.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
    return ready or [t for t in wf.get_tasks(state=TaskState.STARTED) if getattr(t.task_spec, "topic", None)
                     and getattr(t.task_spec, "bpmn_id", None) == instance.error_element]


def correct(step, wf, specs, changes: Any, reason: Any, checks: dict) -> dict:
    """Apply ``changes`` to the data of the failed step of a case in error; returns the clean values.

    Raises FormInvalid naming each bad variable (nothing changed) and Conflict when the case is not
    in error."""
    instance: Instance = step.instance
    if instance.state != "error":
        raise Conflict(f"instance {instance.id} is {instance.state}, not error")
    errors: dict[str, str] = {}
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "is required"
    elif len(reason.strip()) > REASON_MAX:
        errors["reason"] = f"must be at most {REASON_MAX} characters"
    if not isinstance(changes, dict) or not changes:
        errors["variables"] = "is required"
        raise FormInvalid(errors)
    waiting = failed_tasks(wf, instance)
    if not waiting:
        raise Conflict(f"instance {instance.id} has no failed step to correct")
    current = dict(waiting[0].data)
    known = fields_by_id(specs)
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in current and name not in known:
            errors[name] = "unknown field"
            continue
        f = known.get(name)
        if f is None:  # a variable no form defines (set by a handler): plain JSON is kept as it is
            clean[name] = value
            continue
        probe = forms.FormField(f.id, f.label, f.type, None, False, False, f.options, dict(f.constraints))
        try:
            clean.update(forms.validate([probe], {name: value}, checks=checks, today=step.engine.today()))
        except FormInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors, {k: known[k].label for k in errors if k in known})
    clean = clean_data(clean)
    for task in waiting:
        task.data.update(clean)
    limits.check_case_size(waiting[0].data, str(instance.business_key or instance.id))
    step.record(waiting[0], "Correction", step.actor.username, {**clean, "correction_reason": reason.strip()})
    return clean


def correction_form(engine: StepHost, session: Session, instance: Instance) -> tuple[str, list[forms.FormField], dict]:
    """For a case in error: the failed element's name, the fields a supervisor may correct (what
    its handler reads, else every form value of the case) and their current values."""
    if instance.state != "error" or instance.workflow is None:
        return "", [], {}
    wf = Step(engine, session, instance, SYSTEM).load()
    waiting = failed_tasks(wf, instance)
    if not waiting:
        return "", [], {}
    task = waiting[0]
    known = fields_by_id(engine.spec_for(session, instance))
    names = [n for n in engine.handlers.inputs(getattr(task.task_spec, "topic", "") or "") if n in known]
    if not names:
        names = [n for n in known if n in task.data]
    data = clean_data(task.data)
    return (task.task_spec.bpmn_name or element_id(task), [known[n] for n in names],
            {n: data.get(n) for n in names})


def correct_case(engine: StepHost, session: Session, instance: Instance, actor: Actor, changes: Any,
                 reason: Any) -> dict:
    """A supervisor's correction of a case in error, as one step: see :func:`correct`."""
    access.require(access.supervises(actor), "only supervisors and admins correct a case")
    if instance.state != "error":
        raise Conflict(f"instance {instance.id} is {instance.state}, not error")
    step = Step(engine, session, instance, actor)
    wf = step.load()
    clean = correct(step, wf, engine.spec_for(session, instance), changes, reason,
                    engine.handlers.field_checks(session))
    step.save(wf)
    return clean

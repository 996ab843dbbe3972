"""When the calendar changes, rule-based due dates and working-time timers are counted again.

Every open task's due date and every pending working-time timer stored with its rule (see
:mod:`engine.due_dates`) is counted again from the same start on the calendar as it now stands, and
each move is recorded in the case history.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .db import as_utc
from .due_dates import recount
from .models import HistoryEntry, Instance, OpenTask, Timer
from .steps import Step, StepHost
from .users import Actor


def follow_calendar(engine: StepHost, session: Session, actor: Actor, reason: str) -> dict[str, int]:
    """Count rule-based due dates again; returns how many tasks and timers moved."""
    session.flush()
    calendar = engine.calendar(session)
    now = engine.clock.now()
    moved_tasks = 0
    for task_id, instance_id, el, name, due_at, rule in session.execute(
            select(OpenTask.id, OpenTask.instance_id, OpenTask.element_id, OpenTask.name, OpenTask.due_at,
                   OpenTask.due_rule).where(OpenTask.due_rule.is_not(None))).all():
        new = recount(rule, calendar)
        old = as_utc(due_at)
        if new == old:
            continue
        session.execute(update(OpenTask).where(OpenTask.id == task_id).values(due_at=new))
        session.execute(insert(HistoryEntry), [{
            "instance_id": instance_id, "task_id": task_id, "element_id": el, "name": name, "kind": "due_moved",
            "completed_by": actor.username, "completed_at": now,
            "data": {"due_from": old.isoformat() if old else None, "due_to": new.isoformat(), "reason": reason}}])
        moved_tasks += 1

    moved_timers = 0
    waiting = session.scalars(select(Timer.instance_id).where(Timer.due_rule.is_not(None)).distinct()).all()
    for instance_id in waiting:
        instance = session.get(Instance, instance_id)
        if instance is None or instance.state != "running" or instance.workflow is None:
            continue
        step = Step(engine, session, instance, actor)
        wf = step.load()
        changed = 0
        for task in wf.event_manager.tasks.values():
            if not isinstance(task.task_spec.event_definition, TimerEventDefinition):
                continue
            rule = task._get_internal_data("due_rule")
            value = task._get_internal_data("event_value")
            if not rule or not isinstance(value, str) or task._get_internal_data("event_fired"):
                continue
            new = recount(rule, calendar)
            if new == as_utc(datetime.fromisoformat(value)):
                continue
            task._set_internal_data(event_value=new.isoformat())
            step.record(task, "due_moved", actor.username,
                        {"due_from": value, "due_to": new.isoformat(), "reason": reason})
            changed += 1
        if changed:
            step.save(wf)
            moved_timers += changed
    return {"tasks": moved_tasks, "timers": moved_timers}

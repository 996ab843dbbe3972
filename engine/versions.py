"""What admins do with versions: see them with their cases, roll back, compare, move cases across.

Roll-back moves the "current" pointer (what new cases start on); it is recorded and reversible.
Migration moves running cases one at a time: a dry run says for each case whether every element it
is waiting in exists in the target (after an optional rename mapping), and that a task waiting for a
worker (an asynchronous job, an external task) is one the same worker runs there, and why not; executing moves
those that can, each in its own transaction, recorded in the case history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, deployments, live, state
from .errors import Conflict, InvalidRequest
from .models import AsyncJob, CurrentVersion, Definition, ExternalTask, Instance, OpenTask, VersionEvent
from .specs import ProcessSpecs
from .steps import Step, StepHost, StepScriptEngine, element_id
from .users import Actor


def versions_with_counts(session: Session, key: str) -> list[dict]:
    counts: dict[tuple[int, str], int] = {}
    for version, case_state, n in session.execute(select(Instance.version, Instance.state, func.count())
                                             .where(Instance.key == key).group_by(Instance.version, Instance.state)):
        counts[(version, case_state)] = n
    cur = deployments.get_definition(session, key).version
    out = []
    for d in deployments.versions(session, key):
        running = counts.get((d.version, "running"), 0) + counts.get((d.version, "error"), 0)
        finished = counts.get((d.version, "completed"), 0) + counts.get((d.version, "cancelled"), 0)
        out.append({"version": d.version, "deployed_at": d.deployed_at, "deployed_by": d.deployed_by,
                    "comment": d.comment, "running": running, "finished": finished, "current": d.version == cur})
    return out


def rollback(session: Session, key: str, version: int, actor: Actor, now: datetime) -> None:
    """Make ``version`` the one new cases start on (any existing version: also forward again)."""
    access.require(access.may(actor, "rollback"), "only admins roll back")
    target = deployments.get_definition(session, key, version)
    pointer = session.get(CurrentVersion, key)
    previous = pointer.version if pointer else deployments.get_definition(session, key).version
    if previous == target.version:
        raise Conflict(f"{key} v{version} is already the current version")
    if pointer is None:
        session.add(CurrentVersion(key=key, version=target.version))
    else:
        pointer.version = target.version
    session.add(VersionEvent(key=key, kind="rollback", from_version=previous, to_version=target.version,
                             by=actor.username, at=now))
    session.flush()


def events(session: Session, key: str) -> list[VersionEvent]:
    return list(session.scalars(select(VersionEvent).where(VersionEvent.key == key).order_by(VersionEvent.id)))


@dataclass
class MigrationCheck:
    """One case's verdict. ``reason`` is the engine's English sentence (logs, API); ``code`` and
    ``problems`` are the same as data, for pages to say in their language: ``can_move``, ``moved``,
    ``not_running``, ``same_version``, ``blocked`` (see ``problems``: ``missing_element`` with
    ``element`` and ``mapped``, ``not_called`` with ``process``, ``would_not_load``) and
    ``in_error_skipped`` (a case in error is moved only when the caller names it)."""

    instance_id: int
    business_key: str | None
    can_move: bool
    reason: str
    waiting_in: list[str]
    code: str = "can_move"
    problems: list[dict] = field(default_factory=list)
    state: str = "running"
    error_element: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict:
        return {"instance_id": self.instance_id, "business_key": self.business_key, "can_move": self.can_move,
                "reason": self.reason, "waiting_in": self.waiting_in, "code": self.code, "problems": self.problems,
                "state": self.state, "error": ({"element_id": self.error_element, "message": self.error_message}
                                               if self.state == "error" else None)}


def _validate_mapping(mapping: dict | None) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise InvalidRequest("mapping must be an object of old element id -> new element id")
    return mapping


def candidates(session: Session, key: str, from_version: int, instance_ids: list[int] | None) -> list[Instance]:
    q = select(Instance).where(Instance.key == key, Instance.version == from_version,
                               Instance.state.in_(("running", "error"))).order_by(Instance.id)
    if instance_ids is not None:
        q = q.where(Instance.id.in_(instance_ids))
    return list(session.scalars(q))


def _worker(spec, topics: set[str]) -> str | None:
    """Who finishes a task parked STARTED at ``spec``: an external worker of its topic, the job worker
    (an asynchronous task with a Python handler), or None (nothing waits for a worker)."""
    topic = getattr(spec, "topic", None)
    if topic and topic not in topics:
        return f"an external worker of topic '{topic}'"
    if topic and getattr(spec, "async_before", False):
        return "the job worker"
    return None


def _retarget(wf, specs: ProcessSpecs, mapping: dict[str, str], version: int, topics: set[str]) -> list[dict]:
    """Point every task of ``wf`` at the target specs; returns why not (``reason`` and its code), or
    [] when done. A task parked for a worker moves only onto one the same worker finishes: its job
    or external-task row stays as it is, and nothing else would ever run a STARTED task."""
    problems: list[dict] = []
    waiting = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
    plan: list[tuple] = []
    for workflow, new_spec in [(wf, specs.spec), *[(sp, specs.subprocess_specs.get(sp.spec.name))
                                                    for sp in wf.subprocesses.values()]]:
        if new_spec is None:
            problems.append({"code": "not_called", "process": workflow.spec.name,
                             "reason": f"v{version} no longer calls '{workflow.spec.name}', where this case is waiting"})
            continue
        for task in workflow.tasks.values():
            name = mapping.get(task.task_spec.name, task.task_spec.name)
            target = new_spec.task_specs.get(name)
            if target is None and task.has_state(waiting):
                mapped = task.task_spec.name in mapping
                problems.append({"code": "missing_element", "element": element_id(task), "mapped": mapped,
                                 "reason": f"waiting in '{element_id(task)}', which v{version} does not have"
                                 + ("" if mapped else " (give a mapping if it was renamed)")})
            elif target is not None and task.state == TaskState.STARTED \
                    and (worker := _worker(task.task_spec, topics)) is not None and _worker(target, topics) != worker:
                target_id = getattr(target, "bpmn_id", None) or name
                problem = {"code": "worker_changed", "element": element_id(task), "target": target_id,
                           "reason": f"'{element_id(task)}' waits for {worker}, which does not run "
                           f"'{target_id}' in v{version}; move the case once that work is done"}
                if problem not in problems:  # the children of a multi-instance task: said once
                    problems.append(problem)
            elif target is not None:
                plan.append((task, target))
        plan.append((workflow, new_spec))
    if problems:
        return problems
    for obj, target in plan:
        if hasattr(obj, "task_spec"):
            obj.task_spec = target
        else:
            obj.spec = target
    wf.subprocess_specs = specs.subprocess_specs
    for workflow in [wf, *wf.subprocesses.values()]:
        for task in list(workflow.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True)):
            if task.id in workflow.tasks:
                task.reset_branch(dict(task.data))  # keep the variables: the parent may be compacted away
    return []


def check_migration(engine: StepHost, session: Session, instance: Instance, target: Definition,
                    mapping: dict[str, str] | None, apply: bool, actor: Actor,
                    move_in_error: bool = False) -> MigrationCheck:
    """Whether ``instance`` can move to ``target`` (and, with ``apply``, move it).

    Every element the case waits in must exist in the target, after ``mapping`` (old id -> new id);
    the moved state must survive a save and a load, or nothing moves. A case in ``error`` is moved
    only with ``move_in_error`` (the admin chose it); otherwise it is checked and skipped, saying so.
    """
    def result(ok: bool, reason: str, waiting: list[str], code: str, problems: list[dict] | None = None) -> MigrationCheck:
        return MigrationCheck(instance.id, instance.business_key, ok, reason, waiting, code, problems or [],
                              instance.state, instance.error_element, instance.error_message)

    if instance.key != target.key:
        raise InvalidRequest(f"instance {instance.id} is a {instance.key} case, not {target.key}")
    if instance.state not in ("running", "error") or instance.workflow is None:
        return result(False, f"case is {instance.state}", [], "not_running")
    if instance.definition_id == target.id:
        return result(False, f"case is already on v{target.version}", [], "same_version")
    step = Step(engine, session, instance, actor)
    wf = step.load()
    waiting = sorted({element_id(t) for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)})
    bindings = engine.specs.bind(session, target)
    specs = engine.specs.get(session, target, bindings)
    problems = _retarget(wf, specs, mapping or {}, target.version, engine.handlers.topics)
    if problems:
        return result(False, "; ".join(p["reason"] for p in problems), waiting, "blocked",
                      [{k: v for k, v in p.items() if k != "reason"} for p in problems])
    try:
        blob = state.dump(wf)
        moved = state.load(blob, specs.spec, specs.subprocess_specs, StepScriptEngine(step))
    except Exception as exc:  # the moved state must survive a save and a load, or nothing moves
        return result(False, f"the moved case would not load again: {type(exc).__name__}: {exc}", waiting, "blocked",
                      [{"code": "would_not_load"}])
    if not apply:
        return result(True, "can move", waiting, "can_move")
    if instance.state == "error" and not move_in_error:
        return result(False, "case is in error: not moved unless chosen", waiting, "in_error_skipped")
    from_version = instance.version
    claims = {t.id: t.assignee for t in session.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id))}
    step._open_before = set(claims)  # rows are rebuilt: element ids and names may have changed
    instance.definition_id, instance.version, instance.bindings = target.id, target.version, bindings
    if renamed := (mapping or {}).get(instance.error_element or ""):  # a case in error: the step by its new id
        instance.error_element = renamed
    step.note(f"v{from_version} → v{target.version}", "migration", actor.username)
    step.history[-1]["data"] = {"from_version": from_version, "to_version": target.version, "mapping": mapping or {}}
    step._sync_open_tasks(moved, finished=True)  # removes every old row
    step._open_before = set()
    step.save(moved)
    for task_id, assignee in claims.items():
        row = session.get(OpenTask, task_id)
        if row is not None and assignee:
            row.assignee = assignee
    if mapping:  # a renamed task a worker will finish: its job or external-task row names the new element
        parked = {str(t.id): element_id(t) for t in moved.get_tasks(state=TaskState.STARTED)}
        for job in session.scalars(select(AsyncJob).where(AsyncJob.instance_id == instance.id)):
            job.element_id = parked.get(job.task_id, job.element_id)
        for external in session.scalars(select(ExternalTask).where(ExternalTask.instance_id == instance.id)):
            external.element_id = parked.get(external.id, external.element_id)
    live.forget_open_tasks(session, instance.id)  # the rows the step wrote lack the claims put back here
    session.flush()
    return result(True, "moved", waiting, "moved")

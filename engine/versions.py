"""What admins do with versions: see them with their cases, roll back, compare, move cases across.

Roll-back moves the "current" pointer (what new cases start on); it is recorded and reversible.
Migration moves running cases one at a time: a dry run says for each case whether every element it
is waiting in exists in the target (after an optional rename mapping) and why not; executing moves
those that can, each in its own transaction, recorded in the case history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import deployments
from .errors import Conflict, InvalidRequest, NotPermitted
from .models import CurrentVersion, Definition, Instance, OpenTask, VersionEvent
from .users import Actor


def versions_with_counts(session: Session, key: str) -> list[dict]:
    counts: dict[tuple[int, str], int] = {}
    for version, state, n in session.execute(select(Instance.version, Instance.state, func.count())
                                             .where(Instance.key == key).group_by(Instance.version, Instance.state)):
        counts[(version, state)] = n
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
    if not actor.is_admin:
        raise NotPermitted("only admins roll back")
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
    instance_id: int
    business_key: str | None
    can_move: bool
    reason: str
    waiting_in: list[str]

    def to_dict(self) -> dict:
        return {"instance_id": self.instance_id, "business_key": self.business_key, "can_move": self.can_move,
                "reason": self.reason, "waiting_in": self.waiting_in}


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


def target_definition(session: Session, key: str, to_version: int) -> Definition:
    return deployments.get_definition(session, key, to_version)


def spec_names(workflow, skip_finished: bool = True) -> list[str]:
    """Task spec names the workflow's live tree (top level) still uses."""
    names = []
    for task in workflow.tasks.values():
        if skip_finished and task.has_state(TaskState.FINISHED_MASK):
            continue
        names.append(task.task_spec.name)
    return names


def open_task_rows(session: Session, instance_id: int) -> list[OpenTask]:
    return list(session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)))

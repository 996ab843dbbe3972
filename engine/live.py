"""Live workflows kept in process memory between steps, keyed by (instance id, revision).

A hot case is then not deserialised on every click. The key makes a stale entry harmless: any other
writer (another process, a migration, a calendar change) bumps ``instances.revision``, so the entry
no longer matches and the blob is read instead. An entry is offered only once its transaction has
committed (``after_commit``); a rollback drops what the session offered. A step *takes* its entry
(removes it), so two steps never share one mutable workflow; a failed step leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "aftersales_live"
_OPEN = "aftersales_open_tasks"


class LiveWorkflows:
    def __init__(self, size: int = 256):
        self._size = size
        self._entries: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._mutex = threading.Lock()

    def take(self, instance_id: int, revision: int) -> Any | None:
        with self._mutex:
            return self._entries.pop((instance_id, revision), None)

    def put(self, instance_id: int, revision: int, workflow: Any) -> None:
        if self._size <= 0:
            return
        with self._mutex:
            self._entries[(instance_id, revision)] = workflow
            self._entries.move_to_end((instance_id, revision))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._mutex:
            self._entries.clear()


def offer(session: Session, cache: LiveWorkflows, instance_id: int, revision: int, workflow: Any) -> None:
    """Remember ``workflow`` as this session's newest state of the instance; cached once committed."""
    session.info.setdefault(_PENDING, {})[instance_id] = (cache, revision, workflow)


def pending(session: Session, instance_id: int, revision: int) -> Any | None:
    """The workflow this (uncommitted) session saved for the instance at ``revision``, if any."""
    entry = session.info.get(_PENDING, {}).get(instance_id)
    if entry is None or entry[1] != revision:
        return None
    return entry[2]


def take(session: Session, cache: LiveWorkflows, instance_id: int, revision: int) -> Any | None:
    mine = session.info.get(_PENDING, {})
    entry = mine.get(instance_id)
    if entry is not None:
        del mine[instance_id]
        return entry[2] if entry[1] == revision else None
    return cache.take(instance_id, revision)


def saved_open_tasks(session: Session, instance_id: int, revision: int, rows: list[dict] | None) -> None:
    """The open-task rows a step just wrote for the instance at ``revision`` (None: not all of them)."""
    if rows is None:
        forget_open_tasks(session, instance_id)
    else:
        session.info.setdefault(_OPEN, {})[instance_id] = (revision, [SimpleNamespace(**r) for r in rows])


def open_tasks_saved(session: Session, instance_id: int, revision: int) -> list[Any] | None:
    """What ``saved_open_tasks`` noted, while this transaction has changed nothing else of them."""
    entry = session.info.get(_OPEN, {}).get(instance_id)
    return entry[1] if entry is not None and entry[0] == revision else None


def forget_open_tasks(session: Session, instance_id: int) -> None:
    """An open task of the instance changed outside a step (a claim, an assignment)."""
    session.info.get(_OPEN, {}).pop(instance_id, None)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_OPEN, None)
    for instance_id, (cache, revision, workflow) in session.info.pop(_PENDING, {}).items():
        cache.put(instance_id, revision, workflow)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_OPEN, None)

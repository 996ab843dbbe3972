"""Retention runs (issue 17): the nightly cleanup as a run of small batches.

A run goes through three phases — delivered notifications, cases whose history is due, cases whose
personal data is due — and keeps a cursor on its row (the sort key of the last row it looked at), so
each batch reads on through an index and costs the same at the first and the millionth row. Each batch
is one short transaction at the caller's edge (``web/jobs.py``, ``aftersales retention run``) and is
logged as a ``retention_batches`` row beside the run's running totals. What is due, and what removing
or anonymising a case does, is :mod:`engine.retention`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any, cast

from sqlalchemy import CursorResult, Row, Select, delete, select
from sqlalchemy.orm import Session

from .db import as_utc
from .models import Instance, Notification, RetentionBatch, RetentionRun
from .retention import (
    Settings,
    _due_clause,
    _notifications_due,
    _removal_terms,
    anonymise_cases,
    iso,
    remove_cases_history,
)

# A run goes through its phases in this order, each from where its last batch stopped (the run's
# cursor: the sort key of the last row looked at), so every batch reads a bounded range of an index
# (notifications: ix_notifications_delivered; cases: ix_instances_history_due / _anonymise_due) and
# never the rows earlier batches deleted or passed over (held cases, a longer historyTimeToLive).
PHASES = {"notifications": "remove", "remove": "anonymise", "anonymise": "done"}
NOTICES_PER_CASE = 5  # a notifications batch deletes up to batch_size × this many rows
SCAN_PER_CASE = 4  # a case batch looks at up to batch_size × this many candidates
KEEP_BATCH_LOGS = 30  # runs whose batches stay listed (older runs keep their totals)
PRUNE_PER_BATCH = 1000  # batch rows of older runs deleted per batch


def start_run(session: Session, settings: Settings, by: str, now: datetime, *, night: date | None = None) -> RetentionRun:
    run = RetentionRun(night=night, started_by=by, started_at=now, as_of=now, notifications=0, removed=0,
                       anonymised=0, batch_count=0, phase="notifications")
    session.add(run)
    session.flush()
    return run


def night_run(session: Session, night: date) -> RetentionRun | None:
    return session.scalars(select(RetentionRun).where(RetentionRun.night == night)).first()


def _read_on(session: Session, query: Select, order: tuple[Any, ...], run: RetentionRun, limit: int) -> list[Row]:
    """Up to ``limit`` rows of ``query`` after the run's cursor in the order of an index ``order``
    (``…, at, id``; leading columns are ones ``query`` holds to one value): the rest of the cursor's own
    ``at`` first, then later ones. Each is one range of that index; an OR of both would make the second a
    filter over the first. The leading columns are named in ORDER BY too: PostgreSQL does not count
    ``IS NULL`` as one value and would sort every due row instead of reading the index in order."""
    at, row_id = order[-2], order[-1]
    if run.cursor_at is None or run.cursor_id is None:
        return list(session.execute(query.order_by(*order).limit(limit)).all())
    cursor = as_utc(run.cursor_at)
    rows = list(session.execute(query.where(at == cursor, row_id > run.cursor_id).order_by(*order).limit(limit)))
    if len(rows) < limit:
        rows += session.execute(query.where(at > cursor).order_by(*order).limit(limit - len(rows))).all()
    return rows


def _notices_batch(session: Session, run: RetentionRun, settings: Settings, as_of: datetime) -> int | None:
    """Delete the next delivered notices that are due, by id; None when none is left."""
    due = _notifications_due(settings, as_of)
    rows = _read_on(session, select(Notification.id, Notification.sent_at).where(due),
                    (Notification.sent_at, Notification.id), run, settings.batch_size * NOTICES_PER_CASE)
    if not rows:
        return None
    deleted = cast(CursorResult, session.execute(delete(Notification).where(Notification.id.in_([r.id for r in rows]), due)
                                                 .execution_options(synchronize_session=False)))
    run.cursor_at, run.cursor_id = rows[-1].sent_at, rows[-1].id
    return deleted.rowcount


def _cases_batch(session: Session, run: RetentionRun, settings: Settings, as_of: datetime, what: str,
                 now: datetime) -> int | None:
    """Remove the history of (``remove``) or anonymise (``anonymise``) the next due cases; None when
    no candidate is left. Candidates come from the phase's index in (ended_at, id) order, at most
    ``SCAN_PER_CASE`` × batch size of them, and are then checked against the whole due clause."""
    size = settings.batch_size
    if what == "remove":
        marker, bound = Instance.history_removed_at, _removal_terms(session, settings, as_of)[1]
    else:
        marker, bound = Instance.anonymised_at, as_of - timedelta(days=settings.personal_data_days)
    candidates = _read_on(session, select(Instance.id, Instance.ended_at).where(
        marker.is_(None), Instance.ended_at <= bound), (marker, Instance.ended_at, Instance.id), run, size * SCAN_PER_CASE)
    if not candidates:
        return None
    # the candidates' range of ended_at bounds the read, whichever index the planner takes for it
    cases = list(session.scalars(select(Instance).where(Instance.id.in_([c.id for c in candidates]),
                                                        Instance.ended_at >= candidates[0].ended_at,
                                                        Instance.ended_at <= candidates[-1].ended_at,
                                                        _due_clause(session, settings, as_of, what))
                                 .order_by(Instance.ended_at, Instance.id).limit(size)))
    # a full batch may leave due candidates behind its last case: the next batch reads on from there
    last = (cases[-1].ended_at, cases[-1].id) if len(cases) == size else (candidates[-1].ended_at, candidates[-1].id)
    (remove_cases_history if what == "remove" else anonymise_cases)(session, cases, now)
    run.cursor_at, run.cursor_id = last
    return len(cases)


def next_batch(session: Session, run_id: int, settings: Settings, now: datetime) -> bool:
    """One batch of the run: delivered notifications, else cases whose history is due, else cases whose
    personal data is due. Adds to the run's totals and logs the batch (one ``retention_batches`` row);
    True while more may follow (False: the run ended)."""
    started = perf_counter()
    run = session.scalars(select(RetentionRun).where(RetentionRun.id == run_id).with_for_update()).one()
    if run.ended_at is not None:
        return False
    as_of = as_utc(run.as_of) or now
    count: int | None = None
    while run.phase != "done":
        if run.phase == "notifications":
            count = _notices_batch(session, run, settings, as_of)
        else:
            count = _cases_batch(session, run, settings, as_of, run.phase, now)
        if count is not None:
            break
        run.phase, run.cursor_at, run.cursor_id = PHASES.get(run.phase, "done"), None, None
    if count is None:
        run.ended_at = now
        session.flush()
        return False
    kind = run.phase
    if kind == "notifications":
        run.notifications += count
    elif kind == "remove":
        run.removed += count
    else:
        run.anonymised += count
    run.batch_count += 1
    _prune_batch_log(session)
    session.add(RetentionBatch(run_id=run.id, kind=kind, count=count, started_at=now,
                               ms=round(1000 * (perf_counter() - started), 3)))
    session.flush()
    return True


def _prune_batch_log(session: Session) -> None:
    """Delete a bounded number of batch rows of runs older than the last ``KEEP_BATCH_LOGS``."""
    oldest_kept = session.scalar(select(RetentionRun.id).order_by(RetentionRun.id.desc())
                                 .offset(KEEP_BATCH_LOGS - 1).limit(1))
    if oldest_kept is None:
        return
    old = (select(RetentionBatch.id).where(RetentionBatch.run_id < oldest_kept)
           .order_by(RetentionBatch.run_id, RetentionBatch.id).limit(PRUNE_PER_BATCH))
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(RetentionBatch).where(RetentionBatch.id.in_(ids))
                        .execution_options(synchronize_session=False))


def runs(session: Session, *, limit: int = 50, before: int | None = None) -> list[RetentionRun]:
    query = select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)
    if before is not None:
        query = query.where(RetentionRun.id < before)
    return list(session.scalars(query))


def last_batches(session: Session, run_id: int, *, limit: int = 20) -> list[RetentionBatch]:
    """The run's last ``limit`` batches, oldest first (the run row has the totals and the count)."""
    rows = list(session.scalars(select(RetentionBatch).where(RetentionBatch.run_id == run_id)
                                .order_by(RetentionBatch.id.desc()).limit(limit)))
    return rows[::-1]


_TOTALS = {"notifications": "notifications", "remove": "removed", "anonymise": "anonymised"}


def batch_view(batch: RetentionBatch) -> dict:
    return {"at": iso(batch.started_at), "kind": batch.kind, "count": batch.count, "ms": batch.ms,
            **{total: (batch.count if kind == batch.kind else 0) for kind, total in _TOTALS.items()}}


def run_view(run: RetentionRun, batches: list[RetentionBatch] | None = None) -> dict:
    """A run with its totals; ``batches``: its last batches (``last_batches``), ``batch_count`` all of them."""
    return {"id": run.id, "night": run.night.isoformat() if run.night else None, "started_by": run.started_by,
            "started_at": iso(run.started_at), "ended_at": iso(run.ended_at), "as_of": iso(run.as_of),
            "notifications": run.notifications, "removed": run.removed, "anonymised": run.anonymised,
            "phase": run.phase, "batch_count": run.batch_count,
            "batches": [batch_view(b) for b in batches or []]}

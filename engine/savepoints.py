"""How a step undoes what a failing handler wrote: savepoints, or a redo without them.

A handler that raises must leave nothing behind, while the handlers before it in the same step keep
what they wrote (the case is saved in ``error`` at the failing one). A savepoint around each handler
does that, at two statements a handler. Handlers seldom fail, so starting a case and completing a task
run :func:`optimistically`: handlers write without savepoints, and when one raises, the transaction is
rolled back and the operation goes again with a savepoint around each handler, ending exactly as it
would have. Every other way of moving a case uses the savepoints from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from .db import UnguardedWrite, database_error, writes_so_far, wrote

T = TypeVar("T")
_OPTIMISTIC = "aftersales_optimistic"  # in Session.info while a step runs: whether handlers may skip savepoints
_UNGUARDED = "aftersales_unguarded"  # in Session.info: how many writing handlers without a savepoint are running


class Redo(BaseException):  # noqa: N818 - not an error: it unwinds the step (through SpiffWorkflow's handlers)
    """A handler failed in a step run without savepoints: run the operation again with them."""


def optimistically(session: Session, run: Callable[[], T]) -> T:
    """Run ``run`` — an engine operation that steps a case — with its writing handlers not wrapped in
    savepoints. Only where a rollback loses nothing: a transaction that has written nothing yet
    (``db.wrote``), and never inside a step already (a handler starting a case runs within its step)."""
    if _OPTIMISTIC in session.info:
        return run()
    session.info[_OPTIMISTIC] = not wrote(session)
    try:
        try:
            return run()
        except Redo:
            session.rollback()
            session.info[_OPTIMISTIC] = False
            return run()
    finally:
        session.info.pop(_OPTIMISTIC, None)


def run_handler(session: Session, topic: str, handler: Callable[[Any], T], ctx: Any, writes: bool) -> T:
    """Run one handler so that its writes are undone if it raises. A handler registered ``writes=False``
    only computes variables (adding rows is refused) but may act outside the database, as the HTTP
    connector does: once it has run, the step goes on with savepoints, so that a redo never calls it twice."""
    info = session.info
    outside = _OPTIMISTIC not in info  # a step not run optimistically, nor a case started within it
    optimistic = info.setdefault(_OPTIMISTIC, False)
    try:
        if writes and optimistic:
            info[_UNGUARDED] = info.get(_UNGUARDED, 0) + 1
            try:
                result = handler(ctx)
                session.flush()
            except Exception as exc:
                if database_error(exc) is not None:
                    raise
                raise Redo from exc  # its writes cannot be undone alone: the operation goes again
            finally:
                info[_UNGUARDED] -= 1
            return result
        if writes:
            with session.begin_nested():  # a savepoint: released on success, rolled back on error
                result = handler(ctx)
                session.flush()
            return result
        if info.get(_UNGUARDED):
            # within a writing handler that has no savepoint (one starting a case): should that handler
            # fail after this one acted, a redo would act twice — so go again with savepoints before it acts
            raise Redo
        info[_OPTIMISTIC] = False  # it may have acted outside the database: never run it twice
        before, written = set(session.new), writes_so_far(session)
        result = handler(ctx)
        stray = set(session.new) - before
        if stray:
            for obj in stray:
                session.expunge(obj)
            raise RuntimeError(f"handler '{topic}' is registered with writes=False but added rows")
        if writes_so_far(session) != written:
            raise UnguardedWrite(f"handler '{topic}' is registered with writes=False but wrote rows")
        return result
    finally:
        if outside:
            info.pop(_OPTIMISTIC, None)

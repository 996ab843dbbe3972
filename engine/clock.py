"""Clocks: the engine asks an injected clock for "now", never the system directly.

SpiffWorkflow's timer definitions call ``datetime.now(timezone.utc)`` themselves. So that
timers follow the injected clock too, :func:`use_clock` points that module's ``datetime`` at a
subclass whose ``now()`` reads the clock of the step being run (a context variable); outside a
step it is the real time.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand: no sleeping in tests."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **kwargs: float) -> datetime:
        with self._lock:
            self._now += timedelta(**kwargs)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


_current: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("aftersales_clock", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        clock = _current.get()
        real = clock.now() if clock is not None else datetime.now(UTC)
        return real.astimezone(tz) if tz is not None else real.replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime  # type: ignore[attr-defined]


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)


def now() -> datetime:
    """The current moment of the clock a step runs under (:func:`use_clock`), else the system's; aware, UTC
    or as the clock gives it. For code deep inside a step that has no engine at hand (FEEL's ``now()``)."""
    clock = _current.get()
    return clock.now() if clock is not None else datetime.now(UTC)

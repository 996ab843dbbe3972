"""Fires due timers by itself: a background thread in ``serve``/``demo`` when no Celery broker is
configured. It runs the job functions of ``web/jobs.py``, as the Celery worker does.

Several workers may run this at once (several processes on PostgreSQL): firing goes through
the instance revision, so a timer one worker fired is a :class:`Conflict` for the others, whose
work is rolled back, handlers included.
"""

from __future__ import annotations

import logging
import threading
import time

from engine import company_calendar
from engine.db import make_read_session_factory
from engine.instances import ProcessEngine
from engine.notifications import Sender

from . import jobs

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, engine: ProcessEngine, sessions, poll_seconds: float = 0.25, sender: Sender | None = None,
                 read_sessions=None):
        self.engine = engine
        self.sessions = sessions
        # Read-only sessions for the round's "anything due?" probe; the write sessions are opened only
        # for due work, so an idle round never takes SQLite's write lock.
        self.read_sessions = read_sessions or make_read_session_factory(sessions.kw["bind"])
        self.poll_seconds = poll_seconds
        self.sender = sender
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._calendar_checked = float("-inf")
        self._retention_checked = float("-inf")

    def run_once(self) -> int:
        """Start the cases timer start events ask for, then fire every timer due now.

        Returns how many cases were started or moved on (asynchronous service tasks included)."""
        return (jobs.run_scheduled_starts(self.engine, self.sessions) + jobs.fire_due_timers(self.engine, self.sessions)
                + jobs.run_due_async_jobs(self.engine, self.sessions))

    def run_scheduled_starts(self) -> int:
        return jobs.run_scheduled_starts(self.engine, self.sessions)

    def check_calendar(self, every_seconds: float = 3600) -> int:
        """Tell the admins (once per year concerned) when the next 90 days reach a year without
        published holiday data. Checked hourly, not every round."""
        if time.monotonic() - self._calendar_checked < every_seconds:
            return 0
        self._calendar_checked = time.monotonic()
        with self.sessions() as session:
            queued = company_calendar.warn_admins(session, self.engine.calendar(session), self.engine.clock.now())
            session.commit()
        return queued

    def run_retention(self, every_seconds: float = 60) -> int | None:
        """The nightly cleanup (``web/jobs.py`` ``retention_round``), looked at once a minute: outside
        its window it costs one settings read a minute; inside, a few seconds of batches."""
        if time.monotonic() - self._retention_checked < every_seconds:
            return None
        self._retention_checked = time.monotonic()
        return jobs.retention_round(self.engine, self.sessions)

    def run_notifications(self) -> tuple[int, int]:
        """Mark newly overdue tasks, then hand what is due in the outbox to the sender."""
        if self.sender is None:
            return 0, 0
        jobs.queue_overdue(self.engine, self.sessions)
        return jobs.deliver_notifications(self.engine, self.sessions, self.sender)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="aftersales-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def run_due(self) -> int:
        """One round of the loop: probe what is due (one read-only statement), then run only those
        parts, each in its own short write transactions. Returns how many cases moved on."""
        due = jobs.due_work(self.engine, self.read_sessions)
        moved = 0
        if due.starts:
            moved += jobs.run_scheduled_starts(self.engine, self.sessions)
        if due.timers:
            moved += jobs.fire_due_timers(self.engine, self.sessions)
        if due.async_jobs:
            moved += jobs.run_due_async_jobs(self.engine, self.sessions)
        self.check_calendar()
        if self.sender is not None and (due.overdue or due.outbox or moved):
            self.run_notifications()
        return moved

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
                self.run_retention()
            except Exception:  # keep the scheduler alive whatever one round did
                log.exception("background round failed")
            self._stop.wait(self.poll_seconds)

"""Fires due timers by itself: a background thread in ``serve``/``demo`` (a job edge: it commits).

Several workers may run this at once (several processes on PostgreSQL): firing goes through
the instance revision, so a timer one worker fired is a :class:`Conflict` for the others, whose
work is rolled back, handlers included.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine import company_calendar, notifications
from engine.errors import Conflict
from engine.instances import ProcessEngine
from engine.notifications import Sender

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, engine: ProcessEngine, sessions, poll_seconds: float = 0.25, sender: Sender | None = None):
        self.engine = engine
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.sender = sender
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._calendar_checked = float("-inf")

    def run_once(self) -> int:
        """Start the cases timer start events ask for, then fire every timer due now.

        Returns how many cases were started or moved on."""
        fired = self.run_scheduled_starts()
        with self.sessions() as session:
            due = self.engine.due_timers(session)
        for instance_id in due:
            with self.sessions() as session:
                try:
                    if self.engine.fire_timers(session, instance_id):
                        session.commit()
                        fired += 1
                except (Conflict, StaleDataError):
                    session.rollback()  # another worker fired it first
                except OperationalError as exc:
                    session.rollback()
                    log.warning("timer for instance %s not fired, database unavailable: %s", instance_id, exc)
        return fired

    def run_scheduled_starts(self) -> int:
        started = 0
        with self.sessions() as session:
            due = self.engine.due_starts(session)
        for row in due:
            with self.sessions() as session:
                try:
                    row = session.merge(row)
                    if self.engine.start_scheduled(session, row) is not None:
                        session.commit()
                        started += 1
                    else:
                        session.rollback()
                except (Conflict, StaleDataError):
                    session.rollback()
                except Exception:  # a broken start must not stop the other schedules
                    session.rollback()
                    log.exception("scheduled start of %s failed", row.key)
        return started

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

    def run_notifications(self) -> tuple[int, int]:
        """Mark newly overdue tasks, then hand what is due in the outbox to the sender."""
        if self.sender is None:
            return 0, 0
        now = self.engine.clock.now()
        with self.sessions() as session:
            notifications.queue_overdue(session, now)
            session.commit()
        with self.sessions() as session:
            result = notifications.deliver(session, self.sender, now)
            session.commit()
        return result

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="aftersales-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                self.check_calendar()
                self.run_notifications()
            except Exception:  # keep the scheduler alive whatever one round did
                log.exception("background round failed")
            self._stop.wait(self.poll_seconds)

"""``/health`` (database, broker, oldest overdue timer) and ``/metrics`` (Prometheus text).

Both are read from the database, so every web process reports the same figures however many run:
steps and errors are counted from the history and the instances, queue lag is how long the oldest
due timer, asynchronous job and outbox row have been waiting."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from flask import Blueprint, Response, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from engine.db import as_utc
from engine.models import AsyncJob, HistoryEntry, Instance, Notification, OpenTask, Timer

from . import context

bp = Blueprint("health", __name__)
LATE_AFTER = 5.0  # seconds: a timer this far past its moment counts as overdue (the relay runs every second)


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0  # type: ignore[operator]


def _broker() -> dict:
    from .celery_app import broker_url

    url = broker_url()
    if url is None:
        return {"status": "none", "detail": "no CELERY_BROKER_URL: the web process runs the background work"}
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure is "down"
        return {"status": "down", "detail": type(exc).__name__}
    return {"status": "ok"}


def _calendar(now: datetime) -> dict:
    """Whether the next 90 days have published holiday data (engine/company_calendar.py)."""
    from engine import company_calendar

    try:
        cal = context.engine().calendar(context.db())
    except Exception:  # noqa: BLE001 - the database line above already says it is down
        return {"official_until": None, "warning": "calendar unavailable: database down"}
    status = company_calendar.coverage_status(cal, now.astimezone(cal.tz).date())
    return {"official_until": status["official_until"], "warning": status["warning"]}


@bp.get("/health")
def health():
    now = context.engine().clock.now()
    started = time.monotonic()
    try:
        session = context.db()
        session.execute(text("SELECT 1"))
        oldest = session.scalar(select(func.min(Timer.due_at)).where(Timer.due_at < now))
        database = {"status": "ok", "ms": round((time.monotonic() - started) * 1000, 1)}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        database, oldest = {"status": "down", "detail": type(exc).__name__}, None
    broker = _broker()
    lateness = _age(now, oldest)
    ok = database["status"] == "ok" and broker["status"] != "down"
    body = {"status": "ok" if ok else "unavailable", "database": database, "broker": broker,
            "oldest_overdue_timer_seconds": round(lateness, 1) if lateness > LATE_AFTER else 0.0,
            "calendar": _calendar(now)}
    return jsonify(body), 200 if ok else 503


LIVE_STATES = ("running", "error")
FINAL_STATES = ("completed", "cancelled")
FINAL_EVERY = 300.0  # seconds between two counts of finished cases (they only grow, a scrape need not wait)
_final_counts: dict[str, tuple[float, dict[str, int]]] = {}  # database url -> (monotonic time, counts)
_final_mutex = threading.Lock()


def _finished_counts(session) -> dict[str, int]:
    """Finished cases by state, counted at most every ``FINAL_EVERY`` seconds per process: a million
    finished cases are an index scan Prometheus need not pay on every scrape."""
    key = str(session.get_bind().url)
    with _final_mutex:
        kept = _final_counts.get(key)
    if kept is not None and time.monotonic() - kept[0] < FINAL_EVERY:
        return kept[1]
    counts = {state: session.scalar(select(func.count()).select_from(Instance).where(Instance.state == state)) or 0
              for state in FINAL_STATES}
    with _final_mutex:
        _final_counts[key] = (time.monotonic(), counts)
    return counts


class _Figures:
    """What a scrape reads costs what is live (open cases, tasks and due queues through their indexes),
    never what is stored: finished cases are counted every few minutes, history steps by the newest
    entry's id."""

    def __init__(self, session, now: datetime):
        self.session, self.now = session, now

    def collect(self):
        s, now = self.session, self.now
        live = {state: s.scalar(select(func.count()).select_from(Instance).where(Instance.state == state)) or 0
                for state in LIVE_STATES}
        states = GaugeMetricFamily("aftersales_instances", "Cases by state (finished ones counted every 5 minutes)",
                                   labels=["state"])
        for state, count in (live | _finished_counts(s)).items():
            states.add_metric([state], count)
        yield states
        # a counter's meaning: every step ever recorded, also those whose history retention removed since
        yield GaugeMetricFamily("aftersales_steps_total", "Steps recorded in the history since the start (all processes)",
                                value=s.scalar(select(func.max(HistoryEntry.id))) or 0)
        yield GaugeMetricFamily("aftersales_errors", "Cases in state error (incidents)", value=live["error"])
        yield GaugeMetricFamily("aftersales_open_tasks", "Human tasks open",
                                value=s.scalar(select(func.count()).select_from(OpenTask)) or 0)
        lag = GaugeMetricFamily("aftersales_queue_lag_seconds", "How long the oldest due item has waited",
                                labels=["queue"])
        depth = GaugeMetricFamily("aftersales_queue_depth", "Items due now", labels=["queue"])
        for name, model, column, extra in (
            ("timers", Timer, Timer.due_at, ()),
            ("async_jobs", AsyncJob, AsyncJob.next_attempt_at, ()),
            ("outbox", Notification, Notification.next_attempt_at, (Notification.sent_at.is_(None),)),
        ):
            oldest, count = s.execute(select(func.min(column), func.count()).select_from(model)
                                      .where(column <= now, *extra)).one()
            lag.add_metric([name], _age(now, oldest))
            depth.add_metric([name], count or 0)
        yield lag
        yield depth


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry()
    registry.register(_Figures(context.db(), context.engine().clock.now()))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")

"""``/health`` says whether the database and the broker answer and how late the oldest timer is;
``/metrics`` gives the same figures to Prometheus."""

from __future__ import annotations

from engine.users import Actor
from tests.conftest import DATA, start_case


def _late_timer(app, clock, seconds: int) -> None:
    ext = app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        ext["engine"].start(s, "warranty_claim", Actor("cs", frozenset({"customer_service"})),
                            variables={"customer": "Acme", "amount": 10})  # a PT2S timer
        s.commit()
    clock.advance(seconds=2 + seconds)


def test_health_reports_database_broker_and_the_oldest_overdue_timer(app, clock, monkeypatch):
    client = app.test_client()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    r = client.get("/health")
    assert r.status_code == 200
    assert (r.json["status"], r.json["database"]["status"], r.json["broker"]["status"]) == ("ok", "ok", "none")
    assert r.json["oldest_overdue_timer_seconds"] == 0.0
    _late_timer(app, clock, 60)
    assert client.get("/health").json["oldest_overdue_timer_seconds"] == 60.0
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:1//")
    r = client.get("/health")
    assert r.status_code == 503
    assert (r.json["status"], r.json["database"]["status"], r.json["broker"]["status"]) == ("unavailable", "ok", "down")


def test_health_is_503_while_the_database_is_unreachable(app, monkeypatch):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    app.extensions["aftersales"]["sessions"] = app.extensions["aftersales"]["read_sessions"] = sessionmaker(dead)
    r = app.test_client().get("/health")
    assert r.status_code == 503
    assert (r.json["status"], r.json["database"]["status"]) == ("unavailable", "down")


def test_metrics_in_prometheus_text(app, clock):
    _late_timer(app, clock, 30)
    r = app.test_client().get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    lines = set(r.get_data(as_text=True).splitlines())
    assert 'aftersales_instances{state="running"} 1.0' in lines
    assert 'aftersales_queue_lag_seconds{queue="timers"} 30.0' in lines
    assert 'aftersales_queue_depth{queue="timers"} 1.0' in lines
    assert 'aftersales_queue_depth{queue="outbox"} 1.0' in lines  # the review task's notice
    assert "aftersales_errors 0.0" in lines and "aftersales_open_tasks 1.0" in lines


def _metric(app, name: str) -> float:
    lines = app.test_client().get("/metrics").get_data(as_text=True).splitlines()
    return float(next(line for line in lines if line.startswith(name + " ")).split()[-1])


def test_metrics_steps_never_go_down_when_retention_removes_history(deployed, app):
    """``aftersales_steps_total`` is read from the newest history entry, not by counting every row: a
    scrape costs the same at 20 million rows, and history removed by retention does not lower it."""
    from sqlalchemy import delete, func, select

    from engine.models import HistoryEntry
    from tests.web.test_repair_flow import REQUEST

    case = start_case(deployed, "repair", REQUEST)
    deployed.complete("customer_service", case["id"], "check_scope", identity_confirmed=True, in_scope=True,
                      in_warranty=True)
    ext = app.extensions["aftersales"]
    with ext["sessions"]() as s:
        recorded = s.scalar(select(func.count()).select_from(HistoryEntry))
        newest = s.scalar(select(func.max(HistoryEntry.id)))
        s.execute(delete(HistoryEntry).where(HistoryEntry.id < newest))  # retention removes older history
        s.commit()
    assert recorded > 0
    assert _metric(app, "aftersales_steps_total") == recorded
    assert _metric(app, 'aftersales_instances{state="running"}') == 1
    assert _metric(app, 'aftersales_instances{state="completed"}') == 0

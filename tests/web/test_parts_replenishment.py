"""Weekly top-up from the base warehouse (R22), started by the timer start event every Friday."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.records import Part
from web.scheduler import TimerScheduler

FRIDAY_17 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 17:00 Shanghai


def test_every_friday_a_top_up_is_requested_and_booked_after_inspection(deployed, clock, app):
    api = deployed
    ext = app.extensions["aftersales"]
    worker = TimerScheduler(ext["engine"], ext["sessions"])
    clock.set(datetime(2026, 11, 27, 8, 59, tzinfo=UTC))
    assert worker.run_once() == 0
    assert api.get("admin", "/api/process-instances?key=parts_replenishment").json["items"] == []
    clock.set(FRIDAY_17.replace(second=1))
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # once per Friday
    (inst,) = api.get("admin", "/api/process-instances?key=parts_replenishment").json["items"]
    iid = inst["id"]
    view = api.get("warehouse", f"/api/process-instances/{iid}").json
    assert view["state"] == "running", view["error"]
    # stock seeded: P-100 10/30, P-200 50/60, P-400 0/10 -> top up to quota
    assert view["variables"]["replenishment_lines"] == [
        {"part_no": "P-100", "name": "Compressor board", "quantity": 20},
        {"part_no": "P-200", "name": "Thermostat", "quantity": 10},
        {"part_no": "P-400", "name": "Inverter module", "quantity": 10}]
    api.complete("warehouse", iid, "base_ship", shipped_all=False, ship_note="P-400 缺货")
    api.complete("warehouse", iid, "base_procure", procured=True)
    with ext["sessions"]() as s:
        assert s.get(Part, "P-400").on_hand == 0  # not before inspection
    done = api.complete("warehouse", iid, "receive_inspect", inspection_passed=True)
    assert done["state"] == "completed"
    with ext["sessions"]() as s:
        assert [(p.part_no, p.on_hand) for p in s.query(Part).order_by(Part.part_no)] == [
            ("P-100", 30), ("P-200", 60), ("P-400", 10)]
    # next Friday: everything is at quota, nothing to ask for
    clock.set(datetime(2026, 12, 4, 9, 0, 1, tzinfo=UTC))
    assert worker.run_once() == 2  # and the monthly stock report of 1 December (R22, processes/stock_report.bpmn)
    latest = api.get("admin", "/api/process-instances?key=parts_replenishment").json["items"][0]
    assert latest["state"] == "completed" and latest["id"] != iid


def test_a_unix_cron_and_bad_cycles_are_refused_with_the_line(api):
    """Camunda's cron is Quartz's (seconds first, e.g. 0 0 17 ? * FRI, which deploys); a five-field Unix cron is not."""
    from tests.conftest import PROCESSES

    xml = (PROCESSES / "parts_replenishment.bpmn").read_bytes()
    bad = xml.replace(b"R/2026-11-27T17:00:00+08:00/P7D", b"0 17 * * FRI")
    r = api.deploy("owner", {"parts_replenishment.bpmn": bad})
    assert r.status_code == 400
    (err,) = r.json["errors"]
    assert err["element_id"] == "every_friday" and err["line"] and "cron" in err["message"]


def test_rejected_receipt_leaves_stock_unchanged(deployed, clock, app):
    api = deployed
    ext = app.extensions["aftersales"]
    clock.set(FRIDAY_17.replace(second=1))
    TimerScheduler(ext["engine"], ext["sessions"]).run_once()
    (inst,) = api.get("admin", "/api/process-instances?key=parts_replenishment").json["items"]
    api.complete("warehouse", inst["id"], "base_ship", shipped_all=True)
    done = api.complete("warehouse", inst["id"], "receive_inspect", inspection_passed=False, inspection_note="受潮")
    assert done["state"] == "completed" and done["variables"]["replenishment_status"] == "rejected"
    with ext["sessions"]() as s:
        assert s.get(Part, "P-100").on_hand == 10

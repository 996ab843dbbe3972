"""Follow-up visits (R14, R15): a repair that ends starts calls in the 3rd, 6th and 12th month."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.web.test_repair_flow import REQUEST
from web.scheduler import TimerScheduler

ACCEPTED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
SCORES = dict(satisfaction_quality=5, satisfaction_timeliness=4, satisfaction_attitude=5)


def test_repair_end_starts_periodic_follow_up_calls(deployed, clock, app):
    api = deployed
    clock.set(ACCEPTED)
    ext = app.extensions["aftersales"]
    worker = TimerScheduler(ext["engine"], ext["sessions"])
    iid = api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST}).json["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    api.complete("tech_support", iid, "diagnose", fault_cause="设置错误", fault_nature="misuse", solution="远程指导",
                 remote_fixed=True)
    done = api.complete("customer_service", iid, "follow_up", **SCORES)
    assert done["state"] == "completed"
    (fv,) = api.get("admin", "/api/process-instances?key=follow_up").json["items"]
    assert fv["business_key"] == f"FV-{done['business_key']}"
    fid = fv["id"]
    expected = {3: datetime(2027, 2, 23, 2, 0, tzinfo=UTC), 6: datetime(2027, 5, 24, 1, 0, tzinfo=UTC) ,
                12: datetime(2027, 11, 23, 2, 0, tzinfo=UTC)}  # 2027: Monday-Friday until chinesecalendar knows it
    for month in (3, 6, 12):
        assert api.get("customer_service", f"/api/tasks?instance={fid}").json["items"] == []
        clock.set(expected[month].replace(hour=0))  # earlier the same day: not yet
        worker.run_once()
        assert api.get("customer_service", f"/api/tasks?instance={fid}").json["items"] == []
        clock.set(expected[month].replace(second=1))
        worker.run_once()
        inst = api.complete("customer_service", fid, f"call_{month}", **SCORES)
    assert inst["state"] == "completed"
    docs = api.get("admin", f"/api/process-instances/{fid}/documents").json
    assert [(d["kind"], d["data"]["month"]) for d in docs] == [("follow_up", 3), ("follow_up", 6), ("follow_up", 12)]

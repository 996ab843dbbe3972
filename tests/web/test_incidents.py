"""Issue 11, item 1: parts are picked from stock when entered, and a case that still ends in error
(a part withdrawn from the catalogue meanwhile) has a way out: supervisors see it on the incidents
list, are told, correct the value (recorded with who and why) and retry."""

from __future__ import annotations

from sqlalchemy import delete, select

from engine.models import HistoryEntry, Notification
from handlers.records import Part
from tests.web.test_repair_flow import diagnose, start


def _to_diagnosis(api):
    inst = start(api)
    api.complete("customer_service", inst["id"], "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    return inst["id"]


def test_free_text_and_unknown_parts_are_refused_when_entered(deployed):
    api = deployed
    iid = _to_diagnosis(api)
    task = api.task("tech_support", iid, "diagnose")
    form = api.get("tech_support", f"/api/tasks/{task['id']}").json["form"]["fields"]
    picker = next(f for f in form if f["id"] == "parts_needed")
    assert picker["type"] == "parts"
    assert {"part_no": "P-100", "available": 10} .items() <= next(c for c in picker["choices"] if c["part_no"] == "P-100").items()
    base = dict(fault_cause="主板", fault_nature="quality", solution="换", remote_fixed=False, plan="onsite",
                estimated_amount=300)
    for bad, message in (("压缩机主板 1个", "must be parts picked from stock"), ("P-999", "unknown part: P-999"),
                         ([{"part_no": "P-100", "quantity": 0}], "each quantity must be a whole number from 1")):
        r = api.post("tech_support", f"/api/tasks/{task['id']}/complete", {"variables": {**base, "parts_needed": bad}})
        assert r.status_code == 422, r.json
        assert r.json["errors"] == {"parts_needed": message}
    assert api.task("tech_support", iid, "diagnose")["id"] == task["id"]  # nothing changed
    r = api.post("tech_support", f"/api/tasks/{task['id']}/complete",
                 {"variables": {**base, "parts_needed": [{"part_no": "P-100", "quantity": "2"}]}})
    assert r.status_code == 200, r.json
    case = api.get("supervisor", f"/api/process-instances/{iid}").json
    assert case["variables"]["parts_needed"] == [{"part_no": "P-100", "quantity": 2}]


def test_a_case_in_error_is_listed_told_corrected_and_retried(deployed, app):
    api = deployed
    sessions = app.extensions["aftersales"]["sessions"]
    with sessions() as s:
        s.add(Part(part_no="P-OLD", name="旧型号主板", on_hand=3, quota=0, unit_price=100))
        s.commit()
    iid = _to_diagnosis(api)
    diagnose(api, iid, parts_needed=[{"part_no": "P-OLD", "quantity": 1}])
    with sessions() as s:  # withdrawn from the catalogue before the plan is approved
        s.execute(delete(Part).where(Part.part_no == "P-OLD"))
        s.commit()
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    assert api.get("supervisor", f"/api/process-instances/{iid}").json["state"] == "error"
    with sessions() as s:
        told = s.scalars(select(Notification).where(Notification.kind == "incident")).all()
    assert [(n.recipient, n.instance_id) for n in told] == [("group:supervisor", iid)]

    listed = api.get("supervisor", "/api/incidents").json
    assert [(c["id"], c["element_id"]) for c in listed["errors"]] == [(iid, "reserve_parts")]
    assert listed["counts"]["errors"] == 1
    assert api.get("technician", "/api/incidents").status_code == 403

    # a correction without a reason, or with a value the form would refuse, changes nothing
    r = api.post("supervisor", f"/api/process-instances/{iid}/variables",
                 {"variables": {"parts_needed": [{"part_no": "P-100", "quantity": 1}]}})
    assert (r.status_code, r.json["errors"]) == (422, {"reason": "is required"})
    r = api.post("supervisor", f"/api/process-instances/{iid}/variables",
                 {"variables": {"parts_needed": "P-999"}, "reason": "换型号"})
    assert (r.status_code, r.json["errors"]) == (422, {"parts_needed": "unknown part: P-999"})
    assert api.post("technician", f"/api/process-instances/{iid}/variables",
                    {"variables": {"parts_needed": []}, "reason": "x"}).status_code == 403

    r = api.post("supervisor", f"/api/process-instances/{iid}/variables",
                 {"variables": {"parts_needed": [{"part_no": "P-100", "quantity": 1}]}, "reason": "旧型号停产，改用 P-100"})
    assert r.status_code == 200, r.json
    with sessions() as s:
        entry = s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == iid,
                                                     HistoryEntry.kind == "Correction")).one()
        assert (entry.completed_by, entry.data["correction_reason"]) == ("supervisor", "旧型号停产，改用 P-100")
        assert entry.data["parts_needed"] == [{"part_no": "P-100", "quantity": 1}]
    r = api.post("supervisor", f"/api/process-instances/{iid}/retry")
    assert r.status_code == 200, r.json
    case = api.get("supervisor", f"/api/process-instances/{iid}").json
    assert case["state"] == "running" and case["variables"]["slip_no"].startswith("OS-")
    assert api.get("supervisor", "/api/incidents").json["errors"] == []



"""A diagram drawn independently in Camunda Modeler deploys unchanged and runs through the API:
candidate groups, generated form with constraints, a non-interrupting PT2S boundary timer, a loop,
JUEL conditions — with the right 403 / 409 / 422 answers."""

from __future__ import annotations

from tests.conftest import DATA
from web.scheduler import TimerScheduler

CLAIM = {"warranty_claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}


def test_modeler_diagram_runs_with_the_right_answers(api, app, clock):
    r = api.deploy("owner", CLAIM, "from Camunda Modeler")
    assert r.status_code == 201, r.json
    assert r.json["definitions"] == [{"key": "warranty_claim", "version": 1, "kind": "bpmn", "changed": True}]

    # start form constraints: 422 names each field, nothing is created
    r = api.post("customer_service", "/api/process-definitions/warranty_claim/start",
                 {"variables": {"customer": "X", "amount": 20000}})
    assert r.status_code == 422
    assert r.json["errors"] == {"customer": "must be at least 2 characters", "amount": "must be at most 10000"}
    assert api.get("admin", "/api/process-instances?key=warranty_claim").json["items"] == []

    r = api.post("customer_service", "/api/process-definitions/warranty_claim/start",
                 {"business_key": "CLAIM-1", "variables": {"customer": "Acme", "amount": 300}})
    assert r.status_code == 201
    iid = r.json["id"]
    (task,) = r.json["tasks"]
    assert task["candidate_groups"] == ["customer_service"] and task["business_key"] == "CLAIM-1"

    # form as the modeler defined it
    form = api.get("customer_service", f"/api/tasks/{task['id']}").json["form"]["fields"]
    assert [(f["id"], f["type"], f["required"]) for f in form] == [
        ("customer", "string", False), ("category", "enum", True), ("approved", "boolean", True), ("note", "string", False)]
    assert form[1]["options"] == [{"id": "defect", "name": "Defect"}, {"id": "damage", "name": "Damage"}]

    # 403: another group may neither open nor complete it
    assert api.get("technician", f"/api/tasks/{task['id']}").status_code == 403
    r = api.post("technician", f"/api/tasks/{task['id']}/complete", {"variables": {"approved": True}})
    assert r.status_code == 403

    # 422: wrong type, unknown enum value, too long, unknown field, missing required — nothing changes
    bad = {"category": "scratch", "approved": "perhaps", "note": "x" * 21, "colour": "red"}
    r = api.post("customer_service", f"/api/tasks/{task['id']}/complete", {"variables": bad})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"category", "approved", "note", "colour"}
    r = api.post("customer_service", f"/api/tasks/{task['id']}/complete", {"variables": {"note": "ok"}})
    assert r.json["errors"] == {"category": "is required", "approved": "is required"}
    inst = api.get("customer_service", f"/api/process-instances/{iid}").json
    history = api.get("customer_service", f"/api/process-instances/{iid}/history").json["entries"]
    assert history == [] and [t["id"] for t in inst["tasks"]] == [task["id"]]

    # the non-interrupting timer fires by itself after 2 s: the supervisor is asked to chase
    scheduler = TimerScheduler(app.extensions["aftersales"]["engine"], app.extensions["aftersales"]["sessions"])
    clock.advance(seconds=1)
    assert scheduler.run_once() == 0
    clock.advance(seconds=1.5)
    assert scheduler.run_once() == 1
    inst = api.get("supervisor", f"/api/process-instances/{iid}").json
    assert sorted(t["element_id"] for t in inst["tasks"]) == ["Activity_chase", "Activity_review"]
    chase = api.task("supervisor", iid, "Activity_chase")
    assert api.post("supervisor", f"/api/tasks/{chase['id']}/complete", {"variables": {"chased": True}}).status_code == 200

    # claimed by customer service, the task is not the admin's to take: 403, and it stays claimed
    assert api.post("customer_service", f"/api/tasks/{task['id']}/claim").status_code == 200
    taken = api.post("admin", f"/api/tasks/{task['id']}/claim")
    assert taken.status_code == 403
    assert api.get("customer_service", f"/api/tasks/{task['id']}").json["assignee"] == "customer_service"
    # the loop goes round once
    r = api.post("customer_service", f"/api/tasks/{task['id']}/complete",
                 {"variables": {"category": "defect", "approved": False}})
    assert r.status_code == 200
    assert [t["element_id"] for t in r.json["instance"]["tasks"]] == ["Activity_fix"]
    # completing the same task again: it is no longer open
    again = api.post("customer_service", f"/api/tasks/{task['id']}/complete",
                     {"variables": {"category": "defect", "approved": False}})
    assert again.status_code == 409
    api.complete("customer_service", iid, "Activity_fix", note="receipt added")
    inst = api.complete("customer_service", iid, "Activity_review", category="defect", approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["Activity_pay"]
    inst = api.complete("finance", iid, "Activity_pay", paid=True)
    assert inst["state"] == "completed"
    assert [h["element_id"] for h in api.history("customer_service", iid) if h["kind"] == "UserTask"] == [
        "Activity_chase", "Activity_review", "Activity_fix", "Activity_review", "Activity_pay"]

    # redeploying the identical file creates nothing
    r = api.deploy("owner", CLAIM)
    assert r.status_code == 200 and r.json["definitions"][0]["changed"] is False


def test_unclaimed_task_of_my_group_is_claimed_on_complete(api, clock):
    api.deploy("owner", CLAIM)
    r = api.post("customer_service", "/api/process-definitions/warranty_claim/start",
                 {"variables": {"customer": "Acme", "amount": 30}})
    iid = r.json["id"]
    api.complete("customer_service", iid, "Activity_review", category="damage", approved=True)
    review = [h for h in api.history("customer_service", iid) if h["element_id"] == "Activity_review"][0]
    assert review["completed_by"] == "customer_service"

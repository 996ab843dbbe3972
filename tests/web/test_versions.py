"""Versions (issue 5): new cases start on the new version, old ones stay; a dry run says exactly which
cases can move and why not; moved cases finish on the new version; roll back; identical redeploys."""

from __future__ import annotations

from lxml import etree

from tests.conftest import DATA

V1 = (DATA / "warranty_claim.bpmn").read_bytes()
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def make_v2() -> bytes:
    """Activity_pay renamed to Activity_payout; Activity_fix removed (a refusal now just ends)."""
    text = V1.replace(b"Activity_pay", b"Activity_payout").replace(b'name="Pay out"', b'name="Pay out (finance)"')
    root = etree.fromstring(text)
    ns = {"bpmn": BPMN, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    for xpath in ("//bpmn:userTask[@id='Activity_fix']", "//bpmn:sequenceFlow[@id='Flow_Activity_fix_Activity_review']",
                  "//bpmndi:BPMNShape[@bpmnElement='Activity_fix']",
                  "//bpmndi:BPMNEdge[@bpmnElement='Flow_Activity_fix_Activity_review']",
                  "//bpmn:incoming[text()='Flow_Activity_fix_Activity_review']"):
        for node in root.xpath(xpath, namespaces=ns):
            node.getparent().remove(node)
    flow = root.xpath("//bpmn:sequenceFlow[@id='Flow_Gateway_ok_Activity_fix']", namespaces=ns)[0]
    flow.set("targetRef", "Event_done")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def start(api, customer):
    r = api.post("customer_service", "/api/process-definitions/warranty_claim/start",
                 {"variables": {"customer": customer, "amount": 100}})
    assert r.status_code == 201
    return r.json["id"]


def test_versions_migration_and_rollback(api):
    assert api.deploy("owner", {"claim.bpmn": V1}, "v1").status_code == 201
    at_review, at_fix, at_pay = start(api, "Alpha"), start(api, "Bravo"), start(api, "Charlie")
    api.complete("customer_service", at_fix, "Activity_review", category="defect", approved=False)
    api.complete("customer_service", at_pay, "Activity_review", category="defect", approved=True)

    r = api.deploy("owner", {"claim.bpmn": make_v2()}, "v2: rename pay, drop fix")
    assert r.status_code == 201 and r.json["definitions"][0]["version"] == 2
    fresh = start(api, "Delta")
    assert api.get("admin", f"/api/process-instances/{fresh}").json["version"] == 2
    assert {api.get("admin", f"/api/process-instances/{i}").json["version"] for i in (at_review, at_fix, at_pay)} == {1}
    info = api.get("owner", "/api/process-definitions/warranty_claim").json
    assert [(v["version"], v["running"], v["current"]) for v in info["versions"]] == [(1, 3, False), (2, 1, True)]

    diff = api.get("owner", "/api/process-definitions/warranty_claim/diff?from=1&to=2").json
    assert "Activity_fix" in diff["removed"] and "Activity_payout" in diff["added"] and "Activity_pay" in diff["removed"]
    flow = next(c for c in diff["changes"] if c["element_id"] == "Flow_Gateway_ok_Activity_fix")
    assert {"attribute": "targetRef", "old": "Activity_fix", "new": "Event_done"} in flow["attributes"]

    body = {"from_version": 1, "to_version": 2}
    plan = api.post("owner", "/api/process-definitions/warranty_claim/migrations", body).json
    verdict = {r["instance_id"]: (r["can_move"], r["reason"]) for r in plan["results"]}
    assert verdict[at_review] == (True, "can move")
    assert verdict[at_fix][0] is False and "Activity_fix" in verdict[at_fix][1]
    assert verdict[at_pay][0] is False and "give a mapping" in verdict[at_pay][1]
    plan = api.post("owner", "/api/process-definitions/warranty_claim/migrations",
                    {**body, "mapping": {"Activity_pay": "Activity_payout"}}).json
    assert {r["instance_id"]: r["can_move"] for r in plan["results"]} == {at_review: True, at_fix: False, at_pay: True}
    # a dry run changed nothing; only admins execute
    assert api.get("admin", f"/api/process-instances/{at_pay}").json["version"] == 1
    r = api.post("owner", "/api/process-definitions/warranty_claim/migrations",
                 {**body, "mapping": {"Activity_pay": "Activity_payout"}, "dry_run": False})
    assert r.status_code == 403
    r = api.post("admin", "/api/process-definitions/warranty_claim/migrations",
                 {**body, "mapping": {"Activity_pay": "Activity_payout"}, "dry_run": False})
    assert {x["instance_id"]: x["reason"] for x in r.json["results"] if x["can_move"]} == {at_review: "moved", at_pay: "moved"}

    moved = api.get("admin", f"/api/process-instances/{at_pay}").json
    assert moved["version"] == 2 and [t["element_id"] for t in moved["tasks"]] == ["Activity_payout"]
    history = api.get("admin", f"/api/process-instances/{at_pay}/history").json["entries"]
    assert history[-1]["kind"] == "migration" and history[-1]["data"]["to_version"] == 2
    assert api.complete("finance", at_pay, "Activity_payout", paid=True)["state"] == "completed"
    done = api.complete("customer_service", at_review, "Activity_review", category="damage", approved=False)
    assert done["state"] == "completed"  # on v2 a refusal ends the claim: it really runs v2
    stayed = api.get("admin", f"/api/process-instances/{at_fix}").json
    assert stayed["version"] == 1 and [t["element_id"] for t in stayed["tasks"]] == ["Activity_fix"]

    # roll back: new cases start on v1 again; recorded; and forward again
    assert api.post("owner", "/api/process-definitions/warranty_claim/rollback", {"version": 1}).status_code == 403
    assert api.post("admin", "/api/process-definitions/warranty_claim/rollback", {"version": 1}).status_code == 200
    assert api.get("admin", f"/api/process-instances/{start(api, 'Echo')}").json["version"] == 1
    assert api.post("admin", "/api/process-definitions/warranty_claim/rollback", {"version": 1}).status_code == 409
    kinds = [e["kind"] for e in api.get("owner", "/api/process-definitions/warranty_claim/history").json]
    assert kinds == ["deploy", "deploy", "rollback"]
    # identical files create nothing, and do not move the current version
    r = api.deploy("owner", {"claim.bpmn": make_v2()})
    assert r.status_code == 200 and r.json["definitions"][0] == {"key": "warranty_claim", "version": 2, "kind": "bpmn",
                                                                  "changed": False}
    assert api.get("owner", "/api/process-definitions/warranty_claim").json["current_version"] == 1

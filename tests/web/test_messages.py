"""Messages to waiting cases: correlated by variables; nothing waiting is a 404 that changes nothing."""

from __future__ import annotations

from tests.conftest import DATA


def test_message_correlates_by_variables(api):
    assert api.deploy("owner", {"goods_return.bpmn": (DATA / "goods_return.bpmn").read_bytes()}).status_code == 201
    ids = {}
    for rma in ("RMA-1", "RMA-2"):
        r = api.post("customer_service", "/api/process-definitions/goods_return/start", {"variables": {"rma": rma}})
        assert r.status_code == 201 and r.json["tasks"] == []
        ids[rma] = r.json["id"]
    r = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma": "RMA-9"}})
    assert r.status_code == 404 and "goods_received" in r.json["error"]
    r = api.post("logistics", "/api/messages", {"name": "no_such_message"})
    assert r.status_code == 404
    r = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma": "RMA-2"},
                                                  "variables": {"tracking_no": "SF123"}})
    assert r.status_code == 200
    (inst,) = r.json["instances"]
    assert inst["id"] == ids["RMA-2"]
    assert inst["variables"]["tracking_no"] == "SF123"
    assert [t["element_id"] for t in inst["tasks"]] == ["inspect"]
    other = api.get("admin", f"/api/process-instances/{ids['RMA-1']}").json
    assert other["tasks"] == [] and "tracking_no" not in other["variables"]
    # the same message again finds nothing waiting any more
    again = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma": "RMA-2"}})
    assert again.status_code == 404

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
    # a case holding the value but waiting for another message is not this message's
    r = api.post("logistics", "/api/messages", {"name": "no_such_message", "correlation": {"rma": "RMA-1"}})
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


def test_message_finds_its_case_by_indexed_values_and_waits_from_before_the_index_too(api, app):
    from sqlalchemy import delete, select, update

    from engine.models import MessageKey, MessageWait

    assert api.deploy("owner", {"goods_return.bpmn": (DATA / "goods_return.bpmn").read_bytes()}).status_code == 201
    ids = {}
    for rma in ("RMA-1", "RMA-2", "RMA-3"):
        r = api.post("customer_service", "/api/process-definitions/goods_return/start",
                     {"variables": {"rma": rma, "count": 1}})
        ids[rma] = r.json["id"]
    # a case stored before revision 0005: no keys, its wait not keyed
    with app.extensions["aftersales"]["sessions"]() as s:
        s.execute(delete(MessageKey).where(MessageKey.instance_id == ids["RMA-3"]))
        s.execute(update(MessageWait).where(MessageWait.instance_id == ids["RMA-3"]).values(keyed=False))
        s.commit()
    r = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma": "RMA-1", "count": "1"}})
    assert r.status_code == 404  # "1" is not 1
    for rma in ("RMA-3", "RMA-1"):
        r = api.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma": rma, "count": 1}})
        assert r.status_code == 200 and [i["id"] for i in r.json["instances"]] == [ids[rma]]
    with app.extensions["aftersales"]["sessions"]() as s:
        # keys exist only while a case waits for a message
        assert sorted(set(s.scalars(select(MessageKey.instance_id)))) == [ids["RMA-2"]]

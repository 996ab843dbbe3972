"""Return / exchange (domain.md, R4-R6, R26) through the API, with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.models import Notification
from tests.conftest import start_case

# Wednesday 30 Sep 2026, 16:00 in Shanghai: the last working day before National Day (1-7 Oct)
FILED = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)

REQUEST = dict(order_no="SO-778", product="实木餐桌 Dining table", quantity=1, reason="no_longer_wanted",
               request_type="refund", purchase_date="2026-09-27", unused=True, packaging_intact=True, has_proof=True,
               channel="store", contact_name="赵六", contact_phone="13700000000")


@pytest.fixture
def rx(running, clock):
    clock.set(FILED)
    return running


def start(api, **over):
    return start_case(api, "return_exchange", {**REQUEST, **over})


@pytest.mark.parametrize("over, eligible, basis", [
    ({"custom_made": True}, False, "custom-made"),
    ({"reason": "damaged_by_customer"}, False, "damage caused by the customer"),
    ({"reason": "minor_flaw"}, False, "does not affect normal use"),
    ({"unused": False}, False, "used"),
    ({"packaging_intact": False}, False, "packaging"),
    ({"has_proof": False}, False, "proof of purchase"),
    ({"purchase_date": "2026-09-22"}, False, "more than 7 days"),
    ({"purchase_date": "2026-09-23"}, True, "eligible"),
    ({}, True, "eligible"),
])
def test_eligibility_table_row_by_row(rx, over, eligible, basis):
    """R5, decided by processes/return_eligibility.dmn (hit policy FIRST)."""
    inst = start(rx, **over)
    assert inst["variables"]["eligible"] is eligible
    assert basis in inst["variables"]["eligibility_reason"]
    assert [t["element_id"] for t in inst["tasks"]] == (["review"] if eligible else ["notify_rejection"])


def test_review_is_due_on_the_first_working_day_after_national_day_and_escalates(rx, clock):
    inst = start(rx)
    assert inst["business_key"].startswith("RMA-")
    (review,) = inst["tasks"]
    assert review["due_at"] == "2026-10-08T08:00:00+00:00"  # R4: 1 working day, holiday skipped
    clock.set(datetime(2026, 10, 8, 7, 59, tzinfo=UTC))
    assert rx.scheduler.run_once() == 0
    clock.set(datetime(2026, 10, 8, 8, 1, tzinfo=UTC))
    assert rx.scheduler.run_once() == 1
    inst = rx.get("supervisor", f"/api/process-instances/{inst['id']}").json
    assert sorted(t["element_id"] for t in inst["tasks"]) == ["escalate_review", "review"]


def test_refund_after_goods_received_and_inspected(rx, clock):
    inst = start(rx)
    iid, rma = inst["id"], inst["variables"]["rma_no"]
    inst = rx.complete("customer_service", iid, "review", review_approved=True)
    assert inst["tasks"] == []  # waits for the goods
    r = rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": "RMA-nope"}})
    assert r.status_code == 404
    r = rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": rma},
                                                "variables": {"return_tracking_no": "SF100"}, "message_id": "scan-1"})
    assert r.status_code == 200 and r.json["duplicate"] is False
    (inspect,) = r.json["instances"][0]["tasks"]
    assert inspect["element_id"] == "inspect" and inspect["due_at"] == "2026-10-10T08:00:00+00:00"  # 3 working days
    again = rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": rma},
                                                    "message_id": "scan-1"})
    assert again.status_code == 200 and again.json["duplicate"] is True
    history = rx.get("admin", f"/api/process-instances/{iid}/history").json["entries"]
    assert sum(1 for h in history if h["kind"] == "Message") == 1  # the duplicate was not applied
    inst = rx.complete("warehouse", iid, "inspect", inspection_passed=True)
    v = inst["variables"]
    assert (v["customer_pays_shipping"], v["shipping_fee"]) == (True, 15)  # R6
    (refund,) = inst["tasks"]
    assert refund["element_id"] == "refund" and refund["candidate_groups"] == ["finance"]
    done = rx.complete("finance", iid, "refund", refund_amount=1985, refunded=True)
    assert done["state"] == "completed"


def test_goods_not_arriving_reminds_the_customer(rx, clock):
    inst = start(rx, reason="quality_defect")
    iid = inst["id"]
    rx.complete("customer_service", iid, "review", review_approved=True)
    clock.set(datetime(2026, 10, 3, 8, 1, tzinfo=UTC))  # 3 days later
    assert rx.scheduler.run_once() == 1
    with rx.sessions() as s:
        (note,) = s.query(Notification).filter_by(instance_id=iid, kind="customer").all()
        assert note.recipient == "phone:13700000000" and inst["business_key"] in note.body
    inst = rx.get("admin", f"/api/process-instances/{iid}").json
    assert inst["state"] == "running" and inst["tasks"] == []  # still waiting for the goods
    r = rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": inst["variables"]["rma_no"]}})
    inst = r.json["instances"][0]
    inst = rx.complete("warehouse", iid, "inspect", inspection_passed=True)
    assert inst["variables"]["customer_pays_shipping"] is False  # our fault: we pay the shipping


def test_inspection_failed_is_explained(rx):
    inst = start(rx)
    iid = inst["id"]
    rx.complete("customer_service", iid, "review", review_approved=True)
    rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": inst["variables"]["rma_no"]}})
    inst = rx.complete("warehouse", iid, "inspect", inspection_passed=False, inspection_note="桌面划伤")
    assert [t["element_id"] for t in inst["tasks"]] == ["notify_inspection_failed"]
    assert rx.complete("customer_service", iid, "notify_inspection_failed", customer_informed=True)["state"] == "completed"


def test_review_refused(rx):
    iid = start(rx)["id"]
    inst = rx.complete("customer_service", iid, "review", review_approved=False, review_comment="超出政策")
    assert [t["element_id"] for t in inst["tasks"]] == ["notify_rejection"]


def test_exchange_ships_a_replacement_and_charges_the_difference(rx):
    inst = start(rx, request_type="exchange", price_difference=200)
    iid = inst["id"]
    rx.complete("customer_service", iid, "review", review_approved=True)
    rx.post("logistics", "/api/messages", {"name": "goods_received", "correlation": {"rma_no": inst["variables"]["rma_no"]}})
    inst = rx.complete("warehouse", iid, "inspect", inspection_passed=True)
    assert inst["variables"]["price_difference_due"] == 200  # R6
    (ship,) = inst["tasks"]
    assert ship["element_id"] == "ship_exchange" and ship["candidate_groups"] == ["logistics"]
    task = rx.task("logistics", iid, "ship_exchange")
    r = rx.post("logistics", f"/api/tasks/{task['id']}/complete", {"variables": {"tracking_no": "SF"}})
    assert r.status_code == 422 and r.json["errors"] == {"tracking_no": "must be at least 4 characters"}
    assert rx.complete("logistics", iid, "ship_exchange", tracking_no="SF2001")["state"] == "completed"


@pytest.mark.parametrize("remedy, who, element, values, document", [
    ("partial_refund", "finance", "partial_refund", {"refunded": True}, None),
    ("reship_with_gift", "logistics", "reship", {"tracking_no": "YT8888"}, "gift"),
    ("coupon", None, None, None, "coupon"),
])
def test_web_shop_remedies(rx, remedy, who, element, values, document):
    """R26: wrong item, missing parts, colour, misread description -> partial refund, re-ship with gift, coupon."""
    inst = start(rx, channel="web_shop", reason="colour_difference")
    iid = inst["id"]
    inst = rx.complete("customer_service", iid, "review", review_approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["webshop_remedy"]
    inst = rx.complete("customer_service", iid, "webshop_remedy", remedy=remedy, remedy_amount=50)
    if element:
        inst = rx.complete(who, iid, element, **values)
    assert inst["state"] == "completed"
    kinds = [d["kind"] for d in rx.get("admin", f"/api/process-instances/{iid}/documents").json]
    assert kinds == ["return_request"] + ([document] if document else [])

"""Complaint handlers (R19-R21): the record signed by whoever took it, the settlement agreement,
compensation goods from the warehouse and a goodwill gift from marketing."""

from __future__ import annotations

from engine.service_tasks import HandlerContext, HandlerRegistry

from . import documents
from .numbers import next_number

RECORD_FIELDS = ("customer_name", "customer_phone", "product_model", "serial_no", "complaint_text", "severity", "channel")


def register_complaint(ctx: HandlerContext) -> dict:
    """R19: the complaint record, signed by the person who recorded it."""
    number = next_number(ctx.session, "complaint", ctx.now)
    ctx.set_business_key(ctx.business_key or number)
    data = {k: ctx.variables.get(k) for k in RECORD_FIELDS} | {"recorded_by": ctx.actor, "recorded_at": ctx.now.isoformat()}
    documents.create(ctx, "complaint_record", data, number=number)
    return {"complaint_no": number, "recorded_by": ctx.actor, "rounds": 0}


def file_agreement(ctx: HandlerContext) -> dict:
    """The settlement agreement the customer signed (处理协议)."""
    v = ctx.variables
    rounds = int(v.get("rounds") or 0) + 1
    documents.create(ctx, "settlement_agreement", {
        "complaint_no": v.get("complaint_no"), "plan": v.get("plan_text"), "compensation_goods": v.get("compensation_goods"),
        "compensation_amount": v.get("compensation_amount"), "gift": v.get("gift"), "signed_by_customer": v.get("agreement_signed"),
        "round": rounds,
    }, number=f"AG-{v.get('complaint_no')}-{rounds}")
    # what the agreement promises decides which of warehouse and marketing get a task (processes/complaint.bpmn)
    return {"rounds": rounds, "compensation_goods": (v.get("compensation_goods") or "").strip(), "gift": bool(v.get("gift"))}


def ship_compensation(ctx: HandlerContext) -> dict:
    """The warehouse's shipment of the compensation goods: what was sent, its tracking number, who sent it."""
    v = ctx.variables
    doc = documents.create(ctx, "compensation_shipment", {
        "complaint_no": v.get("complaint_no"), "goods": v.get("goods_sent") or v.get("compensation_goods"),
        "agreed_goods": v.get("compensation_goods"), "tracking_no": v.get("compensation_tracking_no"),
        "by": ctx.actor, "sent_at": ctx.now.isoformat(),
    }, number=f"CS-{v.get('complaint_no')}-{v.get('rounds')}")
    return {"compensation_shipped": True, "compensation_shipment_no": doc.number}


def send_gift(ctx: HandlerContext) -> dict:
    """Marketing's goodwill gift: which gift, its tracking number (if posted), who sent it."""
    v = ctx.variables
    doc = documents.create(ctx, "gift", {
        "complaint_no": v.get("complaint_no"), "gift": v.get("gift_item"), "tracking_no": v.get("gift_tracking_no") or None,
        "by": ctx.actor, "to": v.get("customer_name"), "sent_at": ctx.now.isoformat(),
    }, number=f"GIFT-{v.get('complaint_no')}-{v.get('rounds')}")
    return {"gift_sent": True, "gift_no": doc.number}


def register(registry: HandlerRegistry) -> None:
    registry.register("complaint.register", register_complaint)
    registry.register("complaint.agreement", file_agreement)
    registry.register("complaint.ship_compensation", ship_compensation)
    registry.register("complaint.gift", send_gift)

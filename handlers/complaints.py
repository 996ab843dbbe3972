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
    return {"rounds": rounds}


def ship_compensation(ctx: HandlerContext) -> dict:
    goods = ctx.variables.get("compensation_goods")
    if not goods:
        return {"compensation_shipped": False}
    doc = documents.create(ctx, "compensation_shipment", {"complaint_no": ctx.variables.get("complaint_no"),
                                                          "goods": goods, "by": "warehouse"},
                           number=f"CS-{ctx.variables.get('complaint_no')}-{ctx.variables.get('rounds')}")
    return {"compensation_shipped": True, "compensation_shipment_no": doc.number}


def send_gift(ctx: HandlerContext) -> dict:
    if not ctx.variables.get("gift"):
        return {"gift_sent": False}
    doc = documents.create(ctx, "gift", {"complaint_no": ctx.variables.get("complaint_no"), "by": "marketing",
                                        "to": ctx.variables.get("customer_name")},
                           number=f"GIFT-{ctx.variables.get('complaint_no')}-{ctx.variables.get('rounds')}")
    return {"gift_sent": True, "gift_no": doc.number}


def register(registry: HandlerRegistry) -> None:
    registry.register("complaint.register", register_complaint)
    registry.register("complaint.agreement", file_agreement)
    registry.register("complaint.ship_compensation", ship_compensation)
    registry.register("complaint.gift", send_gift)

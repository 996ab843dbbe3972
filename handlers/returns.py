"""Return / exchange handlers: RMA registration, web-shop remedies (R26). Who pays the return shipping and
the price difference (R6) is the decision table ``processes/return_fee.dmn``."""

from __future__ import annotations

from datetime import date

from engine.service_tasks import HandlerContext, HandlerRegistry
from engine.working_days import SHANGHAI

from . import documents
from .numbers import next_number

RETURN_REQUEST_FIELDS = ("order_no", "product", "quantity", "reason", "request_type", "purchase_date", "channel",
                         "contact_name", "contact_phone")


def register_return(ctx: HandlerContext) -> dict:
    """The RMA number, how many days after purchase the request came (for R5), and the price difference
    as a number (0 when left blank) for the R6 decision table."""
    v = ctx.variables
    rma_no = next_number(ctx.session, "return", ctx.now)
    ctx.set_business_key(ctx.business_key or rma_no)
    today = ctx.now.astimezone(ctx.settings.get("time_zone", SHANGHAI)).date()
    days = (today - date.fromisoformat(str(v["purchase_date"])[:10])).days
    data = {k: v.get(k) for k in RETURN_REQUEST_FIELDS} | {"requested_at": ctx.now.isoformat(), "registered_by": ctx.actor}
    documents.create(ctx, "return_request", data, number=rma_no)
    return {"rma_no": rma_no, "days_since_purchase": days, "price_difference": int(v.get("price_difference") or 0)}


def send_gift(ctx: HandlerContext) -> dict:
    """R26: a small gift goes with the re-shipped goods (marketing)."""
    doc = documents.create(ctx, "gift", {"case_no": ctx.variables.get("rma_no"), "to": ctx.variables.get("contact_name"),
                                        "with_tracking_no": ctx.variables.get("tracking_no"), "by": "marketing"},
                           number=f"GIFT-{ctx.variables.get('rma_no')}")
    return {"gift_no": doc.number}


def issue_coupon(ctx: HandlerContext) -> dict:
    v = ctx.variables
    value = int(v.get("remedy_amount") or ctx.settings.get("default_coupon", 20))
    doc = documents.create(ctx, "coupon", {"case_no": v.get("rma_no"), "value": value, "to": v.get("contact_phone")})
    return {"coupon_no": doc.number, "coupon_value": value}


def register(registry: HandlerRegistry) -> None:
    registry.register("rma.register", register_return)
    registry.register("gift.send", send_gift)
    registry.register("coupon.issue", issue_coupon)

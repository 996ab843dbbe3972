"""Customer questions (R1, R30): recorded with the moment they were asked, answered within the
promised time, and the answer kept on the consultation record."""

from __future__ import annotations

from engine.service_tasks import HandlerContext, HandlerRegistry

from . import documents
from .numbers import next_number

RECORD_FIELDS = ("customer_name", "customer_phone", "product_model", "channel", "question")


def register_question(ctx: HandlerContext) -> dict:
    """R30: the question is recorded at once; ``asked_at`` is what the 24-hour answer counts from."""
    number = next_number(ctx.session, "consultation", ctx.now)
    ctx.set_business_key(ctx.business_key or number)
    data = {k: ctx.variables.get(k) for k in RECORD_FIELDS}
    documents.create(ctx, "consultation_record", {**data, "asked_at": ctx.now.isoformat(), "recorded_by": ctx.actor},
                     number=number)
    return {"consultation_no": number, "asked_at": ctx.now.isoformat()}


def record_answer(ctx: HandlerContext) -> dict:
    """The first response and, when the question needed looking into, the full answer go onto the record."""
    doc = documents.find(ctx.session, ctx.instance_id, "consultation_record")
    if doc is None:
        raise LookupError("no consultation record to answer")
    v = ctx.variables
    doc.data = {**doc.data, "first_response": v.get("first_response_text"),
                "answer": v.get("answer_text") or v.get("first_response_text"),
                "answered_by": ctx.actor, "answered_at": ctx.now.isoformat()}
    return {"answered_at": ctx.now.isoformat()}


def register(registry: HandlerRegistry) -> None:
    registry.register("consultation.register", register_question)
    registry.register("consultation.answer", record_answer)

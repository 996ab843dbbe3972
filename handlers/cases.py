"""Repair case handlers: registration and case number, work order, escalation, follow-up record and
archiving (R13, R14). The fee (R7) is the decision table ``processes/repair_fee.dmn``."""

from __future__ import annotations

from datetime import timedelta

from engine.service_tasks import HandlerContext, HandlerRegistry

from . import documents
from .numbers import next_number


def register_case(ctx: HandlerContext) -> dict:
    """Record the repair request (R27: every report is recorded) and give the case its number."""
    case_no = next_number(ctx.session, "repair", ctx.now)
    ctx.set_business_key(ctx.business_key or case_no)
    data = {k: ctx.variables.get(k) for k in documents.REPAIR_REQUEST_FIELDS}
    data["reported_at"] = ctx.now.isoformat()
    data["registered_by"] = ctx.actor
    documents.create(ctx, "repair_request", data, number=case_no)
    # parts_cost: what the fee table (R7) adds for parts; the parts reservation sets it on each visit
    return {"case_no": case_no, "reported_at": ctx.now.isoformat(), "parts_cost": 0}


def issue_work_order(ctx: HandlerContext) -> dict:
    """R8: the work order is issued within one hour of the report; its deadline is recorded.

    ``dispatch_clock_from`` is what the dispatch's 1-working-hour deadline counts from: the case's
    report (not the plan's approval); for a re-dispatch after an escalation (R17), the escalation."""
    v = ctx.variables
    reported = v.get("reported_at") or ctx.now.isoformat()
    visit = int(v.get("visit", 0)) + 1
    clock_from = (v.get("escalated_at") if visit > 1 else None) or reported
    doc = documents.create(ctx, "work_order", {
        "case_no": v.get("case_no"), "customer_name": v.get("customer_name"),
        "customer_address": v.get("customer_address"), "product_model": v.get("product_model"),
        "serial_no": v.get("serial_no"), "fault": v.get("fault_cause"), "plan": v.get("solution"),
        "issued_at": ctx.now.isoformat(), "dispatch_deadline": _plus_hours(reported, 1),
        "visit": visit,
    })
    return {"work_order_no": doc.number, "visit": visit, "dispatch_clock_from": clock_from}


def _plus_hours(iso: str, hours: int) -> str:
    from datetime import datetime

    return (datetime.fromisoformat(iso) + timedelta(hours=hours)).isoformat()


def sign_work_order(ctx: HandlerContext) -> dict:
    """The technician's pickup signature and, later, the customer's completion signature."""
    doc = documents.find(ctx.session, ctx.instance_id, "work_order")
    if doc is None:
        raise LookupError("no work order to sign")
    data = dict(doc.data)
    v = ctx.variables
    data.update({"technician": v.get("technician") or ctx.actor, "appointment": v.get("appointment_date"),
                 "travel_mode": v.get("travel_mode")})
    doc.data = data
    return {"technician": data["technician"]}


def _repair_record(v: dict) -> dict:
    """The work order's repair record from the variables the repair forms write (processes/dispatch.bpmn
    ``onsite_repair``, repair.bpmn ``rework``: ``repair_steps``, ``repair_result``, ``tested_ok``) and
    the customer's signature at sign-off (``customer_signed``); only what has been filled in."""
    record = {"repair_steps": v.get("repair_steps"), "result": v.get("repair_result"), "tested_ok": v.get("tested_ok"),
              "customer_signed": v.get("customer_signed")}
    return {k: value for k, value in record.items() if value not in (None, "")}


def record_repair(ctx: HandlerContext) -> dict | None:
    """After the on-site repair: what the technician did goes onto the work order they signed. (The
    pickup signature comes before the repair, so it cannot carry it.)"""
    doc = documents.find(ctx.session, ctx.instance_id, "work_order")
    if doc is None:
        raise LookupError("no work order to record the repair on")
    doc.data = {**doc.data, **_repair_record(ctx.variables)}
    return None


def escalate(ctx: HandlerContext) -> dict:
    """R17: not solved -> escalate, re-analyse, re-dispatch."""
    count = int(ctx.variables.get("escalations", 0)) + 1
    return {"escalations": count, "escalated": True, "escalated_at": ctx.now.isoformat()}


def record_follow_up(ctx: HandlerContext) -> dict:
    """R14 follow-up record, then R13: archive the case's documents together."""
    v = ctx.variables
    scores = {k: v.get(k) for k in ("satisfaction_quality", "satisfaction_timeliness", "satisfaction_attitude")}
    documents.create(ctx, "follow_up", {
        "case_no": v.get("case_no"), **scores, "comments": v.get("follow_up_comments"),
        "further_needs": v.get("further_needs"), "called_by": ctx.actor, "called_at": ctx.now.isoformat(),
    })
    last_order = documents.find(ctx.session, ctx.instance_id, "work_order")
    if last_order is not None:  # archived as the visit ended: after any rework, with the customer's signature
        last_order.data = {**last_order.data, **_repair_record(v)}
    archived = documents.archive(ctx.session, ctx.instance_id, ctx.now)
    values = [s for s in scores.values() if isinstance(s, int)]
    return {"archived_documents": archived, "satisfaction": round(sum(values) / len(values), 2) if values else None}


def register(registry: HandlerRegistry) -> None:
    registry.register("case.register", register_case)
    registry.register("work_order.issue", issue_work_order)
    registry.register("work_order.sign", sign_work_order)
    registry.register("work_order.record", record_repair)
    registry.register("case.escalate", escalate, writes=False)
    registry.register("followup.record", record_follow_up)
    register_follow_up(registry)


FOLLOW_UP_FIELDS = ("customer_name", "customer_phone", "product_model", "serial_no")


def schedule_follow_up(ctx: HandlerContext) -> dict:
    """R15: after acceptance, calls in the 3rd, 6th and 12th month — a follow_up case of its own."""
    if ctx.start_process is None:
        raise RuntimeError("this engine cannot start cases from handlers")
    v = ctx.variables
    case_no = v.get("case_no") or ctx.business_key
    variables = {k: v.get(k) for k in FOLLOW_UP_FIELDS if v.get(k) is not None}
    variables |= {"case_no": case_no, "accepted_at": ctx.now.isoformat()}
    instance_id = ctx.start_process("follow_up", variables, business_key=f"FV-{case_no}")
    return {"follow_up_instance": instance_id}


def record_visit(ctx: HandlerContext) -> dict:
    """R14: each periodic call leaves a follow-up record."""
    v = ctx.variables
    month = ctx.element_id.rsplit("_", 1)[-1]
    documents.create(ctx, "follow_up", {
        "case_no": v.get("case_no"), "month": int(month) if month.isdigit() else None,
        **{k: v.get(k) for k in ("satisfaction_quality", "satisfaction_timeliness", "satisfaction_attitude",
                                 "follow_up_comments", "further_needs")},
        "called_by": ctx.actor, "called_at": ctx.now.isoformat(),
    }, number=f"FV-{v.get('case_no')}-M{month}")
    return {}


def register_follow_up(registry: HandlerRegistry) -> None:
    registry.register("followup.schedule", schedule_follow_up)
    registry.register("followup.visit", record_visit)

"""Spare parts: reserve against an outbound slip, issue, reconcile after the job (R11, R12), and
procurement when stock is short (R22).

Parts lists come from forms as text, ``P-100:2, P-200`` (quantity 1 when omitted), or as a list
of ``{"part_no", "quantity"}``.
"""

from __future__ import annotations

import re
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from engine.errors import AftersalesError
from engine.service_tasks import HandlerContext, HandlerRegistry

from . import documents
from .numbers import next_number
from .records import Part, Procurement, StockMovement

_LINE = re.compile(r"^\s*([A-Za-z0-9][\w\-./]*)\s*(?:[:x×*]\s*(\d+))?\s*$")


class PartsError(AftersalesError, ValueError):  # a case stopped by it says why, without a traceback
    pass


def parse_lines(value) -> list[dict]:
    if not value:
        return []
    lines: list[tuple[str, int]] = []
    if isinstance(value, list):
        lines = [(str(x["part_no"]), int(x.get("quantity", 1))) for x in value]
    else:
        for chunk in re.split(r"[,;，；\n]+", str(value)):
            if not chunk.strip():
                continue
            m = _LINE.match(chunk)
            if not m:
                raise PartsError(f"cannot read parts line '{chunk.strip()}' (expected PART-NO:QUANTITY)")
            lines.append((m.group(1), int(m.group(2) or 1)))
    merged: dict[str, int] = {}
    for part_no, quantity in lines:
        if quantity < 0:
            raise PartsError(f"negative quantity for {part_no}")
        merged[part_no] = merged.get(part_no, 0) + quantity
    return [{"part_no": k, "quantity": q} for k, q in merged.items() if q > 0]


def _part(session: Session, part_no: str) -> Part:
    part = session.get(Part, part_no, with_for_update=True)
    if part is None:
        raise PartsError(f"unknown part '{part_no}'")
    return part


_INSERT_MOVE = insert(cast(Table, StockMovement.__table__))  # built once


def _move(ctx: HandlerContext, part_no: str, kind: str, qty: int, slip_no: str | None) -> None:
    ctx.session.execute(_INSERT_MOVE, {"part_no": part_no, "kind": kind, "quantity": qty, "slip_no": slip_no,
                                       "instance_id": ctx.instance_id, "by": ctx.actor, "at": ctx.now})


def reserve(ctx: HandlerContext) -> dict:
    """Reserve what the diagnosis asked for against a new outbound slip, or request procurement."""
    lines = parse_lines(ctx.variables.get("parts_needed"))
    if not lines:
        return {"parts_short": False, "slip_no": None, "parts_cost": 0}
    parts = {line["part_no"]: _part(ctx.session, line["part_no"]) for line in lines}
    shortage = [{"part_no": ln["part_no"], "quantity": ln["quantity"] - parts[ln["part_no"]].available}
                for ln in lines if parts[ln["part_no"]].available < ln["quantity"]]
    if shortage:
        number = next_number(ctx.session, "procurement", ctx.now)
        ctx.session.add(Procurement(number=number, instance_id=ctx.instance_id, lines=shortage, requested_at=ctx.now))
        return {"parts_short": True, "procurement_no": number, "shortage": shortage}
    slip_no = next_number(ctx.session, "outbound_slip", ctx.now)
    cost = 0
    for line in lines:
        part = parts[line["part_no"]]
        part.reserved += line["quantity"]
        cost += part.unit_price * line["quantity"]
        _move(ctx, part.part_no, "reserve", line["quantity"], slip_no)
    documents.create(ctx, "outbound_slip", {
        "case_no": ctx.variables.get("case_no"), "work_order_no": ctx.variables.get("work_order_no"),
        "lines": [{**ln, "name": parts[ln["part_no"]].name} for ln in lines], "status": "reserved",
        "issued_by": None, "drawn_by": None,
    }, number=slip_no)
    return {"parts_short": False, "slip_no": slip_no, "parts_cost": cost, "procurement_no": None}


def receive(ctx: HandlerContext) -> dict:
    """Goods received for a procurement; stock changes only once inspection passed (R22)."""
    number = ctx.variables.get("procurement_no")
    proc = ctx.session.scalars(select(Procurement).where(Procurement.number == number)).first()
    if proc is None:
        raise PartsError(f"no procurement '{number}'")
    if not ctx.variables.get("inspection_passed"):
        proc.status = "rejected"
        return {"procurement_status": "rejected"}
    for line in proc.lines:
        _part(ctx.session, line["part_no"]).on_hand += line["quantity"]
        _move(ctx, line["part_no"], "receipt", line["quantity"], number)
    proc.status, proc.received_at = "received", ctx.now
    return {"procurement_status": "received"}


def _slip(ctx: HandlerContext):
    slip_no = ctx.variables.get("slip_no")
    if not slip_no:
        return None
    doc = documents.find(ctx.session, ctx.instance_id, "outbound_slip")
    if doc is None or doc.number != slip_no:
        raise PartsError(f"no outbound slip '{slip_no}' for this case")
    return doc


def issue(ctx: HandlerContext) -> dict:
    """R11: parts leave the warehouse only against the slip; the technician draws them."""
    doc = _slip(ctx)
    if doc is None:
        return {}
    if doc.data["status"] != "reserved":
        raise PartsError(f"slip {doc.number} is {doc.data['status']}, not reserved")
    for line in doc.data["lines"]:
        part = _part(ctx.session, line["part_no"])
        part.reserved -= line["quantity"]
        part.on_hand -= line["quantity"]
        _move(ctx, part.part_no, "issue", line["quantity"], doc.number)
    doc.data = {**doc.data, "status": "issued", "issued_by": ctx.actor,
                "drawn_by": ctx.variables.get("technician"), "issued_at": ctx.now.isoformat()}
    return {"parts_issued": True}


def reconcile(ctx: HandlerContext) -> dict:
    """R12: after the job, used parts are booked, unused ones go back to stock, old parts are returned."""
    doc = _slip(ctx)
    if doc is None:
        return {"parts_reconciled": True}
    issued = {ln["part_no"]: ln["quantity"] for ln in doc.data["lines"]}
    used = {ln["part_no"]: ln["quantity"] for ln in parse_lines(ctx.variables.get("parts_used"))}
    unknown = set(used) - set(issued)
    if unknown:
        raise PartsError(f"parts used but not issued on {doc.number}: {', '.join(sorted(unknown))}")
    over = [p for p, q in used.items() if q > issued[p]]
    if over:
        raise PartsError(f"more used than issued on {doc.number}: {', '.join(over)}")
    returned = {}
    for part_no, qty in issued.items():
        unused = qty - used.get(part_no, 0)
        if unused:
            _part(ctx.session, part_no).on_hand += unused
            _move(ctx, part_no, "return_unused", unused, doc.number)
            returned[part_no] = unused
    old = int(ctx.variables.get("old_parts_returned") or 0)
    doc.data = {**doc.data, "status": "reconciled", "used": used, "unused_returned": returned,
                "old_parts_returned": old, "reconciled_at": ctx.now.isoformat()}
    return {"parts_reconciled": True, "unused_returned": returned}


def stock_options(session: Session) -> list[dict]:
    """What a parts picker offers: every part with its name, what is available and the price."""
    return [{"part_no": p.part_no, "name": p.name, "available": p.available, "unit_price": p.unit_price}
            for p in session.scalars(select(Part).order_by(Part.part_no))]


def check_picked(session: Session, lines) -> str | None:
    """A picked parts list names only parts in stock's catalogue (a shortage is fine: procurement)."""
    known = set(session.scalars(select(Part.part_no).where(Part.part_no.in_([ln["part_no"] for ln in lines]))))
    unknown = [ln["part_no"] for ln in lines if ln["part_no"] not in known]
    return f"unknown part: {', '.join(unknown)}" if unknown else None


def register(registry: HandlerRegistry) -> None:
    registry.register_field_type("parts", options=stock_options, check=check_picked)
    registry.register("parts.reserve", reserve)
    registry.declare_inputs("parts.reserve", "parts_needed")
    registry.declare_inputs("parts.reconcile", "parts_used", "old_parts_returned")
    registry.register("parts.receive", receive)
    registry.register("parts.issue", issue)
    registry.register("parts.reconcile", reconcile)
    register_replenishment(registry)


def request_replenishment(ctx: HandlerContext) -> dict:
    """R22: every Friday, ask the base warehouse to top every part up to its quota."""
    parts = ctx.session.scalars(select(Part).order_by(Part.part_no)).all()
    lines = [{"part_no": p.part_no, "name": p.name, "quantity": p.quota - p.on_hand} for p in parts if p.on_hand < p.quota]
    if not lines:
        return {"replenishment_needed": False, "replenishment_lines": []}
    doc = documents.create(ctx, "replenishment_request", {"lines": lines, "status": "requested",
                                                          "requested_at": ctx.now.isoformat()})
    ctx.set_business_key(doc.number)
    return {"replenishment_needed": True, "replenishment_no": doc.number, "replenishment_lines": lines}


def receive_replenishment(ctx: HandlerContext) -> dict:
    """Goods from the base warehouse enter stock only after the inspection passed (R22)."""
    doc = documents.find(ctx.session, ctx.instance_id, "replenishment_request")
    if doc is None:
        raise PartsError("no replenishment request for this case")
    if not ctx.variables.get("inspection_passed"):
        doc.data = {**doc.data, "status": "rejected", "inspection_note": ctx.variables.get("inspection_note")}
        return {"replenishment_status": "rejected"}
    for line in doc.data["lines"]:
        _part(ctx.session, line["part_no"]).on_hand += line["quantity"]
        _move(ctx, line["part_no"], "receipt", line["quantity"], doc.number)
    doc.data = {**doc.data, "status": "received", "received_at": ctx.now.isoformat()}
    return {"replenishment_status": "received"}


def register_replenishment(registry: HandlerRegistry) -> None:
    registry.register("parts.replenishment_request", request_replenishment)
    registry.register("parts.replenishment_receive", receive_replenishment)

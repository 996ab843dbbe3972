"""Travel expense claims (R24): filed by the technician after a visit with the repair request of the
case attached, approved by the supervisor, paid by finance.

A claim names its repair case by number; the case must exist and be one the claimant worked on (they
completed a task in it: took the work order, repaired on site). Otherwise the claim goes back to the
technician saying which (``case_problem``), as a refusal does with the supervisor's reason.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from engine.models import HistoryEntry, Instance
from engine.service_tasks import HandlerContext, HandlerRegistry

from . import documents
from .numbers import next_number
from .records import Approval

COSTS = ("transport_cost", "lodging_cost", "allowance")


def _claimant(ctx: HandlerContext) -> str:
    return str(ctx.variables.get("initiator") or ctx.actor)


def case_problem(ctx: HandlerContext, case_no: str, claimant: str) -> tuple[Instance | None, str | None]:
    """The repair case named ``case_no`` and, when the claim may not attach it, why: ``unknown_case``
    or ``not_your_case``."""
    case = ctx.session.scalars(select(Instance).where(Instance.key == "repair", Instance.business_key == case_no)
                               .order_by(Instance.id)).first()
    if case is None:
        return None, "unknown_case"
    worked = ctx.session.scalar(select(exists().where(HistoryEntry.instance_id == case.id,
                                                      HistoryEntry.completed_by == claimant,
                                                      HistoryEntry.kind == "UserTask")))
    return case, (None if worked else "not_your_case")


def file_claim(ctx: HandlerContext) -> dict:
    """Check the case, then write (or bring up to date) the claim with the repair request attached."""
    v = ctx.variables
    case_no = str(v.get("case_no") or "").strip()
    claimant = _claimant(ctx)
    case, problem = case_problem(ctx, case_no, claimant)
    if problem is not None or case is None:
        return {"case_valid": False, "case_problem": problem}
    request = documents.find(ctx.session, case.id, "repair_request")
    total = sum(int(v.get(k) or 0) for k in COSTS)
    data = {"case_no": case_no, "repair_request_no": request.number if request else None,
            "technician": claimant, "trip_date": v.get("trip_date"), "destination": v.get("destination"),
            **{k: int(v.get(k) or 0) for k in COSTS}, "total_amount": total, "expense_note": v.get("expense_note"),
            "status": "filed", "filed_at": ctx.now.isoformat()}
    claim = documents.find(ctx.session, ctx.instance_id, "travel_expense_claim")
    if claim is None:
        claim = documents.create(ctx, "travel_expense_claim", data, number=next_number(ctx.session, "travel_expense", ctx.now))
        ctx.set_business_key(claim.number)
    else:  # revised after a refusal: the same claim, its figures updated
        claim.data = {**claim.data, **data}
    return {"case_valid": True, "case_problem": None, "claim_no": claim.number, "total_amount": total,
            "repair_request_no": data["repair_request_no"]}


def decide(ctx: HandlerContext) -> dict:
    """The supervisor's decision, kept with who, when, the amount and the comment."""
    v = ctx.variables
    approved = bool(v.get("expense_approved"))
    ctx.session.add(Approval(instance_id=ctx.instance_id, subject="travel_expense", level="supervisor",
                             approved=approved, decided_by=ctx.actor, decided_at=ctx.now,
                             comment=v.get("approval_comment") or "", amount=v.get("total_amount")))
    claim = documents.find(ctx.session, ctx.instance_id, "travel_expense_claim")
    if claim is not None:
        claim.data = {**claim.data, "status": "approved" if approved else "refused",
                      "approval_comment": v.get("approval_comment")}
    return {}


def record_payment(ctx: HandlerContext) -> dict:
    claim = documents.find(ctx.session, ctx.instance_id, "travel_expense_claim")
    if claim is None:
        raise LookupError("no travel expense claim to pay")
    claim.data = {**claim.data, "status": "paid", "payment_ref": ctx.variables.get("payment_ref"),
                  "paid_by": ctx.actor, "paid_at": ctx.now.isoformat()}
    return {"paid_at": ctx.now.isoformat()}


def register(registry: HandlerRegistry) -> None:
    registry.register("travel_expense.file", file_claim)
    registry.declare_inputs("travel_expense.file", "case_no")
    registry.register("travel_expense.decide", decide)
    registry.register("travel_expense.paid", record_payment)

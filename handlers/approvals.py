"""Approvals: who decided what, when, with what comment (R10, R23, R7's negotiated fee). Whether finance
approves too is the decision table ``processes/finance_approval.dmn``."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from engine.service_tasks import HandlerContext, HandlerRegistry

from . import before_tables
from .records import Approval

_INSERT = insert(cast(Table, Approval.__table__))  # built once: a handler's statement costs more to build than run


def _write(ctx: HandlerContext, **row) -> None:
    ctx.session.execute(_INSERT, {"instance_id": ctx.instance_id, "decided_by": ctx.actor, "decided_at": ctx.now, **row})


def _record(ctx: HandlerContext, level: str, approved_var: str, comment_var: str) -> bool:
    """Write the decision in ``approved_var`` (with the comment in ``comment_var``); whether it approved."""
    v = ctx.variables
    if approved_var not in v:
        raise KeyError(f"variable '{approved_var}' (the decision) is missing")
    approved = bool(v[approved_var])
    _write(ctx, subject=v.get("approval_subject", "repair_plan"), level=level, approved=approved,
           comment=v.get(comment_var) or "", amount=v.get("estimated_amount"))
    return approved


def supervisor_decision(ctx: HandlerContext) -> dict:
    """R10: a plan is approved by a supervisor before anything is dispatched. The estimated amount is
    kept as a number (0 when left blank) for the finance threshold table (R23)."""
    _record(ctx, "supervisor", "plan_approved", "approval_comment")
    # needs_finance: what cases started before finance_approval.dmn read here (the current diagram's
    # table sets it again right after)
    return {"estimated_amount": int(ctx.variables.get("estimated_amount") or 0), "finance_approved": None,
            "needs_finance": before_tables.needs_finance(ctx.variables)}


def finance_decision(ctx: HandlerContext) -> dict:
    """R23: amounts above the threshold also need finance."""
    return {"plan_approved": _record(ctx, "finance", "finance_approved", "finance_comment")}


def fee_decision(ctx: HandlerContext) -> dict:
    """R7: an accident's fee is the amount customer service negotiated with the customer, once the
    supervisor approves it; until then nothing is charged."""
    v = ctx.variables
    if "fee_approved" not in v:
        raise KeyError("variable 'fee_approved' (the decision) is missing")
    amount = int(v.get("negotiated_fee") or 0)
    approved = bool(v["fee_approved"])
    _write(ctx, subject="negotiated_fee", level="supervisor", approved=approved,
           comment=v.get("fee_approval_comment") or "", amount=amount)
    agreed = approved and bool(v.get("customer_agreed"))
    return {"fee_amount": amount if agreed else 0}


def of_case(session: Session, instance_id: int) -> list[Approval]:
    return list(session.scalars(select(Approval).where(Approval.instance_id == instance_id).order_by(Approval.id)))


def register(registry: HandlerRegistry) -> None:
    registry.register("approval.supervisor", supervisor_decision)
    registry.register("approval.finance", finance_decision)
    registry.register("approval.fee", fee_decision)

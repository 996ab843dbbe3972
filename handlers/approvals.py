"""Approvals: who decided what, when, with what comment (R10, R23)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.service_tasks import HandlerContext, HandlerRegistry

from .records import Approval

DEFAULT_FINANCE_THRESHOLD = 5000  # yuan; above it finance approves too (R23)


def _record(ctx: HandlerContext, level: str, approved_var: str, comment_var: str) -> Approval:
    v = ctx.variables
    if approved_var not in v:
        raise KeyError(f"variable '{approved_var}' (the decision) is missing")
    approval = Approval(instance_id=ctx.instance_id, subject=v.get("approval_subject", "repair_plan"), level=level,
                        approved=bool(v[approved_var]), decided_by=ctx.actor, decided_at=ctx.now,
                        comment=v.get(comment_var) or "", amount=v.get("estimated_amount"))
    ctx.session.add(approval)
    return approval


def supervisor_decision(ctx: HandlerContext) -> dict:
    """R10: a plan is approved by a supervisor before anything is dispatched."""
    approval = _record(ctx, "supervisor", "plan_approved", "approval_comment")
    threshold = int(ctx.settings.get("finance_threshold", DEFAULT_FINANCE_THRESHOLD))
    amount = int(ctx.variables.get("estimated_amount") or 0)
    return {"needs_finance": approval.approved and amount > threshold, "finance_approved": None}


def finance_decision(ctx: HandlerContext) -> dict:
    """R23: amounts above the threshold also need finance."""
    approval = _record(ctx, "finance", "finance_approved", "finance_comment")
    return {"plan_approved": approval.approved}


def of_case(session: Session, instance_id: int) -> list[Approval]:
    return list(session.scalars(select(Approval).where(Approval.instance_id == instance_id).order_by(Approval.id)))


def register(registry: HandlerRegistry) -> None:
    registry.register("approval.supervisor", supervisor_decision)
    registry.register("approval.finance", finance_decision)
